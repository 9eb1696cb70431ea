import type { PgTable } from 'drizzle-orm/pg-core';
import type { Executor } from '../../platform/db/client.ts';
import type { FieldIssue } from '../../platform/http/problems.ts';
import { changesAgainst, findByKeys } from '../imports/import-analysis.ts';
import type { ImportServices } from '../imports/import-targets.ts';
import {
  CHILD_ENTITIES,
  type ChildEntity,
  type ChildRecord,
  SESSION_ENTITIES,
  type SessionBundle,
  type SessionEntity,
  type Values,
} from './session-bundle.ts';

export type MergeStrategy = 'update' | 'skip';
export const MERGE_STRATEGIES = ['update', 'skip'] as const;

/** Where each list of the bundle lands and which columns identify its records. */
export const ENTITY_TARGETS: Record<
  SessionEntity,
  { service: keyof ImportServices; keyColumns: string[] }
> = {
  courses: { service: 'courses', keyColumns: ['course_code'] },
  students: { service: 'students', keyColumns: ['student_id'] },
  enrollments: { service: 'enrollments', keyColumns: ['student_id', 'course_id'] },
  grades: { service: 'grades', keyColumns: ['student_id', 'course_id', 'assignment_name'] },
  attendance: {
    service: 'attendance',
    keyColumns: ['student_id', 'course_id', 'date', 'period_number'],
  },
  daily_performance: {
    service: 'performances',
    keyColumns: ['student_id', 'course_id', 'date', 'category'],
  },
  highlights: { service: 'highlights', keyColumns: ['student_id', 'semester', 'highlight_text'] },
};

export interface EntityCounts {
  create: number;
  update: number;
  skip: number;
}

/** A record to create; a child's parents are named by natural key until they have ids. */
export interface PlannedCreate {
  values: Values;
  studentRef?: string;
  courseRef?: string | null;
}

export interface PlannedUpdate {
  id: number;
  changes: Values;
}

export interface SessionPlan {
  semester: string;
  counts: Record<SessionEntity, EntityCounts>;
  problems: FieldIssue[];
  warnings: FieldIssue[];
  creates: Record<SessionEntity, PlannedCreate[]>;
  updates: Record<SessionEntity, PlannedUpdate[]>;
  /** Live parents already in the database: natural key → id. */
  studentIds: Map<string, number>;
  courseIds: Map<string, number>;
}

const emptyBy = <T>(make: () => T) =>
  Object.fromEntries(SESSION_ENTITIES.map((name) => [name, make()])) as Record<SessionEntity, T>;

const keyText = (parts: unknown[]) => JSON.stringify(parts.map((part) => part ?? null));

/** The natural key of a child record, by references (the same in the bundle and the database). */
function childKey(entity: ChildEntity, record: ChildRecord): string {
  const columns = ENTITY_TARGETS[entity].keyColumns.filter(
    (name) => name !== 'student_id' && name !== 'course_id',
  );
  return keyText([
    record.studentRef,
    record.courseRef,
    ...columns.map((name) => record.values[name]),
  ]);
}

/**
 * Decides, record by record, what importing a bundle would do with the database as it is
 * (`db` may be the import's own transaction): create, update (merge_strategy "update" and a
 * value differs) or skip, and every problem that refuses the whole import — a repeated
 * code or key, a reference that resolves neither in the bundle nor in the database, an
 * e-mail another student holds, a record that was deleted.
 */
export async function planSessionImport(
  db: Executor,
  services: ImportServices,
  bundle: SessionBundle,
  strategy: MergeStrategy,
): Promise<SessionPlan> {
  const plan: SessionPlan = {
    semester: bundle.semester,
    counts: emptyBy(() => ({ create: 0, update: 0, skip: 0 })),
    problems: [],
    warnings: [...bundle.warnings],
    creates: emptyBy(() => []),
    updates: emptyBy(() => []),
    studentIds: new Map(),
    courseIds: new Map(),
  };
  const problem = (field: string, message: string) => plan.problems.push({ field, message });
  const tableOf = (entity: SessionEntity) =>
    services[ENTITY_TARGETS[entity].service].table as PgTable;

  /** Counts one record and files it as a create, an update or a skip. */
  const decide = (
    entity: SessionEntity,
    values: Values,
    existing: Record<string, unknown> | undefined,
    refs: Omit<PlannedCreate, 'values'> = {},
  ) => {
    const counts = plan.counts[entity];
    if (!existing) {
      counts.create += 1;
      plan.creates[entity].push({ values, ...refs });
      return;
    }
    const changes = changesAgainst(values, existing);
    if (strategy === 'skip' || Object.keys(changes).length === 0) {
      counts.skip += 1;
      return;
    }
    counts.update += 1;
    plan.updates[entity].push({ id: existing.id as number, changes });
  };

  // Courses and students: unique codes in the bundle, then matched to the database.
  for (const entity of ['courses', 'students'] as const) {
    const [keyColumn] = ENTITY_TARGETS[entity].keyColumns as [string];
    const records = bundle[entity];
    const seen = new Map<string, number>();
    const emails = new Map<string, number>();
    for (const { index, values } of records) {
      const key = String(values[keyColumn]);
      const first = seen.get(key);
      if (first !== undefined) {
        problem(`${entity}[${index}].${keyColumn}`, `"${key}" repeats ${entity}[${first}]`);
      } else seen.set(key, index);
      if (entity === 'students' && typeof values.email === 'string') {
        const holder = emails.get(values.email);
        if (holder !== undefined) {
          problem(`students[${index}].email`, `"${values.email}" repeats students[${holder}]`);
        } else emails.set(values.email, index);
      }
    }
    const table = tableOf(entity);
    const found = await findByKeys(
      db,
      table,
      [keyColumn],
      [...seen.keys()].map((key) => [key]),
    );
    const byKey = new Map(found.map((row) => [String(row[keyColumn]), row]));
    const emailHolders =
      entity === 'students'
        ? await findByKeys(
            db,
            table,
            ['email'],
            [...emails.keys()].map((email) => [email]),
          )
        : [];
    const holderOf = new Map(emailHolders.map((row) => [String(row.email), row]));
    for (const { index, values } of records) {
      const key = String(values[keyColumn]);
      if (seen.get(key) !== index) continue;
      const existing = byKey.get(key);
      if (existing?.deleted_at) {
        problem(`${entity}[${index}]`, `${keyColumn} "${key}" was deleted; restore it first`);
        continue;
      }
      const holder = typeof values.email === 'string' ? holderOf.get(values.email) : undefined;
      if (holder && holder.student_id !== key) {
        problem(
          `students[${index}].email`,
          `"${values.email}" already belongs to student ${String(holder.student_id)}`,
        );
        continue;
      }
      decide(entity, values, existing);
    }
    for (const row of found) {
      if (row.deleted_at) continue;
      (entity === 'courses' ? plan.courseIds : plan.studentIds).set(
        String(row[keyColumn]),
        row.id as number,
      );
    }
  }

  // References a child makes to records not in the bundle may name live database records.
  const inBundle = {
    students: new Set(bundle.students.map((record) => String(record.values.student_id))),
    courses: new Set(bundle.courses.map((record) => String(record.values.course_code))),
  };
  const outside = (set: Set<string>, known: Map<string, number>, refs: Array<string | null>) =>
    [...new Set(refs.filter((ref): ref is string => ref !== null))].filter(
      (ref) => !set.has(ref) && !known.has(ref),
    );
  const allChildren = CHILD_ENTITIES.flatMap((entity) => bundle.children[entity]);
  const extraStudents = outside(
    inBundle.students,
    plan.studentIds,
    allChildren.map((record) => record.studentRef),
  );
  const extraCourses = outside(
    inBundle.courses,
    plan.courseIds,
    allChildren.map((record) => record.courseRef),
  );
  for (const row of await findByKeys(
    db,
    tableOf('students'),
    ['student_id'],
    extraStudents.map((ref) => [ref]),
  )) {
    if (!row.deleted_at) plan.studentIds.set(String(row.student_id), row.id as number);
  }
  for (const row of await findByKeys(
    db,
    tableOf('courses'),
    ['course_code'],
    extraCourses.map((ref) => [ref]),
  )) {
    if (!row.deleted_at) plan.courseIds.set(String(row.course_code), row.id as number);
  }
  const resolves = {
    student: (ref: string) => inBundle.students.has(ref) || plan.studentIds.has(ref),
    course: (ref: string) => inBundle.courses.has(ref) || plan.courseIds.has(ref),
  };

  for (const entity of CHILD_ENTITIES) {
    const seen = new Map<string, number>();
    const candidates: ChildRecord[] = [];
    for (const record of bundle.children[entity]) {
      const at = `${entity}[${record.index}]`;
      let ok = true;
      if (!resolves.student(record.studentRef)) {
        problem(`${at}.student_id_ref`, `no student "${record.studentRef}" in the bundle or here`);
        ok = false;
      }
      if (record.courseRef !== null && !resolves.course(record.courseRef)) {
        problem(`${at}.course_code_ref`, `no course "${record.courseRef}" in the bundle or here`);
        ok = false;
      }
      const key = childKey(entity, record);
      const first = seen.get(key);
      if (first !== undefined) {
        problem(at, `repeats ${entity}[${first}] (the same student, course and key fields)`);
        ok = false;
      } else seen.set(key, record.index);
      if (ok) candidates.push(record);
    }
    // Only records whose parents both exist already can exist themselves.
    const keyColumns = ENTITY_TARGETS[entity].keyColumns;
    const idsOf = (record: ChildRecord): Values | null => {
      const studentId = plan.studentIds.get(record.studentRef);
      const courseId = record.courseRef === null ? null : plan.courseIds.get(record.courseRef);
      if (studentId === undefined || courseId === undefined) return null;
      return { student_id: studentId, ...(courseId === null ? {} : { course_id: courseId }) };
    };
    const withIds = candidates.map((record) => {
      const ids = idsOf(record);
      return { record, keyValues: ids ? { ...record.values, ...ids } : null };
    });
    const lookups = withIds.flatMap(({ keyValues }) =>
      keyValues ? [keyColumns.map((name) => keyValues[name] ?? null)] : [],
    );
    const found =
      lookups.length > 0 ? await findByKeys(db, tableOf(entity), keyColumns, lookups) : [];
    const existingByKey = new Map<string, Record<string, unknown>>();
    // Deleted records first, so a live twin (grades have no unique key) wins.
    for (const row of [...found].sort((a, b) => Number(!!b.deleted_at) - Number(!!a.deleted_at))) {
      existingByKey.set(keyText(keyColumns.map((name) => row[name])), row);
    }
    for (const { record, keyValues } of withIds) {
      const existing = keyValues
        ? existingByKey.get(keyText(keyColumns.map((name) => keyValues[name])))
        : undefined;
      if (existing?.deleted_at) {
        problem(`${entity}[${record.index}]`, 'this record was deleted here; restore it first');
        continue;
      }
      decide(entity, record.values, existing, {
        studentRef: record.studentRef,
        courseRef: record.courseRef,
      });
    }
  }
  return plan;
}
