import type { NodemailerError } from 'nodemailer/lib/errors';

/** One message for one recipient, ready to hand to a transport. */
export interface MailMessage {
  from: string;
  to: { name: string; address: string };
  subject: string;
  text: string;
  html: string;
  /** Fixed per job and student: the same message always carries the same id. */
  messageId: string;
  headers?: Record<string, string>;
  attachments?: Array<{ filename: string; content: string; contentType: string }>;
}

export interface MailReceipt {
  /** The server's answer (SMTP) or the file written (outbox). */
  response: string;
}

/** Sends messages: over SMTP, or into the outbox folder when no SMTP_URL is set. */
export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  /** Where messages go, safe to show and log (no credentials). */
  readonly target: string;
  send(message: MailMessage): Promise<MailReceipt>;
  close(): Promise<void>;
}

/**
 * A failed send. temporary: the same message may be accepted later (SMTP 4xx, or no answer
 * at all); permanent: the server refused it for good (5xx), so retrying cannot help.
 */
export class MailError extends Error {
  constructor(
    message: string,
    readonly kind: 'temporary' | 'permanent',
    /** The SMTP reply code; undefined when no server answered (connection, disk). */
    readonly responseCode?: number,
  ) {
    super(message);
    this.name = 'MailError';
  }
}

/** Error codes of failures to reach or talk to the server at all. */
const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'EPROTOCOL',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
]);

/**
 * SMTP reply 4xx -> temporary, 5xx -> permanent (RFC 5321 reply classes). Without a reply,
 * a connection failure is temporary; anything else (a refused configuration, missing
 * credentials) is permanent, since sending the same message again would fail the same way.
 */
export function classifyMailError(error: unknown): MailError {
  if (error instanceof MailError) return error;
  const detail = error as Partial<NodemailerError> | undefined;
  const text = oneLine(
    detail?.response ?? (error instanceof Error ? error.message : String(error)),
  );
  const code = detail?.responseCode;
  if (typeof code === 'number' && code >= 400 && code < 600) {
    return new MailError(text, code < 500 ? 'temporary' : 'permanent', code);
  }
  const errno = String(detail?.code ?? '');
  return new MailError(text, CONNECTION_CODES.has(errno) ? 'temporary' : 'permanent');
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 500);

/** smtp://user:secret@host:587 -> smtp://user:***@host:587, for logs and job results. */
export function redactSmtpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    parsed.search = '';
    return parsed.toString();
  } catch {
    return 'smtp://(invalid URL)';
  }
}

/** The domain of an address such as "Registrar <office@school.example>". */
export function domainOf(address: string): string {
  const match = address.match(/@([A-Za-z0-9.-]+)>?\s*$/);
  return match?.[1] ?? 'registrar.invalid';
}
