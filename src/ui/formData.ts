/**
 * `multipart/form-data` (RFC 7578) for the admin area's one file upload (the learners' CSV): a
 * content-type parser that turns the body into `{ <field>: string, <file field>: UploadedFile }`,
 * so the CSRF check reads `_csrf` as it does from an urlencoded form. The parts are read by the
 * multipart reader the xAPI statements use (`xapi/multipart.ts`); the body is already bounded by
 * the route's body limit.
 */
import { MIMEType } from "node:util";
import type { FastifyInstance } from "fastify";
import { AppError } from "../errors.ts";
import { parseMultipart } from "../xapi/multipart.ts";

export interface UploadedFile {
  filename: string;
  contentType: string;
  data: Buffer;
}

/** A form has a handful of fields; more parts than this is not a form of ours. */
const MAX_PARTS = 10;

function badForm(problem: string): AppError {
  return new AppError(400, "invalid_form", `the multipart/form-data body ${problem}`, [
    { field: "body", message: problem },
  ]);
}

/** The fields and files of a `multipart/form-data` body. */
export function parseFormData(body: Buffer, contentType: string): Record<string, string | UploadedFile> {
  let boundary: string | null = null;
  try {
    boundary = new MIMEType(contentType).params.get("boundary");
  } catch {
    // an unparsable Content-Type has no boundary either
  }
  if (!boundary || boundary.length > 70) throw badForm("has no usable boundary in its Content-Type");
  let parts: ReturnType<typeof parseMultipart>;
  try {
    parts = parseMultipart(body, boundary, MAX_PARTS);
  } catch (error) {
    throw badForm(
      error instanceof AppError ? (error.details?.[0]?.message ?? "is malformed") : "is malformed",
    );
  }
  const form: Record<string, string | UploadedFile> = Object.create(null);
  for (const part of parts) {
    const disposition = part.headers.get("content-disposition") ?? "";
    // Header bytes were read as latin1; browsers send the names' UTF-8 bytes as they are.
    const utf8 = (text: string | undefined) =>
      text === undefined ? undefined : Buffer.from(text, "latin1").toString("utf8");
    const name = utf8(/(?:^|;)\s*name="([^"]*)"/i.exec(disposition)?.[1]);
    if (!/^\s*form-data\b/i.test(disposition) || name === undefined) {
      throw badForm("has a part that is not a form field (no Content-Disposition: form-data; name=…)");
    }
    if (name in form) throw badForm(`has the field "${name.slice(0, 40)}" twice`);
    const filename = utf8(/(?:^|;)\s*filename="([^"]*)"/i.exec(disposition)?.[1]);
    form[name] =
      filename === undefined
        ? part.body.toString("utf8")
        : {
            filename,
            contentType: part.headers.get("content-type") ?? "application/octet-stream",
            data: Buffer.from(part.body),
          };
  }
  return form;
}

/** Parses `multipart/form-data` bodies of the routes registered in `app` (an encapsulated plugin). */
export function acceptFormData(app: FastifyInstance): void {
  app.addContentTypeParser("multipart/form-data", { parseAs: "buffer" }, (request, body, done) => {
    try {
      done(null, parseFormData(body as Buffer, String(request.headers["content-type"])));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
