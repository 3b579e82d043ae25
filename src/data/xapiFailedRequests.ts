/**
 * The log of refused xAPI requests (`xapi_failed_requests`): written in batches by
 * `xapi/failureLog.ts`, pruned by age and count, read by `/ui/xapi-log`,
 * `GET /api/debug/xapi-failures` and the dashboard.
 */
import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import { xapiFailedRequests } from "../db/schema.ts";

export type NewXapiFailure = typeof xapiFailedRequests.$inferInsert;

/** One multi-row insert of a batch of refused requests. */
export async function insertXapiFailures(db: Db, rows: NewXapiFailure[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insert(xapiFailedRequests).values(rows);
}

export interface PruneLimits {
  /** Rows older than this (ms before `now`) are deleted. */
  maxAgeMs: number;
  /** Only the newest this many rows are kept. */
  maxRows: number;
  now?: Date;
}

/**
 * Deletes what the log no longer keeps: rows older than `maxAgeMs`, then all but the newest
 * `maxRows`. Both deletes read an index (`at`, and the primary key backwards from the newest), so
 * pruning costs little more than the rows it deletes. Returns how many went for each reason.
 */
export async function pruneXapiFailures(
  db: Db,
  limits: PruneLimits,
): Promise<{ byAge: number; byCount: number }> {
  const cutoff = new Date((limits.now ?? new Date()).getTime() - limits.maxAgeMs);
  const [age] = await queryRows<{ n: number }>(
    db,
    sql`with gone as (delete from xapi_failed_requests where at < ${cutoff.toISOString()}::timestamptz returning 1)
        select count(*)::int as n from gone`,
  );
  const [count] = await queryRows<{ n: number }>(
    db,
    sql`with gone as (
          delete from xapi_failed_requests
          where id < (select id from xapi_failed_requests order by id desc offset ${limits.maxRows - 1} limit 1)
          returning 1)
        select count(*)::int as n from gone`,
  );
  return { byAge: age?.n ?? 0, byCount: count?.n ?? 0 };
}

export interface XapiFailureFilters {
  /** An exact status (`401`), or a class: 4 for every 4xx, 5 for every 5xx. */
  status?: number;
  /** The credential key presented, exactly. */
  credential?: string;
  /** The path begins with this (`/xapi/statements`). */
  route?: string;
  /** The answer's `error` code, exactly. */
  errorCode?: string;
  /** Answered at or after. */
  from?: Date;
  /** Answered before. */
  to?: Date;
}

export interface XapiFailureRow {
  id: number;
  at: Date;
  method: string;
  path: string;
  query: string | null;
  status: number;
  errorCode: string | null;
  message: string | null;
  credentialKey: string | null;
  credentialStatus: "verified" | "unverified" | "none";
  /** The credential's name when the key is one of `api_credentials` (verified or not). */
  credentialName: string | null;
  xapiVersion: string | null;
  contentType: string | null;
  body: string | null;
  bodyBytes: number | null;
  clientAddress: string | null;
  requestId: string | null;
}

function whereOf(filters: XapiFailureFilters): SQL {
  const conditions: SQL[] = [sql`true`];
  if (filters.status !== undefined) {
    conditions.push(
      filters.status < 10
        ? sql`f.status between ${filters.status * 100} and ${filters.status * 100 + 99}`
        : sql`f.status = ${filters.status}`,
    );
  }
  if (filters.credential !== undefined) conditions.push(sql`f.credential_key = ${filters.credential}`);
  if (filters.route !== undefined) conditions.push(sql`starts_with(f.path, ${filters.route})`);
  if (filters.errorCode !== undefined) conditions.push(sql`f.error_code = ${filters.errorCode}`);
  if (filters.from !== undefined) conditions.push(sql`f.at >= ${filters.from.toISOString()}::timestamptz`);
  if (filters.to !== undefined) conditions.push(sql`f.at < ${filters.to.toISOString()}::timestamptz`);
  return sql.join(conditions, sql` and `);
}

/** A page of refused requests matching every filter, newest first, with the total that match. */
export async function listXapiFailures(
  db: Db,
  filters: XapiFailureFilters,
  page: { limit: number; offset: number },
): Promise<{ total: number; items: XapiFailureRow[] }> {
  const where = whereOf(filters);
  const [[total], items] = await Promise.all([
    queryRows<{ n: number }>(db, sql`select count(*)::int as n from xapi_failed_requests f where ${where}`),
    queryRows<XapiFailureRow & { at: Date | string; bodyBytes: number | string | null }>(
      db,
      sql`select f.id::float8 as id, f.at, f.method, f.path, f.query, f.status, f.error_code as "errorCode",
                 f.message, f.credential_key as "credentialKey", f.credential_status as "credentialStatus",
                 c.name as "credentialName", f.xapi_version as "xapiVersion", f.content_type as "contentType",
                 f.body, f.body_bytes::float8 as "bodyBytes", f.client_address as "clientAddress",
                 f.request_id as "requestId"
          from xapi_failed_requests f
          left join api_credentials c on c.key = f.credential_key
          where ${where}
          order by f.at desc, f.id desc
          limit ${page.limit} offset ${page.offset}`,
    ),
  ]);
  return {
    total: total?.n ?? 0,
    items: items.map((row) => ({
      ...row,
      at: new Date(row.at),
      bodyBytes: row.bodyBytes === null ? null : Number(row.bodyBytes),
    })),
  };
}

/** How many refused requests the log holds since `since` (the dashboard's last 24 hours). */
export async function countXapiFailuresSince(db: Db, since: Date): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from xapi_failed_requests where at >= ${since.toISOString()}::timestamptz`,
  );
  return row?.n ?? 0;
}

/** The error codes and statuses present in the log, for the filters' choices (at most 100 each). */
export async function xapiFailureChoices(db: Db): Promise<{ errorCodes: string[]; statuses: number[] }> {
  const [codes, statuses] = await Promise.all([
    queryRows<{ v: string }>(
      db,
      sql`select distinct error_code as v from xapi_failed_requests where error_code is not null order by 1 limit 100`,
    ),
    queryRows<{ v: number }>(
      db,
      sql`select distinct status as v from xapi_failed_requests order by 1 limit 100`,
    ),
  ]);
  return { errorCodes: codes.map((r) => r.v), statuses: statuses.map((r) => Number(r.v)) };
}
