/**
 * The job map is the one place jobs and tasks are named (#16): the tasks are its scheduled jobs,
 * and the sweep takes one path however it is started, recorded once in task_status.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { testConfig } from "../../test/helpers/app.ts";
import { createTestDatabase, type TestDatabase, truncateAll } from "../../test/helpers/db.ts";
import { statement } from "../../test/helpers/xapi.ts";
import { queryRows } from "../db/client.ts";
import { flattenContext } from "../etl/flattenContext.ts";
import { sweepOnce } from "../etl/sweeper.ts";
import { emailClientFor } from "../mail/emailClient.ts";
import { metrics } from "../metrics.ts";
import { TaskNameParam } from "../routes/tasks/routes.ts";
import { prepareStatement } from "../xapi/prepareStatement.ts";
import { storeStatements } from "../xapi/storeStatements.ts";
import { isTaskName, JOB_NAMES, JOBS, type JobContext, SWEEP_TASK, TASK_NAMES } from "./definitions.ts";
import { runAttempt } from "./runAttempt.ts";

describe("task names", () => {
  it("are the jobs of the map that have a schedule", () => {
    expect(TASK_NAMES).toEqual(JOB_NAMES.filter((name) => JOBS[name].schedule !== undefined));
    expect(TASK_NAMES).toEqual(["incremental-etl", "daily-reminders"]);
    expect(isTaskName("send-reminder")).toBe(false);
    expect(isTaskName("defragment")).toBe(false);
  });

  it("are what POST /api/tasks/:name/run accepts", () => {
    const accepted = (TaskNameParam as unknown as { anyOf: { const: string }[] }).anyOf.map(
      (literal) => literal.const,
    );
    expect(accepted).toEqual(TASK_NAMES);
  });
});

describe("the sweep's one path", () => {
  let database: TestDatabase;
  let context: JobContext;
  beforeAll(async () => {
    database = await createTestDatabase();
    const config = testConfig();
    context = {
      db: database.db,
      log: pino({ level: "silent" }),
      config,
      email: emailClientFor(config),
      signingSecret: "not-used-by-the-sweep-0123456789",
      enqueue: async () => {},
      enqueueBulk: async () => {},
    };
  });
  afterAll(async () => {
    context.email.close();
    await database.drop();
  });
  beforeEach(() => truncateAll(database));

  const store = (count: number) =>
    storeStatements(
      database.db,
      Array.from({ length: count }, () =>
        prepareStatement(statement({ id: randomUUID() }), {
          client: { credentialId: "", key: "k", name: "content", scopes: ["all"] },
          version: "1.0.3",
          stored: new Date(),
          publicBaseUrl: context.config.publicBaseUrl,
        }),
      ),
      null,
    );
  const sweepRows = () =>
    queryRows<{ status: string; trigger: string; flattened: number }>(
      database.db,
      sql`select status, detail->>'trigger' as trigger, (detail->>'flattened')::int as flattened
          from task_status where task_name = ${SWEEP_TASK} order by id`,
    );
  const sweepRuns = async () =>
    (await metrics.sweepRuns.get()).values.reduce((sum, value) => sum + value.value, 0);

  it("the scheduler's job is recorded once, as every other sweep is, and counted once", async () => {
    await store(3);
    const runsBefore = await sweepRuns();
    const result = await runAttempt(
      context,
      SWEEP_TASK,
      {},
      { number: 1, max: 1, final: true },
      randomUUID(),
    );
    expect(result).toMatchObject({ outcome: "succeeded", detail: { flattened: 3, failed: 0 } });
    await store(2);
    await sweepOnce({ db: database.db, log: context.log, context: flattenContext(context.config) }, "manual");
    expect(await sweepRows()).toEqual([
      { status: "succeeded", trigger: "schedule", flattened: 3 },
      { status: "succeeded", trigger: "manual", flattened: 2 },
    ]);
    expect((await sweepRuns()) - runsBefore).toBe(2);
  });
});
