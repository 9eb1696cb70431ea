import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Debian's Chromium: the end-to-end tests never download a browser of their own. */
export const CHROMIUM_PATH = process.env.E2E_CHROMIUM_PATH ?? '/usr/bin/chromium';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RESULTS_DIR = fileURLToPath(new URL('../../../test-results/', import.meta.url));
export const DOCS_SCREENSHOTS_DIR = fileURLToPath(
  new URL('../../../docs/screenshots/', import.meta.url),
);

/**
 * embedded: one `registrar serve` on PGlite running its jobs in-process.
 * distributed: PostgreSQL + Redis, an API that runs no jobs and a separate `registrar worker`.
 */
export type Mode = 'embedded' | 'distributed';

/**
 * Embedded always; distributed as well when TEST_DATABASE_URL and TEST_REDIS_URL are set.
 * E2E_MODES=distributed (or embedded) narrows a run to one of them while working on it.
 */
export function modes(): Mode[] {
  const available: Mode[] =
    process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL
      ? ['embedded', 'distributed']
      : ['embedded'];
  const wanted = process.env.E2E_MODES?.split(',').map((mode) => mode.trim());
  return wanted ? available.filter((mode) => wanted.includes(mode)) : available;
}

export const isCi = () => process.env.CI === 'true' || process.env.CI === '1';

/** Why the end-to-end tests cannot run here, or null when they can. */
export function missingBrowserReason(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  return `Chromium is not installed at ${CHROMIUM_PATH} (install Debian's package: apt-get install chromium; never a downloaded browser)`;
}
