/**
 * The document resources' errors (xAPI Communication §2.2, §3.1, §3.2), one small class per
 * clause. Each carries its status and code; `http/errorHandler.ts` presents them.
 */
import { AppError } from "../../errors.ts";

/** A missing, repeated, unknown or malformed request parameter (§3.2: 400 naming it). */
export class BadParameter extends AppError {
  constructor(parameter: string, problem: string) {
    super(400, "invalid_parameter", `${parameter}: ${problem}`, [{ field: parameter, message: problem }]);
  }
}

/** A JSON document body that does not parse (Content-Type says application/json). */
export class MalformedJsonDocument extends AppError {
  constructor() {
    super(400, "invalid_json", "the document is sent as application/json but is not valid JSON", [
      { field: "body", message: "is not valid JSON" },
    ]);
  }
}

/** §2.2: POST merges only when the posted and the stored document are both JSON objects. */
export class CannotMerge extends AppError {
  constructor(which: "posted" | "stored") {
    super(
      400,
      "cannot_merge",
      which === "posted"
        ? "a POST merges JSON objects: send the document as application/json, a JSON object, or PUT it to replace the stored one"
        : "the stored document is not a JSON object, so a POST cannot merge into it; PUT the document to replace it",
      [
        {
          field: "body",
          message: which === "posted" ? "must be a JSON object" : "cannot merge into the stored document",
        },
      ],
    );
  }
}

/** §3.1: an If-Match / If-None-Match precondition that does not hold. Nothing is changed. */
export class PreconditionFailed extends AppError {
  constructor(header: "If-Match" | "If-None-Match", detail: string) {
    super(412, "precondition_failed", `${header}: ${detail}; the document was not changed`, [
      { field: header, message: detail },
    ]);
  }
}

/** §3.1: a PUT over an existing document without If-Match or If-None-Match. Nothing is changed. */
export class ConcurrencyHeaderRequired extends AppError {
  constructor() {
    super(
      409,
      "document_conflict",
      "a document already exists here and the request has neither If-Match nor If-None-Match: " +
        "GET the document to check its current state, then send If-Match with its ETag",
    );
  }
}

/** 1.0.3 §2.6/§2.7: a profile PUT carries If-Match or If-None-Match even for a new document. */
export class ConcurrencyHeaderMissing extends AppError {
  constructor() {
    super(
      400,
      "concurrency_header_required",
      "a profile PUT in xAPI 1.0.3 must carry If-None-Match: * (to create the document) or If-Match " +
        "with the stored document's ETag (to replace it)",
      [{ field: "If-None-Match", message: "is required when If-Match is absent" }],
    );
  }
}

/** A single-document GET for a document that is not stored. */
export class DocumentNotFound extends AppError {
  constructor(what: string) {
    super(404, "not_found", `no ${what} is stored for these parameters`);
  }
}
