/**
 * A real SMTP listener on 127.0.0.1 (smtp-server) that keeps what it receives. `refuse` decides,
 * per recipient and attempt, whether to refuse it: `transient` (451, the sender should retry) or
 * `permanent` (550); `refuseMessage` the same for the whole message, at the end of DATA. `hold`
 * keeps a reply back until the test calls `release()`, so a test can act (kill the sender) at a
 * known point of the conversation. STARTTLS is off: smtp-server's bundled certificate has expired.
 */
import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer, type SMTPServerSession } from "smtp-server";

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

/** Where a reply is held: the reply to RCPT TO, or the one to the end of DATA (message received whole). */
export type HoldStage = "rcpt" | "data";

export interface Held {
  stage: HoldStage;
  recipient: string;
  /** The sender's EHLO name (nodemailer's `name` option; `?name=` in SMTP_URL). */
  client: string;
  /** Whether the sender has closed the connection (or died) since. */
  readonly clientGone: boolean;
}

type Refusal = "transient" | "permanent" | undefined;

export interface TestSmtp {
  url: string;
  received: Received[];
  /** Recipients' RCPT attempts so far. */
  attempts: Map<string, number>;
  refuse: (recipient: string, attempt: number) => Refusal;
  /** Refuses the message at the end of DATA (451 or 554), per recipient and attempt (as `refuse`). */
  refuseMessage: (recipient: string, attempt: number) => Refusal;
  /** Whether to hold the reply at `stage` for this recipient and client until `release()`. */
  hold: (stage: HoldStage, recipient: string, client: string) => boolean;
  /** The replies held now. */
  held: Held[];
  /** Lets the held replies that match `which` (default: all) go on. */
  release(which?: (held: Held) => boolean): void;
  /**
   * Whether a message received whole is delivered although its sender left before the 250, as
   * mail servers do (they queue it before replying). Default: not, as RFC 5321 reads.
   */
  keepWhenClientLeft: (recipient: string) => boolean;
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
    refuseMessage: () => undefined,
    hold: () => false,
    held: [],
    release: (which = () => true) => {
      for (const entry of [...waiting.keys()]) {
        if (!which(entry)) continue;
        waiting.get(entry)!();
        waiting.delete(entry);
        state.held.splice(state.held.indexOf(entry), 1);
      }
    },
    keepWhenClientLeft: () => false,
    delayMs: 0,
    inFlight: 0,
    close: async () => {},
  };
  // A message is delivered only when its 250 reply can reach the sender (RFC 5321): one whose
  // client is gone by then is not counted.
  const closed = new Set<string>();
  const waiting = new Map<Held, () => void>();
  const holdReply = async (stage: HoldStage, recipient: string, session: SMTPServerSession) => {
    const client = session.hostNameAppearsAs;
    if (!state.hold(stage, recipient, client)) return;
    await new Promise<void>((resolve) => {
      const entry: Held = {
        stage,
        recipient,
        client,
        get clientGone() {
          return closed.has(session.id);
        },
      };
      state.held.push(entry);
      waiting.set(entry, resolve);
    });
  };
  const server = new SMTPServer({
    onClose(session) {
      closed.add(session.id);
    },
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    async onRcptTo(address, session, callback) {
      const recipient = address.address.toLowerCase();
      const attempt = (state.attempts.get(recipient) ?? 0) + 1;
      state.attempts.set(recipient, attempt);
      await holdReply("rcpt", recipient, session);
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
          const to = session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase());
          state.inFlight += 1;
          await holdReply("data", to[0] ?? "", session);
          if (state.delayMs) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
          state.inFlight -= 1;
          const refusal = state.refuseMessage(to[0] ?? "", state.attempts.get(to[0] ?? "") ?? 1);
          if (refusal) {
            const responseCode = refusal === "transient" ? 451 : 554;
            callback(Object.assign(new Error("message refused"), { responseCode }));
            return;
          }
          if (closed.has(session.id) && !state.keepWhenClientLeft(to[0] ?? "")) {
            callback(new Error("the client went away before the message was accepted"));
            return;
          }
          state.received.push({
            to,
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
