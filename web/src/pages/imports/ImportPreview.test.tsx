import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { makeJob } from '../../live/fake-socket.ts';
import { renderWithApp } from '../../test/render.tsx';
import { ImportPreview } from './ImportPreview.tsx';
import type { ImportPreviewData, PreviewOptions, PreviewRow } from './import-api.ts';

// Modelled on ../shared/fixtures/students-greek.csv: the old system's Greek headers, 40 rows,
// row 13 with a bad e-mail and row 26 repeating the ID card of row 5.
const PREVIEW_ID = '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const RECHECKED_ID = '7a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d';
const MAPPING = [
  { header: 'Επώνυμο:', field: 'last_name' },
  { header: 'Όνομα:', field: 'first_name' },
  { header: 'Όνομα Πατέρα:', field: 'father_name' },
  { header: 'Ηλ. Ταχυδρομείο:', field: 'email' },
  { header: 'Αρ. Κινητού Τηλεφώνου:', field: 'mobile_phone' },
  { header: 'Αρ. Σταθερού Τηλεφώνου:', field: 'phone' },
  { header: 'Έτος Σπουδών:', field: 'study_year' },
  { header: 'Αριθμός Δελτίου Ταυτότητας:', field: 'student_id' },
  { header: 'Έχετε κάποιο πρόβλημα υγείας;', field: 'health_issue' },
];

function row(number: number, overrides: Partial<PreviewRow> = {}): PreviewRow {
  return {
    row_number: number,
    action: 'create',
    validation_status: 'valid',
    data: {
      last_name: 'Χριστοδούλου',
      first_name: 'Αικατερίνη',
      email: `aikaterini${number}@mail.example.cy`,
      study_year: 2,
      student_id: `08000${number}`,
      health_issue: 'Όχι',
    },
    issues: [],
    ...overrides,
  };
}

const ERROR_ROWS = [
  row(13, {
    action: 'skip',
    validation_status: 'error',
    data: {
      last_name: 'Γεωργίου',
      first_name: 'Μαρία',
      email: 'maria13(at)mail',
      student_id: '0800481',
    },
    issues: [{ field: 'email', message: 'Invalid email address' }],
  }),
  row(26, {
    action: 'skip',
    validation_status: 'error',
    data: { last_name: 'Ιωάννου', first_name: 'Νίκος', student_id: '0800148' },
    issues: [{ field: 'student_id', message: 'Repeats the student ID of row 5' }],
  }),
];

function preview(overrides: Partial<ImportPreviewData> = {}): ImportPreviewData {
  return {
    preview_id: PREVIEW_ID,
    import_type: 'students',
    file_name: 'students-greek.csv',
    total_rows: 40,
    valid_rows: 38,
    rows_with_warnings: 0,
    rows_with_errors: 2,
    create: 38,
    update: 0,
    skip: 2,
    can_proceed: true,
    summary: { create: 38, update: 0, skip: 2 },
    detected: {
      format: 'csv',
      encoding: 'utf-8',
      delimiter: ';',
      sheet: null,
      header_row: 1,
      mapping: MAPPING,
      unknown_headers: [],
      date_order: { chosen: 'DMY', warning: null },
    },
    estimated_duration_seconds: 1,
    expires_at: '2026-11-27T13:00:00.000Z',
    items: [],
    ...overrides,
  };
}

const OPTIONS: PreviewOptions = {
  importType: 'students',
  allowUpdates: true,
  skipDuplicates: false,
  dateOrder: 'DMY',
};

function setup(onCommitted = vi.fn()) {
  const file = new File(['Επώνυμο:;Όνομα:\n'], 'students-greek.csv', { type: 'text/csv' });
  const rendered = renderWithApp(
    <ImportPreview file={file} options={OPTIONS} initial={preview()} onCommitted={onCommitted} />,
    {
      routes: {
        [`GET /api/v1/imports/${PREVIEW_ID}/rows`]: (_request, url) => {
          const status = url.searchParams.get('status');
          const items =
            status === 'error' ? ERROR_ROWS : [row(2), row(3), ...ERROR_ROWS].slice(0, 25);
          return { items, total: items.length, page: 1, page_size: 25, has_next: false };
        },
        [`GET /api/v1/imports/${RECHECKED_ID}/rows`]: () => ({
          items: [],
          total: 0,
          page: 1,
          page_size: 25,
          has_next: false,
        }),
        'POST /api/v1/imports/preview': () =>
          preview({
            preview_id: RECHECKED_ID,
            rows_with_errors: 0,
            valid_rows: 40,
            create: 40,
            skip: 0,
            detected: {
              ...preview().detected,
              mapping: MAPPING.map((entry) =>
                entry.header === 'Όνομα Πατέρα:' ? { ...entry, field: null } : entry,
              ),
            },
          }),
        [`POST /api/v1/imports/${PREVIEW_ID}/commit`]: () =>
          Response.json(makeJob({ status: 'PENDING' }), { status: 202 }),
      },
    },
  );
  return { ...rendered, onCommitted };
}

// The machine running the tests is shared: allow for a slow first render.
describe('ImportPreview', { timeout: 20_000 }, () => {
  it('shows the summary and lists the rows with errors, each issue on its field', async () => {
    const { server } = setup();
    const cards = screen.getByText('Rows in the file').closest('dl') as HTMLElement;
    expect(within(cards).getByText('40')).toBeTruthy();
    expect(within(cards).getByText('38')).toBeTruthy();
    expect(screen.getByText('With errors').nextElementSibling?.textContent).toBe('2');
    expect(screen.getByLabelText('Column separator')).toHaveProperty('value', ';');
    expect(screen.getByLabelText('Character encoding')).toHaveProperty('value', 'utf-8');

    // The rows with errors come first.
    const emailCell = await screen.findByLabelText('Row 13, E-mail');
    expect(emailCell.textContent).toContain('maria13(at)mail');
    expect(emailCell.textContent).toContain('Invalid email address');
    const idCell = screen.getByLabelText('Row 26, Student ID (ID card number)');
    expect(idCell.textContent).toContain('Repeats the student ID of row 5');
    const rowsRequest = server.requests.find((request) => request.url.pathname.endsWith('/rows'));
    expect(rowsRequest?.url.searchParams.get('status')).toBe('error');

    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText('Show'), 'All rows');
    expect(await screen.findByText('aikaterini2@mail.example.cy')).toBeTruthy();
    const last = server.requests.filter((request) => request.url.pathname.endsWith('/rows')).at(-1);
    expect(last?.url.searchParams.has('status')).toBe(false);
  });

  it('checks the file again with the new mapping when a column is changed', async () => {
    const { server } = setup();
    const user = userEvent.setup();
    await user.selectOptions(
      screen.getByLabelText('Field for the column “Όνομα Πατέρα:”'),
      '(not imported)',
    );
    await waitFor(() =>
      expect(server.requests.some((request) => request.url.pathname.endsWith('/preview'))).toBe(
        true,
      ),
    );
    const sent = server.requests.find((request) => request.url.pathname.endsWith('/preview'));
    const body = sent?.body as Record<string, string>;
    expect(body.import_type).toBe('students');
    expect(body.date_order).toBe('DMY');
    expect(JSON.parse(body.mapping ?? '{}')).toEqual({
      ...Object.fromEntries(MAPPING.map((entry) => [entry.header, entry.field])),
      'Όνομα Πατέρα:': null,
    });
    // The new check is shown: no errors any more, 40 rows to create.
    expect(await screen.findByRole('button', { name: 'Import 40 rows' })).toBeTruthy();
    expect(
      (screen.getByLabelText('Field for the column “Όνομα Πατέρα:”') as HTMLSelectElement).value,
    ).toBe('');
  });

  it('holds the commit back while there are errors until the user chooses to skip them', async () => {
    const { server, onCommitted } = setup();
    const user = userEvent.setup();
    const commit = screen.getByRole('button', { name: 'Import 38 rows' }) as HTMLButtonElement;
    expect(commit.disabled).toBe(true);
    expect(screen.getByText(/Fix the rows with errors/)).toBeTruthy();

    await user.click(screen.getByLabelText('Skip the 2 rows with errors and import the rest'));
    expect(commit.disabled).toBe(false);
    await user.click(commit);
    await waitFor(() => expect(onCommitted).toHaveBeenCalled());
    const posted = server.requests.find((request) => request.url.pathname.endsWith('/commit'));
    expect(posted?.method).toBe('POST');
    expect(posted?.body).toEqual({ skip_errors: true });
    expect(onCommitted.mock.calls[0]?.[0]).toMatchObject({ job_type: 'bulk_import' });
  });

  it('speaks Greek', async () => {
    const file = new File(['x'], 'students-greek.csv');
    renderWithApp(
      <ImportPreview file={file} options={OPTIONS} initial={preview()} onCommitted={vi.fn()} />,
      {
        language: 'el',
        routes: {
          [`GET /api/v1/imports/${PREVIEW_ID}/rows`]: () => ({
            items: ERROR_ROWS,
            total: 2,
            page: 1,
            page_size: 25,
            has_next: false,
          }),
        },
      },
    );
    expect(screen.getByRole('heading', { name: 'Τι θα κάνει η εισαγωγή' })).toBeTruthy();
    expect(
      screen.getByLabelText('Παράλειψη των 2 γραμμών με σφάλματα και εισαγωγή των υπολοίπων'),
    ).toBeTruthy();
    expect(await screen.findByLabelText('Γραμμή 13, E-mail')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Εισαγωγή 38 γραμμών' })).toBeTruthy();
  });
});
