import { z } from 'zod';
import type { CourseResultWithStudent, StudentResultRow } from './results.service.ts';
import type { CourseResultRow } from './results.table.ts';

const percentage = (description: string) => z.number().nullable().describe(description);

const resultFields = {
  id: z.number().int(),
  student_id: z.number().int(),
  course_id: z.number().int(),
  weighted_percentage: percentage(
    'Weighted percentage of the graded work (0-100, 2 decimals) before the absence penalty; null without a grade that counts',
  ),
  absence_penalty: z
    .number()
    .describe('Points taken off: the course absence_penalty per unexcused absence'),
  final_percentage: percentage(
    'weighted_percentage minus absence_penalty, never below 0; null without a grade that counts',
  ),
  letter_grade: z
    .string()
    .nullable()
    .describe('The letter of final_percentage on the grade_scale setting'),
  grade_count: z.number().int().describe('Grades that counted'),
  present_count: z.number().int(),
  late_count: z.number().int(),
  absent_count: z.number().int(),
  excused_count: z.number().int(),
  attendance_rate: percentage(
    '(present + late) / every recorded period, as a percentage; null without attendance',
  ),
  excused_rate: percentage('excused / every recorded period, as a percentage'),
  average_performance: percentage('Mean of score / max_score of the daily performances, in %'),
  computed_at: z
    .string()
    .describe('When the recompute job read the data this row comes from (UTC)'),
};

type ResultFields = Omit<CourseResultRow, 'computed_at'> & { computed_at: string };

function toResultFields(row: CourseResultRow): ResultFields {
  return {
    id: row.id,
    student_id: row.student_id,
    course_id: row.course_id,
    weighted_percentage: row.weighted_percentage,
    absence_penalty: row.absence_penalty,
    final_percentage: row.final_percentage,
    letter_grade: row.letter_grade,
    grade_count: row.grade_count,
    present_count: row.present_count,
    late_count: row.late_count,
    absent_count: row.absent_count,
    excused_count: row.excused_count,
    attendance_rate: row.attendance_rate,
    excused_rate: row.excused_rate,
    average_performance: row.average_performance,
    computed_at: row.computed_at.toISOString(),
  };
}

export const studentResultSchema = z
  .object({
    ...resultFields,
    course: z.object({
      id: z.number().int(),
      course_code: z.string(),
      course_name: z.string(),
      semester: z.string(),
    }),
  })
  .meta({ id: 'StudentCourseResult' });

export const studentResultsSchema = z
  .object({ student_id: z.number().int(), items: z.array(studentResultSchema) })
  .meta({ id: 'StudentResults' });

export function toStudentResultResponse(
  row: StudentResultRow,
): z.infer<typeof studentResultSchema> {
  return {
    ...toResultFields(row),
    course: {
      id: row.course_id,
      course_code: row.course_code,
      course_name: row.course_name,
      semester: row.semester,
    },
  };
}

export const courseResultSchema = z
  .object({
    ...resultFields,
    student: z.object({
      id: z.number().int(),
      student_id: z.string().describe("The school's student id"),
      first_name: z.string(),
      last_name: z.string(),
    }),
  })
  .meta({ id: 'CourseResult' });

export const classStatisticsSchema = z
  .object({
    students: z.number().int().describe('Students with a result row'),
    count: z.number().int().describe('Students with a final percentage'),
    mean: z.number().nullable(),
    median: z.number().nullable(),
    min: z.number().nullable(),
    max: z.number().nullable(),
    distribution: z
      .array(z.object({ letter: z.string(), count: z.number().int() }))
      .describe('Students per letter, in the order of the grade scale'),
    ungraded: z.number().int().describe('Students without a grade that counts yet'),
  })
  .meta({ id: 'ClassStatistics' });

export const courseResultsSchema = z
  .object({
    course_id: z.number().int(),
    statistics: classStatisticsSchema,
    items: z.array(courseResultSchema),
  })
  .meta({ id: 'CourseResults' });

export function toCourseResultResponse(
  row: CourseResultWithStudent,
): z.infer<typeof courseResultSchema> {
  return {
    ...toResultFields(row),
    student: {
      id: row.student_id,
      student_id: row.student_number,
      first_name: row.first_name,
      last_name: row.last_name,
    },
  };
}
