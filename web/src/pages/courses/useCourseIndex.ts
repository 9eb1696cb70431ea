import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { unwrap } from '../../api/client.ts';
import type { ResponseBody } from '../../api/types.ts';
import { useApi } from '../../app/api-context.tsx';

export type Course = ResponseBody<'/api/v1/courses/{id}', 'get'>;

/**
 * Every course (up to the API's largest page), to name the courses that enrolments, grades
 * and attendance refer to by id. Kept under ['courses', …] so course changes refresh it.
 */
export function useCourseIndex(enabled = true) {
  const { client } = useApi();
  const query = useQuery({
    queryKey: ['courses', 'index'],
    enabled,
    staleTime: 60_000,
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/courses', {
          params: { query: { page_size: 500, sort: 'course_code' } },
        }),
      ),
  });
  const byId = useMemo(
    () => new Map<number, Course>((query.data?.items ?? []).map((course) => [course.id, course])),
    [query.data],
  );
  return { courses: query.data?.items ?? [], byId, query };
}
