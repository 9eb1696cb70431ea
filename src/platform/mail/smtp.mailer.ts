import nodemailer from 'nodemailer';
import {
  classifyMailError,
  type Mailer,
  type MailMessage,
  type MailReceipt,
  redactSmtpUrl,
} from './mailer.ts';

export interface SmtpMailerOptions {
  /** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://…:465; query keys become options. */
  url: string;
  /** Connections kept open to the server. */
  maxConnections?: number;
}

/** Sends over SMTP through a nodemailer pool: one TCP (and TLS) handshake serves many messages. */
export class SmtpMailer implements Mailer {
  readonly kind = 'smtp';
  readonly target: string;
  private readonly transport;

  constructor(options: SmtpMailerOptions) {
    this.target = redactSmtpUrl(options.url);
    this.transport = nodemailer.createTransport({
      url: options.url,
      pool: true,
      maxConnections: options.maxConnections ?? 2,
      // Connections are kept for the whole batch; the server decides when to close them.
      maxMessages: Number.POSITIVE_INFINITY,
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 60_000,
      // Nodemailer logs nothing unless asked; it must never print the URL's password.
      logger: false,
      debug: false,
    });
  }

  async send(message: MailMessage): Promise<MailReceipt> {
    try {
      const info = await this.transport.sendMail({
        from: message.from,
        to: { name: message.to.name, address: message.to.address },
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
        ...(message.headers ? { headers: message.headers } : {}),
        ...(message.attachments ? { attachments: message.attachments } : {}),
      });
      // One recipient per message: a rejected one surfaces here when the server refused RCPT.
      if (info.rejected.length > 0) {
        const rejected = info.rejectedErrors?.[0];
        throw rejected ?? new Error(`The server refused ${message.to.address}.`);
      }
      return { response: info.response };
    } catch (error) {
      throw classifyMailError(error);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
