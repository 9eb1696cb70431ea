import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { badRequest } from '../../platform/http/problems.ts';

/** A PostgreSQL connection URL split so that the password never travels with the rest. */
export interface TargetUrl {
  /** The URL without its password: safe to store in job metadata, show and log. */
  masked: string;
  /** host:port/database, for messages and the audit trail. */
  label: string;
  password: string;
}

/** Parses postgres:// or postgresql:// URLs naming a host and a database; 400 otherwise. */
export function parseTargetUrl(text: string): TargetUrl {
  const invalid = (message: string) =>
    badRequest(`target_url ${message}.`, [{ field: 'target_url', message }]);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('is not a URL (expected postgres://user:password@host:5432/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw invalid('must start with postgres:// or postgresql://');
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!url.hostname) throw invalid('must name the server host');
  if (!database || database.includes('/')) throw invalid('must name one database');
  const password = decodeURIComponent(url.password);
  url.password = '';
  return {
    masked: url.toString(),
    label: `${url.hostname}:${url.port || '5432'}/${database}`,
    password,
  };
}

/** The URL to connect with: the masked one with its password put back. */
export function connectionUrl(target: TargetUrl): string {
  const url = new URL(target.masked);
  if (target.password) url.password = encodeURIComponent(target.password);
  return url.toString();
}

/**
 * The password sealed (AES-256-GCM) under a key derived from JWT_SECRET, which every API and
 * worker process of an install shares: job metadata then holds no readable password, yet a
 * worker on another machine can still connect.
 */
export function sealPassword(password: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', passwordKey(secret), iv);
  const sealed = Buffer.concat([cipher.update(password, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

/** Throws when the sealed text was made with another secret or altered. */
export function openPassword(sealed: string, secret: string): string {
  const bytes = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', passwordKey(secret), bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(12, 28));
  return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
}

function passwordKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, '', 'registrar data_migration password', 32));
}
