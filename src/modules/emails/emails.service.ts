import { and, asc, eq, inArray, isNull, ne, type SQL, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../platform/db/client.ts';
import { type Page, readPage } from '../../platform/http/pagination.ts';
import { unprocessable } from '../../platform/http/problems.ts';
import type { ChangeContext } from '../../platform/http/request-context.ts';
import { courses } from '../courses/courses.table.ts';
import { courseEnrollments } from '../enrollments/enrollments.table.ts';
import { jobOriginFrom } from '../jobs/job-origin.ts';
import type { JobManager, JobResponse } from '../jobs/jobs.manager.ts';
import { courseResults } from '../results/results.table.ts';
import { students } from '../students/students.table.ts';
import {
  type DeliveryResponse,
  type EmailBatchPayload,
  MAX_EMAIL_RECIPIENTS,
  type RecipientSelection,
  type SendEmailsBody,
} from './emails.schema.ts';
import {
  type EmailDeliveryRow,
  type EmailDeliveryStatus,
  emailDeliveries,
} from './emails.table.ts';
import type { CourseResultLine } from './emails.template.ts';

export function toDeliveryResponse(row: EmailDeliveryRow): DeliveryResponse {
  return {
    student_id: row.student_id,
    address: row.address,
    status: row.status,
    attempts: row.attempts,
    message_id: row.message_id,
    error_message: row.error_message,
    updated_at: row.updated_at.toISOString(),
  };
}

/** What a message needs to know about its student, read when it goes out. */
export interface RecipientRecord {
  id: number;
  student_id: string;
  first_name: string;
  last_name: string;
  email: string | null;
  class_division: string | null;
  study_year: number | null;
}

/** A delivery outcome to record for one student of a job. */
export interface DeliveryOutcome {
  status: EmailDeliveryStatus;
  address: string | null;
  attempts: number;
  messageId: string | null;
  error: string | null;
}

/**
 * Email batches: resolves who a selection reaches, starts email_batch jobs, and reads and
 * writes their per-recipient deliveries.
 */
export class EmailsService {
  constructor(
    private readonly db: Database,
    private readonly jobs: JobManager,
  ) {}

  /** Enrolled (active) in a course matching `courseCondition`, neither row deleted. */
  private enrolledIn(courseCondition: SQL): SQL {
    return sql`EXISTS (SELECT 1 FROM ${courseEnrollments}
      JOIN ${courses} ON ${courses.id} = ${courseEnrollments.course_id} AND ${courses.deleted_at} IS NULL
      WHERE ${courseEnrollments.student_id} = ${students.id}
        AND ${courseEnrollments.status} = 'active'
        AND ${courseEnrollments.deleted_at} IS NULL
        AND ${courseCondition})`;
  }

  /**
   * The students a selection reaches, by record id. 422 for a course, semester or student
   * that does not exist, for a selection that reaches nobody, or one over the limit.
   */
  async resolve(selection: RecipientSelection): Promise<{
    studentIds: number[];
    resultsCourseIds: number[] | null;
  }> {
    const conditions: Array<SQL | undefined> = [isNull(students.deleted_at)];
    let resultsCourseIds: number[] | null = null;
    if (selection.course_id !== undefined) {
      const [course] = await this.db
        .select({ id: courses.id })
        .from(courses)
        .where(and(eq(courses.id, selection.course_id), isNull(courses.deleted_at)));
      if (!course) {
        throw unprocessable(`Course ${selection.course_id} does not exist.`, [
          { field: 'body.recipients.course_id', message: 'does not exist' },
        ]);
      }
      conditions.push(this.enrolledIn(sql`${courses.id} = ${selection.course_id}`));
      resultsCourseIds = [selection.course_id];
    }
    if (selection.semester !== undefined) {
      const inSemester = await this.db
        .select({ id: courses.id })
        .from(courses)
        .where(and(eq(courses.semester, selection.semester), isNull(courses.deleted_at)))
        .orderBy(asc(courses.id));
      if (inSemester.length === 0) {
        throw unprocessable(`No course belongs to the semester "${selection.semester}".`, [
          { field: 'body.recipients.semester', message: 'has no courses' },
        ]);
      }
      conditions.push(this.enrolledIn(sql`${courses.semester} = ${selection.semester}`));
      const ids = inSemester.map((course) => course.id);
      resultsCourseIds = resultsCourseIds ? resultsCourseIds.filter((id) => ids.includes(id)) : ids;
    }
    if (selection.class_division !== undefined) {
      conditions.push(eq(students.class_division, selection.class_division));
    }
    if (selection.student_ids !== undefined) {
      const wanted = [...new Set(selection.student_ids)];
      const found = await this.db
        .select({ id: students.id })
        .from(students)
        .where(and(inArray(students.id, wanted), isNull(students.deleted_at)));
      const known = new Set(found.map((row) => row.id));
      const missing = wanted.filter((id) => !known.has(id));
      if (missing.length > 0) {
        throw unprocessable(
          `${missing.length} of the students do not exist: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''}.`,
          [
            {
              field: 'body.recipients.student_ids',
              message: `unknown ids ${missing.slice(0, 20).join(', ')}`,
            },
          ],
        );
      }
      conditions.push(inArray(students.id, wanted));
    } else {
      // Someone named explicitly gets the message; a group reaches its active members.
      conditions.push(eq(students.is_active, true));
    }
    const rows = await this.db
      .select({ id: students.id })
      .from(students)
      .where(and(...conditions))
      .orderBy(asc(students.id))
      .limit(MAX_EMAIL_RECIPIENTS + 1);
    if (rows.length === 0) {
      throw unprocessable('The selection reaches no students.', [
        { field: 'body.recipients', message: 'matches no students' },
      ]);
    }
    if (rows.length > MAX_EMAIL_RECIPIENTS) {
      throw unprocessable(
        `The selection reaches more than ${MAX_EMAIL_RECIPIENTS} students; narrow it (a course, a class division).`,
        [
          {
            field: 'body.recipients',
            message: `matches more than ${MAX_EMAIL_RECIPIENTS} students`,
          },
        ],
      );
    }
    return { studentIds: rows.map((row) => row.id), resultsCourseIds };
  }

  /** Resolves the recipients now and starts the email_batch job that writes to them. */
  async startBatch(
    body: SendEmailsBody,
    userId: number | null,
    context: ChangeContext,
  ): Promise<JobResponse> {
    const { studentIds, resultsCourseIds } = await this.resolve(body.recipients);
    const payload: EmailBatchPayload = {
      subject: body.subject,
      body: body.body,
      attach_report: body.attach_report,
      student_ids: studentIds,
      results_course_ids: resultsCourseIds,
      selection: body.recipients,
      origin: jobOriginFrom(context),
    };
    return this.jobs.createJob(
      { jobType: 'email_batch', userId, metadata: payload, totalItems: studentIds.length },
      context,
    );
  }

  /** One page of a job's deliveries, in the order they were written. */
  async deliveries(
    jobId: string,
    query: { page: number; page_size: number; status?: EmailDeliveryStatus | undefined },
  ): Promise<Page<DeliveryResponse>> {
    const where = and(
      eq(emailDeliveries.job_id, jobId),
      query.status ? eq(emailDeliveries.status, query.status) : undefined,
    );
    const { rows, total, hasNext } = await readPage(
      query.page,
      query.page_size,
      (limit, offset) =>
        this.db
          .select()
          .from(emailDeliveries)
          .where(where)
          .orderBy(asc(emailDeliveries.id))
          .limit(limit)
          .offset(offset),
      async () => {
        const [counted] = await this.db
          .select({ n: sql<number>`count(*)`.mapWith(Number) })
          .from(emailDeliveries)
          .where(where);
        return counted?.n ?? 0;
      },
    );
    return {
      items: rows.map(toDeliveryResponse),
      total,
      page: query.page,
      page_size: query.page_size,
      has_next: hasNext,
    };
  }
}

// ---- Reads and writes of the email_batch handler ----

/** Every delivery a job has recorded so far, by student record id. */
export async function deliveriesByStudent(
  db: Executor,
  jobId: string,
): Promise<Map<number, EmailDeliveryRow>> {
  const rows = await db.select().from(emailDeliveries).where(eq(emailDeliveries.job_id, jobId));
  return new Map(rows.map((row) => [row.student_id, row]));
}

/** Records one student's outcome for a job, replacing an earlier one (a retry's). */
export async function recordDelivery(
  db: Executor,
  jobId: string,
  studentId: number,
  outcome: DeliveryOutcome,
): Promise<void> {
  const values = {
    address: outcome.address,
    status: outcome.status,
    attempts: outcome.attempts,
    message_id: outcome.messageId,
    error_message: outcome.error === null ? null : outcome.error.slice(0, 1000),
    updated_at: new Date(),
  };
  await db
    .insert(emailDeliveries)
    .values({ job_id: jobId, student_id: studentId, ...values })
    .onConflictDoUpdate({
      target: [emailDeliveries.job_id, emailDeliveries.student_id],
      set: values,
    });
}

/** The students of one chunk of a batch (deleted ones are left out). */
export async function recipientRecords(
  db: Executor,
  ids: number[],
): Promise<Map<number, RecipientRecord>> {
  const rows = await db
    .select({
      id: students.id,
      student_id: students.student_id,
      first_name: students.first_name,
      last_name: students.last_name,
      email: students.email,
      class_division: students.class_division,
      study_year: students.study_year,
    })
    .from(students)
    .where(and(inArray(students.id, ids), isNull(students.deleted_at)));
  return new Map(rows.map((row) => [row.id, row]));
}

/**
 * The course results table of each student of a chunk: every course they are enrolled in
 * (not dropped), limited to `courseIds` when given, with the recompute job's figures where
 * it has run (blank where it has not).
 */
export async function courseResultLines(
  db: Executor,
  ids: number[],
  courseIds: number[] | null,
): Promise<Map<number, CourseResultLine[]>> {
  const rows = await db
    .select({
      student: courseEnrollments.student_id,
      course_code: courses.course_code,
      course_name: courses.course_name,
      semester: courses.semester,
      final_percentage: courseResults.final_percentage,
      letter_grade: courseResults.letter_grade,
      attendance_rate: courseResults.attendance_rate,
    })
    .from(courseEnrollments)
    .innerJoin(
      courses,
      and(eq(courses.id, courseEnrollments.course_id), isNull(courses.deleted_at)),
    )
    .leftJoin(
      courseResults,
      and(
        eq(courseResults.student_id, courseEnrollments.student_id),
        eq(courseResults.course_id, courseEnrollments.course_id),
      ),
    )
    .where(
      and(
        inArray(courseEnrollments.student_id, ids),
        isNull(courseEnrollments.deleted_at),
        ne(courseEnrollments.status, 'dropped'),
        courseIds ? inArray(courseEnrollments.course_id, courseIds) : undefined,
      ),
    )
    .orderBy(asc(courseEnrollments.student_id), asc(courses.semester), asc(courses.course_code));
  const byStudent = new Map<number, CourseResultLine[]>();
  for (const { student, ...line } of rows) {
    const lines = byStudent.get(student) ?? [];
    lines.push(line);
    byStudent.set(student, lines);
  }
  return byStudent;
}
