/**
 * Sending email. Reminder jobs are given an `EmailClient`, so where mail goes is decided once:
 *
 * - `SMTP_URL` set: nodemailer over SMTP.
 * - unset: each message is written as an `.eml` file to `DATA_DIR/outbox` (embedded mode: you
 *   can open them in any mail program, and the admin area lists them).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import nodemailer from "nodemailer";
import type Mail from "nodemailer/lib/mailer";
import { maskUrl } from "../maskUrl.ts";

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  headers?: Record<string, string>;
  /** Message-ID, so a resend of the same reminder can be recognised by mail systems. */
  messageId?: string;
}

export interface SendOptions {
  /**
   * Called once the server has the whole message but has not been told it ended (SMTP: before the
   * final "." of DATA, after the server's 354; the outbox: before the file is written). Until it
   * resolves nothing more is sent; if it rejects the message is abandoned unfinished, so the
   * server cannot accept it, and `send` rejects with that error.
   */
  beforeEnd?: () => Promise<void>;
}

export interface EmailClient {
  /** Resolves once the message is accepted (by the SMTP server, or written to the outbox). */
  send(message: EmailMessage, options?: SendOptions): Promise<{ messageId: string }>;
  close(): void;
  /** Where mail goes, for logs and the admin area. */
  readonly description: string;
}

/** An SMTP rejection: `permanent` for 5xx replies (retrying will not help), else transient. */
export class EmailRejected extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly responseCode?: number,
  ) {
    super(message);
    this.name = "EmailRejected";
  }
}

/**
 * The message stream as the SMTP connection reads it, ending only once `beforeEnd` resolved. It is
 * lazy: it reads nothing before the connection pipes it into DATA, which is after the envelope
 * (MAIL FROM, RCPT TO) and the server's 354; the DATA stream adds the final "." only when it ends.
 */
function endAfter(input: Readable, beforeEnd: () => Promise<void>): Readable {
  return Readable.from(
    (async function* () {
      for await (const chunk of input) yield chunk as Buffer;
      await beforeEnd();
    })(),
    { objectMode: false },
  );
}

/** Mail options key under which `send` hands its `beforeEnd` to the transport's stream plugin. */
const BEFORE_END = "cohortLrsBeforeEnd";

function toMail(from: string, message: EmailMessage): Mail.Options {
  return {
    from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    ...(message.headers ? { headers: message.headers } : {}),
    ...(message.messageId ? { messageId: message.messageId } : {}),
  };
}

/**
 * Bounds on one SMTP conversation, well inside REMINDER_SEND_LEASE (nodemailer's own defaults
 * let a silent server hold a send for 10 minutes). Query parameters of SMTP_URL override them.
 */
export const SMTP_TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 };

export function smtpEmailClient(smtpUrl: string, from: string): EmailClient {
  const transport = nodemailer.createTransport({ ...SMTP_TIMEOUTS, url: smtpUrl });
  transport.use("stream", (mail, done) => {
    const beforeEnd = (mail.data as Record<string, unknown>)[BEFORE_END] as SendOptions["beforeEnd"];
    if (beforeEnd) mail.message.processFunc((input) => endAfter(input, beforeEnd));
    done();
  });
  return {
    description: `SMTP ${maskUrl(smtpUrl)}`,
    async send(message, options = {}) {
      try {
        const mail = toMail(from, message);
        const info = await transport.sendMail(
          options.beforeEnd ? Object.assign(mail, { [BEFORE_END]: options.beforeEnd }) : mail,
        );
        return { messageId: info.messageId };
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode;
        throw new EmailRejected((error as Error).message, code !== undefined && code >= 500, code);
      }
    },
    close: () => transport.close(),
  };
}

export function outboxEmailClient(outboxDir: string, from: string): EmailClient {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  return {
    description: `.eml files in ${outboxDir}`,
    async send(message, options = {}) {
      const info = await transport.sendMail(toMail(from, message));
      await options.beforeEnd?.();
      mkdirSync(outboxDir, { recursive: true, mode: 0o700 });
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      const safeTo = message.to.replace(/[^a-zA-Z0-9@._-]/g, "_");
      writeFileSync(path.join(outboxDir, `${stamp}-${safeTo}.eml`), info.message as Buffer, { mode: 0o600 });
      return { messageId: info.messageId };
    },
    close: () => {},
  };
}

export function emailClientFor(config: {
  smtpUrl: string | undefined;
  mailFrom: string;
  dataDir: string;
}): EmailClient {
  return config.smtpUrl
    ? smtpEmailClient(config.smtpUrl, config.mailFrom)
    : outboxEmailClient(path.join(config.dataDir, "outbox"), config.mailFrom);
}
