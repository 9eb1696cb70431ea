import { z } from 'zod';
import { equalsFilter } from '../../platform/crud/filters.ts';
import { recordChecks } from '../../platform/crud/references.ts';
import type { ResourceDefinition } from '../../platform/crud/resource.service.ts';
import {
  isoDate,
  optionalText,
  queryId,
  recordId,
  requiredText,
  toIso,
} from '../../platform/http/fields.ts';
import { pageQuerySchema, queryBoolean, sortSchema } from '../../platform/http/pagination.ts';
import { students } from '../students/students.table.ts';
import { type HighlightRow, highlights } from './highlights.table.ts';

export const highlightResponseSchema = z
  .object({
    id: z.number().int(),
    student_id: z.number().int(),
    semester: z.string(),
    rating: z.number().int().nullable(),
    category: z.string().nullable(),
    highlight_text: z.string(),
    is_positive: z.boolean(),
    date_created: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .meta({ id: 'Highlight' });

export type HighlightResponse = z.infer<typeof highlightResponseSchema>;

export function toHighlightResponse(row: HighlightRow): HighlightResponse {
  return {
    id: row.id,
    student_id: row.student_id,
    semester: row.semester,
    rating: row.rating,
    category: row.category,
    highlight_text: row.highlight_text,
    is_positive: row.is_positive,
    date_created: row.date_created,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    deleted_at: toIso(row.deleted_at),
  };
}

const highlightFields = {
  student_id: recordId,
  semester: requiredText(50),
  rating: z.number().int().min(1).max(10).nullable().optional(),
  category: optionalText(100),
  highlight_text: requiredText(2000),
  is_positive: z.boolean().optional().describe('true when left out'),
  date_created: isoDate.nullable().optional(),
};

export const highlightCreateSchema = z
  .strictObject(highlightFields)
  .meta({ id: 'HighlightCreate' });
export const highlightUpdateSchema = z
  .strictObject(highlightFields)
  .partial()
  .meta({ id: 'HighlightUpdate' });

export const highlightListQuerySchema = pageQuerySchema.extend({
  sort: sortSchema(['date_created', 'rating', 'semester', 'created_at'], '-created_at'),
  student_id: queryId,
  semester: z.string().trim().max(50).optional(),
  category: z.string().trim().max(100).optional(),
  is_positive: queryBoolean.optional(),
});

type HighlightValues = HighlightRow | typeof highlights.$inferInsert;

export const highlightDefinition: ResourceDefinition<typeof highlights, HighlightResponse> = {
  resource: 'HIGHLIGHT',
  label: 'Highlight',
  table: highlights,
  toResponse: toHighlightResponse,
  sortColumns: {
    date_created: highlights.date_created,
    rating: highlights.rating,
    semester: highlights.semester,
    created_at: highlights.created_at,
  },
  filters: (query) => [
    equalsFilter(highlights.student_id, query.student_id),
    equalsFilter(highlights.semester, query.semester),
    equalsFilter(highlights.category, query.category),
    equalsFilter(highlights.is_positive, query.is_positive),
  ],
  checkWrite: recordChecks<HighlightValues>({
    references: [{ field: 'student_id', table: students, label: 'Student' }],
  }),
};
