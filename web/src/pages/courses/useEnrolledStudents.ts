import { useQueries, useQuery } from '@tanstack/react-query';
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
 * students by id; each student is read once and shared with the student screens' cache.
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
  const students = useQueries({
    queries: items.map((enrollment) => ({
      queryKey: ['student', enrollment.student_id],
      staleTime: 60_000,
      queryFn: async () =>
        unwrap(
          await client.GET('/api/v1/students/{id}', {
            params: { path: { id: enrollment.student_id } },
          }),
        ),
    })),
  });
  const loaded = students.map((student) => student.data);
  const key = loaded.map((student) => student?.updated_at ?? '').join('|');
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the loaded students
  const rows = useMemo<EnrolledStudent[]>(() => {
    const byId = new Map(loaded.filter(Boolean).map((student) => [student?.id, student]));
    return items
      .map((enrollment) => ({ enrollment, student: byId.get(enrollment.student_id) }))
      .sort((a, b) => studentName(a).localeCompare(studentName(b)));
  }, [items, key]);
  return { enrollments, rows, total: enrollments.data?.total ?? 0 };
}
