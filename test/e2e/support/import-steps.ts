import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { openFromNav } from './ui.ts';

/**
 * The import wizard (web/src/pages/imports): what to import (Students), Next, the file,
 * "Check the file", then the preview ("What the import will do").
 */
export async function previewImport(
  page: Page,
  file: string,
  options: { timeoutMs?: number } = {},
) {
  await openFromNav(page, 'Import');
  const students = page.getByRole('radio', { name: /^Students/ });
  if ((await students.count()) > 0) await students.check();
  const next = page.getByRole('button', { name: 'Next' });
  if ((await next.count()) > 0) await next.click();
  await page.getByLabel('Choose a file').setInputFiles(file);
  await page.getByRole('button', { name: 'Check the file' }).click();
  await page
    .getByRole('heading', { name: 'What the import will do' })
    .waitFor({ timeout: options.timeoutMs ?? 60_000 });
}

/**
 * Commits the previewed import (skipping the rows with errors when there are some); the job
 * monitor appears on the same page, without a reload. Returns its progress bar.
 */
export async function commitImport(page: Page) {
  const skipErrors = page.getByRole('checkbox', { name: /^Skip the [\d,.]+ rows with errors/ });
  if ((await skipErrors.count()) > 0) await skipErrors.check();
  await page.getByRole('button', { name: /^Import [\d,.\s]+ rows$/ }).click();
  const bar = page.getByRole('progressbar', { name: 'Progress of the job' });
  await bar.waitFor({ timeout: 30_000 });
  return bar;
}

const FIRST_NAMES = ['Μαρία', 'Γιώργος', 'Ελένη', 'Νίκος', 'Anna', 'James', 'Σοφία', 'Andreas'];
const LAST_NAMES = ['Παπαδοπούλου', 'Georgiou', 'Χαραλάμπους', 'Smith', 'Ιωάννου', 'Nicolaou'];

/**
 * A large students CSV (the school's own columns), so an import runs long enough to watch
 * its progress move and to cancel it: the import job writes 500 rows per transaction.
 */
export function writeLargeStudentsCsv(file: string, rows: number) {
  const lines = [
    'student_id,first_name,last_name,email,father_name,mobile_phone,phone,study_year,enrollment_date,academic_year,class_division',
  ];
  for (let i = 1; i <= rows; i++) {
    const first = FIRST_NAMES[i % FIRST_NAMES.length]!;
    const last = LAST_NAMES[(i * 7) % LAST_NAMES.length]!;
    const year = (i % 4) + 1;
    const day = String((i % 28) + 1).padStart(2, '0');
    lines.push(
      [
        `E${String(i).padStart(7, '0')}`,
        first,
        last,
        `student${i}@bulk.example.ac.cy`,
        FIRST_NAMES[(i * 3) % FIRST_NAMES.length],
        `+3579${String(1_000_000 + i).slice(-7)}`,
        '',
        year,
        `${day}/09/2025`,
        '2025-2026',
        `A${year}`,
      ].join(','),
    );
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}
