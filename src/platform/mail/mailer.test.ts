import { describe, expect, it } from 'vitest';
import { classifyMailError, domainOf, MailError, redactSmtpUrl } from './mailer.ts';
import { MailRateLimiter } from './rate-limiter.ts';

describe('mail errors', () => {
  it('treats SMTP 4xx as temporary and 5xx as permanent', () => {
    const reply = (responseCode: number) =>
      Object.assign(new Error('x'), { responseCode, response: `${responseCode} text` });
    expect(classifyMailError(reply(451))).toMatchObject({ kind: 'temporary', responseCode: 451 });
    expect(classifyMailError(reply(421))).toMatchObject({ kind: 'temporary' });
    expect(classifyMailError(reply(550))).toMatchObject({ kind: 'permanent', responseCode: 550 });
    expect(classifyMailError(reply(554)).message).toBe('554 text');
  });

  it('treats a lost connection as temporary and a configuration error as permanent', () => {
    const coded = (code: string) => Object.assign(new Error(code), { code });
    expect(classifyMailError(coded('ECONNECTION'))).toMatchObject({
      kind: 'temporary',
      responseCode: undefined,
    });
    expect(classifyMailError(coded('ETIMEDOUT')).kind).toBe('temporary');
    expect(classifyMailError(coded('EAUTH')).kind).toBe('permanent');
    const kept = new MailError('disk full', 'temporary');
    expect(classifyMailError(kept)).toBe(kept);
  });

  it('never shows the password of SMTP_URL', () => {
    expect(redactSmtpUrl('smtp://office:s3cret@mail.school.example:587?pool=true')).toBe(
      'smtp://office:***@mail.school.example:587',
    );
    expect(redactSmtpUrl('not a url')).not.toContain('not a url');
  });

  it('takes the Message-ID domain from the sender', () => {
    expect(domainOf('School Office <office@school.example>')).toBe('school.example');
    expect(domainOf('office@mail.school.example')).toBe('mail.school.example');
  });
});

describe('MailRateLimiter', () => {
  it('lets one second of messages through at once, then spaces them', async () => {
    let now = 0;
    const limiter = new MailRateLimiter(120, () => now);
    await limiter.take();
    await limiter.take();
    // The bucket (2 = one second at 120/min) is empty: the third waits for a refill.
    let third = false;
    const waiting = limiter.take().then(() => {
      third = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(third).toBe(false);
    now += 500;
    await waiting;
    expect(third).toBe(true);
  });

  it('does nothing at 0 and stops waiting when cancelled', async () => {
    const off = new MailRateLimiter(0);
    for (let index = 0; index < 1000; index++) await off.take();
    const slow = new MailRateLimiter(1);
    await slow.take();
    const controller = new AbortController();
    const waiting = slow.take(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toThrow();
  });
});
