// The load of the floods benchmark, in a process of its own so that its event loop never delays
// the benchmark's /health probe. `FLOOD` (JSON) says what to send: `kind`, the api's `url`,
// `connections`, `seconds`, and `mode`: "burst" fires `connections` requests at once every second
// (the issue's 60- and 80-request bursts), "sustained" keeps `connections` requests in flight
// all the time (the most the machine can send). Prints one JSON line: the status counts and the
// largest answer in bytes.
import { randomUUID } from "node:crypto";
import { Agent, request as httpRequest } from "node:http";

export type FloodKind = "xapi-one" | "xapi-spread" | "admin-one" | "admin-spread" | "big-bodies";

interface Spec {
  kind: FloodKind;
  url: string;
  connections: number;
  seconds: number;
  mode: "burst" | "sustained";
  key: string;
}

interface Request {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const spec = JSON.parse(process.env.FLOOD ?? "{}") as Spec;
const base = new URL(spec.url);
const BIG_BODY = `{${Array.from({ length: 150_000 }, (_, i) => `"unknown_${i}":1`).join(",")}}`;
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const spreadAddress = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const STATEMENT = JSON.stringify({
  actor: { mbox: "mailto:bench@example.com" },
  verb: { id: "http://adlnet.gov/expapi/verbs/experienced" },
  object: { id: "https://lessons.example.com/bench" },
});

function next(i: number): Request {
  switch (spec.kind) {
    case "xapi-one":
    case "xapi-spread":
      return {
        method: "POST",
        path: "/xapi/statements",
        headers: {
          authorization: basic(spec.key, `wrong-${randomUUID()}`),
          "x-experience-api-version": "1.0.3",
          "x-forwarded-for": spec.kind === "xapi-spread" ? spreadAddress(i) : "198.51.100.1",
        },
        body: STATEMENT,
      };
    case "admin-one":
    case "admin-spread":
      return {
        method: "GET",
        path: "/api/lessons?limit=1",
        headers: {
          authorization: i % 2 ? basic("admin", `guess-${randomUUID()}`) : `Bearer guess-${randomUUID()}`,
          "x-forwarded-for": spec.kind === "admin-spread" ? spreadAddress(i) : "198.51.100.2",
        },
      };
    case "big-bodies":
      return {
        method: "POST",
        path: "/api/signup",
        headers: { "x-forwarded-for": "198.51.100.3" },
        body: BIG_BODY,
      };
  }
}

const agent = new Agent({ keepAlive: true, maxSockets: spec.connections * 4 });
const statuses: Record<string, number> = {};
let largest = 0;

/** One request; a connection the server closed early (413 on a big body) still yields its answer. */
function send(request: Request): Promise<void> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { ...request.headers };
    if (request.body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(request.body);
    }
    const count = (status: number, bytes: number) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      largest = Math.max(largest, bytes);
      resolve();
    };
    const req = httpRequest(
      { agent, host: base.hostname, port: base.port, path: request.path, method: request.method, headers },
      (response) => {
        let bytes = 0;
        response.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
        });
        response.on("end", () => count(response.statusCode ?? 0, bytes));
      },
    );
    req.on("error", () => count(0, 0));
    req.end(request.body);
  });
}

const deadline = Date.now() + spec.seconds * 1000;
let i = 0;
if (spec.mode === "burst") {
  const bursts: Promise<unknown>[] = [];
  while (Date.now() < deadline) {
    bursts.push(Promise.all(Array.from({ length: spec.connections }, () => send(next(i++)))));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  await Promise.all(bursts);
} else {
  await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      while (Date.now() < deadline) await send(next(i++));
    }),
  );
}
agent.destroy();
process.stdout.write(`${JSON.stringify({ statuses, largestAnswerBytes: largest })}\n`);
