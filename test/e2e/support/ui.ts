import type { Locator, Page } from 'playwright-core';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './server.ts';

/**
 * Steps through the admin UI by what a person (or a screen reader) sees: roles, labels and
 * headings, never CSS classes. The names follow the UI's message tables (web/src/**).
 */

export const heading = (page: Page, name: string | RegExp) =>
  page.getByRole('heading', { level: 1, name });

/** The main navigation (its aria-label is 'Main navigation' / 'Κύρια πλοήγηση'). */
export const mainNav = (page: Page) =>
  page.getByRole('navigation', { name: /^(Main navigation|Κύρια πλοήγηση)$/ });

export async function signIn(page: Page, email = ADMIN_EMAIL, password = ADMIN_PASSWORD) {
  await page.goto('/');
  await heading(page, 'Sign in').waitFor();
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
}

export async function submitSignIn(page: Page) {
  await page.getByRole('button', { name: 'Sign in' }).click();
  await heading(page, 'Dashboard').waitFor();
}

/** Opens a screen from the main navigation and waits for its heading. */
export async function openFromNav(
  page: Page,
  label: string | RegExp,
  pageHeading?: string | RegExp,
) {
  await mainNav(page)
    .getByRole('link', { name: label, exact: typeof label === 'string' })
    .click();
  await heading(page, pageHeading ?? label).waitFor();
}

/** Every aria-valuenow a progress bar shows while it is watched (polled every 50 ms). */
export function watchProgress(bar: Locator) {
  const seen: number[] = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      if (bar.page().isClosed()) break;
      const value = await bar.getAttribute('aria-valuenow', { timeout: 1000 }).catch(() => null);
      if (value !== null) {
        const number = Number(value);
        if (Number.isFinite(number) && seen.at(-1) !== number) seen.push(number);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    seen,
    async stop() {
      stopped = true;
      await done;
      return seen;
    },
  };
}

/** Polls until check() passes (expect-style assertions inside), or throws its last error. */
export async function eventually<T>(
  check: () => Promise<T>,
  { timeoutMs = 15_000, intervalMs = 200 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await check();
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw lastError;
}

/**
 * Runs one named step of a flow; when it fails, the error names the step and a screenshot of
 * the page at that moment is saved beside the others (failed-<step>.png).
 */
export function stepper(page: Page, shot: (page: Page, name: string) => Promise<string>) {
  return async function step<T>(name: string, body: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await body();
      process.stderr.write(`[e2e]   ✓ ${name} (${Math.round(performance.now() - started)} ms)\n`);
      return result;
    } catch (error) {
      const slug = name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '');
      await shot(page, `failed-${slug}`).catch(() => undefined);
      if (error instanceof Error) error.message = `step "${name}" failed: ${error.message}`;
      throw error;
    }
  };
}
