import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM_PATH, DOCS_SCREENSHOTS_DIR, type Mode, RESULTS_DIR } from './env.ts';

/**
 * Debian's Chromium, headless, with the switches that keep it off the network (this
 * machine's network is closed: without them Chromium keeps trying Google's services).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
      '--lang=en-GB',
    ],
  });
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors of the page and console.error lines, for the final check. */
  pageErrors: string[];
  consoleErrors: string[];
}

export async function openSession(
  browser: Browser,
  baseUrl: string,
  options: { width?: number; height?: number; locale?: string } = {},
): Promise<BrowserSession> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    acceptDownloads: true,
    locale: options.locale ?? 'en-GB',
    timezoneId: 'Europe/Athens',
    colorScheme: 'light',
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  return { context, page, pageErrors, consoleErrors };
}

/**
 * Screenshots of the key screens: test-results/<mode>/<name>.png. With E2E_UPDATE_DOCS=1 the
 * embedded run also copies them to docs/screenshots/ for the user guide.
 */
export function screenshots(mode: Mode) {
  const dir = path.join(RESULTS_DIR, mode);
  mkdirSync(dir, { recursive: true });
  const toDocs = mode === 'embedded' && process.env.E2E_UPDATE_DOCS === '1';
  return async (page: Page, name: string, options: { fullPage?: boolean; docs?: boolean } = {}) => {
    const file = path.join(dir, `${name}.png`);
    // Wait (a while, without failing) for the screen's data: no "Loading…" line left.
    const deadline = Date.now() + 10_000;
    const loading = page.getByRole('status').filter({ hasText: /^(Loading…|Φόρτωση…)$/ });
    while (Date.now() < deadline && (await loading.count().catch(() => 0)) > 0) {
      await page.waitForTimeout(100);
    }
    // Let transitions and fonts settle, so the picture shows what a person would see.
    await page.evaluate('document.fonts.ready.then(() => true)').catch(() => undefined);
    await page.screenshot({
      path: file,
      fullPage: options.fullPage ?? false,
      animations: 'disabled',
    });
    if (toDocs && options.docs !== false && !name.startsWith('failed-')) {
      mkdirSync(DOCS_SCREENSHOTS_DIR, { recursive: true });
      copyFileSync(file, path.join(DOCS_SCREENSHOTS_DIR, `${name}.png`));
    }
    return file;
  };
}
