import { configure, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { JOB_ID, makeJob } from '../../live/fake-socket.ts';
import { renderWithApp } from '../../test/render.tsx';
import { BackupsPage } from './BackupsPage.tsx';
import type { Backup } from './RestoreDialog.tsx';

configure({ asyncUtilTimeout: 5000 });

const NAME = 'registrar-20251201-083000';

function makeBackup(overrides: Partial<Backup> = {}): Backup {
  return {
    name: NAME,
    created_at: '2025-12-01T08:30:00.000Z',
    kind: 'manual',
    size_bytes: 1_572_864,
    encrypted: true,
    schema_version: 12,
    mode: 'pglite',
    counts: { students: 1200, courses: 40, users: 6 },
    ...overrides,
  };
}

const list = (items: Backup[]) => ({
  items,
  total: items.length,
  page: 1,
  page_size: 50,
  has_next: false,
});

beforeEach(() => {
  history.replaceState(null, '', '/backups');
});

describe('Backups page', { timeout: 30_000 }, () => {
  it('lists backups with their size, kind and date', async () => {
    renderWithApp(<BackupsPage />, {
      routes: {
        'GET /api/v1/backups': () =>
          list([
            makeBackup(),
            makeBackup({
              name: 'registrar-20251130-120000-safety',
              kind: 'safety',
              encrypted: false,
            }),
          ]),
      },
    });
    const table = await screen.findByRole('table', { name: 'Backups, newest first' });
    const row = within(table).getByRole('rowheader', { name: NAME }).closest('tr') as HTMLElement;
    expect(row.textContent).toContain('1.5 MB');
    expect(row.textContent).toContain('Manual');
    expect(row.textContent).toContain('1 Dec 2025');
    expect(within(table).getByText('Safety (before a restore)')).toBeTruthy();
  });

  it('restores only after the consequences are shown and the name is typed', async () => {
    const { server } = renderWithApp(<BackupsPage />, {
      routes: {
        'GET /api/v1/backups': () => list([makeBackup()]),
        [`POST /api/v1/backups/${NAME}/restore`]: () =>
          Response.json(
            makeJob({
              job_type: 'backup_restore',
              metadata: { operation: 'restore', name: NAME },
              max_attempts: 1,
            }),
            { status: 202 },
          ),
        [`GET /api/v1/jobs/${JOB_ID}`]: () =>
          makeJob({
            job_type: 'backup_restore',
            status: 'PROCESSING',
            metadata: { operation: 'restore', name: NAME },
            progress: { current: 1, total: 4, percentage: 25, message: 'Taking a safety backup' },
          }),
      },
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: `Restore ${NAME}` }));

    const dialog = screen.getByRole('dialog', { name: `Restore the backup ${NAME}?` });
    const text = dialog.textContent ?? '';
    expect(text).toContain('replace every record');
    expect(text).toContain('sign everyone out, you included');
    expect(text).toContain('first take a safety backup');
    expect(text).toContain('1,200 students');
    const typed = within(dialog).getByLabelText(`To confirm, type the backup’s name: ${NAME}`);
    expect(document.activeElement).toBe(typed);

    const confirm = within(dialog).getByRole('button', {
      name: 'Replace all data with this backup',
    });
    await user.type(typed, 'registrar');
    await user.click(confirm);
    expect(within(dialog).getByText('The name you typed does not match.')).toBeTruthy();
    const restores = () => server.requests.filter((request) => request.method === 'POST');
    expect(restores()).toHaveLength(0);

    await user.clear(typed);
    await user.type(typed, NAME);
    await user.click(confirm);
    await waitFor(() => expect(restores()).toHaveLength(1));
    expect(restores()[0]!.url.pathname).toBe(`/api/v1/backups/${NAME}/restore`);

    expect(screen.queryByRole('dialog')).toBeNull();
    expect(await screen.findByText(/everyone is signed out/)).toBeTruthy();
    expect(await screen.findByRole('progressbar')).toBeTruthy();
    expect(new URLSearchParams(location.search).get('job')).toBe(JOB_ID);
  });

  it('closes the confirmation with Escape and restores nothing', async () => {
    const { server } = renderWithApp(<BackupsPage />, {
      routes: { 'GET /api/v1/backups': () => list([makeBackup()]) },
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: `Restore ${NAME}` }));
    expect(screen.getByRole('dialog')).toBeTruthy();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(server.requests.some((request) => request.method === 'POST')).toBe(false);
  });

  it('starts a backup as a job and follows it', async () => {
    const { server } = renderWithApp(<BackupsPage />, {
      routes: {
        'GET /api/v1/backups': () => list([]),
        'POST /api/v1/backups': () =>
          Response.json(
            makeJob({ job_type: 'backup_restore', metadata: { operation: 'backup' } }),
            { status: 202 },
          ),
        [`GET /api/v1/jobs/${JOB_ID}`]: () =>
          makeJob({ job_type: 'backup_restore', metadata: { operation: 'backup' } }),
      },
    });
    const user = userEvent.setup();
    expect(await screen.findByText(/There are no backups yet/)).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Make a backup now' }));
    expect(await screen.findByRole('region', { name: 'Making the backup' })).toBeTruthy();
    expect(server.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
  });

  it('speaks Greek', async () => {
    renderWithApp(<BackupsPage />, {
      language: 'el',
      routes: { 'GET /api/v1/backups': () => list([makeBackup()]) },
    });
    expect(await screen.findByRole('heading', { name: 'Αντίγραφα ασφαλείας' })).toBeTruthy();
    const table = await screen.findByRole('table');
    expect(within(table).getByText('Χειροκίνητο')).toBeTruthy();
    expect(within(table).getByText('1,5 MB')).toBeTruthy();
  });
});
