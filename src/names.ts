/**
 * Names fixed outside this codebase: the Redis stream and consumer group other deployments and
 * publishers rely on, the BullMQ queue, and the xAPI verb IRIs the code gives a meaning to.
 * Defined once, here, at the bottom of the import graph (this module imports nothing), so every
 * layer can use them without importing upward.
 */

/** The stream ingestion publishes stored statements to and the worker reads (DESIGN §5.2). */
export const STATEMENT_STREAM = "xapi:statements";
/** Where stream entries that failed repeatedly go, with their error (DESIGN §5.3). */
export const DEAD_STREAM = "xapi:statements:dead";
/** The worker's consumer group on STATEMENT_STREAM. */
export const CONSUMER_GROUP = "cohort-lrs-flatten";
/**
 * The `origin` field of stream entries this service publishes: their statements were validated
 * and committed to statements_raw before publishing (see `src/data/statementStream.ts`).
 */
export const OWN_ORIGIN = "cohort-lrs";
/** The BullMQ queue of every scheduled job. */
export const JOB_QUEUE = "cohort-lrs-jobs";

/** The xAPI verb that voids the statement its StatementRef object names (xAPI Data §2.3.2). */
export const VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided";
