import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The sample input files (a copy of ../shared/fixtures, kept in the repository so a clone
 * runs its tests wherever it is checked out).
 */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

export const fixture = (name: string): Buffer =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
