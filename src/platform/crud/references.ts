import { and, eq, isNull } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Executor, Transaction } from '../db/client.ts';
import { type FieldIssue, unprocessable } from '../http/problems.ts';
import type { ResourceTable } from './resource.service.ts';

/** A column of a record that holds the id of a live record in another table. */
export interface RecordReference {
  /** The column (and body field) holding the id, e.g. "student_id". */
  field: string;
  /** The table the id points into. */
  table: ResourceTable;
  /** What a person calls the referenced record ("Student"), for messages. */
  label: string;
}

/**
 * The references of a record about to be written that do not point to a live record. Only
 * references that are new (a create) or changed (an update) are checked, so a record can still
 * be corrected after the record it points to was deleted. The referenced rows are locked
 * FOR SHARE, so they cannot be deleted before the write commits.
 */
export async function missingReferences(
  executor: Executor,
  references: readonly RecordReference[],
  next: Record<string, unknown>,
  existing: Record<string, unknown> | null,
): Promise<FieldIssue[]> {
  const issues: FieldIssue[] = [];
  for (const { field, table, label } of references) {
    const id = next[field];
    if (typeof id !== 'number') continue;
    if (existing && existing[field] === id) continue;
    const [row] = await executor
      .select({ id: table.id })
      .from(table as PgTable)
      .where(and(eq(table.id, id), isNull(table.deleted_at)))
      .for('share');
    if (!row) issues.push({ field: `body.${field}`, message: `${label} ${id} does not exist` });
  }
  return issues;
}

/**
 * A `checkWrite` for a ResourceDefinition: every reference must point to a live record and
 * every rule across fields must hold. All problems are reported together as one 422.
 * `rules` see the values the record will have once written (`existing` is null on create).
 */
export function recordChecks<Values extends Record<string, unknown>>(options: {
  references: readonly RecordReference[];
  rules?: (next: Values, existing: Values | null) => FieldIssue[];
}): (tx: Transaction, next: Values, existing: Values | null) => Promise<void> {
  return async (tx, next, existing) => {
    const issues = [
      ...(options.rules?.(next, existing) ?? []),
      ...(await missingReferences(tx, options.references, next, existing)),
    ];
    if (issues.length > 0) {
      throw unprocessable(
        `The record has ${issues.length} invalid field${issues.length === 1 ? '' : 's'}.`,
        issues,
      );
    }
  };
}

/**
 * A rule across two fields of one record: `low` must not be above `high` (a grade and its
 * maximum, an assigned and a submitted date). Either side may have changed in this write, so
 * the caller says which side to name (`blame`): the one this write changed.
 */
export function notAbove<Value extends number | string>(
  low: { field: string; value: Value | null | undefined },
  high: { field: string; value: Value | null | undefined },
  blame: 'low' | 'high',
  words: { above: string; below: string } = { above: 'more than', below: 'less than' },
): FieldIssue[] {
  if (low.value == null || high.value == null || low.value <= high.value) return [];
  return [
    blame === 'high'
      ? {
          field: `body.${high.field}`,
          message: `must not be ${words.below} ${low.field} (${low.value})`,
        }
      : {
          field: `body.${low.field}`,
          message: `must not be ${words.above} ${high.field} (${high.value})`,
        },
  ];
}
