/**
 * `X-Experience-API-Consistent-Through` (xAPI Communication §2.1.3): a time such that every
 * statement stored at or before it is visible to the query being answered.
 *
 * A statement's `stored` is set before its insert commits, so the bound is the earliest of: when
 * the query started, the `stored` of every store still in flight in this process (queued for a
 * group commit or committing), and the start of every open writing transaction on this database
 * (an insert by another process; a long transaction holds the bound back). Not covered: another
 * api replica's statements between their `stored` and the start of their transaction (the
 * group-commit wait, milliseconds); see docs/decisions.md.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";

/** The `stored` times of stores in flight in this process, with how many stores share each. */
const inFlight = new Map<number, number>();

/** Records a store of statements stored at `stored` as in flight; call the result when it ends. */
export function trackStore(stored: Date): () => void {
  const time = stored.getTime();
  inFlight.set(time, (inFlight.get(time) ?? 0) + 1);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const left = (inFlight.get(time) ?? 1) - 1;
    if (left > 0) inFlight.set(time, left);
    else inFlight.delete(time);
  };
}

/** The Consistent-Through time for a query that started at `queryStart`. */
export async function consistentThrough(db: Db, queryStart: Date): Promise<Date> {
  let bound = queryStart.getTime();
  for (const time of inFlight.keys()) bound = Math.min(bound, time - 1);
  const [row] = await queryRows<{ oldest: Date | string | null }>(
    db,
    sql`select min(xact_start) as oldest from pg_stat_activity
        where datname = current_database() and backend_type = 'client backend'
          and backend_xid is not null and pid <> pg_backend_pid()`,
  );
  if (row?.oldest) bound = Math.min(bound, new Date(row.oldest).getTime() - 1);
  return new Date(bound);
}
