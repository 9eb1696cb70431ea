import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { launchChromium, openSession, screenshots } from './support/browser.ts';
import { modes } from './support/env.ts';
import { fixtureRows, parseCsv, xlsxText } from './support/files.ts';
import { commitImport, previewImport } from './support/import-steps.ts';
import { apiGet, apiToken, type RegistrarStack, startRegistrar } from './support/server.ts';
import {
  eventually,
  openFromNav,
  signIn,
  stepper,
  submitSignIn,
  watchProgress,
} from './support/ui.ts';

const skipReason = inject('e2eSkipReason');
const FIXTURE = path.join(FIXTURES_DIR, 'students-greek.csv');
/** students-greek.csv: 40 rows, 38 created; row 13 has an invalid e-mail, row 26 repeats row 5's id card. */
const ERROR_ROWS = [13, 26];
const rows = fixtureRows(FIXTURE);
const importedEmails = [...rows]
  .filter(([number]) => !ERROR_ROWS.includes(number))
  .map(([, fields]) => fields[3]!);

async function saved(download: Download): Promise<{ name: string; bytes: Buffer }> {
  const file = await download.path();
  return { name: download.suggestedFilename(), bytes: readFileSync(file) };
}

describe.skipIf(skipReason).each(modes())('import flow (%s)', (mode) => {
  let stack: RegistrarStack;
  let browser: Browser;

  beforeAll(async () => {
    const started = performance.now();
    [stack, browser] = await Promise.all([startRegistrar(mode), launchChromium()]);
    process.stderr.write(
      `[e2e] ${mode}: Registrar and Chromium up in ${Math.round(performance.now() - started)} ms\n`,
    );
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('signs in, previews students-greek.csv, commits it, and finds the students, audit entries and export', async () => {
    const shot = screenshots(mode);
    const { page, context, pageErrors } = await openSession(browser, stack.baseUrl);
    const step = stepper(page, shot);
    try {
      await step('sign in', async () => {
        await signIn(page);
        await shot(page, 'sign-in');
        await submitSignIn(page);
      });

      await step('preview shows the error rows', async () => {
        await previewImport(page, FIXTURE);
        // The summary cards: 40 rows in the file, 2 with errors, 38 new records.
        await expect.poll(() => cardValue(page, 'Rows in the file')).toBe('40');
        await expect.poll(() => cardValue(page, 'With errors')).toBe('2');
        await expect.poll(() => cardValue(page, 'New records')).toBe('38');
        await shot(page, 'import-preview');
        // Only the rows with errors: rows 13 and 26, each with its problem.
        await page
          .getByRole('combobox', { name: 'Show' })
          .selectOption({ label: 'Rows with errors' });
        const rows = page
          .getByRole('table')
          .filter({ has: page.getByRole('columnheader', { name: 'Row', exact: true }) })
          .getByRole('row');
        for (const rowNumber of ERROR_ROWS) {
          await rows
            .filter({ has: page.getByRole('rowheader', { name: String(rowNumber), exact: true }) })
            .filter({ hasText: 'Error' })
            .first()
            .waitFor();
        }
        await expect.poll(() => rows.count()).toBe(1 + ERROR_ROWS.length);
        await page.getByRole('heading', { name: 'Rows', exact: true }).scrollIntoViewIfNeeded();
        await page
          .getByRole('heading', { name: 'Rows', exact: true })
          .evaluate('el => el.scrollIntoView()');
        await shot(page, 'import-preview-errors');
      });

      const progress = await step(
        'commit: the progress bar reaches 100% without a reload',
        async () => {
          await page.evaluate('window.__registrarE2eNoReload = true');
          const bar = await commitImport(page);
          const watcher = watchProgress(bar);
          await expect
            .poll(() => bar.getAttribute('aria-valuenow'), { timeout: 60_000 })
            .toBe('100');
          await page.getByText('The job is complete.').waitFor();
          const seen = await watcher.stop();
          // Still the same document: the monitor followed the job live.
          expect(await page.evaluate('window.__registrarE2eNoReload')).toBe(true);
          await shot(page, 'job-monitor-completed');
          return seen;
        },
      );
      expect(progress.at(-1)).toBe(100);

      await step('the students appear', async () => {
        await openFromNav(page, 'Students');
        await page.getByText(/\b38 in all\b/).waitFor();
        await page.getByRole('cell', { name: 'Αικατερίνη' }).first().waitFor();
        await shot(page, 'students');
        const token = await apiToken(stack);
        const list = await apiGet<{ total: number }>(stack, token, '/api/v1/students?page_size=1');
        expect(list.total).toBe(38);
      });

      await step('the audit viewer shows the IMPORT and BULK_CREATE entries', async () => {
        await openFromNav(page, 'Audit log');
        // Newest first: the import's own entries lead the list.
        await page.getByRole('cell', { name: 'Bulk create', exact: true }).first().waitFor();
        await shot(page, 'audit-log');
        const filters = page.getByRole('form', { name: 'Audit log filters' });
        await filters.getByLabel('Action').selectOption('IMPORT');
        await filters.getByRole('button', { name: 'Apply filters' }).click();
        const importRow = page
          .getByRole('row')
          .filter({ has: page.getByRole('cell', { name: 'Import', exact: true }) })
          .filter({ has: page.getByRole('cell', { name: /^Student/ }) });
        await importRow.first().waitFor();

        await filters.getByLabel('Action').selectOption('BULK_CREATE');
        await filters.getByRole('button', { name: 'Apply filters' }).click();
        const bulkRow = page
          .getByRole('row')
          .filter({ has: page.getByRole('cell', { name: 'Bulk create', exact: true }) });
        await bulkRow.first().waitFor();
        await shot(page, 'audit-log-filtered', { docs: false });

        await bulkRow
          .first()
          .getByRole('button', { name: /^Open entry #\d+$/ })
          .click();
        const drawer = page.getByRole('dialog', { name: /^Audit entry #\d+$/ });
        await drawer.waitFor();
        await expect.poll(() => drawer.textContent()).toMatch(/"count":\s*38/);
        await shot(page, 'audit-drawer');
        await drawer.getByRole('button', { name: 'Close' }).click();
        await drawer.waitFor({ state: 'hidden' });

        await page.getByRole('button', { name: 'Verify integrity' }).click();
        await page.getByText(/The audit trail is intact/).waitFor({ timeout: 30_000 });
        await shot(page, 'audit-verified');
      });

      await step('an export downloads and opens', async () => {
        await openFromNav(page, 'Exports');
        await exportStudents(page, 'csv').then(({ name, bytes }) => {
          expect(name).toMatch(/\.csv$/);
          const table = parseCsv(bytes.toString('utf8'));
          expect(table.length).toBe(1 + 38);
          const text = table.map((row) => row.join('\u0001')).join('\n');
          for (const email of importedEmails) expect(text).toContain(email);
        });
        await shot(page, 'export');
        await exportStudents(page, 'xlsx').then(({ name, bytes }) => {
          expect(name).toMatch(/\.xlsx$/);
          const text = xlsxText(bytes);
          expect(text).toContain('Αικατερίνη');
          expect(text).toContain(importedEmails[0]);
        });
      });

      await step('the jobs page lists the import', async () => {
        await openFromNav(page, 'Jobs');
        await eventually(async () => {
          await page
            .getByRole('row')
            .filter({ hasText: /Completed/ })
            .first()
            .waitFor({ timeout: 2000 });
        });
        await shot(page, 'jobs');
      });

      await step('a backup is made and downloads', async () => {
        await openFromNav(page, 'Backups');
        await page.getByRole('button', { name: 'Make a backup now' }).click();
        await expect
          .poll(() => page.getByRole('progressbar').first().getAttribute('aria-valuenow'), {
            timeout: 120_000,
          })
          .toBe('100');
        await page.getByText('The job is complete.').waitFor({ timeout: 30_000 });
        const backups = page.getByRole('table', { name: 'Backups, newest first' });
        await expect.poll(() => backups.getByRole('row').count(), { timeout: 30_000 }).toBe(2);
        await shot(page, 'backups');
        // The backup downloads: a gzip file (not encrypted here: no BACKUP_ENCRYPTION_KEY).
        const [download] = await Promise.all([
          page.waitForEvent('download', { timeout: 60_000 }),
          backups
            .getByRole('button', { name: /^Download registrar-/ })
            .first()
            .click(),
        ]);
        const { name, bytes } = await saved(download);
        expect(name).toMatch(/^registrar-.*\.backup$/);
        expect([...bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
      });

      await step('the dashboard sums it up', async () => {
        await openFromNav(page, 'Dashboard');
        await page.getByText('Welcome, Administrator.').waitFor();
        // Fresh figures (a cached answer may show first while the page asks again).
        const main = page.getByRole('main');
        await main.getByRole('link', { name: '38 Students', exact: true }).waitFor();
        await main.getByRole('link', { name: 'Import', exact: true }).first().waitFor();
        await main.getByRole('cell', { name: 'Imported', exact: true }).first().waitFor();
        await shot(page, 'dashboard');
      });

      expect(pageErrors).toEqual([]);
    } catch (error) {
      if (error instanceof Error) error.message += `\n--- server output ---\n${stack.logs()}`;
      throw error;
    } finally {
      await context.close();
    }
  });
});

/** The figure on a summary card (a <dt> label with its <dd> value). */
async function cardValue(page: Page, label: string): Promise<string> {
  const term = page
    .getByRole('term')
    .filter({ hasText: new RegExp(`(^|\\s)${label}$`) })
    .first();
  const value = term.locator('xpath=following-sibling::dd[1]');
  return ((await value.textContent()) ?? '').trim();
}

/** Chooses students and a format on the export screen, exports, and returns the file. */
async function exportStudents(page: Page, format: 'csv' | 'xlsx') {
  const what = page.getByRole('combobox', { name: /^(What to export|Records|Export)/ });
  if ((await what.count()) > 0) await what.first().selectOption('students');
  const formatChoice = page.getByRole('combobox', { name: /^(Format|File format)/ });
  if ((await formatChoice.count()) > 0) await formatChoice.first().selectOption(format);
  else await page.getByRole('radio', { name: new RegExp(format, 'i') }).check();
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 60_000 }),
    page
      .getByRole('button', { name: /^(Export|Download)/ })
      .first()
      .click(),
  ]);
  return saved(download);
}
