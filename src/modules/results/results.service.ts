import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { type Database, type Executor, queryRows } from '../../platform/db/client.ts';
import { insertFromJson, insertSlices } from '../../platform/db/json-rows.ts';
import { notFound } from '../../platform/http/problems.ts';
import { courses, type EvaluationRule } from '../courses/courses.table.ts';
import { students } from '../students/students.table.ts';
import type { GradeBand } from './grade-scale.ts';
import {
  type AttendanceCounts,
  type ClassStatistics,
  type ComputedResult,
  classStatistics,
  computeResult,
  type GradeInput,
} from './results.formula.ts';
import { type CourseResultRow, courseResults } from './results.table.ts';

/** Which results a recompute rebuilds. */
export type RecomputeScope =
  | { scope: 'all' }
  | { scope: 'course'; course_id: number }
  | { scope: 'student'; student_id: number };

/** Students per batch: one transaction, one progress report, one cancellation check each. */
export const RECOMPUTE_BATCH_SIZE = 500;

export interface RecomputeOptions {
  scale: readonly GradeBand[];
  batchSize?: number;
  signal?: AbortSignal;
  onBatch?: (done: { students: number; total: number; results: number }) => Promise<void>;
}

export interface RecomputeReport {
  /** Students whose results were rebuilt (in the scope; with enrollments or not). */
  students: number;
  total_students: number;
  /** Result rows written. */
  results: number;
  /** Result rows removed because their enrollment, student or course is gone. */
  removed: number;
  cancelled: boolean;
}

const ids = (values: readonly number[]) => sql`${sql.param(values)}::int[]`;
const pairKey = (studentId: number, courseId: number) => `${studentId}:${courseId}`;

/** A result with the course it belongs to (a student's results). */
export type StudentResultRow = CourseResultRow & {
  course_code: string;
  course_name: string;
  semester: string;
};

/** A result with its student (a course's results). */
export type CourseResultWithStudent = CourseResultRow & {
  student_number: string;
  first_name: string;
  last_name: string;
};

/**
 * Derived results: rebuilds course_results from grades, attendance, daily performances and
 * the course rules (batched reads, the formula in results.formula.ts, one upsert per batch),
 * and reads them back for the API and the exports.
 */
export class ResultsService {
  constructor(private readonly db: Database) {}

  /**
   * Rebuilds the results of the scope, a batch of students per transaction. Idempotent: rows
   * are upserted on (student_id, course_id), and a student's rows whose pair is no longer an
   * enrollment of a live student and course are removed. Stops between batches when aborted.
   */
  async recompute(scope: RecomputeScope, options: RecomputeOptions): Promise<RecomputeReport> {
    const batchSize = options.batchSize ?? RECOMPUTE_BATCH_SIZE;
    const studentIds = await this.studentsOf(scope);
    const courseId = scope.scope === 'course' ? scope.course_id : undefined;
    const report: RecomputeReport = {
      students: 0,
      total_students: studentIds.length,
      results: 0,
      removed: 0,
      cancelled: false,
    };
    const rules = new Map<number, { rules: EvaluationRule[]; penalty: number }>();
    for (let start = 0; start < studentIds.length; start += batchSize) {
      if (options.signal?.aborted) {
        report.cancelled = true;
        break;
      }
      const batch = studentIds.slice(start, start + batchSize);
      const { written, removed } = await this.recomputeBatch(batch, courseId, rules, options.scale);
      report.students += batch.length;
      report.results += written;
      report.removed += removed;
      await options.onBatch?.({
        students: report.students,
        total: report.total_students,
        results: report.results,
      });
    }
    return report;
  }

  /**
   * The students a scope covers, soft-deleted ones included (their results must go): every
   * student; those of a course, enrolled or with a result there; or the one student.
   */
  private async studentsOf(scope: RecomputeScope): Promise<number[]> {
    let rows: Array<{ id: number }>;
    if (scope.scope === 'all') {
      rows = await this.db.select({ id: students.id }).from(students).orderBy(asc(students.id));
    } else if (scope.scope === 'course') {
      rows = await queryRows<{ id: number }>(
        this.db,
        sql`SELECT student_id AS id FROM course_enrollments WHERE course_id = ${scope.course_id}
            UNION SELECT student_id FROM course_results WHERE course_id = ${scope.course_id}
            ORDER BY 1`,
      );
    } else {
      rows = await this.db
        .select({ id: students.id })
        .from(students)
        .where(eq(students.id, scope.student_id));
    }
    return rows.map((row) => Number(row.id));
  }

  private async recomputeBatch(
    batch: number[],
    courseId: number | undefined,
    rules: Map<number, { rules: EvaluationRule[]; penalty: number }>,
    scale: readonly GradeBand[],
  ): Promise<{ written: number; removed: number }> {
    const inCourse = courseId === undefined ? sql`` : sql` AND course_id = ${courseId}`;
    // Every read below sees at least what had committed by then (the database's clock). Two
    // recomputes of the same students may overlap (one queued behind a running one): the
    // rows of the later reading win, whichever commits last.
    const [clock] = await queryRows<{ at: string }>(
      this.db,
      sql`SELECT clock_timestamp()::text AS at`,
    );
    const readAt = clock?.at ?? new Date().toISOString();
    // Enrollments that are not deleted, of students and courses that are not deleted; the
    // enrollment's status (active, completed, dropped) does not matter.
    const pairs = await queryRows<{ student_id: number; course_id: number }>(
      this.db,
      sql`SELECT e.student_id, e.course_id FROM course_enrollments e
          JOIN students s ON s.id = e.student_id AND s.deleted_at IS NULL
          JOIN courses c ON c.id = e.course_id AND c.deleted_at IS NULL
          WHERE e.deleted_at IS NULL AND e.student_id = ANY(${ids(batch)})
          ${courseId === undefined ? sql`` : sql`AND e.course_id = ${courseId}`}`,
    );
    await this.loadRules(
      rules,
      pairs.map((pair) => Number(pair.course_id)),
    );
    const gradeRows = await queryRows<GradeInput & { student_id: number; course_id: number }>(
      this.db,
      sql`SELECT student_id, course_id, category, grade, max_grade, weight FROM grades
          WHERE deleted_at IS NULL AND student_id = ANY(${ids(batch)})${inCourse}`,
    );
    const attendanceRows = await queryRows<AttendanceCounts & Record<string, number>>(
      this.db,
      sql`SELECT student_id, course_id,
            count(*) FILTER (WHERE status = 'Present')::int AS present,
            count(*) FILTER (WHERE status = 'Late')::int AS late,
            count(*) FILTER (WHERE status = 'Absent')::int AS absent,
            count(*) FILTER (WHERE status = 'Excused')::int AS excused
          FROM attendance WHERE deleted_at IS NULL AND student_id = ANY(${ids(batch)})${inCourse}
          GROUP BY student_id, course_id`,
    );
    // A performance with max_score 0 cannot be a ratio: left out, like such a grade.
    const performanceRows = await queryRows<{
      student_id: number;
      course_id: number;
      ratio: number;
    }>(
      this.db,
      sql`SELECT student_id, course_id, score / max_score AS ratio FROM daily_performances
          WHERE deleted_at IS NULL AND max_score > 0 AND student_id = ANY(${ids(batch)})${inCourse}`,
    );

    const grades = new Map<string, GradeInput[]>();
    for (const row of gradeRows) {
      const key = pairKey(Number(row.student_id), Number(row.course_id));
      const list = grades.get(key) ?? [];
      list.push({
        category: row.category,
        grade: Number(row.grade),
        max_grade: Number(row.max_grade),
        weight: Number(row.weight),
      });
      grades.set(key, list);
    }
    const attendance = new Map<string, AttendanceCounts>();
    for (const row of attendanceRows) {
      attendance.set(pairKey(Number(row.student_id), Number(row.course_id)), {
        present: Number(row.present),
        late: Number(row.late),
        absent: Number(row.absent),
        excused: Number(row.excused),
      });
    }
    const performances = new Map<string, number[]>();
    for (const row of performanceRows) {
      const key = pairKey(Number(row.student_id), Number(row.course_id));
      const list = performances.get(key) ?? [];
      list.push(Number(row.ratio));
      performances.set(key, list);
    }

    const results: Array<
      ComputedResult & { student_id: number; course_id: number; computed_at: string }
    > = [];
    for (const pair of pairs) {
      const studentId = Number(pair.student_id);
      const course = Number(pair.course_id);
      const key = pairKey(studentId, course);
      const courseRules = rules.get(course) ?? { rules: [], penalty: 0 };
      results.push({
        student_id: studentId,
        course_id: course,
        computed_at: readAt,
        ...computeResult({
          rules: courseRules.rules,
          absencePenalty: courseRules.penalty,
          grades: grades.get(key) ?? [],
          attendance: attendance.get(key) ?? { present: 0, late: 0, absent: 0, excused: 0 },
          performanceRatios: performances.get(key) ?? [],
          scale,
        }),
      });
    }

    return this.db.transaction(async (tx) => {
      for (const slice of insertSlices(courseResults, results)) {
        const statement = insertFromJson(courseResults, slice);
        statement.append(sql` ON CONFLICT (student_id, course_id) DO UPDATE SET
          weighted_percentage = excluded.weighted_percentage,
          absence_penalty = excluded.absence_penalty,
          final_percentage = excluded.final_percentage,
          letter_grade = excluded.letter_grade,
          grade_count = excluded.grade_count,
          present_count = excluded.present_count,
          late_count = excluded.late_count,
          absent_count = excluded.absent_count,
          excused_count = excluded.excused_count,
          attendance_rate = excluded.attendance_rate,
          excused_rate = excluded.excused_rate,
          average_performance = excluded.average_performance,
          computed_at = excluded.computed_at
          WHERE course_results.computed_at <= excluded.computed_at`);
        await tx.execute(statement);
      }
      // The batch's other rows belong to enrollments that were gone when it read (unless a
      // later recompute has written them since).
      const removed = await queryRows<{ id: number }>(
        tx,
        sql`DELETE FROM course_results r
            WHERE r.student_id = ANY(${ids(batch)})${inCourse}
            AND r.computed_at <= ${readAt}::timestamptz
            AND NOT EXISTS (
              SELECT 1 FROM unnest(
                ${ids(results.map((row) => row.student_id))},
                ${ids(results.map((row) => row.course_id))}
              ) AS p(student_id, course_id)
              WHERE p.student_id = r.student_id AND p.course_id = r.course_id)
            RETURNING r.id`,
      );
      return { written: results.length, removed: removed.length };
    });
  }

  /** Rules and penalty of the courses not read yet (once per recompute, not per batch). */
  private async loadRules(
    rules: Map<number, { rules: EvaluationRule[]; penalty: number }>,
    courseIds: number[],
  ): Promise<void> {
    const missing = [...new Set(courseIds)].filter((id) => !rules.has(id));
    if (missing.length === 0) return;
    const rows = await this.db
      .select({
        id: courses.id,
        rules: courses.evaluation_rules,
        penalty: courses.absence_penalty,
      })
      .from(courses)
      .where(sql`${courses.id} = ANY(${ids(missing)})`);
    for (const row of rows) rules.set(row.id, { rules: row.rules, penalty: row.penalty });
  }

  /** A live student's results, by course code. 404 for an unknown or deleted student. */
  async forStudent(studentId: number): Promise<StudentResultRow[]> {
    await this.assertLive(this.db, 'student', studentId);
    return this.db
      .select({
        ...resultColumns,
        course_code: courses.course_code,
        course_name: courses.course_name,
        semester: courses.semester,
      })
      .from(courseResults)
      .innerJoin(courses, eq(courses.id, courseResults.course_id))
      .where(and(eq(courseResults.student_id, studentId), isNull(courses.deleted_at)))
      .orderBy(asc(courses.course_code));
  }

  /** A live course's results, by student name, with the class statistics. 404 when unknown. */
  async forCourse(
    courseId: number,
    scale: readonly GradeBand[],
  ): Promise<{ rows: CourseResultWithStudent[]; statistics: ClassStatistics }> {
    await this.assertLive(this.db, 'course', courseId);
    const rows = await this.db
      .select({
        ...resultColumns,
        student_number: students.student_id,
        first_name: students.first_name,
        last_name: students.last_name,
      })
      .from(courseResults)
      .innerJoin(students, eq(students.id, courseResults.student_id))
      .where(and(eq(courseResults.course_id, courseId), isNull(students.deleted_at)))
      .orderBy(asc(students.last_name), asc(students.first_name), asc(students.id));
    return { rows, statistics: classStatistics(rows, scale) };
  }

  private async assertLive(executor: Executor, kind: 'student' | 'course', id: number) {
    const table = kind === 'student' ? students : courses;
    const [row] = await executor
      .select({ id: table.id })
      .from(table)
      .where(and(eq(table.id, id), isNull(table.deleted_at)));
    if (!row) throw notFound(kind === 'student' ? 'Student' : 'Course', id);
  }
}

const resultColumns = {
  id: courseResults.id,
  student_id: courseResults.student_id,
  course_id: courseResults.course_id,
  weighted_percentage: courseResults.weighted_percentage,
  absence_penalty: courseResults.absence_penalty,
  final_percentage: courseResults.final_percentage,
  letter_grade: courseResults.letter_grade,
  grade_count: courseResults.grade_count,
  present_count: courseResults.present_count,
  late_count: courseResults.late_count,
  absent_count: courseResults.absent_count,
  excused_count: courseResults.excused_count,
  attendance_rate: courseResults.attendance_rate,
  excused_rate: courseResults.excused_rate,
  average_performance: courseResults.average_performance,
  computed_at: courseResults.computed_at,
};
