// npm run generate:api: rewrites web/src/api/schema.d.ts from the server's routes.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../src/platform/db/client.ts';
import { API_SCHEMA_FILE, buildOpenApiDocument, renderApiSchema } from './api-schema.ts';

// A throwaway in-memory database: the app needs one to start, the document needs no data.
const database = await openDatabase({ kind: 'pglite' });
let schema: string;
try {
  await database.migrate();
  schema = await renderApiSchema(await buildOpenApiDocument(database));
} finally {
  await database.close();
}
mkdirSync(path.dirname(API_SCHEMA_FILE), { recursive: true });
writeFileSync(API_SCHEMA_FILE, schema);
process.stdout.write(
  `Wrote ${path.relative(process.cwd(), API_SCHEMA_FILE)} (${schema.split('\n').length} lines).\n`,
);
