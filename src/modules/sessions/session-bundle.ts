import { z } from 'zod';
import { optionalText, requiredText } from '../../platform/http/fields.ts';
import type { FieldIssue } from '../../platform/http/problems.ts';
import { ATTENDANCE_STATUSES } from '../attendance/attendance.table.ts';
import { courseCreateSchema } from '../courses/courses.schema.ts';
import { ENROLLMENT_STATUSES } from '../enrollments/enrollments.table.ts';
import { studentCreateSchema } from '../students/students.schema.ts';

/**
 * The session bundle: the format of the original Python system (routers_sessions.py,
 * version "1.0"), which Registrar also writes, with a few fields the original lacks
 * (students' academic_year, class_division, note; enrollment status; grade notes). Records
 * name each other by natural keys: student_id_ref and course_code_ref.
 */
export const SESSION_BUNDLE_VERSION = '1.0';

/** The bundle's record lists, in the order they are imported (parents first). */
export const SESSION_ENTITIES = [
  'courses',
  'students',
  'enrollments',
  'grades',
  'attendance',
  'daily_performance',
  'highlights',
] as const;
export type SessionEntity = (typeof SESSION_ENTITIES)[number];

export const CHILD_ENTITIES = [
  'enrollments',
  'grades',
  'attendance',
  'daily_performance',
  'highlights',
] as const;
export type ChildEntity = (typeof CHILD_ENTITIES)[number];

/** A record's column values: only the fields the bundle gives (others keep their value). */
export type Values = Record<string, unknown>;

/** A record that hangs off a student (and a course), named by natural keys. */
export interface ChildRecord {
  index: number;
  studentRef: string;
  /** null for highlights, which belong to a student and a semester. */
  courseRef: string | null;
  values: Values;
}

export interface SessionBundle {
  semester: string;
  courses: Array<{ index: number; values: Values }>;
  students: Array<{ index: number; values: Values }>;
  children: Record<ChildEntity, ChildRecord[]>;
  /** Things the import leaves out but does not refuse (an unknown teaching_schedule shape). */
  warnings: FieldIssue[];
}

/**
 * A date, also as the original wrote datetimes ("2025-09-01 10:00:00" or ISO): the day
 * part is kept.
 */
const dateOnly = z.preprocess(
  (value) =>
    typeof value === 'string' && /^\d{4}-\d{2}-\d{2}[T ]/.test(value) ? value.slice(0, 10) : value,
  z.iso.date({ message: 'must be a date written YYYY-MM-DD' }).nullish(),
);
const requiredDate = z.preprocess(
  (value) =>
    typeof value === 'string' && /^\d{4}-\d{2}-\d{2}[T ]/.test(value) ? value.slice(0, 10) : value,
  z.iso.date({ message: 'must be a date written YYYY-MM-DD' }),
);
const ref = (what: string) =>
  z
    .string({ message: `must name a ${what}` })
    .trim()
    .min(1, `must name a ${what}`);
/** Numbers the original may have written as text ("40"). */
const numeric = (value: unknown) =>
  typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
    ? Number(value)
    : value;

const metadataSchema = z.object({
  semester: requiredText(50),
  version: z.string({ message: 'is missing' }),
  counts: z.record(z.string(), z.number().int().min(0)).optional(),
});

const courseSchema = z.object({
  course_code: courseCreateSchema.shape.course_code,
  course_name: courseCreateSchema.shape.course_name,
  semester: requiredText(50).nullish(),
  credits: z.preprocess(numeric, z.number().int().min(0).max(60).nullish()),
  description: optionalText(4000),
  evaluation_rules: z.preprocess(
    (rules) =>
      Array.isArray(rules)
        ? rules.map((rule) =>
            rule && typeof rule === 'object' ? { ...rule, weight: numeric(rule.weight) } : rule,
          )
        : rules,
    courseCreateSchema.shape.evaluation_rules.nullable(),
  ),
  absence_penalty: z.preprocess(numeric, z.number().min(0).nullish()),
  hours_per_week: z.preprocess(numeric, z.number().min(0).max(80).nullish()),
  teaching_schedule: z.unknown().optional(),
});

const studentSchema = z.object({
  ...studentCreateSchema.shape,
  study_year: z.preprocess(numeric, z.number().int().min(1).max(12).nullish()),
  enrollment_date: dateOnly,
  is_active: z.boolean().nullish(),
});

const enrollmentSchema = z.object({
  student_id_ref: ref('student'),
  course_code_ref: ref('course'),
  enrolled_at: dateOnly,
  enrollment_date: dateOnly,
  status: z.enum(ENROLLMENT_STATUSES).nullish(),
});

const gradeSchema = z
  .object({
    student_id_ref: ref('student'),
    course_code_ref: ref('course'),
    assignment_name: requiredText(200),
    category: optionalText(100),
    grade: z.number().min(0),
    max_grade: z.number().positive().nullish(),
    weight: z.number().positive().nullish(),
    date_assigned: dateOnly,
    date_submitted: dateOnly,
    notes: optionalText(4000),
  })
  .refine((grade) => grade.grade <= (grade.max_grade ?? 100), {
    path: ['grade'],
    message: 'must not exceed max_grade',
  });

const attendanceSchema = z.object({
  student_id_ref: ref('student'),
  course_code_ref: ref('course'),
  date: requiredDate,
  status: z.enum(ATTENDANCE_STATUSES),
  period_number: z.number().int().min(1).max(20).nullish(),
  notes: optionalText(2000),
});

const performanceSchema = z
  .object({
    student_id_ref: ref('student'),
    course_code_ref: ref('course'),
    date: requiredDate,
    category: requiredText(100),
    score: z.number().min(0),
    max_score: z.number().positive().nullish(),
    notes: optionalText(2000),
  })
  .refine((performance) => performance.score <= (performance.max_score ?? 10), {
    path: ['score'],
    message: 'must not exceed max_score',
  });

const highlightSchema = z.object({
  student_id_ref: ref('student'),
  semester: requiredText(50).nullish(),
  rating: z.number().int().min(1).max(10).nullish(),
  category: optionalText(100),
  highlight_text: requiredText(2000),
  is_positive: z.boolean().nullish(),
  date_created: dateOnly,
});

/** Drops undefined fields and, for columns that cannot be NULL, null ones too. */
function present(values: Record<string, unknown>, notNull: readonly string[] = []): Values {
  return Object.fromEntries(
    Object.entries(values).filter(
      ([field, value]) => value !== undefined && !(value === null && notNull.includes(field)),
    ),
  );
}

function issuesOf(error: z.ZodError, at: string): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: [at, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/** A list of the bundle: absent is empty; anything but an array is a problem. */
function listOf(raw: Record<string, unknown>, name: string, problems: FieldIssue[]): unknown[] {
  const list = raw[name];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) {
    problems.push({ field: name, message: 'must be a list of records' });
    return [];
  }
  return list;
}

/**
 * Reads a bundle: checks its metadata, version and every record's fields, and returns the
 * records as column values with natural-key references. Duplicates and references are
 * checked afterwards (session-plan.ts), with the database at hand.
 */
export function readBundle(raw: unknown): { bundle: SessionBundle | null; problems: FieldIssue[] } {
  const problems: FieldIssue[] = [];
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    return { bundle: null, problems: [{ field: 'body', message: 'must be a JSON object' }] };
  }
  const body = raw as Record<string, unknown>;
  if (body.metadata === undefined || body.metadata === null) {
    return {
      bundle: null,
      problems: [{ field: 'metadata', message: 'the bundle has no metadata section' }],
    };
  }
  const metadata = metadataSchema.safeParse(body.metadata);
  if (!metadata.success) {
    return { bundle: null, problems: issuesOf(metadata.error, 'metadata') };
  }
  if (metadata.data.version !== SESSION_BUNDLE_VERSION) {
    return {
      bundle: null,
      problems: [
        {
          field: 'metadata.version',
          message: `version "${metadata.data.version}" is not supported; this server reads version "${SESSION_BUNDLE_VERSION}"`,
        },
      ],
    };
  }
  const semester = metadata.data.semester;
  const warnings: FieldIssue[] = [];
  const lists = Object.fromEntries(
    SESSION_ENTITIES.map((name) => [name, listOf(body, name, problems)]),
  ) as Record<SessionEntity, unknown[]>;
  // A count that disagrees with its list means a cut or edited file.
  for (const [name, expected] of Object.entries(metadata.data.counts ?? {})) {
    const list = lists[name as SessionEntity];
    if (list && list.length !== expected) {
      problems.push({
        field: `metadata.counts.${name}`,
        message: `says ${expected} records but the bundle holds ${list.length}`,
      });
    }
  }

  const read = <T>(
    name: SessionEntity,
    schema: z.ZodType<T>,
    use: (record: T, index: number) => void,
  ) => {
    lists[name].forEach((item, index) => {
      const parsed = schema.safeParse(item);
      if (parsed.success) use(parsed.data, index);
      else problems.push(...issuesOf(parsed.error, `${name}[${index}]`));
    });
  };

  const bundle: SessionBundle = {
    semester,
    courses: [],
    students: [],
    children: {
      enrollments: [],
      grades: [],
      attendance: [],
      daily_performance: [],
      highlights: [],
    },
    warnings,
  };
  read('courses', courseSchema, (course, index) => {
    const { teaching_schedule: schedule, ...rest } = course;
    let teachingSchedule: unknown;
    if (schedule !== undefined && schedule !== null) {
      const slots = courseCreateSchema.shape.teaching_schedule.safeParse(schedule);
      if (slots.success) teachingSchedule = slots.data;
      else {
        warnings.push({
          field: `courses[${index}].teaching_schedule`,
          message: 'is not a list of {day, start_time, end_time, room} slots and is left out',
        });
      }
    }
    bundle.courses.push({
      index,
      values: present(
        { ...rest, semester: rest.semester ?? semester, teaching_schedule: teachingSchedule },
        ['credits', 'evaluation_rules', 'absence_penalty', 'hours_per_week'],
      ),
    });
  });
  read('students', studentSchema, (student, index) => {
    bundle.students.push({ index, values: present(student, ['is_active']) });
  });
  read('enrollments', enrollmentSchema, (enrollment, index) => {
    const { student_id_ref, course_code_ref, enrolled_at, enrollment_date, status } = enrollment;
    bundle.children.enrollments.push({
      index,
      studentRef: student_id_ref,
      courseRef: course_code_ref,
      values: present({ enrollment_date: enrolled_at ?? enrollment_date, status }, ['status']),
    });
  });
  read('grades', gradeSchema, ({ student_id_ref, course_code_ref, ...grade }, index) => {
    bundle.children.grades.push({
      index,
      studentRef: student_id_ref,
      courseRef: course_code_ref,
      values: present(grade, ['max_grade', 'weight']),
    });
  });
  read('attendance', attendanceSchema, ({ student_id_ref, course_code_ref, ...mark }, index) => {
    bundle.children.attendance.push({
      index,
      studentRef: student_id_ref,
      courseRef: course_code_ref,
      // The period is part of the natural key, so it always has its value.
      values: present({ ...mark, period_number: mark.period_number ?? 1 }),
    });
  });
  read(
    'daily_performance',
    performanceSchema,
    ({ student_id_ref, course_code_ref, ...performance }, index) => {
      bundle.children.daily_performance.push({
        index,
        studentRef: student_id_ref,
        courseRef: course_code_ref,
        values: present(performance, ['max_score']),
      });
    },
  );
  read('highlights', highlightSchema, ({ student_id_ref, ...highlight }, index) => {
    bundle.children.highlights.push({
      index,
      studentRef: student_id_ref,
      courseRef: null,
      values: present({ ...highlight, semester: highlight.semester ?? semester }, ['is_positive']),
    });
  });
  return { bundle, problems };
}
