import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';

let t = Date.now();
const db = await PGlite.create({ extensions: { pg_trgm } });
console.log('init', Date.now() - t);
await db.exec(
  'create extension if not exists pg_trgm; create table s(n text); create index on s using gin (n gin_trgm_ops);',
);
console.log((await db.query('select version()')).rows);
t = Date.now();
const dump = await db.dumpDataDir('none');
console.log('dump', Date.now() - t, dump.size);
t = Date.now();
const db2 = await PGlite.create({ loadDataDir: dump, extensions: { pg_trgm } });
console.log('load', Date.now() - t);
console.log((await db2.query('select count(*) from s')).rows);
