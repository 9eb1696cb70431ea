import { eq, gte, lte, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { isoDate } from '../http/fields.ts';

/**
 * The `date_from` / `date_to` query fields (both inclusive, YYYY-MM-DD); spread them into a
 * list's query schema and turn them into conditions with `dateRangeConditions`.
 */
export const dateRangeQuery = {
  date_from: isoDate.optional().describe('Only records on or after this date (YYYY-MM-DD)'),
  date_to: isoDate.optional().describe('Only records on or before this date (YYYY-MM-DD)'),
};

/** Conditions for `dateRangeQuery` on one date column; no condition for an absent bound. */
export function dateRangeConditions(
  column: PgColumn,
  query: Record<string, unknown>,
): Array<SQL | undefined> {
  return [
    typeof query.date_from === 'string' ? gte(column, query.date_from) : undefined,
    typeof query.date_to === 'string' ? lte(column, query.date_to) : undefined,
  ];
}

/** An equality filter from a validated query value; no condition when the value is absent. */
export function equalsFilter(column: PgColumn, value: unknown): SQL | undefined {
  return value === undefined ? undefined : eq(column, value);
}
