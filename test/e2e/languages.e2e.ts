import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium, openSession, screenshots } from './support/browser.ts';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type RegistrarStack,
  startRegistrar,
} from './support/server.ts';
import { heading, mainNav, signIn, submitSignIn } from './support/ui.ts';

const skipReason = inject('e2eSkipReason');
const GREEK = /[\u0370-\u03ff\u1f00-\u1fff]/;

/**
 * Every screen in both languages: in Greek each navigation entry opens a page whose heading
 * is Greek (not the English fallback), with no error, and the layout fits 1024 px.
 * The UI is the same in both modes, so this runs in embedded mode only.
 */
describe.skipIf(skipReason)('both languages, every navigation entry (embedded)', () => {
  let stack: RegistrarStack;
  let browser: Browser;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([
      startRegistrar('embedded', { generatedAdminPassword: true }),
      launchChromium(),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('changes the first password, then shows every page in English and in Greek, at 1280 and 1024 px', async () => {
    const shot = screenshots('embedded');
    const { page, pageErrors, context } = await openSession(browser, stack.baseUrl);
    try {
      // First start without ADMIN_PASSWORD: the printed password must be changed at once.
      await signIn(page, ADMIN_EMAIL, stack.adminPassword);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await heading(page, 'Change your password').waitFor();
      expect(await mainNav(page).count()).toBe(0);
      await page.getByLabel('Current password').fill(stack.adminPassword);
      await page.getByLabel('New password', { exact: true }).fill(ADMIN_PASSWORD);
      await page.getByLabel('Repeat the new password').fill(ADMIN_PASSWORD);
      await shot(page, 'change-password');
      await page.getByRole('button', { name: 'Change password' }).click();
      await heading(page, 'Dashboard').waitFor();
      // The new password works for a new sign-in.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
      await submitSignIn(page);

      const links = mainNav(page).getByRole('link');
      const count = await links.count();
      expect(count).toBeGreaterThan(0);
      const english: Array<{ href: string; label: string; heading: string }> = [];
      for (let i = 0; i < count; i++) {
        const link = links.nth(i);
        const label = ((await link.textContent()) ?? '').trim();
        const href = (await link.getAttribute('href')) ?? '';
        await link.click();
        const title = heading(page, /.+/);
        await title.waitFor();
        await expect.poll(() => page.evaluate('location.pathname')).toBe(href);
        english.push({ href, label, heading: ((await title.textContent()) ?? '').trim() });
      }

      await page.getByLabel('Language').selectOption('el');
      await heading(page, /.+/).waitFor();
      expect(await page.evaluate('document.documentElement.lang')).toBe('el');

      await page.setViewportSize({ width: 1024, height: 768 });
      const greekLinks = mainNav(page).getByRole('link');
      expect(await greekLinks.count()).toBe(count);
      for (let i = 0; i < count; i++) {
        const link = greekLinks.nth(i);
        const label = ((await link.textContent()) ?? '').trim();
        const known = english[i]!;
        expect(label, `navigation entry ${known.label} in Greek`).toMatch(GREEK);
        await link.click();
        await expect.poll(() => page.evaluate('location.pathname')).toBe(known.href);
        const title = heading(page, /.+/);
        await title.waitFor();
        // Wait for the screen's data before judging it (a loading line is not an error).
        await page
          .getByRole('status')
          .filter({ hasText: /Φόρτωση|Loading/ })
          .first()
          .waitFor({ state: 'hidden', timeout: 10_000 })
          .catch(() => undefined);
        const text = ((await title.textContent()) ?? '').trim();
        expect(text, `heading of ${known.href} in Greek`).toMatch(GREEK);
        expect(text, `heading of ${known.href} is not the English one`).not.toBe(known.heading);
        const alerts = page.locator('.banner-error, [role="alert"]');
        expect(await alerts.allTextContents(), `errors on ${known.href} in Greek`).toEqual([]);
        // The layout fits 1024 px: nothing makes the whole page scroll sideways.
        const overflow = await page.evaluate(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        );
        expect(overflow, `${known.href} is wider than 1024 px`).toBeLessThanOrEqual(0);
        if (known.href === '/') await shot(page, 'dashboard-greek-1024');
      }
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
