import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import type { AuditAction, AuditResource } from './audit.constants.ts';

/** What an entry says, the same in audit_pending and audit_logs (builders: one per table). */
const entryColumns = () => ({
  action: text('action').$type<AuditAction>().notNull(),
  resource: text('resource').$type<AuditResource>().notNull(),
  resource_id: text('resource_id'),
  user_id: integer('user_id'),
  user_email: text('user_email'),
  ip_address: text('ip_address'),
  user_agent: text('user_agent'),
  details: jsonb('details').$type<Record<string, unknown>>(),
  success: boolean('success').notNull().default(true),
  error_message: text('error_message'),
  timestamp: timestamp('timestamp', { withTimezone: true }).notNull(),
  request_id: text('request_id'),
  old_values: jsonb('old_values').$type<Record<string, unknown>>(),
  new_values: jsonb('new_values').$type<Record<string, unknown>>(),
});

/**
 * The audit trail. Append-only (a trigger refuses UPDATE and DELETE outside the retention
 * routine) and hash-chained: the sealer assigns ids gap-free under the chain head's lock, and
 * hash = SHA-256(prev_hash + canonical JSON of the entry).
 */
export const auditLogs = pgTable(
  'audit_logs',
  {
    id: bigint('id', { mode: 'number' }).primaryKey(),
    ...entryColumns(),
    prev_hash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (table) => [
    // The contract's three composite indexes, each ending in timestamp so the filtered,
    // newest-first pages read straight from the index.
    index('idx_audit_user_action').on(table.user_id, table.action, table.timestamp),
    index('idx_audit_resource_action').on(table.resource, table.action, table.timestamp),
    index('idx_audit_timestamp_action').on(table.timestamp, table.action),
    // One record's entries, newest first: the planner misjudges (resource, resource_id) as
    // independent, so the index must serve the order too.
    index('idx_audit_resource_record').on(
      table.resource,
      table.resource_id,
      table.timestamp,
      table.id,
    ),
    index('idx_audit_request_id').on(table.request_id),
    index('idx_audit_user_email').on(table.user_email),
  ],
);

export type AuditRow = typeof auditLogs.$inferSelect;

/**
 * The columns an entry's content fills, the same in audit_pending and audit_logs, as a column
 * list for raw SQL (the fields are named as their columns).
 */
export const AUDIT_ENTRY_COLUMN_LIST = Object.keys(entryColumns()).join(', ');

/**
 * Entries committed with their change but not yet chained. Writers insert here without any
 * lock; the sealer (audit.sealer.ts) moves them into audit_logs in id order, shortly after.
 */
export const auditPending = pgTable('audit_pending', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  ...entryColumns(),
});

export type AuditPendingRow = typeof auditPending.$inferSelect;

/**
 * One row: the newest link of the chain. The sealer locks it (SELECT … FOR UPDATE) while it
 * chains a batch, which gives ids with no gaps. `anchor_*` record where the chain now
 * starts once retention has archived older entries.
 */
export const auditChainHead = pgTable('audit_chain_head', {
  id: integer('id').primaryKey(),
  last_id: bigint('last_id', { mode: 'number' }).notNull(),
  last_hash: text('last_hash').notNull(),
  anchor_id: bigint('anchor_id', { mode: 'number' }).notNull(),
  anchor_hash: text('anchor_hash').notNull(),
});
