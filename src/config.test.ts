import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'registrar-config-'));

describe('configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({ DATA_DIR: tempDir() });
    expect(config).toMatchObject({
      port: 8000,
      host: '0.0.0.0',
      databaseUrl: undefined,
      redisUrl: undefined,
      accessTokenTtlSeconds: 900,
      trustedProxies: [],
      login: { maxFailures: 5, failureWindowSeconds: 300 },
    });
  });

  it('generates a JWT secret once and keeps it across restarts', () => {
    const dataDir = tempDir();
    const first = loadConfig({ DATA_DIR: dataDir });
    const second = loadConfig({ DATA_DIR: dataDir });
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(48);
    expect(second.jwtSecret).toBe(first.jwtSecret);
    const file = path.join(dataDir, 'jwt-secret');
    expect(readFileSync(file, 'utf8')).toBe(first.jwtSecret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('names every bad value in one message, hiding secrets', () => {
    try {
      loadConfig({
        DATA_DIR: tempDir(),
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        TRUSTED_PROXIES: '10.0.0.0/8, not-an-ip',
        JWT_SECRET: 'short-secret',
        LOG_LEVEL: 'loud',
        CORS_ORIGINS: 'school.example',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      for (const name of [
        'PORT',
        'DATABASE_URL',
        'TRUSTED_PROXIES',
        'JWT_SECRET',
        'LOG_LEVEL',
        'CORS_ORIGINS',
      ]) {
        expect(message).toContain(name);
      }
      expect(message).not.toContain('short-secret');
    }
  });

  it('reads BACKUP_ENCRYPTION_KEY as hex or base64, and hides a bad one', () => {
    const hex = 'ab'.repeat(32);
    const fromHex = loadConfig({ DATA_DIR: tempDir(), BACKUP_ENCRYPTION_KEY: hex });
    expect(fromHex.backupEncryptionKey?.toString('hex')).toBe(hex);
    const base64 = Buffer.alloc(32, 7).toString('base64');
    const fromBase64 = loadConfig({ DATA_DIR: tempDir(), BACKUP_ENCRYPTION_KEY: base64 });
    expect(fromBase64.backupEncryptionKey?.equals(Buffer.alloc(32, 7))).toBe(true);
    expect(loadConfig({ DATA_DIR: tempDir() }).backupEncryptionKey).toBeUndefined();
    for (const bad of ['too-short-key', Buffer.alloc(16, 1).toString('base64'), 'ab'.repeat(31)]) {
      try {
        loadConfig({ DATA_DIR: tempDir(), BACKUP_ENCRYPTION_KEY: bad });
        expect.unreachable();
      } catch (error) {
        const message = (error as ConfigError).message;
        expect(message).toContain('BACKUP_ENCRYPTION_KEY');
        expect(message).toContain('32 random bytes');
        expect(message).not.toContain(bad);
      }
    }
  });

  it('reads the job and audit switches', () => {
    const config = loadConfig({
      DATA_DIR: tempDir(),
      RUN_WORKER: 'false',
      AUDIT_READS: 'yes',
      AUDIT_RETENTION_DAYS: '400',
      MAX_JOBS_PER_USER: '7',
    });
    expect(config.jobs).toMatchObject({ runWorker: false, maxJobsPerUser: 7, maxJobs: 1000 });
    expect(config.audit).toEqual({ enabled: true, reads: true, sealIntervalMs: undefined });
    expect(
      loadConfig({ DATA_DIR: tempDir(), AUDIT_SEAL_INTERVAL_MS: '2000' }).audit.sealIntervalMs,
    ).toBe(2000);
    expect(config.settingsDefaults.audit_retention_days).toBe(400);
    expect(loadConfig({ DATA_DIR: tempDir() }).settingsDefaults.audit_retention_days).toBeNull();
    expect(() => loadConfig({ DATA_DIR: tempDir(), RUN_WORKER: 'sometimes' })).toThrow(
      /RUN_WORKER/,
    );
    expect(() => loadConfig({ DATA_DIR: tempDir(), AUDIT_RETENTION_DAYS: 'soon' })).toThrow(
      /AUDIT_RETENTION_DAYS/,
    );
  });

  it('accepts CIDR lists, IPv6 and explicit origins', () => {
    const config = loadConfig({
      DATA_DIR: tempDir(),
      TRUSTED_PROXIES: '10.0.0.0/8,192.168.1.5,::1,fd00::/8',
      CORS_ORIGINS: 'https://school.example,http://localhost:5173',
      DATABASE_URL: 'postgres://u@db:5432/registrar',
    });
    expect(config.trustedProxies).toHaveLength(4);
    expect(config.corsOrigins).toEqual(['https://school.example', 'http://localhost:5173']);
    expect(config.databaseUrl).toBe('postgres://u@db:5432/registrar');
  });

  it('reads the mail settings, and never shows a bad SMTP_URL (it may hold a password)', () => {
    const defaults = loadConfig({ DATA_DIR: tempDir() });
    expect(defaults.mail).toEqual({
      smtpUrl: undefined,
      from: 'Registrar <registrar@localhost>',
      ratePerMinute: 120,
      maxAttempts: 4,
      retryBaseMs: 2000,
      concurrency: 4,
    });
    const set = loadConfig({
      DATA_DIR: tempDir(),
      SMTP_URL: 'smtps://office:pw@mail.school.example:465',
      EMAIL_FROM: 'School Office <office@school.example>',
      EMAIL_RATE_PER_MINUTE: '0',
    });
    expect(set.mail).toMatchObject({
      smtpUrl: 'smtps://office:pw@mail.school.example:465',
      ratePerMinute: 0,
    });
    try {
      loadConfig({
        DATA_DIR: tempDir(),
        SMTP_URL: 'http://office:s3cret@mail',
        EMAIL_FROM: 'nobody',
      });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('SMTP_URL="(hidden)"');
      expect(message).not.toContain('s3cret');
      expect(message).toContain('EMAIL_FROM="nobody"');
    }
  });
});
