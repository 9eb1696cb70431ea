import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../app/App.tsx';
import { renderWithApp } from '../../test/render.tsx';

const slow = { timeout: 8000 };
const stamp = '2025-09-01T08:00:00.000Z';

const course = {
  id: 3,
  course_code: 'MATH-101',
  course_name: 'Algebra',
  semester: '2025 Fall',
  credits: 5,
  description: null,
  evaluation_rules: [
    { category: 'Exam', weight: 60 },
    { category: 'Homework', weight: 40 },
  ],
  absence_penalty: 1,
  hours_per_week: 4,
  teaching_schedule: [{ day: 'Monday', start_time: '09:00', end_time: '10:30', room: 'A1' }],
  created_at: stamp,
  updated_at: stamp,
  deleted_at: null,
};

function student(id: number, first: string, last: string) {
  return {
    id,
    student_id: `S${id}`,
    first_name: first,
    last_name: last,
    email: null,
    father_name: null,
    mobile_phone: null,
    phone: null,
    study_year: 1,
    enrollment_date: null,
    is_active: true,
    academic_year: null,
    class_division: null,
    health_issue: null,
    note: null,
    created_at: stamp,
    updated_at: stamp,
    deleted_at: null,
  };
}

const page = <T,>(items: T[]) => ({
  items,
  total: items.length,
  page: 1,
  page_size: 500,
  has_next: false,
});

const enrollment = (id: number, studentId: number) => ({
  id,
  student_id: studentId,
  course_id: 3,
  enrollment_date: '2025-09-01',
  status: 'active',
  created_at: stamp,
  updated_at: stamp,
  deleted_at: null,
});

const grade = {
  id: 40,
  student_id: 11,
  course_id: 3,
  assignment_name: 'Midterm',
  category: 'Exam',
  grade: 14,
  max_grade: 20,
  weight: 1,
  date_assigned: '2025-10-10',
  date_submitted: null,
  notes: null,
  created_at: stamp,
  updated_at: stamp,
  deleted_at: null,
};

function routes(extra: Record<string, (request: Request, url: URL) => unknown> = {}) {
  return {
    'GET /api/v1/courses/3': () => course,
    'GET /api/v1/courses/3/enrollments': () => page([enrollment(1, 11), enrollment(2, 12)]),
    'GET /api/v1/students': (_request: Request, url: URL) =>
      url.searchParams.get('ids') === '11,12'
        ? page([student(11, 'Maria', 'Papadopoulou'), student(12, 'Nikos', 'Georgiou')])
        : page([]),
    ...extra,
  };
}

describe('Course detail', { timeout: 30_000 }, () => {
  beforeEach(() => {
    history.replaceState(null, '', '/courses/3');
  });

  it('adds, edits and deletes a grade', async () => {
    history.replaceState(null, '', '/courses/3?tab=grades');
    const { server } = renderWithApp(<App />, {
      routes: routes({
        'GET /api/v1/courses/3/grades': () => page([grade]),
        'POST /api/v1/grades': () => Response.json({ ...grade, id: 41 }, { status: 201 }),
        'PATCH /api/v1/grades/40': () => ({ ...grade, grade: 16 }),
        'DELETE /api/v1/grades/40': () => new Response(null, { status: 204 }),
      }),
    });
    const user = userEvent.setup();
    const table = await screen.findByRole('table', {}, slow);
    await within(table).findByRole('link', { name: 'Papadopoulou Maria' });
    expect(within(table).getByText('70%')).toBeTruthy();

    const add = screen.getByRole('form', { name: 'Add a grade' });
    await within(add).findByRole('option', { name: 'Georgiou Nikos' });
    await user.selectOptions(within(add).getByLabelText('Student'), '12');
    await user.type(within(add).getByLabelText('Assignment'), 'Quiz 1');
    await user.type(within(add).getByLabelText('Category'), 'Homework');
    await user.type(within(add).getByLabelText('Grade'), '9');
    await user.type(within(add).getByLabelText('Out of'), '10');
    await user.click(within(add).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(server.requests.find((request) => request.method === 'POST')?.body).toEqual({
        student_id: 12,
        course_id: 3,
        assignment_name: 'Quiz 1',
        category: 'Homework',
        grade: 9,
        max_grade: 10,
        date_assigned: null,
        date_submitted: null,
        notes: null,
      }),
    );

    await user.click(screen.getByRole('button', { name: 'Edit: Midterm, Papadopoulou Maria' }));
    const edit = screen.getByRole('form', { name: 'Edit the grade' });
    const value = within(edit).getByLabelText('Grade');
    expect((value as HTMLInputElement).value).toBe('14');
    await user.clear(value);
    await user.type(value, '16');
    await user.click(within(edit).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(server.requests.find((request) => request.method === 'PATCH')?.body).toMatchObject({
        student_id: 11,
        grade: 16,
        max_grade: 20,
      }),
    );

    await user.click(within(screen.getByRole('table')).getByRole('button', { name: 'Delete' }));
    const confirm = screen.getByRole('alertdialog');
    expect(confirm.textContent).toContain('Delete the grade "Midterm" of Papadopoulou Maria?');
    await user.click(within(confirm).getByRole('button', { name: 'Delete' }));
    await waitFor(() =>
      expect(server.requests.some((request) => request.method === 'DELETE')).toBe(true),
    );
  });

  it('marks attendance for a date: changes existing marks and adds new ones', async () => {
    history.replaceState(null, '', '/courses/3?tab=attendance');
    const { server } = renderWithApp(<App />, {
      routes: routes({
        'GET /api/v1/courses/3/attendance': () =>
          page([
            {
              id: 70,
              student_id: 11,
              course_id: 3,
              date: '2025-11-03',
              status: 'Absent',
              period_number: 1,
              notes: null,
              created_at: stamp,
              updated_at: stamp,
              deleted_at: null,
            },
          ]),
        'PATCH /api/v1/attendance/70': () => ({}),
        'POST /api/v1/attendance': () => Response.json({}, { status: 201 }),
      }),
    });
    const user = userEvent.setup();
    const date = await screen.findByLabelText('Date', {}, slow);
    await user.clear(date);
    await user.type(date, '2025-11-03');
    const maria = await screen.findByLabelText('Attendance of Papadopoulou Maria');
    await waitFor(() => expect((maria as HTMLSelectElement).value).toBe('Absent'));
    const attendanceQuery = server.requests
      .filter((request) => request.url.pathname === '/api/v1/courses/3/attendance')
      .at(-1)?.url.searchParams;
    expect(attendanceQuery?.get('date_from')).toBe('2025-11-03');
    expect(attendanceQuery?.get('date_to')).toBe('2025-11-03');
    // The class's students in one request, not one per student.
    const studentReads = server.requests.filter((request) =>
      request.url.pathname.startsWith('/api/v1/students'),
    );
    expect(studentReads.map((request) => request.url.pathname)).toEqual(['/api/v1/students']);

    await user.selectOptions(maria, 'Late');
    await user.click(screen.getByRole('button', { name: 'Mark everyone present' }));
    expect((screen.getByLabelText('Attendance of Georgiou Nikos') as HTMLSelectElement).value).toBe(
      'Present',
    );
    await user.click(screen.getByRole('button', { name: 'Save attendance' }));
    expect(await screen.findByText('Attendance saved: 2 changes.')).toBeTruthy();
    const patch = server.requests.find((request) => request.method === 'PATCH');
    expect(patch?.url.pathname).toBe('/api/v1/attendance/70');
    expect(patch?.body).toEqual({ status: 'Late' });
    const post = server.requests.find((request) => request.method === 'POST');
    expect(post?.body).toEqual({
      student_id: 12,
      course_id: 3,
      date: '2025-11-03',
      status: 'Present',
      period_number: 1,
    });
  });

  it('shows the results with the class statistics', async () => {
    history.replaceState(null, '', '/courses/3?tab=results');
    renderWithApp(<App />, {
      routes: routes({
        'GET /api/v1/courses/3/results': () => ({
          course_id: 3,
          statistics: {
            students: 2,
            count: 2,
            mean: 72.5,
            median: 70,
            min: 60,
            max: 85,
            distribution: [
              { letter: 'A', count: 1 },
              { letter: 'C', count: 1 },
            ],
            ungraded: 0,
          },
          items: [
            {
              id: 1,
              student_id: 11,
              course_id: 3,
              weighted_percentage: 85,
              absence_penalty: 0,
              final_percentage: 85,
              letter_grade: 'A',
              grade_count: 3,
              present_count: 10,
              late_count: 0,
              absent_count: 0,
              excused_count: 0,
              attendance_rate: 100,
              excused_rate: 0,
              average_performance: null,
              computed_at: stamp,
              student: {
                id: 11,
                student_id: 'S11',
                first_name: 'Maria',
                last_name: 'Papadopoulou',
              },
            },
          ],
        }),
      }),
    });
    const stats = await screen.findByRole('region', { name: 'Class statistics' }, slow);
    expect(within(stats).getByText('72.5%')).toBeTruthy();
    expect(within(stats).getByRole('row', { name: /A 1/ })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Papadopoulou Maria' })).toBeTruthy();
    expect(screen.getAllByText('85%').length).toBeGreaterThan(0);
  });

  it("shows an evaluation rule's field error next to that rule", async () => {
    history.replaceState(null, '', '/courses/3/edit');
    renderWithApp(<App />, {
      routes: routes({
        'PATCH /api/v1/courses/3': () =>
          Response.json(
            {
              title: 'Bad Request',
              status: 400,
              detail: 'The request is not valid.',
              errors: [
                {
                  field: 'body.evaluation_rules.1.category',
                  message: 'repeats the category "Exam"',
                },
              ],
            },
            { status: 400 },
          ),
      }),
    });
    const user = userEvent.setup();
    const second = await screen.findByLabelText('Category 2', {}, slow);
    await user.clear(second);
    await user.type(second, 'Exam');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(second.getAttribute('aria-invalid')).toBe('true'));
    const described = second.getAttribute('aria-describedby') ?? '';
    expect(document.getElementById(described)?.textContent).toBe('repeats the category "Exam"');
    expect(screen.getByLabelText('Category 1').getAttribute('aria-invalid')).toBe('false');
  });
});
