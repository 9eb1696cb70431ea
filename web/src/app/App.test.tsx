import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ADMIN, renderWithApp } from '../test/render.tsx';
import { App } from './App.tsx';

const tokens = { access_token: 'a2', refresh_token: 'r2', token_type: 'bearer', expires_in: 900 };

describe('App shell', () => {
  it('signs in with the form and opens the dashboard', async () => {
    let signedIn = false;
    const { server } = renderWithApp(<App />, {
      routes: {
        'GET /api/v1/auth/me': () =>
          signedIn ? ADMIN : Response.json({ title: 'Unauthorized', status: 401 }, { status: 401 }),
        'POST /api/v1/auth/refresh': () =>
          Response.json({ title: 'Unauthorized', status: 401 }, { status: 401 }),
        'POST /api/v1/auth/login': () => {
          signedIn = true;
          return { ...tokens, must_change_password: false };
        },
      },
    });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('E-mail'), 'admin@school.test');
    await user.type(screen.getByLabelText('Password'), 'correct horse battery');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeTruthy();
    const login = server.requests.find((request) => request.url.pathname.endsWith('/login'));
    expect(login?.body).toEqual({ email: 'admin@school.test', password: 'correct horse battery' });
    const nav = screen.getByRole('navigation', { name: 'Main navigation' });
    expect(within(nav).getByRole('link', { name: 'Dashboard' }).getAttribute('aria-current')).toBe(
      'page',
    );
  });

  it('shows the API problem when sign-in fails', async () => {
    renderWithApp(<App />, {
      routes: {
        'GET /api/v1/auth/me': () =>
          Response.json({ title: 'Unauthorized', status: 401 }, { status: 401 }),
        'POST /api/v1/auth/refresh': () =>
          Response.json({ title: 'Unauthorized', status: 401 }, { status: 401 }),
        'POST /api/v1/auth/login': () =>
          Response.json(
            { title: 'Unauthorized', status: 401, detail: 'Wrong e-mail or password.' },
            { status: 401 },
          ),
      },
    });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('E-mail'), 'x@school.test');
    await user.type(screen.getByLabelText('Password'), 'nope');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Wrong e-mail or password.');
  });

  it('makes a first sign-in change the password before anything else', async () => {
    let mustChange = true;
    const { server } = renderWithApp(<App />, {
      user: undefined,
      routes: {
        'GET /api/v1/auth/me': () => ({ ...ADMIN, must_change_password: mustChange }),
        'POST /api/v1/auth/change-password': () => {
          mustChange = false;
          return { ...tokens, must_change_password: false };
        },
      },
    });
    const user = userEvent.setup();
    expect(await screen.findByRole('heading', { name: 'Change your password' })).toBeTruthy();
    expect(screen.queryByRole('navigation', { name: 'Main navigation' })).toBeNull();
    expect(screen.queryByRole('heading', { name: 'Dashboard' })).toBeNull();
    await user.type(screen.getByLabelText('Current password'), 'generated-password');
    await user.type(screen.getByLabelText('New password'), 'a much better secret');
    await user.type(screen.getByLabelText('Repeat the new password'), 'a much better secret');
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeTruthy();
    const change = server.requests.find((request) =>
      request.url.pathname.endsWith('/change-password'),
    );
    expect(change?.body).toEqual({
      current_password: 'generated-password',
      new_password: 'a much better secret',
    });
  });

  it('switches to Greek and remembers the choice', async () => {
    renderWithApp(<App />);
    const user = userEvent.setup();
    await screen.findByRole('heading', { name: 'Dashboard' });
    await user.selectOptions(screen.getByLabelText('Language'), 'el');
    expect(await screen.findByRole('heading', { name: 'Αρχική' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Αποσύνδεση' })).toBeTruthy();
    expect(localStorage.getItem('registrar.language')).toBe('el');
  });
});
