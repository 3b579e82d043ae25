/**
 * Statement query benchmark (issue: the Statement resource). BENCH_STATEMENTS statements
 * (default 1,000,000) of a realistic mix: 20,000 agents, 500 activities in 20 courses (the course
 * is the context parent), 50,000 registrations, 8 verbs, one credential's authority, and 2 %
 * voided (each by a voiding statement stored through the real insert path). Then, through
 * `readStatements` (what the route calls: parse, query, format, Consistent-Through), a page of 100
 * for each kind of filter, for BENCH_RUNS different values each; and a deep page, 50 pages in,
 * reached by following `more`.
 *
 * Target: p95 ≤ 50 ms for every kind, and ≤ 10× the baseline measured in the same run: a plain
 * primary-key read of one statement (`select payload from statements_raw where id = $1`).
 */
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../src/db/client.ts";
import { parseStatementQuery } from "../src/xapi/parseStatementQuery.ts";
import { type PreparedStatement, prepareStatement } from "../src/xapi/prepareStatement.ts";
import { readStatements } from "../src/xapi/readStatements.ts";
import { hashKey, indexKey, statementIndexKeys } from "../src/xapi/statementIndexKeys.ts";
import { storeStatements } from "../src/xapi/storeStatements.ts";
import type { StoredStatement } from "../src/xapi/validateStatement.ts";
import { envNumber, type Row, withBenchDatabase } from "./lib.ts";

const STATEMENTS = envNumber("BENCH_STATEMENTS", 1_000_000);
const RUNS = envNumber("BENCH_RUNS", 50);
const AGENTS = 20_000;
const ACTIVITIES = 500;
const COURSES = 20;
const REGISTRATIONS = 50_000;
const VERBS = [
  "completed",
  "attempted",
  "experienced",
  "passed",
  "failed",
  "answered",
  "launched",
  "progressed",
];
const VOIDED_SHARE = 0.02;
const DEEP_PAGES = 50;
const TARGET_P95_MS = 50;
const TARGET_RATIO = 10;
const BASE_URL = "https://lrs.example.com";
const SECRET = "bench-more-signing-secret-0123456789";

const verbId = (v: number) => `http://adlnet.gov/expapi/verbs/${VERBS[v % VERBS.length]}`;
const activityId = (a: number) => `https://lessons.example.com/activity/${a}`;
const courseId = (c: number) => `https://lessons.example.com/course/${c}`;
const mbox = (a: number) => `mailto:learner${a}@example.com`;

/**
 * Statement n (1-based): agent (n·7919) mod AGENTS, activity (n·31) mod ACTIVITIES in course
 * activity mod COURSES, registration n mod REGISTRATIONS, verb n mod 8 (uneven: 0 and 1 twice as
 * often), stored 10 ms apart. Keys are written exactly as `statementIndexKeys` makes them; the run
 * checks a sample against it.
 */
async function seed(db: Db): Promise<void> {
  await db.execute(sql`
    create unlogged table bench_seed as
    select n,
           'mailto:learner' || ((n::bigint * 7919) % ${AGENTS}) || '@example.com' as mbox,
           'https://lessons.example.com/activity/' || ((n * 31) % ${ACTIVITIES}) as activity,
           'https://lessons.example.com/course/' || (((n * 31) % ${ACTIVITIES}) % ${COURSES}) as course,
           'http://adlnet.gov/expapi/verbs/' || (${sql.raw(`array['${VERBS.join("','")}']`)})[1 + (n % 10) % 8] as verb,
           (md5('registration' || (n % ${REGISTRATIONS}))::uuid) as registration,
           md5('statement' || n)::uuid as id,
           timestamptz '2026-01-01T00:00:00Z' + n * interval '10 milliseconds' as stored
    from generate_series(1, ${STATEMENTS}) n`);
  const authority = {
    objectType: "Agent",
    name: "bench content",
    account: { homePage: `${BASE_URL}/xapi/credentials`, name: "bench" },
  };
  await db.execute(sql`
    insert into statements_raw (id, payload, stored)
    select id, jsonb_build_object(
             'id', id,
             'actor', jsonb_build_object('objectType', 'Agent', 'mbox', mbox),
             'verb', jsonb_build_object('id', verb),
             'object', jsonb_build_object('objectType', 'Activity', 'id', activity),
             'context', jsonb_build_object('registration', registration,
                        'contextActivities', jsonb_build_object('parent', jsonb_build_array(jsonb_build_object('id', course)))),
             'timestamp', to_char(stored at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'stored', to_char(stored at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'authority', ${JSON.stringify(authority)}::jsonb,
             'version', '1.0.0'),
           stored
    from bench_seed`);
  const authorityKey = `related_agent:Agent|account=${BASE_URL}/xapi/credentials bench`;
  await db.execute(sql`
    insert into statement_index (key, stored, statement_id, verb)
    select encode(substr(sha256(convert_to(k.key, 'UTF8')), 1, 16), 'hex')::uuid, s.stored, s.id,
           encode(substr(sha256(convert_to('verb:' || s.verb, 'UTF8')), 1, 16), 'hex')::uuid
    from bench_seed s
    cross join lateral (values
      ('agent:Agent|mbox=' || s.mbox), ('related_agent:Agent|mbox=' || s.mbox), (${authorityKey}),
      ('verb:' || s.verb), ('activity:' || s.activity), ('related_activity:' || s.activity),
      ('related_activity:' || s.course), ('registration:' || s.registration)) as k(key)`);

  // Voiding statements through the real insert path, so their keys include their targets'.
  const targets = await queryRows<{ id: string; mbox: string }>(
    db,
    sql`select id::text, mbox from bench_seed where n % ${Math.round(1 / VOIDED_SHARE)} = 1`,
  );
  const client = { credentialId: "", key: "bench", name: "bench content", scopes: ["all"] };
  for (let i = 0; i < targets.length; i += 2_000) {
    const prepared: PreparedStatement[] = targets.slice(i, i + 2_000).map((target) =>
      prepareStatement(
        {
          actor: { objectType: "Agent", mbox: target.mbox },
          verb: { id: "http://adlnet.gov/expapi/verbs/voided" },
          object: { objectType: "StatementRef", id: target.id },
        },
        {
          client,
          version: "1.0.3",
          stored: new Date(Date.parse("2026-06-01T00:00:00Z") + i),
          publicBaseUrl: BASE_URL,
        },
      ),
    );
    await storeStatements(db, prepared, null);
  }
  await db.execute(sql`drop table bench_seed`);
  // The steady state of an insert-mostly table: autovacuum (insert threshold) sets the visibility
  // map, so index lookups are index-only. Right after a bulk seed it has not run yet.
  await db.execute(sql`vacuum (analyze)`);
}

/**
 * Every key the index holds for a sample of statements is what `statementIndexKeys` makes, with
 * the statement's verb key beside it (what `writeStatementIndex` writes).
 */
async function checkSeededKeys(db: Db): Promise<void> {
  const sample = await queryRows<{ payload: StoredStatement }>(
    db,
    sql`select payload from statements_raw where id in (select md5('statement' || n)::uuid from generate_series(1, ${STATEMENTS}, ${Math.max(1, Math.floor(STATEMENTS / 100))}) n)`,
  );
  for (const { payload } of sample) {
    const keys = statementIndexKeys(payload).map(hashKey);
    const found = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from statement_index
          where statement_id = ${payload.id}::uuid and stored = ${payload.stored}::timestamptz
            and key in (select jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb)::uuid)
            and verb = ${indexKey("verb", payload.verb.id)}::uuid`,
    );
    if (found[0]?.n !== keys.length || keys.length !== 8) {
      throw new Error(
        `seeded index keys of ${payload.id} differ from statementIndexKeys: ${keys.join(", ")}`,
      );
    }
  }
}

/** PostgreSQL's `md5(text)::uuid`. */
const md5Uuid = (text: string) =>
  createHash("md5")
    .update(text)
    .digest("hex")
    .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;

/** Runs `work(i)` RUNS times after two warm-ups; p50 and p95 in ms. */
async function measure(work: (i: number) => Promise<unknown>) {
  await work(RUNS);
  await work(RUNS + 1);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await work(i);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

export async function benchQueries(): Promise<{ rows: Row[]; results: Record<string, unknown> }> {
  return withBenchDatabase("q", async (db) => {
    process.stdout.write(`queries: seeding ${STATEMENTS.toLocaleString("en-US")} statements…\n`);
    const seedStarted = Date.now();
    await seed(db);
    await checkSeededKeys(db);
    const seedSeconds = (Date.now() - seedStarted) / 1000;

    const deps = { db, signingSecret: SECRET };
    const page = (params: Record<string, string>) =>
      readStatements(deps, parseStatementQuery(new URLSearchParams({ limit: "100", ...params }), "1.0.3"));
    const agent = (i: number) => JSON.stringify({ mbox: mbox((i * 397) % AGENTS) });
    const registration = (i: number) => md5Uuid(`registration${(i * 991) % REGISTRATIONS}`);
    const statementId = (i: number) => md5Uuid(`statement${1 + ((i * 104_729) % STATEMENTS)}`);
    const day = (i: number) => new Date(Date.parse("2026-01-01T00:00:00Z") + ((i * 7919) % STATEMENTS) * 10);

    const kinds: [string, (i: number) => Promise<unknown>][] = [
      ["no filter (newest first)", () => page({})],
      ["agent", (i) => page({ agent: agent(i) })],
      ["verb", (i) => page({ verb: verbId(i) })],
      ["activity", (i) => page({ activity: activityId((i * 13) % ACTIVITIES) })],
      ["registration", (i) => page({ registration: registration(i) })],
      [
        "related_activities (course)",
        (i) => page({ activity: courseId(i % COURSES), related_activities: "true" }),
      ],
      ["related_agents", (i) => page({ agent: agent(i), related_agents: "true" })],
      [
        "since/until (one minute)",
        (i) =>
          page({ since: day(i).toISOString(), until: new Date(day(i).getTime() + 60_000).toISOString() }),
      ],
      ["agent + verb", (i) => page({ agent: agent(i), verb: verbId(i) })],
      [
        "activity + verb, ascending",
        (i) => page({ activity: activityId((i * 13) % ACTIVITIES), verb: verbId(i), ascending: "true" }),
      ],
    ];

    process.stdout.write("queries: baseline (primary-key read)…\n");
    const baseline = await measure((i) =>
      queryRows(db, sql`select payload from statements_raw where id = ${statementId(i)}::uuid`),
    );
    const rows: Row[] = [{ metric: "baseline: primary-key read, p95", value: baseline.p95, unit: "ms" }];
    const results: Record<string, unknown> = {
      statements: STATEMENTS,
      seedSeconds,
      runs: RUNS,
      baseline,
      kinds: {} as Record<string, unknown>,
    };
    const add = (kind: string, measured: { p50: number; p95: number }) => {
      const limit = Math.min(TARGET_P95_MS, TARGET_RATIO * baseline.p95);
      rows.push({
        metric: `${kind}: page of 100, p95`,
        value: measured.p95,
        unit: "ms",
        baseline: baseline.p95,
        target: `≤ ${TARGET_P95_MS} ms and ≤ ${TARGET_RATIO}×`,
        met: measured.p95 <= limit,
      });
      (results.kinds as Record<string, unknown>)[kind] = measured;
    };
    for (const [kind, work] of kinds) {
      process.stdout.write(`queries: ${kind}…\n`);
      add(kind, await measure(work));
    }

    // Deep pages: follow `more` DEEP_PAGES pages in (untimed), then time that page.
    for (const [kind, params] of [
      ["deep page via more (no filter)", {}],
      ["deep page via more (verb)", { verb: verbId(1) }],
      ["deep page via more (course, related)", { activity: courseId(3), related_activities: "true" }],
    ] as [string, Record<string, string>][]) {
      process.stdout.write(`queries: ${kind}…\n`);
      const links: string[] = [];
      let answer = await page(params);
      for (let p = 0; p < DEEP_PAGES; p++) {
        const more = (answer.body as { more: string }).more;
        if (!more) break;
        links.push(more);
        answer = await readStatements(
          deps,
          parseStatementQuery(new URLSearchParams(more.split("?")[1]), "1.0.3"),
        );
      }
      const deep = links.slice(Math.floor(links.length / 2));
      add(
        `${kind}, pages ${links.length - deep.length + 2}–${links.length + 1}`,
        await measure((i) =>
          readStatements(
            deps,
            parseStatementQuery(new URLSearchParams(deep[i % deep.length]!.split("?")[1]), "1.0.3"),
          ),
        ),
      );
    }
    return { rows, results };
  });
}
