/**
 * Domain errors: small classes with an HTTP status and a stable machine-readable code.
 * `http/errorHandler.ts` is the one place that turns them (and everything else) into responses.
 */

export interface ErrorDetail {
  /** The field the problem is in, as a dotted path (`email`, `statement[2].actor.mbox`). */
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** At most this many problems are described in one error; the message says how many more there were. */
export const MAX_ERROR_DETAILS = 20;

export class ValidationFailed extends AppError {
  /** `more`: problems found beyond `details` and not described. */
  constructor(details: ErrorDetail[], more = 0) {
    const shown = details.slice(0, MAX_ERROR_DETAILS);
    const hidden = more + details.length - shown.length;
    const message = shown.map((detail) => `${detail.field}: ${detail.message}`).join("; ");
    super(
      400,
      "validation_error",
      `${message || "invalid request"}${hidden > 0 ? `; and ${hidden} more problem${hidden === 1 ? "" : "s"}` : ""}`,
      shown,
    );
  }
}

/** Text PostgreSQL cannot store (a NUL, an unpaired surrogate) in a field or key of the input. */
export class InvalidText extends AppError {
  constructor(details: ErrorDetail[]) {
    const message = details.map((detail) => `${detail.field}: ${detail.message}`).join("; ");
    super(400, "invalid_text", message, details);
  }
}

export class AvatarTaken extends AppError {
  constructor(readonly avatar: string) {
    super(400, "avatar_taken", `the avatar "${avatar}" is already taken; choose another`, [
      { field: "avatar", message: "already taken" },
    ]);
  }
}

export class EmailTaken extends AppError {
  constructor() {
    super(400, "email_taken", "a learner with this email has already signed up", [
      { field: "email", message: "already signed up" },
    ]);
  }
}

export class LessonExists extends AppError {
  constructor(cohortId: string, activityId: string) {
    super(409, "lesson_exists", `cohort "${cohortId}" already has a lesson for activity ${activityId}`, [
      { field: "activityId", message: "already used by a lesson of this cohort" },
    ]);
  }
}

export class NotFound extends AppError {
  constructor(what: string) {
    super(404, "not_found", `${what} not found`);
  }
}

export class Unauthorized extends AppError {
  constructor(
    message = "authentication required",
    readonly challenge = 'Basic realm="cohort-lrs", charset="UTF-8"',
  ) {
    super(401, "unauthorized", message);
  }
}

/** A refusal the client may retry after `retryAfterS` seconds (sent as `Retry-After`). */
export class RetryLater extends AppError {
  constructor(
    status: number,
    code: string,
    message: string,
    readonly retryAfterS: number,
  ) {
    super(status, code, message);
  }
}

/** 429: too many failed authentication attempts from this address (or at this account). */
export class TooManyFailures extends RetryLater {
  constructor(retryAfterS: number) {
    super(
      429,
      "rate_limited",
      `too many failed authentication attempts; try again in ${retryAfterS} s`,
      retryAfterS,
    );
  }
}

/** 503: too many credential checks (scrypt) under way in this process; nothing was checked. */
export class ServerBusy extends RetryLater {
  constructor(retryAfterS = 1) {
    super(
      503,
      "server_busy",
      `too many credential checks under way; try again in ${retryAfterS} s`,
      retryAfterS,
    );
  }
}

export class DatabaseUnavailable extends AppError {
  constructor() {
    super(503, "database_unavailable", "the database is not reachable right now; try again shortly");
  }
}
