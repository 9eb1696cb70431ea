import { type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { equalsFilter } from '../../platform/crud/filters.ts';
import type { ResourceDefinition } from '../../platform/crud/resource.service.ts';
import { optionalText, requiredText, toIso } from '../../platform/http/fields.ts';
import { pageQuerySchema, sortSchema } from '../../platform/http/pagination.ts';
import { type CourseRow, courses } from './courses.table.ts';

export const WEEKDAYS = [
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
  'Sunday',
] as const;

/** The weights of a course's evaluation rules are percentages of the final mark. */
export const MAX_TOTAL_WEIGHT = 100;

export const courseResponseSchema = z
  .object({
    id: z.number().int(),
    course_code: z.string(),
    course_name: z.string(),
    semester: z.string(),
    credits: z.number().int(),
    description: z.string().nullable(),
    evaluation_rules: z.array(z.object({ category: z.string(), weight: z.number() })),
    absence_penalty: z.number(),
    hours_per_week: z.number(),
    teaching_schedule: z.array(
      z.object({
        day: z.string(),
        start_time: z.string(),
        end_time: z.string(),
        room: z.string().optional(),
      }),
    ),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .meta({ id: 'Course' });

export type CourseResponse = z.infer<typeof courseResponseSchema>;

export function toCourseResponse(row: CourseRow): CourseResponse {
  return {
    id: row.id,
    course_code: row.course_code,
    course_name: row.course_name,
    semester: row.semester,
    credits: row.credits,
    description: row.description,
    evaluation_rules: row.evaluation_rules.map((rule) => ({
      category: rule.category,
      weight: rule.weight,
    })),
    absence_penalty: row.absence_penalty,
    hours_per_week: row.hours_per_week,
    teaching_schedule: row.teaching_schedule.map((slot) => ({
      day: slot.day,
      start_time: slot.start_time,
      end_time: slot.end_time,
      ...(slot.room ? { room: slot.room } : {}),
    })),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    deleted_at: toIso(row.deleted_at),
  };
}

const evaluationRulesSchema = z
  .array(
    z.strictObject({
      category: requiredText(100),
      weight: z.number().min(0).max(MAX_TOTAL_WEIGHT),
    }),
  )
  .max(50)
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((rule, index) => {
      const key = rule.category.toLowerCase();
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'category'],
          message: `repeats the category "${rule.category}"; each category may appear only once`,
        });
      }
      seen.add(key);
    });
    const total = rules.reduce((sum, rule) => sum + rule.weight, 0);
    // A small tolerance, so 33.3 + 33.3 + 33.4 counts as 100.
    if (total > MAX_TOTAL_WEIGHT + 1e-9) {
      ctx.addIssue({
        code: 'custom',
        message: `the weights add up to ${Math.round(total * 100) / 100}; they may add up to at most ${MAX_TOTAL_WEIGHT}`,
      });
    }
  });

/** A time of day written HH:MM on the 24-hour clock. */
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time written HH:MM');

const teachingScheduleSchema = z
  .array(
    z
      .strictObject({
        day: z.enum(WEEKDAYS),
        start_time: clockTime,
        end_time: clockTime,
        room: z.string().trim().min(1, 'must not be empty').max(50).optional(),
      })
      .refine((slot) => slot.end_time > slot.start_time, {
        path: ['end_time'],
        message: 'must be after start_time',
      }),
  )
  .max(100);

const courseFields = {
  course_code: requiredText(32).regex(
    /^[\p{L}\p{N}_.-]+$/u,
    'may contain only letters, digits and - _ .',
  ),
  course_name: requiredText(200),
  semester: requiredText(50),
  credits: z.number().int().min(0).max(60).optional(),
  description: optionalText(4000),
  evaluation_rules: evaluationRulesSchema.optional(),
  absence_penalty: z.number().min(0).optional(),
  hours_per_week: z.number().min(0).max(80).optional(),
  teaching_schedule: teachingScheduleSchema.optional(),
};

export const courseCreateSchema = z.strictObject(courseFields).meta({ id: 'CourseCreate' });
export const courseUpdateSchema = z
  .strictObject(courseFields)
  .partial()
  .meta({ id: 'CourseUpdate' });

export const courseListQuerySchema = pageQuerySchema.extend({
  sort: sortSchema(
    ['course_code', 'course_name', 'semester', 'credits', 'created_at'],
    'course_code',
  ),
  semester: z.string().trim().max(50).optional(),
});

/** The text search covers code and name; the trigram index uses the same expression. */
export const courseSearchDocument: SQL = sql`(${courses.course_code} || ' ' || ${courses.course_name})`;

export const courseDefinition: ResourceDefinition<typeof courses, CourseResponse> = {
  resource: 'COURSE',
  label: 'Course',
  table: courses,
  toResponse: toCourseResponse,
  sortColumns: {
    course_code: courses.course_code,
    course_name: courses.course_name,
    semester: courses.semester,
    credits: courses.credits,
    created_at: courses.created_at,
  },
  searchDocument: courseSearchDocument,
  filters: (query) => [equalsFilter(courses.semester, query.semester)],
};
