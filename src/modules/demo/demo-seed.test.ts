import { and, asc, count, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../../test/support/test-app.ts';
import type { Database, DatabaseHandle } from '../../platform/db/client.ts';
import { attendance } from '../attendance/attendance.table.ts';
import { courses } from '../courses/courses.table.ts';
import { courseEnrollments } from '../enrollments/enrollments.table.ts';
import { grades } from '../grades/grades.table.ts';
import { highlights } from '../highlights/highlights.table.ts';
import { dailyPerformances } from '../performances/performances.table.ts';
import { students } from '../students/students.table.ts';
import { transliterate } from './demo-data.ts';
import { DEMO_SCHOOL_NOT_EMPTY, mulberry32, seedDemoSchool } from './demo-seed.ts';

const STUDENTS = 60;

let first: DatabaseHandle;
let second: DatabaseHandle;
let counts: Record<string, number>;

beforeAll(async () => {
  [first, second] = await Promise.all([openTestDatabase(), openTestDatabase()]);
  counts = await seedDemoSchool(first.db, { students: STUDENTS });
});
afterAll(async () => {
  await Promise.all([first?.close(), second?.close()]);
});

type SeededTable =
  | typeof students
  | typeof courses
  | typeof courseEnrollments
  | typeof grades
  | typeof attendance
  | typeof dailyPerformances
  | typeof highlights;

async function total(db: Database, table: SeededTable) {
  const [row] = await db.select({ total: count() }).from(table);
  return row?.total ?? 0;
}

/** Rows that are in a table but have no enrollment for their student and course. */
async function orphans(
  db: Database,
  table: typeof grades | typeof attendance | typeof dailyPerformances,
) {
  const [row] = await db
    .select({ total: count() })
    .from(table)
    .leftJoin(
      courseEnrollments,
      and(
        eq(courseEnrollments.student_id, table.student_id),
        eq(courseEnrollments.course_id, table.course_id),
      ),
    )
    .where(isNull(courseEnrollments.id));
  return row?.total ?? 0;
}

/** Everything the seed wrote, keyed by business keys rather than generated ids. */
async function snapshot(db: Database) {
  const studentRows = await db
    .select({
      student_id: students.student_id,
      first_name: students.first_name,
      last_name: students.last_name,
      email: students.email,
      father_name: students.father_name,
      mobile_phone: students.mobile_phone,
      phone: students.phone,
      study_year: students.study_year,
      enrollment_date: students.enrollment_date,
      is_active: students.is_active,
      class_division: students.class_division,
      health_issue: students.health_issue,
      note: students.note,
    })
    .from(students)
    .orderBy(asc(students.student_id));
  const gradeRows = await db
    .select({
      student: students.student_id,
      course: courses.course_code,
      assignment_name: grades.assignment_name,
      grade: grades.grade,
      date_submitted: grades.date_submitted,
    })
    .from(grades)
    .innerJoin(students, eq(students.id, grades.student_id))
    .innerJoin(courses, eq(courses.id, grades.course_id))
    .orderBy(asc(students.student_id), asc(courses.course_code), asc(grades.assignment_name));
  const attendanceRows = await db
    .select({
      student: students.student_id,
      course: courses.course_code,
      date: attendance.date,
      period: attendance.period_number,
      status: attendance.status,
    })
    .from(attendance)
    .innerJoin(students, eq(students.id, attendance.student_id))
    .innerJoin(courses, eq(courses.id, attendance.course_id))
    .orderBy(
      asc(students.student_id),
      asc(courses.course_code),
      asc(attendance.date),
      asc(attendance.period_number),
    );
  const highlightRows = await db
    .select({
      student: students.student_id,
      text: highlights.highlight_text,
      rating: highlights.rating,
    })
    .from(highlights)
    .innerJoin(students, eq(students.id, highlights.student_id))
    .orderBy(asc(students.student_id), asc(highlights.highlight_text));
  return { studentRows, gradeRows, attendanceRows, highlightRows };
}

describe('seedDemoSchool', () => {
  it('reports the rows it wrote, table by table', async () => {
    const db = first.db;
    expect(counts).toEqual({
      students: STUDENTS,
      courses: 20,
      course_enrollments: await total(db, courseEnrollments),
      grades: await total(db, grades),
      attendance: await total(db, attendance),
      daily_performances: await total(db, dailyPerformances),
      highlights: await total(db, highlights),
    });
    expect(await total(db, students)).toBe(STUDENTS);
    expect(await total(db, courses)).toBe(20);
    // About five courses a semester, one or two semesters each.
    expect(counts.course_enrollments).toBeGreaterThan(STUDENTS * 4);
    expect(counts.course_enrollments).toBeLessThan(STUDENTS * 12);
    expect(counts.grades).toBeGreaterThan(counts.course_enrollments!);
    expect(counts.attendance).toBeGreaterThan(counts.course_enrollments! * 5);
    expect(counts.daily_performances).toBeGreaterThan(0);
    expect(counts.highlights).toBeGreaterThan(0);
  });

  it('makes students with unique ids and e-mails, Greek and English names, Greek phones', async () => {
    const rows = await first.db.select().from(students);
    expect(new Set(rows.map((row) => row.student_id)).size).toBe(STUDENTS);
    expect(new Set(rows.map((row) => row.email)).size).toBe(STUDENTS);
    for (const row of rows) {
      expect(row.student_id).toMatch(/^ST2025-\d{4}$/);
      expect(row.email).toMatch(/^[a-z0-9.]+@[a-z0-9.-]+$/);
      if (row.mobile_phone) expect(row.mobile_phone).toMatch(/^\+30 69\d \d{3} \d{4}$/);
      if (row.phone) expect(row.phone).toMatch(/^\+30 (210 \d{3} \d{4}|2\d{3} \d{6})$/);
      expect(row.study_year).toBeGreaterThanOrEqual(1);
      expect(row.study_year).toBeLessThanOrEqual(4);
      expect(row.class_division).toMatch(/^[ABCD][1-3]$/);
      expect(row.academic_year).toBe('2025-2026');
      expect(row.father_name).toBeTruthy();
    }
    const greek = rows.filter((row) => /\p{Script=Greek}/u.test(row.last_name));
    expect(greek.length).toBeGreaterThan(STUDENTS * 0.4);
    expect(greek.length).toBeLessThan(STUDENTS * 0.8);
    for (const row of greek) {
      expect(row.first_name).toMatch(/^\p{Script=Greek}+$/u);
      expect(row.father_name).toMatch(/^\p{Script=Greek}+$/u);
    }
    expect(rows.some((row) => row.is_active)).toBe(true);
  });

  it('transliterates Greek names for e-mail addresses', () => {
    expect(transliterate('Μαρία')).toBe('maria');
    expect(transliterate('Παπαδοπούλου')).toBe('papadopoulou');
    expect(transliterate('Μπακογιάννη')).toBe('bakogianni');
    expect(transliterate('Χατζηδάκης')).toBe('chatzidakis');
    expect(transliterate('Olivia')).toBe('olivia');
  });

  it('makes 20 courses over two semesters whose evaluation weights sum to 100', async () => {
    const rows = await first.db.select().from(courses);
    expect(rows.filter((row) => row.semester === 'Fall 2025')).toHaveLength(10);
    expect(rows.filter((row) => row.semester === 'Spring 2026')).toHaveLength(10);
    expect(new Set(rows.map((row) => row.course_code)).size).toBe(20);
    for (const row of rows) {
      expect(row.evaluation_rules.reduce((sum, rule) => sum + rule.weight, 0)).toBe(100);
      expect(row.teaching_schedule.length).toBeGreaterThan(0);
      expect(row.hours_per_week).toBeGreaterThan(0);
      expect(row.credits).toBeGreaterThan(0);
    }
  });

  it('ties every grade, attendance mark and performance to an enrollment', async () => {
    const db = first.db;
    expect(await orphans(db, grades)).toBe(0);
    expect(await orphans(db, attendance)).toBe(0);
    expect(await orphans(db, dailyPerformances)).toBe(0);

    const rules = new Map(
      (await db.select().from(courses)).map((row) => [
        row.id,
        new Set(row.evaluation_rules.map((rule) => rule.category)),
      ]),
    );
    for (const row of await db.select().from(grades)) {
      expect(rules.get(row.course_id)?.has(row.category ?? '')).toBe(true);
      expect([20, 100]).toContain(row.max_grade);
      expect(row.grade).toBeGreaterThanOrEqual(0);
      expect(row.grade).toBeLessThanOrEqual(row.max_grade);
    }
    for (const row of await db.select().from(dailyPerformances)) {
      expect(row.score).toBeGreaterThanOrEqual(0);
      expect(row.score).toBeLessThanOrEqual(row.max_score);
    }
  });

  it('marks most lessons Present and some Absent, Late or Excused', async () => {
    const rows = await first.db
      .select({ status: attendance.status, total: count() })
      .from(attendance)
      .groupBy(attendance.status);
    const byStatus = Object.fromEntries(rows.map((row) => [row.status, row.total]));
    const all = rows.reduce((sum, row) => sum + row.total, 0);
    expect(byStatus.Present! / all).toBeGreaterThan(0.75);
    expect(byStatus.Absent).toBeGreaterThan(0);
    expect(byStatus.Late).toBeGreaterThan(0);
    expect(byStatus.Excused).toBeGreaterThan(0);
  });

  it('writes positive and negative highlights rated 1 to 10', async () => {
    const rows = await first.db.select().from(highlights);
    expect(rows.some((row) => row.is_positive)).toBe(true);
    expect(rows.some((row) => !row.is_positive)).toBe(true);
    for (const row of rows) {
      expect(row.rating).toBeGreaterThanOrEqual(1);
      expect(row.rating).toBeLessThanOrEqual(10);
      expect(['Fall 2025', 'Spring 2026']).toContain(row.semester);
    }
  });

  it('writes the same school twice from the same seed', async () => {
    const again = await seedDemoSchool(second.db, { students: STUDENTS });
    expect(again).toEqual(counts);
    expect(await snapshot(second.db)).toEqual(await snapshot(first.db));
  });

  it('refuses a school that already has students, and writes nothing', async () => {
    await expect(seedDemoSchool(first.db, { students: STUDENTS })).rejects.toThrow(
      DEMO_SCHOOL_NOT_EMPTY,
    );
    expect(await total(first.db, students)).toBe(STUDENTS);
    expect(await total(first.db, grades)).toBe(counts.grades);
  });

  it('rejects a student count that is not a positive whole number', async () => {
    for (const students of [0, -3, 2.5, Number.NaN]) {
      await expect(seedDemoSchool(first.db, { students, random: mulberry32(1) })).rejects.toThrow(
        /whole number of students/,
      );
    }
  });
});
