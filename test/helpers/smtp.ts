/**
 * A real SMTP listener on 127.0.0.1 (smtp-server) that keeps what it receives. `refuse` decides,
 * per recipient and attempt, whether to refuse it: `transient` (451, the sender should retry) or
 * `permanent` (550). STARTTLS is off: smtp-server's bundled certificate has expired.
 */
import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface Received {
  to: string[];
  subject: string;
  text: string;
  html: string;
  headers: ParsedMail["headers"];
  messageId: string | undefined;
  /** A header's raw value, unfolded (`header("list-unsubscribe")`). */
  header(name: string): string | undefined;
}

export interface TestSmtp {
  url: string;
  received: Received[];
  /** Recipients' RCPT attempts so far. */
  attempts: Map<string, number>;
  refuse: (recipient: string, attempt: number) => "transient" | "permanent" | undefined;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<TestSmtp> {
  const state: TestSmtp = {
    url: "",
    received: [],
    attempts: new Map(),
    refuse: () => undefined,
    close: async () => {},
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onRcptTo(address, _session, callback) {
      const recipient = address.address.toLowerCase();
      const attempt = (state.attempts.get(recipient) ?? 0) + 1;
      state.attempts.set(recipient, attempt);
      const refusal = state.refuse(recipient, attempt);
      if (refusal === "transient") {
        return callback(Object.assign(new Error("mailbox busy, try again later"), { responseCode: 451 }));
      }
      if (refusal === "permanent") {
        return callback(Object.assign(new Error("no such mailbox"), { responseCode: 550 }));
      }
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          state.received.push({
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()),
            subject: mail.subject ?? "",
            text: mail.text ?? "",
            html: typeof mail.html === "string" ? mail.html : "",
            headers: mail.headers,
            messageId: mail.messageId,
            header: (name) => {
              const line = mail.headerLines.find((entry) => entry.key === name.toLowerCase())?.line;
              return line
                ?.slice(line.indexOf(":") + 1)
                .replace(/\r?\n\s+/g, " ")
                .trim();
            },
          });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  state.url = `smtp://127.0.0.1:${port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
