import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { unwrap } from '../../api/client.ts';
import type { ResponseBody } from '../../api/types.ts';
import { useApi } from '../../app/api-context.tsx';

export type Student = ResponseBody<'/api/v1/students/{id}', 'get'>;
export type Enrollment = ResponseBody<'/api/v1/enrollments/{id}', 'get'>;

export interface EnrolledStudent {
  enrollment: Enrollment;
  student: Student | undefined;
}

/** "Papadopoulou Maria", or the id while the record loads. */
export function studentName(row: {
  student: Student | undefined;
  enrollment: { student_id: number };
}) {
  return row.student
    ? `${row.student.last_name} ${row.student.first_name}`
    : `#${row.enrollment.student_id}`;
}

/**
 * A course's enrolments with their students (sorted by last name). The enrolment list names
 * students by id; the students come in one request (`ids`), not one each.
 */
export function useEnrolledStudents(courseId: number) {
  const { client } = useApi();
  const query = { page_size: 500, sort: 'created_at' };
  const enrollments = useQuery({
    queryKey: ['enrollments', { course_id: courseId, ...query }],
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/courses/{id}/enrollments', {
          params: { path: { id: courseId }, query },
        }),
      ),
  });
  const items = enrollments.data?.items ?? [];
  const ids = [...new Set(items.map((enrollment) => enrollment.student_id))].sort((a, b) => a - b);
  const students = useQuery({
    queryKey: ['students', { ids }],
    enabled: ids.length > 0,
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/students', {
          params: { query: { ids: ids.join(','), page_size: 500 } },
        }),
      ),
  });
  const rows = useMemo<EnrolledStudent[]>(() => {
    const byId = new Map((students.data?.items ?? []).map((student) => [student.id, student]));
    return items
      .map((enrollment) => ({ enrollment, student: byId.get(enrollment.student_id) }))
      .sort((a, b) => studentName(a).localeCompare(studentName(b)));
  }, [items, students.data]);
  return { enrollments, rows, total: enrollments.data?.total ?? 0 };
}
