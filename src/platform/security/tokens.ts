import { createHash, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

export interface AccessClaims {
  userId: number;
  email: string;
  role: string;
  /** Set while the user must change a generated password before doing anything else. */
  passwordChangeRequired: boolean;
}

const ISSUER = 'registrar';
/** Verified tokens remembered at once; a client reuses one token for many requests. */
const VERIFIED_CACHE_SIZE = 10_000;
const AUDIENCE = 'registrar-api';

export class TokenSigner {
  /** A KeyObject, so jose does not re-import the secret on every verification. */
  private readonly key: KeyObject;

  constructor(
    secret: string,
    readonly accessTtlSeconds: number,
  ) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  sign(claims: AccessClaims): Promise<string> {
    return new SignJWT({
      email: claims.email,
      role: claims.role,
      ...(claims.passwordChangeRequired ? { pcr: true } : {}),
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(claims.userId))
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.accessTtlSeconds}s`)
      .sign(this.key);
  }

  /**
   * Tokens that passed verification, by their exact text (signature included), with their
   * expiry: a signature is checked once per token, not once per request.
   */
  private readonly verified = new Map<string, { claims: AccessClaims; expiresAt: number }>();

  /** Returns the claims, or a reason the token is not acceptable. */
  async verify(token: string): Promise<AccessClaims | { error: 'expired' | 'invalid' }> {
    const known = this.verified.get(token);
    if (known) {
      if (Date.now() < known.expiresAt) return known.claims;
      this.verified.delete(token);
      return { error: 'expired' };
    }
    const outcome = await this.verifySignature(token);
    if ('claims' in outcome) {
      if (this.verified.size >= VERIFIED_CACHE_SIZE) {
        // Maps iterate in insertion order: forget the oldest.
        this.verified.delete(this.verified.keys().next().value as string);
      }
      this.verified.set(token, outcome);
      return outcome.claims;
    }
    return outcome;
  }

  private async verifySignature(
    token: string,
  ): Promise<{ claims: AccessClaims; expiresAt: number } | { error: 'expired' | 'invalid' }> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
      });
      const userId = Number(payload.sub);
      if (!Number.isInteger(userId) || typeof payload.role !== 'string' || !payload.exp) {
        return { error: 'invalid' };
      }
      const claims: AccessClaims = {
        userId,
        email: String(payload.email ?? ''),
        role: payload.role,
        passwordChangeRequired: payload.pcr === true,
      };
      return { claims, expiresAt: payload.exp * 1000 };
    } catch (error) {
      return { error: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
    }
  }
}

/** An opaque refresh token and the hash that is stored in its place. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
