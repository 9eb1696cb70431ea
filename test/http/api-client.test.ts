import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_SCHEMA_FILE,
  buildOpenApiDocument,
  renderApiSchema,
} from '../../scripts/api-schema.ts';
import type { DatabaseHandle } from '../../src/platform/db/client.ts';
import { testDatabaseKind } from '../support/databases.ts';
import { openTestDatabase } from '../support/test-app.ts';

// The document is the same on either database: check it once, on PGlite.
const enabled = testDatabaseKind() === 'pglite';

let database: DatabaseHandle | undefined;

beforeAll(async () => {
  if (enabled) database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

/** Where two texts first differ, to show instead of a diff of thousands of lines. */
function firstDifference(expected: string, actual: string): string {
  const expectedLines = expected.split('\n');
  const actualLines = actual.split('\n');
  const line = expectedLines.findIndex((text, index) => text !== actualLines[index]);
  const at = line === -1 ? expectedLines.length : line;
  return `line ${at + 1}: generated ${JSON.stringify(expectedLines[at])}, committed ${JSON.stringify(actualLines[at])}`;
}

describe.runIf(enabled)('the generated API client', () => {
  it('matches the API: web/src/api/schema.d.ts is what `npm run generate:api` writes now', async () => {
    expect(existsSync(API_SCHEMA_FILE), 'run `npm run generate:api` to create it').toBe(true);
    const generated = await renderApiSchema(await buildOpenApiDocument(database!));
    const committed = readFileSync(API_SCHEMA_FILE, 'utf8');
    expect(
      generated === committed,
      `web/src/api/schema.d.ts is stale; run \`npm run generate:api\` and commit it (${firstDifference(generated, committed)})`,
    ).toBe(true);
    expect(generated).toMatch(/^export interface paths \{/m);
    expect(generated).toMatch(/^export interface components \{/m);
  });
});
