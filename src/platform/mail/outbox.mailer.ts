import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { MailError, type Mailer, type MailMessage, type MailReceipt } from './mailer.ts';

/** DATA_DIR/outbox: where messages wait when no SMTP_URL is set. */
export function outboxDir(dataDir: string): string {
  return path.join(dataDir, 'outbox');
}

/** <email-abc.12@school.example> -> email-abc.12@school.example.eml */
export function outboxFileName(messageId: string): string {
  return `${messageId.replace(/^<|>$/g, '').replace(/[^\w.@-]+/g, '_')}.eml`;
}

/**
 * Writes each message as a complete RFC 5322 file (headers, text and HTML parts, attachments)
 * that any mail program opens, named after its Message-ID: sending the same message again
 * replaces its file rather than adding a second one.
 */
export class OutboxMailer implements Mailer {
  readonly kind = 'outbox';
  readonly target: string;

  constructor(private readonly dir: string) {
    this.target = dir;
  }

  async send(message: MailMessage): Promise<MailReceipt> {
    const file = path.join(this.dir, outboxFileName(message.messageId));
    try {
      const bytes = await new MailComposer({
        from: message.from,
        to: { name: message.to.name, address: message.to.address },
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
        newline: '\r\n',
        ...(message.headers ? { headers: message.headers } : {}),
        ...(message.attachments ? { attachments: message.attachments } : {}),
      })
        .compile()
        .build();
      await mkdir(this.dir, { recursive: true });
      // Written beside, then renamed: a reader never sees half a message.
      const partial = `${file}.part`;
      await writeFile(partial, bytes, { mode: 0o600 });
      await rename(partial, file);
    } catch (error) {
      // A full disk or a missing permission: no server answered, the batch stops and can retry.
      throw new MailError(
        `Could not write to the outbox: ${error instanceof Error ? error.message : String(error)}`,
        'temporary',
      );
    }
    return { response: `written to ${path.basename(file)}` };
  }

  async close(): Promise<void> {}
}
