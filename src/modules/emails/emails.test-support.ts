import { SMTPServer } from 'smtp-server';

/** A message as the test SMTP server received it. */
export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: string;
}

/** What the server answers at RCPT TO: null accepts, otherwise an SMTP code and text. */
export type RcptRule = (address: string, tries: number) => { code: number; text: string } | null;

export interface TestSmtpServer {
  url: string;
  port: number;
  received: ReceivedMessage[];
  /** RCPT TO attempts per address, accepted or not. */
  tries: Map<string, number>;
  rcpt: RcptRule;
  /** Milliseconds the server takes to accept each message's data. */
  dataDelayMs: number;
  close(): Promise<void>;
}

/** A real SMTP server on a free local port, for tests and the benchmark. */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const state: Omit<TestSmtpServer, 'url' | 'port' | 'close'> = {
    received: [],
    tries: new Map(),
    rcpt: () => null,
    dataDelayMs: 0,
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const tries = (state.tries.get(address.address) ?? 0) + 1;
      state.tries.set(address.address, tries);
      const refusal = state.rcpt(address.address, tries);
      if (!refusal) return callback();
      callback(Object.assign(new Error(refusal.text), { responseCode: refusal.code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const finish = () => {
          state.received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((recipient) => recipient.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        };
        if (state.dataDelayMs > 0) setTimeout(finish, state.dataDelayMs);
        else finish();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(state, {
    port,
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** Decodes =?UTF-8?Q?…?= and =?UTF-8?B?…?= words in a header value. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_, kind: string, data: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) {
      headers[line.slice(0, colon).toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
    }
  }
  return headers;
}

/** A received message's headers and its leaf parts, decoded (enough for assertions). */
export function parseMessage(raw: string): {
  headers: Record<string, string>;
  parts: Array<{ type: string; filename: string | null; content: string }>;
} {
  const split = (text: string) => {
    const at = text.search(/\r?\n\r?\n/);
    return at < 0
      ? { head: text, body: '' }
      : { head: text.slice(0, at), body: text.slice(at).replace(/^\r?\n\r?\n/, '') };
  };
  const { head, body } = split(raw);
  const headers = parseHeaders(head);
  const parts: Array<{ type: string; filename: string | null; content: string }> = [];
  const walk = (partHeaders: Record<string, string>, partBody: string) => {
    const type = partHeaders['content-type'] ?? 'text/plain';
    const boundary = type.match(/boundary="?([^";]+)"?/)?.[1];
    if (type.startsWith('multipart/') && boundary) {
      const pieces = partBody.split(`--${boundary}`).slice(1);
      for (const piece of pieces) {
        if (piece.startsWith('--')) break;
        const inner = split(piece.replace(/^\r?\n/, ''));
        walk(parseHeaders(inner.head), inner.body);
      }
      return;
    }
    const encoding = (partHeaders['content-transfer-encoding'] ?? '7bit').toLowerCase();
    const content =
      encoding === 'base64'
        ? Buffer.from(partBody.replace(/\s+/g, ''), 'base64').toString('utf8')
        : encoding === 'quoted-printable'
          ? decodeQuotedPrintable(partBody)
          : partBody;
    const filename =
      (partHeaders['content-disposition'] ?? '').match(/filename="?([^";]+)"?/)?.[1] ?? null;
    parts.push({ type: type.split(';')[0] ?? type, filename, content });
  };
  walk(headers, body);
  return { headers, parts };
}
