import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenSigner } from './tokens.ts';

const claims = {
  userId: 7,
  email: 'a@school.test',
  role: 'teacher',
  passwordChangeRequired: false,
};

afterEach(() => {
  vi.useRealTimers();
});

describe('TokenSigner', () => {
  it('accepts its own token, again and again', async () => {
    const signer = new TokenSigner('x'.repeat(48), 60);
    const token = await signer.sign(claims);
    expect(await signer.verify(token)).toEqual(claims);
    expect(await signer.verify(token)).toEqual(claims);
  });

  it('refuses a token whose payload or signature was changed, even after the original was accepted', async () => {
    const signer = new TokenSigner('x'.repeat(48), 60);
    const token = await signer.sign(claims);
    await signer.verify(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload, 'base64url').toString()),
        role: 'admin',
      }),
    ).toString('base64url');
    expect(await signer.verify(`${header}.${forged}.${signature}`)).toEqual({ error: 'invalid' });
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    expect(await signer.verify(`${header}.${payload}.${flipped}`)).toEqual({ error: 'invalid' });
    expect(await new TokenSigner('y'.repeat(48), 60).verify(token)).toEqual({ error: 'invalid' });
  });

  it('says a remembered token has expired once its lifetime is over', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const signer = new TokenSigner('x'.repeat(48), 60);
    const token = await signer.sign(claims);
    expect(await signer.verify(token)).toEqual(claims);
    vi.setSystemTime(Date.now() + 61_000);
    expect(await signer.verify(token)).toEqual({ error: 'expired' });
    expect(await signer.verify(token)).toEqual({ error: 'expired' });
  });
});
