import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.ts';
import { attendance } from '../attendance/attendance.table.ts';
import { courses } from '../courses/courses.table.ts';
import { courseEnrollments } from '../enrollments/enrollments.table.ts';
import { grades } from '../grades/grades.table.ts';
import { highlights } from '../highlights/highlights.table.ts';
import { dailyPerformances } from '../performances/performances.table.ts';
import { students } from '../students/students.table.ts';
import { SESSION_BUNDLE_VERSION, SESSION_ENTITIES, type SessionEntity } from './session-bundle.ts';

/** Ids per IN list: well under PostgreSQL's parameter limit. */
const ID_CHUNK = 5000;

async function byIds<Row>(ids: number[], query: (part: number[]) => Promise<Row[]>) {
  const rows: Row[] = [];
  for (let start = 0; start < ids.length; start += ID_CHUNK) {
    rows.push(...(await query(ids.slice(start, start + ID_CHUNK))));
  }
  return rows;
}

/** Sorts by the given fields in turn, so a bundle's order depends on content, not on ids. */
function sortBy<T extends Record<string, unknown>>(rows: T[], fields: Array<keyof T>): T[] {
  const text = (value: unknown) => (value == null ? '' : String(value));
  return rows.sort((a, b) => {
    for (const field of fields) {
      const order = text(a[field]).localeCompare(text(b[field]), 'en');
      if (order !== 0) return order;
    }
    return 0;
  });
}

export type SessionExport = Record<string, unknown> & {
  metadata: {
    semester: string;
    exported_at: string;
    exported_by: string;
    version: string;
    generator: string;
    counts: Record<SessionEntity, number>;
  };
};

/**
 * A semester as one bundle: its courses, the students enrolled in them, and their
 * enrollments, grades, attendance, daily performance and the semester's highlights.
 * Records name each other by student_id and course_code; null when the semester has no
 * courses.
 */
export async function exportSession(
  db: Executor,
  semester: string,
  exportedBy: string,
): Promise<SessionExport | null> {
  const courseRows = await db
    .select()
    .from(courses)
    .where(and(eq(courses.semester, semester), isNull(courses.deleted_at)))
    .orderBy(asc(courses.course_code));
  if (courseRows.length === 0) return null;
  const courseIds = courseRows.map((row) => row.id);
  const codeOf = new Map(courseRows.map((row) => [row.id, row.course_code]));

  const enrollmentRows = await byIds(courseIds, (part) =>
    db
      .select()
      .from(courseEnrollments)
      .where(and(inArray(courseEnrollments.course_id, part), isNull(courseEnrollments.deleted_at))),
  );
  const studentRows = await byIds(
    [...new Set(enrollmentRows.map((row) => row.student_id))],
    (part) =>
      db
        .select()
        .from(students)
        .where(and(inArray(students.id, part), isNull(students.deleted_at))),
  );
  const studentIdOf = new Map(studentRows.map((row) => [row.id, row.student_id]));
  // Records of a deleted student are left out, like the student.
  const live = <Row extends { student_id: number }>(rows: Row[]) =>
    rows.filter((row) => studentIdOf.has(row.student_id));
  const refs = (row: { student_id: number; course_id: number }) => ({
    student_id_ref: studentIdOf.get(row.student_id) as string,
    course_code_ref: codeOf.get(row.course_id) as string,
  });
  const perCourse = <Row>(
    table: typeof grades | typeof attendance | typeof dailyPerformances,
  ): Promise<Row[]> =>
    byIds(
      courseIds,
      (part) =>
        db
          .select()
          .from(table)
          .where(and(inArray(table.course_id, part), isNull(table.deleted_at))) as Promise<Row[]>,
    );

  const gradeRows = live(await perCourse<typeof grades.$inferSelect>(grades));
  const attendanceRows = live(await perCourse<typeof attendance.$inferSelect>(attendance));
  const performanceRows = live(
    await perCourse<typeof dailyPerformances.$inferSelect>(dailyPerformances),
  );
  const highlightRows = await byIds([...studentIdOf.keys()], (part) =>
    db
      .select()
      .from(highlights)
      .where(
        and(
          inArray(highlights.student_id, part),
          eq(highlights.semester, semester),
          isNull(highlights.deleted_at),
        ),
      ),
  );

  const lists = {
    courses: courseRows.map((row) => ({
      course_code: row.course_code,
      course_name: row.course_name,
      semester: row.semester,
      credits: row.credits,
      hours_per_week: row.hours_per_week,
      description: row.description,
      evaluation_rules: row.evaluation_rules,
      teaching_schedule: row.teaching_schedule,
      absence_penalty: row.absence_penalty,
    })),
    students: sortBy(
      studentRows.map((row) => ({
        student_id: row.student_id,
        first_name: row.first_name,
        last_name: row.last_name,
        email: row.email,
        father_name: row.father_name,
        mobile_phone: row.mobile_phone,
        phone: row.phone,
        study_year: row.study_year,
        health_issue: row.health_issue,
        enrollment_date: row.enrollment_date,
        is_active: row.is_active,
        academic_year: row.academic_year,
        class_division: row.class_division,
        note: row.note,
      })),
      ['student_id'],
    ),
    enrollments: sortBy(
      live(enrollmentRows).map((row) => ({
        ...refs(row),
        enrolled_at: row.enrollment_date,
        status: row.status,
      })),
      ['course_code_ref', 'student_id_ref'],
    ),
    grades: sortBy(
      gradeRows.map((row) => ({
        ...refs(row),
        assignment_name: row.assignment_name,
        category: row.category,
        grade: row.grade,
        max_grade: row.max_grade,
        weight: row.weight,
        date_assigned: row.date_assigned,
        date_submitted: row.date_submitted,
        notes: row.notes,
      })),
      ['course_code_ref', 'student_id_ref', 'assignment_name'],
    ),
    attendance: sortBy(
      attendanceRows.map((row) => ({
        ...refs(row),
        date: row.date,
        status: row.status,
        period_number: row.period_number,
        notes: row.notes,
      })),
      ['course_code_ref', 'student_id_ref', 'date', 'period_number'],
    ),
    daily_performance: sortBy(
      performanceRows.map((row) => ({
        ...refs(row),
        date: row.date,
        category: row.category,
        score: row.score,
        max_score: row.max_score,
        notes: row.notes,
      })),
      ['course_code_ref', 'student_id_ref', 'date', 'category'],
    ),
    highlights: sortBy(
      highlightRows.map((row) => ({
        student_id_ref: studentIdOf.get(row.student_id) as string,
        semester: row.semester,
        category: row.category,
        rating: row.rating,
        highlight_text: row.highlight_text,
        is_positive: row.is_positive,
        date_created: row.date_created,
      })),
      ['student_id_ref', 'highlight_text'],
    ),
  } satisfies Record<SessionEntity, unknown[]>;

  const counts = Object.fromEntries(
    SESSION_ENTITIES.map((name) => [name, lists[name].length]),
  ) as Record<SessionEntity, number>;
  return {
    metadata: {
      semester,
      exported_at: new Date().toISOString(),
      exported_by: exportedBy,
      version: SESSION_BUNDLE_VERSION,
      generator: 'registrar',
      counts,
    },
    ...lists,
  };
}
