import { inArray } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { changedFields } from '../../platform/crud/resource.service.ts';
import type { Database } from '../../platform/db/client.ts';
import { insertJsonRows } from '../../platform/db/json-rows.ts';
import type { AuditEntryInput, AuditLogger, AuditOrigin } from '../audit/audit.logger.ts';
import { type AnalyzedRow, changesAgainst } from './import-analysis.ts';
import type { ImportServices, ImportTarget } from './import-targets.ts';

export interface BatchOutcome {
  created: number;
  updated: number;
  /** Rows that turned out to need nothing (changed meanwhile, or created by someone else). */
  unchanged: number;
}

/**
 * Writes one batch of analysed rows in one transaction, with one audit entry per changed
 * record. Records to update are locked and compared again, so a batch applied twice (a
 * crash, then the job's retry) changes nothing the second time.
 */
export async function applyBatch(
  db: Database,
  services: ImportServices,
  audit: AuditLogger,
  target: ImportTarget,
  rows: AnalyzedRow[],
  origin: AuditOrigin,
): Promise<BatchOutcome> {
  const service = services[target.service];
  const table = service.table as PgTable & { id: never };
  const outcome: BatchOutcome = { created: 0, updated: 0, unchanged: 0 };
  // The records written, for the change announcement (derived results follow them).
  const written: number[] = [];
  await db.transaction(async (tx) => {
    const entries: AuditEntryInput[] = [];
    const creates = rows.filter((row) => row.action === 'create');
    if (creates.length > 0) {
      // A record someone else created meanwhile is left alone (counted as unchanged).
      const inserted = (await insertJsonRows(
        tx,
        table,
        creates.map((row) => row.values),
        { onConflictDoNothing: true, returning: true },
      )) as Array<Record<string, unknown>>;
      outcome.created += inserted.length;
      outcome.unchanged += creates.length - inserted.length;
      for (const record of inserted) {
        written.push(record.id as number);
        entries.push({
          action: 'CREATE',
          resource: service.resource,
          resourceId: String(record.id),
          newValues: service.toResponse(record),
          details: { operation: 'import' },
        });
      }
    }

    const updates = rows.filter((row) => row.action === 'update' && row.existingId !== null);
    if (updates.length > 0) {
      const idColumn = (table as unknown as { id: Parameters<typeof inArray>[0] }).id;
      const locked = (await tx
        .select()
        .from(table)
        .where(
          inArray(
            idColumn,
            updates.map((row) => row.existingId as number),
          ),
        )
        .for('update')) as Array<Record<string, unknown>>;
      const byId = new Map(locked.map((record) => [record.id as number, record]));
      for (const row of updates) {
        const before = byId.get(row.existingId as number);
        const changes = before ? changesAgainst(row.values, before) : {};
        if (!before || before.deleted_at || Object.keys(changes).length === 0) {
          outcome.unchanged += 1;
          continue;
        }
        const [after] = (await tx
          .update(table)
          .set(changes as never)
          .where(inArray(idColumn, [row.existingId as number]))
          .returning()) as Array<Record<string, unknown>>;
        if (!after) {
          outcome.unchanged += 1;
          continue;
        }
        outcome.updated += 1;
        written.push(after.id as number);
        const { oldValues, newValues } = changedFields(
          service.toResponse(before),
          service.toResponse(after),
        );
        entries.push({
          action: 'UPDATE',
          resource: service.resource,
          resourceId: String(after.id),
          oldValues,
          newValues,
          details: { operation: 'import' },
        });
      }
    }
    await audit.append(tx, origin, entries);
  });
  if (outcome.created + outcome.updated > 0) service.recordsChanged(written);
  return outcome;
}
