import { count, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Database, Transaction } from '../../platform/db/client.ts';
import { type AttendanceStatus, attendance } from '../attendance/attendance.table.ts';
import { courses } from '../courses/courses.table.ts';
import { courseEnrollments, type EnrollmentStatus } from '../enrollments/enrollments.table.ts';
import { grades } from '../grades/grades.table.ts';
import { highlights } from '../highlights/highlights.table.ts';
import { dailyPerformances } from '../performances/performances.table.ts';
import { students } from '../students/students.table.ts';
import {
  ABSENCE_NOTES,
  DEMO_ACADEMIC_YEAR,
  DEMO_COURSES,
  DEMO_EMAIL_DOMAIN,
  DEMO_SEMESTERS,
  DEMO_STUDENT_ID_PREFIX,
  type DemoCourse,
  type DemoSemester,
  ENGLISH_FATHER_NAMES,
  ENGLISH_FEMALE_FIRST_NAMES,
  ENGLISH_MALE_FIRST_NAMES,
  ENGLISH_SURNAMES,
  GRADE_CATEGORIES,
  GREEK_FATHER_NAMES,
  GREEK_FEMALE_FIRST_NAMES,
  GREEK_LANDLINE_AREAS,
  GREEK_MALE_FIRST_NAMES,
  GREEK_MOBILE_PREFIXES,
  GREEK_SURNAMES,
  HEALTH_ISSUES,
  HIGHLIGHT_TEMPLATES,
  INACTIVE_NOTE,
  PERFORMANCE_CATEGORIES,
  PERFORMANCE_NOTES,
  SCHOOL_HOLIDAYS,
  STUDENT_NOTES,
  transliterate,
  WEEK_DAY_OFFSET,
} from './demo-data.ts';

/** The fixed seed that makes every demo school the same. */
export const DEMO_SEED = 20_252_026;
export const MAX_DEMO_STUDENTS = 100_000;
export const DEMO_SCHOOL_NOT_EMPTY =
  'The database already has students; demo data goes only into an empty school.';

/** Rows per INSERT statement: few round trips, far below PostgreSQL's 65,535 parameters. */
const BATCH_SIZE = 1000;
/** Serialises concurrent seeds, so two of them cannot both see an empty school. */
const SEED_LOCK_KEY = 7_112_026;

export interface DemoSeedOptions {
  students: number;
  /** A source of numbers in [0, 1); defaults to mulberry32(DEMO_SEED). */
  random?: () => number;
}

/** mulberry32: a tiny, fast 32-bit PRNG, good enough for demo data and fully reproducible. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Dice {
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  normal(mean: number, sd: number): number;
  /** k distinct items, each drawn with probability proportional to its weight. */
  sample<T>(items: readonly T[], weight: (item: T) => number, k: number): T[];
}

function makeDice(random: () => number): Dice {
  const dice: Dice = {
    next: random,
    int: (min, max) => min + Math.floor(random() * (max - min + 1)),
    chance: (probability) => random() < probability,
    pick(items) {
      const item = items[Math.floor(random() * items.length)];
      if (item === undefined) throw new Error('pick from an empty list');
      return item;
    },
    normal(mean, sd) {
      const u = 1 - random();
      const v = random();
      return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    sample(items, weight, k) {
      const pool = items.map((item) => ({ item, weight: weight(item) }));
      const chosen: (typeof items)[number][] = [];
      while (chosen.length < k && pool.length > 0) {
        let target = random() * pool.reduce((sum, entry) => sum + entry.weight, 0);
        let index = 0;
        while (index < pool.length - 1 && target >= pool[index]!.weight) {
          target -= pool[index]!.weight;
          index += 1;
        }
        chosen.push(pool[index]!.item);
        pool.splice(index, 1);
      }
      return chosen;
    },
  };
  return dice;
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

function addDays(isoDate: string, days: number): string {
  const date = new Date(`${isoDate}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

const digits = (dice: Dice, length: number) =>
  Array.from({ length }, () => dice.int(0, 9)).join('');

/** A school period from a lesson's start time: 08:00 is the first. */
const periodOf = (startTime: string) => Math.max(1, Number(startTime.slice(0, 2)) - 7);

/** A score out of max: whole numbers out of 100, halves out of 20 or 10. */
const scoreOutOf = (fraction: number, max: number) =>
  max >= 100 ? Math.round(fraction * max) : Math.round(fraction * max * 2) / 2;

// ---------------------------------------------------------------------------------------------
// The plan: every row, built in memory before the database is touched. Dependent rows refer to
// students and courses by their index; ids are filled in after those two tables are written.

type StudentInsert = typeof students.$inferInsert;
type Linked<T> = Omit<T, 'student_id' | 'course_id'> & { student: number; course: number };

interface PlannedStudent {
  row: StudentInsert;
  greek: boolean;
  /** 0..1: how well the student does, driving grades, scores and highlights. */
  ability: number;
  /** Probability of missing a lesson. */
  absenceRate: number;
}

interface PlannedEnrollment {
  student: number;
  course: number;
  status: EnrollmentStatus;
  enrollment_date: string;
  /** Teaching week from which a dropped student stops attending. */
  dropWeek: number | null;
}

interface DemoPlan {
  students: PlannedStudent[];
  enrollments: PlannedEnrollment[];
  grades: Linked<typeof grades.$inferInsert>[];
  attendance: Linked<typeof attendance.$inferInsert>[];
  performances: Linked<typeof dailyPerformances.$inferInsert>[];
  highlights: (Omit<typeof highlights.$inferInsert, 'student_id'> & { student: number })[];
}

function planStudents(dice: Dice, total: number): PlannedStudent[] {
  const emails = new Set<string>();
  const planned: PlannedStudent[] = [];
  for (let index = 0; index < total; index += 1) {
    const greek = dice.chance(0.6);
    const female = dice.chance(0.5);
    let firstName: string;
    let lastName: string;
    let fatherName: string;
    if (greek) {
      firstName = dice.pick(female ? GREEK_FEMALE_FIRST_NAMES : GREEK_MALE_FIRST_NAMES);
      const [male, feminine] = dice.pick(GREEK_SURNAMES);
      lastName = female ? feminine : male;
      fatherName = dice.pick(GREEK_FATHER_NAMES);
    } else {
      firstName = dice.pick(female ? ENGLISH_FEMALE_FIRST_NAMES : ENGLISH_MALE_FIRST_NAMES);
      lastName = dice.pick(ENGLISH_SURNAMES);
      fatherName = dice.pick(ENGLISH_FATHER_NAMES);
    }

    const studentId = `${DEMO_STUDENT_ID_PREFIX}${String(index + 1).padStart(4, '0')}`;
    const local = `${transliterate(firstName)}.${transliterate(lastName)}`;
    let email = `${local}@${DEMO_EMAIL_DOMAIN}`;
    for (let n = 2; emails.has(email); n += 1) email = `${local}${n}@${DEMO_EMAIL_DOMAIN}`;
    emails.add(email);

    const studyYear = dice.int(1, 4);
    const isActive = !dice.chance(0.03);
    const mobile = dice.chance(0.97)
      ? `+30 ${dice.pick(GREEK_MOBILE_PREFIXES)} ${digits(dice, 3)} ${digits(dice, 4)}`
      : null;
    let phone: string | null = null;
    if (dice.chance(0.35)) {
      const area = dice.pick(GREEK_LANDLINE_AREAS);
      const rest = digits(dice, 10 - area.length);
      // Athens numbers are written 210 123 4567, the others 2310 123456.
      phone = `+30 ${area} ${area.length === 3 ? `${rest.slice(0, 3)} ${rest.slice(3)}` : rest}`;
    }
    const healthIssue = dice.chance(0.06) ? dice.pick(HEALTH_ISSUES) : null;
    const note = isActive ? (dice.chance(0.08) ? dice.pick(STUDENT_NOTES) : null) : INACTIVE_NOTE;

    planned.push({
      greek,
      ability: clamp(dice.normal(0.7, 0.14), 0.25, 0.98),
      absenceRate: clamp(0.02 + dice.next() ** 3 * 0.18, 0, 0.25),
      row: {
        student_id: studentId,
        first_name: firstName,
        last_name: lastName,
        email,
        father_name: fatherName,
        mobile_phone: mobile,
        phone,
        study_year: studyYear,
        enrollment_date: `${2025 - (studyYear - 1)}-09-${String(dice.int(1, 12)).padStart(2, '0')}`,
        is_active: isActive,
        academic_year: DEMO_ACADEMIC_YEAR,
        class_division: `${'ABCD'[studyYear - 1]}${dice.int(1, 3)}`,
        health_issue: healthIssue,
        note,
      },
    });
  }
  return planned;
}

function planEnrollments(dice: Dice, planned: PlannedStudent[]): PlannedEnrollment[] {
  const enrollments: PlannedEnrollment[] = [];
  const courseIndexes = DEMO_COURSES.map((course, index) => ({ course, index }));
  planned.forEach((student, studentIndex) => {
    const year = student.row.study_year ?? 1;
    const roll = dice.next();
    // Most take both semesters; inactive students left during the fall.
    const semesters = !student.row.is_active
      ? [DEMO_SEMESTERS[0]]
      : roll < 0.55
        ? DEMO_SEMESTERS
        : roll < 0.8
          ? [DEMO_SEMESTERS[0]]
          : [DEMO_SEMESTERS[1]];
    for (const semester of semesters) {
      const offered = courseIndexes.filter(({ course }) => course.semester === semester.label);
      const chosen = dice.sample(
        offered,
        ({ course }) => (course.level === year ? 4 : Math.abs(course.level - year) === 1 ? 2 : 1),
        dice.pick([4, 5, 5, 5, 6]),
      );
      const isFall = semester === DEMO_SEMESTERS[0];
      for (const { index } of chosen) {
        const dropped = !student.row.is_active || dice.chance(0.02);
        enrollments.push({
          student: studentIndex,
          course: index,
          status: dropped ? 'dropped' : isFall ? 'completed' : 'active',
          enrollment_date: addDays(semester.enrollmentOpens, dice.int(0, 4)),
          dropWeek: dropped ? dice.int(1, Math.floor(semester.teachingWeeks / 2)) : null,
        });
      }
    }
  });
  return enrollments;
}

function semesterOf(course: DemoCourse): DemoSemester {
  const semester = DEMO_SEMESTERS.find((candidate) => candidate.label === course.semester);
  if (!semester) throw new Error(`Unknown semester ${course.semester}`);
  return semester;
}

/** Every lesson of a course in the teaching weeks, holidays left out. */
function lessonsOf(course: DemoCourse): { date: string; period: number; week: number }[] {
  const semester = semesterOf(course);
  const lessons: { date: string; period: number; week: number }[] = [];
  for (let week = 0; week < semester.teachingWeeks; week += 1) {
    for (const slot of course.teaching_schedule) {
      const date = addDays(semester.firstMonday, week * 7 + WEEK_DAY_OFFSET[slot.day]);
      if (SCHOOL_HOLIDAYS.has(date)) continue;
      lessons.push({ date, period: periodOf(slot.start_time), week });
    }
  }
  return lessons;
}

function planCourseWork(dice: Dice, planned: PlannedStudent[], enrollments: PlannedEnrollment[]) {
  const gradeRows: DemoPlan['grades'] = [];
  const attendanceRows: DemoPlan['attendance'] = [];
  const performanceRows: DemoPlan['performances'] = [];
  const lessons = DEMO_COURSES.map(lessonsOf);

  for (const enrollment of enrollments) {
    const student = planned[enrollment.student]!;
    const course = DEMO_COURSES[enrollment.course]!;
    const semester = semesterOf(course);
    const courseLessons = lessons[enrollment.course]!;
    const affinity = dice.normal(0, 0.06);

    // Attendance: one mark per lesson until a dropped student stops coming.
    const marked = new Set<string>();
    for (const lesson of courseLessons) {
      if (enrollment.dropWeek !== null && lesson.week >= enrollment.dropWeek) break;
      const key = `${lesson.date}/${lesson.period}`;
      if (marked.has(key)) continue;
      marked.add(key);
      const roll = dice.next();
      let status: AttendanceStatus = 'Present';
      if (roll < student.absenceRate) status = 'Absent';
      else if (roll < student.absenceRate + 0.035) status = 'Late';
      else if (roll < student.absenceRate + 0.05) status = 'Excused';
      const notes =
        (status === 'Excused' || status === 'Late') && dice.chance(0.5)
          ? dice.pick(ABSENCE_NOTES[status])
          : null;
      attendanceRows.push({
        student: enrollment.student,
        course: enrollment.course,
        date: lesson.date,
        status,
        period_number: lesson.period,
        notes,
      });
    }
    if (enrollment.status === 'dropped') continue;

    // Grades: every item of every category in the course's evaluation rules.
    const lastTeachingFriday = addDays(semester.firstMonday, semester.teachingWeeks * 7 - 3);
    const examDay = addDays(
      semester.examsStart,
      (enrollment.course % 5) + 7 * (enrollment.course % 2),
    );
    for (const rule of course.evaluation_rules) {
      const category = GRADE_CATEGORIES[rule.category];
      for (let item = 0; item < category.items; item += 1) {
        let assigned: string;
        let submitted: string;
        switch (category.timing) {
          case 'midterm':
            assigned = addDays(
              semester.firstMonday,
              Math.floor(semester.teachingWeeks / 2) * 7 + 2,
            );
            submitted = assigned;
            break;
          case 'exam':
            assigned = examDay;
            submitted = examDay;
            break;
          case 'end':
            assigned = addDays(semester.firstMonday, 14);
            submitted = addDays(lastTeachingFriday, -dice.int(0, 3));
            break;
          default: {
            const week = Math.floor(((item + 1) * semester.teachingWeeks) / (category.items + 1));
            assigned = addDays(semester.firstMonday, week * 7);
            submitted = addDays(assigned, dice.int(3, 7));
          }
        }
        const missing = category.timing === 'spread' && dice.chance(0.03);
        const exam = category.timing === 'midterm' || category.timing === 'exam';
        const fraction = clamp(
          student.ability + affinity + dice.normal(exam ? -0.03 : 0.04, 0.09),
          0,
          1,
        );
        gradeRows.push({
          student: enrollment.student,
          course: enrollment.course,
          assignment_name:
            category.items > 1 ? `${category.itemName} ${item + 1}` : category.itemName,
          category: rule.category,
          grade: missing ? 0 : scoreOutOf(fraction, course.max_grade),
          max_grade: course.max_grade,
          weight: Math.round((rule.weight / category.items) * 100) / 100,
          date_assigned: assigned,
          date_submitted: missing ? null : submitted,
          notes: missing ? 'Not submitted' : null,
        });
      }
    }

    // Daily performance: a handful of marks on lesson days.
    const attended = courseLessons.filter((lesson) =>
      marked.has(`${lesson.date}/${lesson.period}`),
    );
    const days = [...new Set(attended.map((lesson) => lesson.date))];
    for (const date of dice.sample(days, () => 1, dice.int(3, 5)).sort()) {
      performanceRows.push({
        student: enrollment.student,
        course: enrollment.course,
        date,
        category: dice.pick(PERFORMANCE_CATEGORIES),
        score: scoreOutOf(clamp(student.ability + affinity + dice.normal(0.05, 0.12), 0, 1), 10),
        max_score: 10,
        notes: dice.chance(0.1) ? dice.pick(PERFORMANCE_NOTES) : null,
      });
    }
  }
  return { gradeRows, attendanceRows, performanceRows };
}

function planHighlights(
  dice: Dice,
  planned: PlannedStudent[],
  enrollments: PlannedEnrollment[],
): DemoPlan['highlights'] {
  const coursesByStudentSemester = new Map<string, DemoCourse[]>();
  for (const enrollment of enrollments) {
    const course = DEMO_COURSES[enrollment.course]!;
    const key = `${enrollment.student}/${course.semester}`;
    const list = coursesByStudentSemester.get(key) ?? [];
    list.push(course);
    coursesByStudentSemester.set(key, list);
  }

  const rows: DemoPlan['highlights'] = [];
  planned.forEach((student, studentIndex) => {
    for (const semester of DEMO_SEMESTERS) {
      const taken = coursesByStudentSemester.get(`${studentIndex}/${semester.label}`);
      if (!taken) continue;
      const howMany = dice.chance(0.55) ? (dice.chance(0.25) ? 2 : 1) : 0;
      for (let n = 0; n < howMany; n += 1) {
        const positive = dice.chance(clamp(0.35 + student.ability * 0.55, 0.3, 0.95));
        const template = dice.pick(
          positive ? HIGHLIGHT_TEMPLATES.positive : HIGHLIGHT_TEMPLATES.negative,
        );
        const course = dice.pick(taken);
        rows.push({
          student: studentIndex,
          semester: semester.label,
          rating: positive ? dice.int(6, 10) : dice.int(1, 5),
          category: template.category,
          highlight_text: (student.greek ? template.el : template.en).replace(
            '{course}',
            course.course_name,
          ),
          is_positive: positive,
          date_created: addDays(
            semester.firstMonday,
            dice.int(0, semester.teachingWeeks - 1) * 7 + dice.int(0, 4),
          ),
        });
      }
    }
  });
  return rows;
}

function planDemoSchool(dice: Dice, studentCount: number): DemoPlan {
  const planned = planStudents(dice, studentCount);
  const enrollments = planEnrollments(dice, planned);
  const work = planCourseWork(dice, planned, enrollments);
  return {
    students: planned,
    enrollments,
    grades: work.gradeRows,
    attendance: work.attendanceRows,
    performances: work.performanceRows,
    highlights: planHighlights(dice, planned, enrollments),
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * Writes rows BATCH_SIZE at a time, each batch as one JSON parameter expanded by
 * json_to_recordset: one parameter instead of thousands, which PGlite parses several times
 * faster than a many-valued INSERT. Columns come from the table, so names and types match.
 */
async function insertInBatches<TTable extends PgTable>(
  tx: Transaction,
  table: TTable,
  rows: readonly TTable['$inferInsert'][],
): Promise<number> {
  const first = rows[0];
  if (!first) return 0;
  const columns = Object.entries(getTableColumns(table)).filter(([key]) => key in first);
  const names = sql.join(
    columns.map(([, column]) => sql.identifier(column.name)),
    sql`, `,
  );
  const definitions = sql.join(
    columns.map(
      ([, column]) => sql`${sql.identifier(column.name)} ${sql.raw(column.getSQLType())}`,
    ),
    sql`, `,
  );
  for (let start = 0; start < rows.length; start += BATCH_SIZE) {
    const batch = rows.slice(start, start + BATCH_SIZE).map((row) => {
      const record: Record<string, unknown> = {};
      for (const [key, column] of columns) record[column.name] = row[key as keyof typeof row];
      return record;
    });
    await tx.execute(
      sql`INSERT INTO ${table} (${names}) SELECT ${names} FROM json_to_recordset(${JSON.stringify(batch)}::json) AS r(${definitions})`,
    );
  }
  return rows.length;
}

function idLookup<T>(
  rows: { id: number; key: string }[],
  keys: readonly T[],
  keyOf: (item: T) => string,
) {
  const byKey = new Map(rows.map((row) => [row.key, row.id]));
  return keys.map((item) => {
    const id = byKey.get(keyOf(item));
    if (id === undefined) throw new Error(`Demo seed: no id came back for ${keyOf(item)}`);
    return id;
  });
}

/**
 * Fills an empty school with a realistic, reproducible demo: students with Greek and English
 * names, two semesters of courses, enrollments, grades, attendance, daily performance and
 * highlights. Everything is written in one transaction, in batches; refuses a school that
 * already has students. Returns the rows written per table.
 */
export async function seedDemoSchool(
  db: Database,
  options: DemoSeedOptions,
): Promise<Record<string, number>> {
  const studentCount = options.students;
  if (!Number.isInteger(studentCount) || studentCount < 1 || studentCount > MAX_DEMO_STUDENTS) {
    throw new Error(
      `The demo school needs a whole number of students from 1 to ${MAX_DEMO_STUDENTS}.`,
    );
  }
  const plan = planDemoSchool(makeDice(options.random ?? mulberry32(DEMO_SEED)), studentCount);

  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${SEED_LOCK_KEY})`);
    const [existing] = await tx.select({ total: count() }).from(students);
    if ((existing?.total ?? 0) > 0) throw new Error(DEMO_SCHOOL_NOT_EMPTY);
    const codes = DEMO_COURSES.map((course) => course.course_code);
    const clashing = await tx
      .select({ code: courses.course_code })
      .from(courses)
      .where(inArray(courses.course_code, codes));
    if (clashing.length > 0) {
      throw new Error(
        `The database already has courses ${clashing.map((row) => row.code).join(', ')}; demo data goes only into an empty school.`,
      );
    }

    const studentKeys: { id: number; key: string }[] = [];
    for (let start = 0; start < plan.students.length; start += BATCH_SIZE) {
      const batch = plan.students.slice(start, start + BATCH_SIZE).map((student) => student.row);
      studentKeys.push(
        ...(await tx
          .insert(students)
          .values(batch)
          .returning({ id: students.id, key: students.student_id })),
      );
    }
    const studentIds = idLookup(studentKeys, plan.students, (student) => student.row.student_id);

    const courseKeys = await tx
      .insert(courses)
      .values(
        DEMO_COURSES.map((course) => ({
          course_code: course.course_code,
          course_name: course.course_name,
          semester: course.semester,
          credits: course.credits,
          description: course.description,
          evaluation_rules: course.evaluation_rules.map((rule) => ({ ...rule })),
          absence_penalty: course.absence_penalty,
          hours_per_week: course.teaching_schedule.reduce(
            (hours, slot) =>
              hours + Number(slot.end_time.slice(0, 2)) - Number(slot.start_time.slice(0, 2)),
            0,
          ),
          teaching_schedule: course.teaching_schedule.map((slot) => ({ ...slot })),
        })),
      )
      .returning({ id: courses.id, key: courses.course_code });
    const courseIds = idLookup(courseKeys, DEMO_COURSES, (course) => course.course_code);

    const link = <T extends { student: number; course: number }>({
      student,
      course,
      ...rest
    }: T) => ({
      ...rest,
      student_id: studentIds[student]!,
      course_id: courseIds[course]!,
    });

    return {
      students: plan.students.length,
      courses: courseIds.length,
      course_enrollments: await insertInBatches(
        tx,
        courseEnrollments,
        plan.enrollments.map(({ dropWeek: _dropWeek, ...enrollment }) => link(enrollment)),
      ),
      grades: await insertInBatches(tx, grades, plan.grades.map(link)),
      attendance: await insertInBatches(tx, attendance, plan.attendance.map(link)),
      daily_performances: await insertInBatches(tx, dailyPerformances, plan.performances.map(link)),
      highlights: await insertInBatches(
        tx,
        highlights,
        plan.highlights.map(({ student, ...rest }) => ({
          ...rest,
          student_id: studentIds[student]!,
        })),
      ),
    };
  });
}
