import { eq } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { changedFields } from '../../platform/crud/resource.service.ts';
import type { Database, Transaction } from '../../platform/db/client.ts';
import { insertJsonRows } from '../../platform/db/json-rows.ts';
import type { AuditEntryInput, AuditLogger } from '../audit/audit.logger.ts';
import type { ImportServices } from '../imports/import-targets.ts';
import { auditOriginOf, jobOriginSchema } from '../jobs/job-origin.ts';
import type { JobHandler } from '../jobs/jobs.registry.ts';
import { readBundle, SESSION_ENTITIES, type SessionEntity } from './session-bundle.ts';
import {
  ENTITY_TARGETS,
  MERGE_STRATEGIES,
  planSessionImport,
  type SessionPlan,
} from './session-plan.ts';
import { sessionImports } from './sessions.table.ts';

export const sessionImportPayload = z.object({
  /** Tells a session import from a file import on the shared bulk_import job type. */
  kind: z.literal('session'),
  session_import_id: z.uuid(),
  semester: z.string(),
  merge_strategy: z.enum(MERGE_STRATEGIES),
  origin: jobOriginSchema,
});
export type SessionImportPayload = z.infer<typeof sessionImportPayload>;

/** Thrown inside the transaction to roll it back when the job is cancelled. */
class ImportCancelled extends Error {}

type Row = Record<string, unknown>;

/**
 * Writes a checked plan in the caller's transaction: parents first (their new ids resolve
 * the children's references), creates as one bulk insert per list, updates one record at
 * a time; one audit entry per record. Returns how many records each list changed.
 */
async function writePlan(
  tx: Transaction,
  services: ImportServices,
  plan: SessionPlan,
  signal: AbortSignal,
): Promise<{ entries: AuditEntryInput[]; changed: Set<SessionEntity> }> {
  const entries: AuditEntryInput[] = [];
  const changed = new Set<SessionEntity>();
  const details = { operation: 'session_import', semester: plan.semester };
  for (const entity of SESSION_ENTITIES) {
    if (signal.aborted) throw new ImportCancelled();
    const service = services[ENTITY_TARGETS[entity].service];
    const table = service.table as PgTable;
    const creates = plan.creates[entity].map(({ values, studentRef, courseRef }) => {
      if (studentRef === undefined) return values;
      const ids: Row = { student_id: plan.studentIds.get(studentRef) };
      if (courseRef) ids.course_id = plan.courseIds.get(courseRef);
      return { ...values, ...ids };
    });
    const inserted = (await insertJsonRows(tx, table, creates, { returning: true })) as Row[];
    for (const record of inserted) {
      // New parents resolve the references of the children written after them.
      if (entity === 'courses') plan.courseIds.set(String(record.course_code), record.id as number);
      if (entity === 'students') {
        plan.studentIds.set(String(record.student_id), record.id as number);
      }
      entries.push({
        action: 'CREATE',
        resource: service.resource,
        resourceId: String(record.id),
        newValues: service.toResponse(record),
        details,
      });
    }
    const idColumn = (table as unknown as { id: Parameters<typeof eq>[0] }).id;
    for (const update of plan.updates[entity]) {
      const [before] = (await tx
        .select()
        .from(table)
        .where(eq(idColumn, update.id))
        .for('update')) as Row[];
      const [after] = (await tx
        .update(table)
        .set(update.changes as never)
        .where(eq(idColumn, update.id))
        .returning()) as Row[];
      if (!before || !after) throw new Error(`${entity} record ${update.id} vanished`);
      const { oldValues, newValues } = changedFields(
        service.toResponse(before),
        service.toResponse(after),
      );
      entries.push({
        action: 'UPDATE',
        resource: service.resource,
        resourceId: String(update.id),
        oldValues,
        newValues,
        details,
      });
    }
    if (inserted.length + plan.updates[entity].length > 0) changed.add(entity);
  }
  return { entries, changed };
}

const totals = (plan: SessionPlan) =>
  SESSION_ENTITIES.reduce(
    (sum, entity) => {
      const counts = plan.counts[entity];
      return {
        created: sum.created + counts.create,
        updated: sum.updated + counts.update,
        skipped: sum.skipped + counts.skip,
      };
    },
    { created: 0, updated: 0, skipped: 0 },
  );

/**
 * The session import, run as a bulk_import job: reads the stored bundle, checks it again
 * against the database inside ONE transaction (something may have changed since the
 * request), and writes everything there with its audit entries and the IMPORT/SESSION
 * summary — all or nothing. A retry after a crash finds the committed records unchanged.
 */
export function sessionImportHandler(
  db: Database,
  services: ImportServices,
  audit: AuditLogger,
): JobHandler<SessionImportPayload> {
  return {
    payload: sessionImportPayload,
    permission: 'jobs:create',
    async run({ job, payload, signal, progress }) {
      const origin = auditOriginOf(job.user_id, payload.origin);
      const [stored] = await db
        .select()
        .from(sessionImports)
        .where(eq(sessionImports.id, payload.session_import_id));
      // Started through POST /jobs, a job could name someone else's bundle.
      if (!stored || stored.user_id !== job.user_id) {
        return {
          success: false,
          message: `Session import ${payload.session_import_id} no longer exists (it has run already, or was refused).`,
        };
      }
      // The bundle has served once the import committed or was refused for good.
      const forget = () => db.delete(sessionImports).where(eq(sessionImports.id, stored.id));
      const failed = async (message: string, errors: unknown[] = []) => {
        await forget();
        await db.transaction((tx) =>
          audit.append(tx, origin, [
            {
              action: 'IMPORT',
              resource: 'SESSION',
              details: { job_id: job.id, semester: stored.semester, problems: errors.length },
              success: false,
              errorMessage: message,
            },
          ]),
        );
        return { success: false, message, errors };
      };

      const { bundle, problems } = readBundle(stored.bundle);
      if (!bundle || problems.length > 0) {
        return failed('The bundle is not valid; nothing was imported.', problems);
      }
      const total =
        bundle.courses.length +
        bundle.students.length +
        Object.values(bundle.children).reduce((sum, list) => sum + list.length, 0);
      // Progress before and after only: the one transaction holds the embedded database's
      // only connection, so nothing else may be written while it runs.
      await progress({ current: 0, total, message: `Importing semester ${bundle.semester}` });
      let plan: SessionPlan | undefined;
      let changed = new Set<SessionEntity>();
      try {
        await db.transaction(async (tx) => {
          plan = await planSessionImport(tx, services, bundle, stored.merge_strategy);
          if (plan.problems.length > 0) return;
          const written = await writePlan(tx, services, plan, signal);
          changed = written.changed;
          const summary = totals(plan);
          await audit.append(tx, origin, [
            ...written.entries,
            {
              action: 'IMPORT',
              resource: 'SESSION',
              details: {
                job_id: job.id,
                semester: plan.semester,
                merge_strategy: stored.merge_strategy,
                ...summary,
                counts: plan.counts,
              },
            },
          ]);
        });
      } catch (error) {
        if (error instanceof ImportCancelled) {
          return failed('Cancelled; nothing was imported (the import is all or nothing).');
        }
        throw error;
      }
      if (!plan) throw new Error('the session import made no plan');
      if (plan.problems.length > 0) {
        return failed(
          'The database changed since the bundle was checked; nothing was imported.',
          plan.problems,
        );
      }
      for (const entity of changed) services[ENTITY_TARGETS[entity].service].recordsChanged();
      await forget();
      const summary = totals(plan);
      await progress({
        current: total,
        total,
        message: 'Imported',
        processed_items: summary.created + summary.updated,
        skipped_items: summary.skipped,
      });
      return {
        success: true,
        message: `Imported semester ${plan.semester}: ${summary.created} created, ${summary.updated} updated, ${summary.skipped} skipped.`,
        data: {
          semester: plan.semester,
          merge_strategy: stored.merge_strategy,
          counts: plan.counts,
        },
        statistics: { ...summary, errors: 0 },
        warnings: plan.warnings,
      };
    },
  };
}
