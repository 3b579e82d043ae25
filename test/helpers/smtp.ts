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
  /** How long the server takes to accept each message (to keep sends in flight). Default 0. */
  delayMs: number;
  /** Messages received whole and not answered yet (in the `delayMs` before their 250). */
  inFlight: number;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<TestSmtp> {
  const state: TestSmtp = {
    url: "",
    received: [],
    attempts: new Map(),
    refuse: () => undefined,
    delayMs: 0,
    inFlight: 0,
    close: async () => {},
  };
  // A message is delivered only when its 250 reply can reach the sender (RFC 5321): one whose
  // client is gone by then is not counted.
  const closed = new Set<string>();
  const server = new SMTPServer({
    onClose(session) {
      closed.add(session.id);
    },
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
        async (mail) => {
          state.inFlight += 1;
          if (state.delayMs) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
          state.inFlight -= 1;
          if (closed.has(session.id)) {
            callback(new Error("the client went away before the message was accepted"));
            return;
          }
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
