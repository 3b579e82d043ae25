/**
 * The alternate request syntax of xAPI 1.0.3 (Communication §1.3), as TinCanJS and other old
 * clients send it where a browser cannot make a cross-origin PUT or send custom headers:
 *
 *     POST /xapi/statements?method=PUT
 *     Content-Type: application/x-www-form-urlencoded
 *
 *     statementId=…&Authorization=Basic%20…&X-Experience-API-Version=1.0.3&content=%7B…%7D
 *
 * `method` is the only query parameter; the form carries the headers (`Authorization`,
 * `X-Experience-API-Version`, `Content-Type`, `Content-Length`, `If-Match`, `If-None-Match`), the
 * resource's parameters, and the body as `content`.
 *
 * It is a rewrite in front of routing, so every resource supports it once and everything else
 * (credentials, version, CORS, body limits, the route's own validation) judges the rewritten
 * request as if it had come that way:
 *
 * 1. `rewriteAlternateMethod` (Fastify's `rewriteUrl`, synchronous, before routing) takes the
 *    method from `?method=` and strips the query, so the router finds the intended route.
 * 2. `readAlternateRequest` (the first `onRequest` hook under `/xapi`) reads the form, and puts
 *    its headers, parameters and content where the route will look for them. A request it must
 *    refuse is marked (`request.alternateRequestError`) and refused once the version and CORS
 *    headers are on the reply (`protocol.ts`).
 * 3. The `preParsing` hook hands the content to the route's body parser.
 *
 * xAPI 2.0.0 dropped the syntax: a request whose form or header names 2.0.x is refused, 400.
 */
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { FastifyRequest } from "fastify";
import { AppError } from "../../errors.ts";
import { negotiateVersion, VERSION_HEADER } from "../../xapi/version.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Why this alternate-syntax request is refused; thrown after the xAPI headers are set. */
    alternateRequestError?: AppError;
  }
}

/** The methods a client may ask for with `?method=`. */
export const ALTERNATE_METHODS = ["GET", "PUT", "POST", "DELETE"] as const;

/** The form parameters that are headers of the intended request (§1.3), by their lower-case name. */
const FORM_HEADERS = [
  "authorization",
  VERSION_HEADER,
  "content-type",
  "content-length",
  "if-match",
  "if-none-match",
] as const;

const FORM_TYPE = "application/x-www-form-urlencoded";
/** Percent-encoding makes a form up to three times as long as its content. */
const FORM_OVERHEAD = 3;

interface AlternateMark {
  /** `?method=` as sent. */
  method: string;
  /** The query parameters other than `method`, which the syntax forbids. */
  extraParameters: string[];
}

const MARK = Symbol("cohort-lrs.alternateRequest");
const CONTENT = Symbol("cohort-lrs.alternateContent");
type Marked = IncomingMessage & { [MARK]?: AlternateMark; [CONTENT]?: Buffer };

function xapiPath(path: string): boolean {
  return path === "/xapi" || path.startsWith("/xapi/");
}

function isAlternateMethod(method: string): method is (typeof ALTERNATE_METHODS)[number] {
  return (ALTERNATE_METHODS as readonly string[]).includes(method);
}

/**
 * Fastify's `rewriteUrl`: a `POST /xapi/...?method=X` becomes an `X` request for the path, so
 * routing finds the intended route. Anything else passes unchanged.
 */
export function rewriteAlternateMethod(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const mark = url.indexOf("?");
  if (req.method !== "POST" || mark < 0) return url;
  const path = url.slice(0, mark);
  if (!xapiPath(path)) return url;
  const query = new URLSearchParams(url.slice(mark + 1));
  const method = query.get("method");
  if (method === null) return url;
  (req as Marked)[MARK] = {
    method,
    extraParameters: [...new Set(query.keys())].filter((name) => name !== "method"),
  };
  if (isAlternateMethod(method)) req.method = method;
  return path;
}

function invalid(field: string, message: string): AppError {
  return new AppError(
    400,
    "invalid_alternate_request",
    `${field} ${message} (alternate request syntax, xAPI 1.0.3 §1.3)`,
    [{ field, message }],
  );
}

function unsupportedIn2(): AppError {
  return new AppError(
    400,
    "alternate_syntax_unsupported",
    "xAPI 2.0.0 has no alternate request syntax (?method=): send the request with its own method, headers and body",
    [{ field: "method", message: "is not supported in xAPI 2.0.0" }],
  );
}

async function readBody(raw: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(raw.headers["content-length"]);
  const tooLarge = () =>
    new AppError(413, "payload_too_large", `the request body is larger than the limit of ${limit} bytes`);
  if (declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of raw as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * The `onRequest` step: reads an alternate-syntax request's form and rewrites the request into
 * the one it stands for (headers, `url` and `query`, and the content for `preParsing`). Never
 * throws for a bad request: it sets `request.alternateRequestError` instead.
 *
 * @param bodyLimit the largest body (bytes) the intended request may have; the form may be up to
 *   three times as long, as percent-encoding makes it
 */
export async function readAlternateRequest(request: FastifyRequest, bodyLimit: number): Promise<void> {
  const raw = request.raw as Marked;
  const mark = raw[MARK];
  if (!mark) {
    // `?method=` on anything but a POST is not the alternate syntax: say so rather than ignore it.
    if (
      request.method !== "POST" &&
      (request.query as Record<string, unknown> | undefined)?.method !== undefined
    ) {
      const version = negotiateVersion(header(request, VERSION_HEADER));
      request.alternateRequestError =
        version === "2.0.0" ? unsupportedIn2() : invalid("method", "may only be sent on a POST request");
    }
    return;
  }

  let form: URLSearchParams | undefined;
  if (mediaType(header(request, "content-type")) === FORM_TYPE) {
    try {
      form = new URLSearchParams(
        (await readBody(raw, bodyLimit * FORM_OVERHEAD + 64 * 1024)).toString("utf8"),
      );
    } catch (error) {
      request.alternateRequestError =
        error instanceof AppError ? error : invalid("content", "could not be read");
      return;
    }
  }

  // The intended request: headers from the form over the request's own.
  const headers = raw.headers;
  for (const name of ["content-type", "content-length", "transfer-encoding"]) delete headers[name];
  const parameters = new URLSearchParams();
  let content: string | undefined;
  for (const [name, value] of form ?? []) {
    const lower = name.toLowerCase();
    if (lower === "content") content = value;
    else if ((FORM_HEADERS as readonly string[]).includes(lower)) headers[lower] = value;
    else parameters.append(name, value);
  }
  delete headers["content-length"];

  if (negotiateVersion(header(request, VERSION_HEADER)) === "2.0.0") {
    request.alternateRequestError = unsupportedIn2();
    return;
  }
  request.alternateRequestError = refusal(mark, form, content);
  if (request.alternateRequestError) return;

  const query = parameters.toString();
  raw.url = query ? `${raw.url}?${query}` : raw.url;
  request.query = Object.fromEntries(
    [...new Set(parameters.keys())].map((name) => {
      const values = parameters.getAll(name);
      return [name, values.length === 1 ? values[0] : values];
    }),
  );
  if (content !== undefined && (mark.method === "PUT" || mark.method === "POST")) {
    const body = Buffer.from(content, "utf8");
    headers["content-type"] ??= "application/json";
    headers["content-length"] = String(body.length);
    raw[CONTENT] = body;
  } else {
    delete headers["content-type"];
  }
}

/** What makes a form request not the alternate syntax, if anything. */
function refusal(mark: AlternateMark, form: URLSearchParams | undefined, content: string | undefined) {
  if (!isAlternateMethod(mark.method)) {
    return invalid(
      "method",
      `must be one of ${ALTERNATE_METHODS.join(", ")}, not ${JSON.stringify(mark.method)}`,
    );
  }
  if (mark.extraParameters.length > 0) {
    return invalid(
      mark.extraParameters.join(", "),
      "must be sent in the form, not the query: method is the only query parameter",
    );
  }
  if (!form) return invalid("Content-Type", `must be ${FORM_TYPE}: the request is a form`);
  if ((mark.method === "PUT" || mark.method === "POST") && content === undefined) {
    return invalid("content", `is required: a ${mark.method} sends its body as the form parameter content`);
  }
  return undefined;
}

/** The `preParsing` step: the intended request's body is the form's `content`. */
export function alternateContent(request: FastifyRequest): Readable | undefined {
  const content = (request.raw as Marked)[CONTENT];
  return content ? Readable.from([content]) : undefined;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.raw.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}
