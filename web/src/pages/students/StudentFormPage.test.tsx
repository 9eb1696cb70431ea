import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../app/App.tsx';
import { renderWithApp } from '../../test/render.tsx';

const slow = { timeout: 8000 };

const saved = {
  id: 7,
  student_id: 'S0007',
  first_name: 'Maria',
  last_name: 'Papadopoulou',
  email: 'maria@school.test',
  father_name: null,
  mobile_phone: null,
  phone: null,
  study_year: 2,
  enrollment_date: null,
  is_active: true,
  academic_year: null,
  class_division: null,
  health_issue: null,
  note: null,
  created_at: '2025-09-01T08:00:00.000Z',
  updated_at: '2025-09-01T08:00:00.000Z',
  deleted_at: null,
};

/** The problem's message is tied to its control, so it is read out with it. */
function errorOf(label: string): string | null | undefined {
  const control = screen.getByLabelText(label);
  expect(control.getAttribute('aria-invalid')).toBe('true');
  const ids = control.getAttribute('aria-describedby')?.split(' ') ?? [];
  const error = ids.find((id) => id.endsWith('-error'));
  return error ? document.getElementById(error)?.textContent : undefined;
}

describe('Student form', { timeout: 30_000 }, () => {
  beforeEach(() => {
    history.replaceState(null, '', '/students/new');
  });

  it("shows a 422 problem's field errors next to the fields", async () => {
    const { server } = renderWithApp(<App />, {
      routes: {
        'POST /api/v1/students': () =>
          Response.json(
            {
              type: 'about:blank',
              title: 'Unprocessable Content',
              status: 422,
              detail: 'The student is not valid.',
              errors: [
                { field: 'body.email', message: 'must be an e-mail address' },
                { field: 'body.student_id', message: 'S0007 is already taken' },
              ],
            },
            { status: 422, headers: { 'content-type': 'application/problem+json' } },
          ),
      },
    });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Student ID', {}, slow), 'S0007');
    await user.type(screen.getByLabelText('Last name'), 'Papadopoulou');
    await user.type(screen.getByLabelText('First name'), 'Maria');
    await user.type(screen.getByLabelText('E-mail'), 'not-an-address');
    await user.selectOptions(screen.getByLabelText('Year of study'), '2');
    await user.click(screen.getByRole('button', { name: 'Save' }));

    await waitFor(() => expect(errorOf('E-mail')).toBe('must be an e-mail address'));
    expect(errorOf('Student ID')).toBe('S0007 is already taken');
    expect(screen.getByLabelText('Last name').getAttribute('aria-invalid')).toBe('false');
    expect(screen.getByRole('alert').textContent).toContain('The student is not valid.');

    const post = server.requests.find((request) => request.method === 'POST');
    expect(post?.body).toEqual({
      student_id: 'S0007',
      first_name: 'Maria',
      last_name: 'Papadopoulou',
      father_name: null,
      email: 'not-an-address',
      mobile_phone: null,
      phone: null,
      study_year: 2,
      class_division: null,
      academic_year: null,
      enrollment_date: null,
      is_active: true,
      health_issue: null,
      note: null,
    });
  });

  it('edits a student with PATCH and opens the record', async () => {
    history.replaceState(null, '', '/students/7/edit');
    let current = saved;
    const { server } = renderWithApp(<App />, {
      routes: {
        'GET /api/v1/students/7': () => current,
        'PATCH /api/v1/students/7': () => {
          current = { ...saved, first_name: 'Marina' };
          return current;
        },
        'GET /api/v1/students/7/enrollments': () => ({
          items: [],
          total: 0,
          page: 1,
          page_size: 200,
          has_next: false,
        }),
      },
    });
    const user = userEvent.setup();
    const first = await screen.findByLabelText('First name', {}, slow);
    expect((first as HTMLInputElement).value).toBe('Maria');
    await user.clear(first);
    await user.type(first, 'Marina');
    await user.click(screen.getByRole('button', { name: 'Save' }));

    expect(await screen.findByRole('heading', { name: 'Marina Papadopoulou' })).toBeTruthy();
    expect(location.pathname).toBe('/students/7');
    const patch = server.requests.find((request) => request.method === 'PATCH');
    expect(patch?.body).toMatchObject({ first_name: 'Marina', email: 'maria@school.test' });
  });
});
