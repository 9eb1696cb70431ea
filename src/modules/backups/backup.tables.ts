import { getTableColumns, getTableName } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { attendance } from '../attendance/attendance.table.ts';
import { auditChainHead, auditLogs, auditPending } from '../audit/audit.table.ts';
import { courses } from '../courses/courses.table.ts';
import { courseEnrollments } from '../enrollments/enrollments.table.ts';
import { grades } from '../grades/grades.table.ts';
import { highlights } from '../highlights/highlights.table.ts';
import { dailyPerformances } from '../performances/performances.table.ts';
import { roles } from '../roles/roles.table.ts';
import { settings } from '../settings/settings.table.ts';
import { students } from '../students/students.table.ts';
import { users } from '../users/users.table.ts';

export interface BackupTable {
  name: string;
  /** The single-column primary key: rows are read in its order, a keyset page at a time. */
  key: string;
  /** The key's SQL type, for the keyset comparison. */
  keyType: string;
  /** An identity id (GENERATED ALWAYS): restored rows need OVERRIDING SYSTEM VALUE. */
  identity: boolean;
  /** The key draws from a sequence (identity or bigserial), set past the restored rows. */
  sequence: boolean;
  columns: string[];
}

function spec(table: PgTable, key: string, id: 'identity' | 'serial' | 'none'): BackupTable {
  return {
    name: getTableName(table),
    key,
    keyType: Object.values(getTableColumns(table))
      .find((column) => column.name === key)
      ?.getSQLType() as string,
    identity: id === 'identity',
    sequence: id !== 'none',
    columns: Object.values(getTableColumns(table)).map((column) => column.name),
  };
}

/**
 * The school's data, in insert order (a table after the tables it references; restore
 * deletes in the reverse order). The audit trail and its chain head are data: a restore
 * brings back the trail as it was when the backup was made, so it still verifies. Entries
 * committed but not yet sealed (audit_pending, usually empty: the backup flushes first) come
 * too, so every change in the snapshot keeps its record; they are sealed after the restore.
 */
export const BACKUP_TABLES: readonly BackupTable[] = [
  spec(roles, 'name', 'none'),
  spec(settings, 'key', 'none'),
  spec(users, 'id', 'identity'),
  spec(students, 'id', 'identity'),
  spec(courses, 'id', 'identity'),
  spec(courseEnrollments, 'id', 'identity'),
  spec(grades, 'id', 'identity'),
  spec(attendance, 'id', 'identity'),
  spec(dailyPerformances, 'id', 'identity'),
  spec(highlights, 'id', 'identity'),
  spec(auditLogs, 'id', 'none'),
  spec(auditChainHead, 'id', 'none'),
  spec(auditPending, 'id', 'serial'),
];

/**
 * Tables a backup leaves out, and why. A restore leaves them as they are, except that
 * refresh tokens go with their users (ON DELETE CASCADE): everyone signs in again.
 */
export const EPHEMERAL_TABLES: Readonly<Record<string, string>> = {
  jobs: 'the job history of this install; the restore itself runs as a job',
  refresh_tokens: 'sign-in sessions (secrets); a restore signs everyone out',
  sign_in_failures: 'short-lived lockout counters',
  import_previews: 'previews expire within hours and point at uploaded files of this install',
  import_preview_rows: 'belong to import_previews',
  session_imports: 'session bundles waiting for their import job; the job deletes them',
  email_deliveries: 'who an email_batch job has reached; they belong to its job, which stays too',
  course_results:
    'derived from grades, attendance, performances and course rules: a restore announces every change, which schedules a recompute of everything',
};
