// EXPLAIN ANALYZE of the students list query exactly as the service builds it: the SQL is
// captured from the real ResourceService through a drizzle logger, then explained.
import path from 'node:path';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { studentListQuerySchema } from '../src/modules/students/students.schema.ts';
import { createStudentsService } from '../src/modules/students/students.service.ts';
import { createPglite, type Database } from '../src/platform/db/client.ts';
import * as schema from '../src/platform/db/schema.ts';
import { NO_RECORDING } from '../src/platform/http/request-context.ts';

export interface ExplainCase {
  label: string;
  page: number;
  search?: string;
}

export interface ExplainSummary {
  label: string;
  execution_ms: number;
  planning_ms: number;
  /** Plan nodes, outermost first: "Limit", "Seq Scan on students", "Bitmap Index Scan using …". */
  nodes: string[];
  indexes_used: string[];
  seq_scan_on_students: boolean;
  /** Rows the scans of students looked at, kept or filtered out (to answer with at most 50). */
  rows_examined: number;
}

export interface ExplainReport {
  sql: string;
  cases: ExplainSummary[];
  /** Text plans, only when asked for (BENCH_EXPLAIN=1). */
  plans?: Record<string, string>;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

function walk(node: PlanNode, visit: (node: PlanNode) => void) {
  visit(node);
  for (const child of node.Plans ?? []) walk(child, visit);
}

type Runner = (text: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;

/**
 * Opens the benchmark database (for PGlite only once the server has let go of it), runs
 * each case through the students service, and explains the list statement it sent.
 */
export async function explainStudentList(
  target: { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string },
  cases: ExplainCase[],
  withTextPlans: boolean,
): Promise<ExplainReport> {
  const captured: Array<{ query: string; params: unknown[] }> = [];
  const logger = {
    logQuery: (query: string, params: unknown[]) => captured.push({ query, params }),
  };
  let db: Database;
  let run: Runner;
  let close: () => Promise<void>;
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: target.url, max: 1 });
    db = drizzleNodePg(pool, { schema, logger });
    run = async (text, params) => (await pool.query(text, params)).rows;
    close = () => pool.end();
  } else {
    const client = await createPglite({ dataDir: path.join(target.dataDir, 'pglite') });
    db = drizzlePglite(client, { schema, logger });
    run = async (text, params) =>
      (await client.query<Record<string, unknown>>(text, params as unknown[])).rows;
    close = () => client.close();
  }

  try {
    const service = createStudentsService(db, NO_RECORDING, { ttlMs: 0 });
    const report: ExplainReport = { sql: '', cases: [] };
    const plans: Record<string, string> = {};
    for (const item of cases) {
      captured.length = 0;
      const query = studentListQuerySchema.parse({
        page: String(item.page),
        page_size: '50',
        ...(item.search ? { search: item.search } : {}),
      });
      await service.list(query);
      const statement = captured[0];
      if (!statement) throw new Error('the list query was not captured');
      report.sql ||= statement.query;

      const explain = `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${statement.query}`;
      await run(explain, statement.params); // once to warm the cache, then the one reported
      const [row] = await run(explain, statement.params);
      const raw = row?.['QUERY PLAN'];
      const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{
        Plan: PlanNode;
        'Planning Time': number;
        'Execution Time': number;
      }>;
      const top = parsed[0];
      if (!top) throw new Error('EXPLAIN returned no plan');
      const nodes: string[] = [];
      const indexes = new Set<string>();
      let seqScan = false;
      let rowsExamined = 0;
      walk(top.Plan, (node) => {
        const type = node['Node Type'];
        const on = node['Relation Name'] ? ` on ${node['Relation Name']}` : '';
        const using = node['Index Name'] ? ` using ${node['Index Name']}` : '';
        nodes.push(`${type}${using}${on}`);
        if (node['Index Name']) indexes.add(node['Index Name']);
        if (type === 'Seq Scan' && node['Relation Name'] === 'students') seqScan = true;
        if (node['Relation Name'] === 'students' && type !== 'Bitmap Index Scan') {
          const seen =
            (node['Actual Rows'] ?? 0) +
            (node['Rows Removed by Filter'] ?? 0) +
            (node['Rows Removed by Index Recheck'] ?? 0);
          rowsExamined += seen * (node['Actual Loops'] ?? 1);
        }
      });
      report.cases.push({
        label: item.label,
        execution_ms: Math.round(top['Execution Time'] * 100) / 100,
        planning_ms: Math.round(top['Planning Time'] * 100) / 100,
        nodes,
        indexes_used: [...indexes],
        seq_scan_on_students: seqScan,
        rows_examined: rowsExamined,
      });
      if (withTextPlans) {
        const text = await run(`EXPLAIN (ANALYZE, BUFFERS) ${statement.query}`, statement.params);
        plans[item.label] = text.map((line) => String(line['QUERY PLAN'])).join('\n');
      }
    }
    if (withTextPlans) report.plans = plans;
    return report;
  } finally {
    await close();
  }
}
