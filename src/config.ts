import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const integer = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes');

const csvList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  );

/** One CIDR block or a bare address, IPv4 or IPv6. */
function isCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return Number.isInteger(bits) && bits >= 0 && bits <= (family === 4 ? 32 : 128);
}

/** BACKUP_ENCRYPTION_KEY: 32 bytes written as 64 hex digits or as base64; null when it is neither. */
export function parseBackupKey(value: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === 32) return bytes;
  }
  return null;
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: integer(8000, 0, 65535),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
  ),
  DATABASE_POOL_SIZE: integer(10, 1, 200),
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
  ),
  JWT_SECRET: optionalString.pipe(
    z.string().min(32, 'must be at least 32 characters; leave unset to generate one').optional(),
  ),
  ACCESS_TOKEN_TTL_SECONDS: integer(900, 60, 86_400),
  REFRESH_TOKEN_TTL_DAYS: integer(14, 1, 365),
  TRUSTED_PROXIES: csvList.refine((list) => list.every(isCidr), {
    message: 'must be a comma-separated list of IP addresses or CIDR blocks',
  }),
  ADMIN_EMAIL: optionalString.pipe(z.email().optional()),
  ADMIN_PASSWORD: optionalString.pipe(
    z.string().min(12, 'must be at least 12 characters').optional(),
  ),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  CORS_ORIGINS: csvList.refine(
    (list) => list.every((origin) => origin === '*' || /^https?:\/\/[^/]+$/.test(origin)),
    { message: 'must be * or a comma-separated list of origins such as https://school.example' },
  ),
  BODY_LIMIT_BYTES: integer(1_048_576, 1024, 1_073_741_824),
  LIST_CACHE_SECONDS: integer(60, 0, 3600),
  IMPORT_MAX_BYTES: integer(52_428_800, 1024, 1_073_741_824),
  IMPORT_MAX_ROWS: integer(1_000_000, 1, 10_000_000),
  LOGIN_MAX_FAILURES: integer(5, 1, 100),
  LOGIN_FAILURE_WINDOW_SECONDS: integer(300, 10, 86_400),
  LOGIN_LOCKOUT_SECONDS: integer(900, 10, 86_400),
  RATE_LIMIT_LOGIN_PER_MINUTE: integer(30, 1, 10_000),
  RATE_LIMIT_EXPORTS_PER_MINUTE: integer(10, 1, 10_000),
  EXPORT_SYNC_LIMIT: integer(10_000, 1, 10_000_000),
  RATE_LIMIT_JOBS_PER_MINUTE: integer(60, 1, 10_000),
  JOB_SHUTDOWN_GRACE_SECONDS: integer(10, 0, 3600),
  METRICS_TOKEN: optionalString,
  SCHOOL_NAME: z.string().trim().min(1).max(200).default('Registrar School'),
  DEFAULT_LANGUAGE: z.enum(['en', 'el']).default('en'),
  AUDIT_ENABLED: booleanFlag(true),
  AUDIT_READS: booleanFlag(false),
  // Unset: 1 s on PostgreSQL, 10 s on embedded PGlite (see AuditSealer).
  AUDIT_SEAL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).optional(),
  AUDIT_RETENTION_DAYS: optionalString.pipe(
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number of days, or unset to keep the audit trail forever')
      .transform(Number)
      .pipe(z.number().int().min(1).max(36_500))
      .optional(),
  ),
  JOB_RETENTION_HOURS: integer(24, 1, 87_600),
  MAX_JOBS: integer(1000, 1, 1_000_000),
  MAX_JOBS_PER_USER: integer(100, 1, 1_000_000),
  JOB_CONCURRENCY: integer(2, 1, 64),
  RUN_WORKER: booleanFlag(true),
  RECOMPUTE_DEBOUNCE_MS: integer(2000, 0, 600_000),
  SMTP_URL: optionalString.pipe(
    z
      .string()
      .regex(/^smtps?:\/\/[^/?#]+/, 'must be smtp://[user:pass@]host[:port] or smtps://…')
      .refine((value) => URL.canParse(value), { message: 'is not a valid URL' })
      .optional(),
  ),
  EMAIL_FROM: z
    .string()
    .trim()
    .regex(
      /^([^<>]*<[^<>\s@]+@[^<>\s@]+>|[^<>\s@]+@[^<>\s@]+)$/,
      'must be an address (office@school.example) or a name and address (School <office@school.example>)',
    )
    .default('Registrar <registrar@localhost>'),
  EMAIL_RATE_PER_MINUTE: integer(120, 0, 1_000_000),
  EMAIL_MAX_ATTEMPTS: integer(4, 1, 20),
  EMAIL_RETRY_BASE_MS: integer(2000, 1, 600_000),
  EMAIL_CONCURRENCY: integer(4, 1, 32),
  BACKUP_ENCRYPTION_KEY: optionalString.pipe(
    z
      .string()
      .refine((value) => parseBackupKey(value) !== null, {
        message:
          'must be 32 random bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)',
      })
      .optional(),
  ),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  redisUrl: string | undefined;
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  trustedProxies: string[];
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  logLevel: Env['LOG_LEVEL'];
  corsOrigins: string[];
  bodyLimitBytes: number;
  /**
   * How long a list answer is reused when no change to its records has been heard of
   * (writes through Registrar drop it at once); 0 turns list caching off.
   */
  listCacheMs: number;
  /** Upload size and row limits of imports (a larger file is refused before it is read). */
  imports: { maxBytes: number; maxRows: number };
  login: {
    maxFailures: number;
    failureWindowSeconds: number;
    lockoutSeconds: number;
    rateLimitPerMinute: number;
  };
  metricsToken: string | undefined;
  jobs: {
    maxJobs: number;
    maxJobsPerUser: number;
    shutdownGraceMs: number;
    /** With REDIS_URL: whether this process also runs a BullMQ worker (not only enqueues). */
    runWorker: boolean;
  };
  /** Requests per minute on heavy endpoints, per signed-in user (per address without one). */
  rateLimits: { exportsPerMinute: number; jobsPerMinute: number };
  /** Rows GET /exports/{resource} streams at most; larger exports run as export_large jobs. */
  exportSyncLimit: number;
  /** Quiet time after a change before results are recomputed; 0: only on request. */
  recomputeDebounceMs: number;
  audit: {
    /** Off only for benchmarks that measure what auditing costs. */
    enabled: boolean;
    /** Also record VIEW and SEARCH of students' personal data. */
    reads: boolean;
    /** The longest a committed entry waits to be chained; unset, the audit logger's default. */
    sealIntervalMs: number | undefined;
  };
  /** Encrypts new backups with AES-256-GCM and decrypts encrypted ones; never logged. */
  backupEncryptionKey: Buffer | undefined;
  mail: {
    /** SMTP server (may hold credentials: never logged); unset writes .eml files to DATA_DIR/outbox. */
    smtpUrl: string | undefined;
    from: string;
    /** Messages per minute across the email batches of one process; 0 = no limit. */
    ratePerMinute: number;
    /** Tries per message when the server answers 4xx (or cannot be reached). */
    maxAttempts: number;
    /** Wait before the second try; each further try waits twice as long. */
    retryBaseMs: number;
    /** Messages a batch has in flight at once (and SMTP connections kept open). */
    concurrency: number;
  };
  /** Defaults for the runtime settings an admin can change later (GET/PATCH /api/v1/settings). */
  settingsDefaults: {
    school_name: string;
    default_language: 'en' | 'el';
    /** Null keeps the audit trail forever. */
    audit_retention_days: number | null;
    job_retention_hours: number;
    job_concurrency: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the JWT secret from DATA_DIR, creating it on first start, so that restarts keep
 * everyone signed in without the operator having to manage a secret.
 */
function persistentJwtSecret(dataDir: string): string {
  const file = path.join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const raw = source[name];
        const shown =
          name.includes('SECRET') ||
          name.includes('PASSWORD') ||
          name.includes('KEY') ||
          name === 'SMTP_URL'
            ? '(hidden)'
            : raw;
        return `${name}=${JSON.stringify(shown ?? '')}: ${issue.message}`;
      }),
    );
  }
  const env = parsed.data;
  const dataDir = path.resolve(env.DATA_DIR);
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    dataDir,
    databaseUrl: env.DATABASE_URL,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    redisUrl: env.REDIS_URL,
    jwtSecret: env.JWT_SECRET ?? persistentJwtSecret(dataDir),
    accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: env.REFRESH_TOKEN_TTL_DAYS,
    trustedProxies: env.TRUSTED_PROXIES,
    adminEmail: env.ADMIN_EMAIL,
    adminPassword: env.ADMIN_PASSWORD,
    logLevel: env.LOG_LEVEL,
    corsOrigins: env.CORS_ORIGINS,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    listCacheMs: env.LIST_CACHE_SECONDS * 1000,
    imports: { maxBytes: env.IMPORT_MAX_BYTES, maxRows: env.IMPORT_MAX_ROWS },
    login: {
      maxFailures: env.LOGIN_MAX_FAILURES,
      failureWindowSeconds: env.LOGIN_FAILURE_WINDOW_SECONDS,
      lockoutSeconds: env.LOGIN_LOCKOUT_SECONDS,
      rateLimitPerMinute: env.RATE_LIMIT_LOGIN_PER_MINUTE,
    },
    metricsToken: env.METRICS_TOKEN,
    jobs: {
      maxJobs: env.MAX_JOBS,
      maxJobsPerUser: env.MAX_JOBS_PER_USER,
      shutdownGraceMs: env.JOB_SHUTDOWN_GRACE_SECONDS * 1000,
      runWorker: env.RUN_WORKER,
    },
    rateLimits: {
      exportsPerMinute: env.RATE_LIMIT_EXPORTS_PER_MINUTE,
      jobsPerMinute: env.RATE_LIMIT_JOBS_PER_MINUTE,
    },
    exportSyncLimit: env.EXPORT_SYNC_LIMIT,
    recomputeDebounceMs: env.RECOMPUTE_DEBOUNCE_MS,
    audit: {
      enabled: env.AUDIT_ENABLED,
      reads: env.AUDIT_READS,
      sealIntervalMs: env.AUDIT_SEAL_INTERVAL_MS,
    },
    backupEncryptionKey:
      env.BACKUP_ENCRYPTION_KEY === undefined
        ? undefined
        : (parseBackupKey(env.BACKUP_ENCRYPTION_KEY) ?? undefined),
    mail: {
      smtpUrl: env.SMTP_URL,
      from: env.EMAIL_FROM,
      ratePerMinute: env.EMAIL_RATE_PER_MINUTE,
      maxAttempts: env.EMAIL_MAX_ATTEMPTS,
      retryBaseMs: env.EMAIL_RETRY_BASE_MS,
      concurrency: env.EMAIL_CONCURRENCY,
    },
    settingsDefaults: {
      school_name: env.SCHOOL_NAME,
      default_language: env.DEFAULT_LANGUAGE,
      audit_retention_days: env.AUDIT_RETENTION_DAYS ?? null,
      job_retention_hours: env.JOB_RETENTION_HOURS,
      job_concurrency: env.JOB_CONCURRENCY,
    },
  };
}
