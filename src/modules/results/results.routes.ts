import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { idParamsSchema } from '../../platform/crud/resource.routes.ts';
import { commonErrorResponses, problemSchema } from '../../platform/http/problems.ts';
import type { SettingsService } from '../settings/settings.service.ts';
import {
  courseResultsSchema,
  studentResultsSchema,
  toCourseResultResponse,
  toStudentResultResponse,
} from './results.schema.ts';
import type { ResultsService } from './results.service.ts';

const tags = ['Results'];

const HOW_COMPUTED =
  'Results are derived by the recompute job, which runs by itself a moment after grades, attendance, daily performances, enrollments or course rules change (and can be started with POST /api/v1/jobs, job_type recompute). Each evaluation rule category scores the weight-weighted mean of grade / max_grade; categories combine by their rule weights, renormalised over the categories that have grades. Grades outside the rule categories are ignored; a course without rules counts every grade in one category. A grade with max_grade 0 is left out. final_percentage = max(0, weighted_percentage - absence_penalty x unexcused absences).';

export function resultsRoutes(results: ResultsService, settings: SettingsService) {
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/students/:id/results',
      {
        config: { access: 'grades:read' },
        schema: {
          tags,
          summary: "One student's results in each course they are enrolled in",
          description: HOW_COMPUTED,
          params: idParamsSchema,
          response: { 200: studentResultsSchema, ...commonErrorResponses, 404: problemSchema },
        },
      },
      async (request) => {
        const rows = await results.forStudent(request.params.id);
        return { student_id: request.params.id, items: rows.map(toStudentResultResponse) };
      },
    );

    app.get(
      '/courses/:id/results',
      {
        config: { access: 'grades:read' },
        schema: {
          tags,
          summary: "A course's results with the class statistics",
          description: `${HOW_COMPUTED} The statistics cover the students with a final percentage; distribution counts them per letter of the grade_scale setting.`,
          params: idParamsSchema,
          response: { 200: courseResultsSchema, ...commonErrorResponses, 404: problemSchema },
        },
      },
      async (request) => {
        const { grade_scale } = await settings.get();
        const { rows, statistics } = await results.forCourse(request.params.id, grade_scale);
        return {
          course_id: request.params.id,
          statistics,
          items: rows.map(toCourseResultResponse),
        };
      },
    );
  };
}
