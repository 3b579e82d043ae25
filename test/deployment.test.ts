/**
 * The deployment (plan a.08, the plan's `test_docker`): docker-compose.yml, the Dockerfile,
 * .env.example and the read-only role's init script, checked as an operator relies on them. The
 * init script runs against the real PostgreSQL; where a Docker engine answers, the image is built
 * and run, otherwise that test is skipped and says why.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { isMap, isPair, isScalar, parse, parseDocument } from "yaml";
import { createTestDatabase } from "./helpers/db.ts";
import { TEST_DATABASE_URL } from "./services.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
  interval?: string;
}
interface Dependency {
  condition?: string;
}
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, Dependency> | string[];
  healthcheck?: Healthcheck;
  profiles?: string[];
  volumes?: string[];
  ports?: string[];
  restart?: string;
  stop_grace_period?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const COMPOSE_TEXT = read("docker-compose.yml");
// `merge: true`: the app roles share their settings through a `<<: *app` merge key.
const compose = parse(COMPOSE_TEXT, { merge: true }) as Compose;
const services = compose.services;
const ENV_EXAMPLE = read(".env.example");
const DOCKERFILE = read("Dockerfile");

const APP_ROLES = ["api", "worker", "scheduler", "migrate"] as const;
const LONG_RUNNING_ROLES = ["api", "worker", "scheduler"] as const;
const REQUIRED_SERVICES = [
  ...APP_ROLES,
  "postgres-db",
  "redis",
  "sqlpad",
  "mailpit",
  "kafka",
  "zookeeper",
] as const;
/** Roles without an HTTP server: the only services allowed to switch their healthcheck off. */
const NO_HTTP_ROLES = ["worker", "scheduler", "migrate"];
const READONLY_ROLE = "cohort_readonly";
const INIT_DIR = "deploy/postgres/init";

function service(name: string): Service {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

function env(name: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service(name).environment ?? {}).map(([key, value]) => [key, String(value)]),
  );
}

/** `default` of a `${NAME:-default}` reference, `undefined` for `${NAME}` or `${NAME:?message}`. */
function defaultOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : /^\$\{[A-Z0-9_]+:?-(.*)\}$/.exec(value)?.[1];
}

/** Every variable src/config.ts reads: each is read through a helper called as `helper(env, "NAME", …)`. */
function configVariables(): string[] {
  const source = read("src/config.ts");
  return [...new Set([...source.matchAll(/\benv,\s*"([A-Z][A-Z0-9_]*)"/g)].map((match) => match[1]!))];
}

/** A service's healthcheck command, as one string. */
function healthcheckTest(name: string): string {
  const test = service(name).healthcheck?.test ?? [];
  return Array.isArray(test) ? test.join(" ") : test;
}

/** The comment written just above `services.<name>.healthcheck` (or above its `disable`). */
function healthcheckComment(name: string): string {
  const document = parseDocument(COMPOSE_TEXT);
  const node = document.getIn(["services", name], true);
  if (!isMap(node)) return "";
  const pair = node.items.find(
    (item) => isPair(item) && isScalar(item.key) && item.key.value === "healthcheck",
  );
  if (!pair) return "";
  const comments: (string | null | undefined)[] = [(pair.key as { commentBefore?: string }).commentBefore];
  if (isMap(pair.value)) {
    comments.push(pair.value.commentBefore, pair.value.comment);
    for (const item of pair.value.items)
      comments.push((item.key as { commentBefore?: string }).commentBefore);
  }
  return comments.filter(Boolean).join(" ").trim();
}

/** The stages of the Dockerfile: each `FROM` line and the instructions up to the next. */
function dockerStages(): { from: string; body: string }[] {
  const lines = DOCKERFILE.split("\n").filter((line) => !line.trimStart().startsWith("#"));
  const stages: { from: string; body: string }[] = [];
  for (const line of lines) {
    if (/^FROM\s/i.test(line)) stages.push({ from: line.trim(), body: "" });
    else if (stages.length) stages[stages.length - 1]!.body += `${line}\n`;
  }
  // Continuation lines joined, so each instruction is one line.
  for (const stage of stages) stage.body = stage.body.replace(/\\\n\s*/g, " ");
  return stages;
}

describe("docker-compose.yml", () => {
  it("defines every service of the deployment; kafka and zookeeper only under the reserved `kafka` profile", () => {
    for (const name of REQUIRED_SERVICES) expect(services, `service ${name}`).toHaveProperty([name]);
    expect(service("kafka").profiles).toEqual(["kafka"]);
    expect(service("zookeeper").profiles).toEqual(["kafka"]);
    // Everything else starts with a plain `docker compose up`, the worker included.
    for (const [name, definition] of Object.entries(services)) {
      if (name !== "kafka" && name !== "zookeeper") expect(definition.profiles, name).toBeUndefined();
    }
    // The profile is documented as reserved where an operator meets it.
    const kafkaComment = COMPOSE_TEXT.slice(0, COMPOSE_TEXT.indexOf("\n  zookeeper:"));
    expect(kafkaComment).toMatch(/RESERVED[\s\S]*does NOT publish[\s\S]*Redis Streams/);
    expect(kafkaComment).toContain("src/data/statementStream.ts");
    expect(kafkaComment).toContain("src/etl/streamConsumer.ts");
    // And nothing outside the profile waits for it.
    for (const [name, definition] of Object.entries(services)) {
      if (definition.profiles?.includes("kafka")) continue;
      expect(Object.keys(definition.depends_on ?? {}), name).not.toContain("kafka");
      expect(Object.keys(definition.depends_on ?? {}), name).not.toContain("zookeeper");
    }
  });

  it("gives every service a healthcheck, or switches it off with the reason written beside it", () => {
    for (const [name, definition] of Object.entries(services)) {
      const check = definition.healthcheck;
      expect(check, `${name} has no healthcheck section`).toBeDefined();
      if (check?.disable === true) {
        expect(NO_HTTP_ROLES, `${name} may not switch its healthcheck off`).toContain(name);
        expect(healthcheckComment(name).length, `${name}: say why the healthcheck is off`).toBeGreaterThan(
          40,
        );
        continue;
      }
      expect(Array.isArray(check?.test), `${name}: healthcheck.test is a list`).toBe(true);
      expect(["CMD", "CMD-SHELL"], name).toContain(healthcheckTest(name).split(" ")[0]);
      expect(check?.interval, `${name}: healthcheck.interval`).toBeDefined();
    }
    // The api is checked on /health (liveness: a database outage must not get it restarted).
    expect(healthcheckTest("api")).toMatch(/:8080\/health['"]/);
    // The worker and the scheduler serve no API: their check asks the role's metrics listener.
    for (const role of ["worker", "scheduler"]) {
      const test = healthcheckTest(role);
      expect(test, role).toContain("process.env.METRICS_PORT");
      expect(test, role).toContain("/metrics");
    }
    expect(defaultOf(env("worker").METRICS_PORT)).toMatch(/^\d+$/);
    expect(service("postgres-db").healthcheck?.test).toContain("pg_isready");
    expect(service("redis").healthcheck?.test).toEqual(["CMD", "redis-cli", "ping"]);
  });

  it("starts api, worker and scheduler after migrate succeeded, on healthy PostgreSQL and Redis", () => {
    for (const role of LONG_RUNNING_ROLES) {
      expect(service(role).depends_on, role).toMatchObject({
        migrate: { condition: "service_completed_successfully" },
        "postgres-db": { condition: "service_healthy" },
        redis: { condition: "service_healthy" },
      });
    }
    expect(service("migrate").depends_on).toMatchObject({ "postgres-db": { condition: "service_healthy" } });
    expect(service("migrate").restart).toBe("no");
    expect(service("sqlpad").depends_on).toMatchObject({ "postgres-db": { condition: "service_healthy" } });
    expect(service("kafka").depends_on).toMatchObject({ zookeeper: { condition: "service_healthy" } });
    // Every dependency anywhere is the long form with a condition, on a service that exists.
    const conditions = ["service_started", "service_healthy", "service_completed_successfully"];
    for (const [name, definition] of Object.entries(services)) {
      if (definition.depends_on === undefined) continue;
      expect(Array.isArray(definition.depends_on), `${name}: depends_on needs conditions`).toBe(false);
      for (const [dependency, spec] of Object.entries(definition.depends_on)) {
        expect(services, `${name} depends on ${dependency}`).toHaveProperty([dependency]);
        expect(conditions, `${name} → ${dependency}`).toContain(spec.condition);
      }
    }
  });

  it("runs every role from the one image, chosen by the command, with the environment it needs", () => {
    const image = service("api").image;
    expect(image).toBeTruthy();
    for (const role of APP_ROLES) {
      const definition = service(role);
      expect(definition.image, role).toBe(image);
      expect(definition.build, role).toBe(".");
      expect(definition.command, role).toEqual([role]);
      expect(read("src/cli.ts"), `the CLI knows "${role}"`).toContain(`case "${role}":`);
      const variables = env(role);
      expect(variables.DATABASE_URL, role).toMatch(
        /^postgres:\/\/cohort:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres-db:5432\/cohort_lrs$/,
      );
      expect(variables.REDIS_URL, role).toBe("redis://redis:6379");
      expect(defaultOf(variables.ETL_MODE), role).toBe("streaming");
      // One signing key for all: the scheduler signs the unsubscribe links the api verifies.
      expect(variables.APP_SECRET, role).toMatch(/^\$\{APP_SECRET:\?/);
      expect(variables.ADMIN_PASSWORD, role).toMatch(/^\$\{ADMIN_PASSWORD(:\?[^}]+)?\}$/);
      // Every variable handed to the service is one it reads: no typo goes unnoticed.
      for (const key of Object.keys(variables)) expect(configVariables(), `${role}: ${key}`).toContain(key);
    }
    for (const role of LONG_RUNNING_ROLES) {
      expect(service(role).restart, role).toBe("unless-stopped");
      // Shutdown lets in-flight work finish for up to 20 s; compose's default 10 s would cut it off.
      expect(Number.parseInt(service(role).stop_grace_period ?? "10s", 10), role).toBeGreaterThan(20);
    }
    expect(service("api").ports).toContain("8080:8080");
    expect(defaultOf(env("api").SMTP_URL)).toBe("smtp://mailpit:1025");
    // SQLPAD_URL is where a browser finds SQLPad: the port the sqlpad service publishes.
    const sqlpadUrl = new URL(defaultOf(env("api").SQLPAD_URL) ?? "");
    expect(service("sqlpad").ports?.some((port) => port.endsWith(`:${sqlpadUrl.port}:3000`))).toBe(true);
    // The unauthenticated metrics listener stays inside the compose network.
    const metricsPort = defaultOf(env("api").METRICS_PORT);
    for (const [name, definition] of Object.entries(services)) {
      for (const port of definition.ports ?? [])
        expect(port, name).not.toMatch(new RegExp(`:${metricsPort}$`));
    }
    // The image's HEALTHCHECK needs the api's port; compose leaves PORT to the image.
    expect(env("api").PORT).toBeUndefined();
  });

  it("keeps PostgreSQL and Redis data in volumes, Redis with append-only persistence", () => {
    expect(service("postgres-db").volumes).toContain("postgres-data:/var/lib/postgresql/data");
    expect(service("redis").volumes).toContain("redis-data:/data");
    expect(service("redis").command?.join(" ")).toContain("--appendonly yes");
    // BullMQ's queues break when Redis evicts keys.
    expect(service("redis").command?.join(" ")).toContain("--maxmemory-policy noeviction");
    for (const name of ["postgres-data", "redis-data", "app-data", "sqlpad-data"]) {
      expect(compose.volumes, `volume ${name}`).toHaveProperty([name]);
    }
  });

  it("connects SQLPad through the read-only role and sends development mail to Mailpit", () => {
    expect(service("sqlpad").image).toBe("sqlpad/sqlpad:7");
    const sqlpad = env("sqlpad");
    const connections = Object.keys(sqlpad).filter((key) => key.startsWith("SQLPAD_CONNECTIONS__"));
    const ids = new Set(connections.map((key) => key.split("__")[1]));
    expect(ids.size).toBe(1);
    const [id] = ids;
    const field = (name: string) => sqlpad[`SQLPAD_CONNECTIONS__${id}__${name}`];
    expect(field("name")).toBeTruthy();
    expect(field("driver")).toBe("postgres");
    expect(field("host")).toBe("postgres-db");
    expect(field("database")).toBe(env("postgres-db").POSTGRES_DB);
    expect(field("username")).toBe(READONLY_ROLE);
    expect(field("password")).toMatch(/^\$\{SQLPAD_DB_PASSWORD:\?/);
    // The same password is what the init script gives the role.
    expect(env("postgres-db").SQLPAD_DB_PASSWORD).toMatch(/^\$\{SQLPAD_DB_PASSWORD:\?/);
    expect(sqlpad.SQLPAD_ADMIN).toBeTruthy();
    expect(sqlpad.SQLPAD_ADMIN_PASSWORD).toMatch(/^\$\{SQLPAD_ADMIN_PASSWORD:\?/);
    expect(sqlpad.SQLPAD_DEFAULT_CONNECTION_ID).toBe(id);

    expect(service("mailpit").image).toMatch(/^axllent\/mailpit(:|$)/);
    expect(service("mailpit").ports?.some((port) => port.endsWith("8025:8025"))).toBe(true);
    for (const role of ["api", "scheduler"]) {
      expect(service(role).depends_on, role).toMatchObject({ mailpit: { condition: "service_healthy" } });
    }
  });

  it("writes no secret into the file: each comes from .env", () => {
    for (const [name, definition] of Object.entries(services)) {
      for (const [key, value] of Object.entries(definition.environment ?? {})) {
        if (!/PASSWORD|SECRET|_PEM$/.test(key)) continue;
        // `${NAME}`, `${NAME:?message}` or an empty default; never a literal.
        expect(String(value), `${name}: ${key}`).toMatch(/^\$\{[A-Z0-9_]+(:\?[^}]*|:-)?\}$/);
      }
    }
    expect(read(".gitignore")).toMatch(/^\.env$/m);
    expect(read(".dockerignore")).toMatch(/^\.env$/m);
  });

  it("uses no variable that .env.example does not document, with a comment and its default", () => {
    const used = [
      ...new Set([...COMPOSE_TEXT.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!)),
    ];
    expect(used.length).toBeGreaterThan(10);
    const lines = ENV_EXAMPLE.split("\n");
    for (const name of used) {
      const at = lines.findIndex((line) => new RegExp(`^(# )?${name}=`).test(line));
      expect(at, `${name} is not in .env.example`).toBeGreaterThan(0);
      const above = lines[at - 1] ?? "";
      expect(above.startsWith("#") && !/^# [A-Z0-9_]+=/.test(above), `${name}: a comment above it`).toBe(
        true,
      );
      // A variable compose requires (`:?`) is an uncommented, empty line to fill in.
      if (new RegExp(`\\$\\{${name}:\\?`).test(COMPOSE_TEXT)) expect(lines[at], name).toBe(`${name}=`);
    }
  });
});

describe(".env.example", () => {
  it("documents every variable of src/config.ts", () => {
    const variables = configVariables();
    expect(variables).toEqual(expect.arrayContaining(["PORT", "DATABASE_URL", "ETL_MODE", "APP_SECRET"]));
    for (const name of variables) expect(ENV_EXAMPLE, name).toMatch(new RegExp(`^(# )?${name}=`, "m"));
  });
});

describe("the read-only PostgreSQL role for SQLPad", () => {
  const scripts = existsSync(path.join(ROOT, INIT_DIR))
    ? readdirSync(path.join(ROOT, INIT_DIR)).filter((file) => /\.(sh|sql)$/.test(file))
    : [];
  const scriptFile = path.join(ROOT, INIT_DIR, scripts[0] ?? "missing");
  const script = existsSync(scriptFile) ? readFileSync(scriptFile, "utf8") : "";

  it("is created by an init script mounted into postgres-db's /docker-entrypoint-initdb.d", () => {
    expect(scripts).toHaveLength(1);
    expect(service("postgres-db").volumes).toContain(`./${INIT_DIR}:/docker-entrypoint-initdb.d:ro`);
    // Executable, so the image runs it (a non-executable .sh would be sourced into its entrypoint).
    if (scriptFile.endsWith(".sh")) expect(statSync(scriptFile).mode & 0o111).not.toBe(0);
    expect(script).toContain(READONLY_ROLE);
    // The password comes from the environment, never from the file.
    expect(script).toContain("SQLPAD_DB_PASSWORD");
    expect(script).not.toMatch(/password\s+'[^']/i);
  });

  it("grants SELECT and nothing that writes", () => {
    // The SQL: a .sql file, or the here-document a .sh script hands to psql; without comments.
    const heredoc = /<<-?\s*'?(\w+)'?\n([\s\S]*?)\n\1\n/.exec(script);
    const sql = (scriptFile.endsWith(".sh") ? (heredoc?.[2] ?? "") : script).replace(/--.*$/gm, "");
    const grants = [...sql.matchAll(/\bgrant\s+([\s\S]+?)\s+on\s+([\s\S]+?)\s+to\s+(\S+?)[\s;'"]/gi)];
    expect(grants.length).toBeGreaterThanOrEqual(3);
    for (const [statement, privileges, target] of grants) {
      const list = privileges!.split(",").map((privilege) => privilege.trim().toLowerCase());
      for (const privilege of list) expect(["select", "usage", "connect"], statement).toContain(privilege);
      if (/tables/i.test(target!)) expect(list, statement).toEqual(["select"]);
      expect(statement, statement).not.toMatch(/with\s+grant\s+option/i);
    }
    expect(sql).toMatch(/grant select on all tables in schema public to cohort_readonly/i);
    // Tables created later by migrations are readable too.
    expect(sql).toMatch(/alter default privileges[^;]+grant select on tables to cohort_readonly/i);
    expect(sql).not.toMatch(/\bgrant\s+(all|insert|update|delete|truncate|references|trigger|create)\b/i);
    expect(sql).not.toMatch(/\bgrant\s+[^;]*\b(insert|update|delete|truncate)\b/i);
    // A plain login role: none of the attributes that would lift it above its grants.
    expect(sql).toMatch(/\bnosuperuser\b/i);
    expect(sql).not.toMatch(/\b(superuser|createdb|createrole|replication|bypassrls)\b/i);
  });

  const psql = spawnSync("psql", ["--version"], { encoding: "utf8" });
  const psqlMissing = psql.error ? "psql (the PostgreSQL client) is not installed on this machine" : "";
  if (psqlMissing) console.warn(`deployment.test.ts: skipping the init script's run: ${psqlMissing}`);

  it.skipIf(Boolean(psqlMissing))(
    `run against PostgreSQL, lets the role read every table, later ones included, and change none${psqlMissing ? ` (skipped: ${psqlMissing})` : ""}`,
    async () => {
      // A role name of this run's own: roles are shared by the whole server.
      const role = `cohort_ro_test_${randomBytes(4).toString("hex")}`;
      const password = `pw'"$x:y ${randomBytes(6).toString("hex")}`;
      const database = await createTestDatabase();
      const admin = new URL(TEST_DATABASE_URL);
      const run = () =>
        spawnSync("bash", ["-c", script.replaceAll(READONLY_ROLE, role)], {
          encoding: "utf8",
          env: {
            ...process.env,
            PGHOST: admin.hostname,
            PGPORT: admin.port || "5432",
            PGPASSWORD: decodeURIComponent(admin.password),
            POSTGRES_USER: decodeURIComponent(admin.username) || "postgres",
            POSTGRES_DB: database.name,
            SQLPAD_DB_PASSWORD: password,
          },
        });
      const owner = new pg.Client({ connectionString: database.url });
      const reader = new pg.Client({
        host: admin.hostname,
        port: Number(admin.port || 5432),
        database: database.name,
        user: role,
        password,
      });
      try {
        const first = run();
        expect(first.status, first.stderr).toBe(0);
        // Safe to run again (an existing volume, a new password).
        const second = run();
        expect(second.status, second.stderr).toBe(0);

        await owner.connect();
        // A table a later migration creates, as the owner.
        await owner.query("create table deployment_later (id int primary key)");
        await owner.query("insert into deployment_later values (1)");

        await reader.connect();
        await expect(reader.query("select count(*) from statements_raw")).resolves.toBeDefined();
        const later = await reader.query("select id from deployment_later");
        expect(later.rows).toEqual([{ id: 1 }]);
        // Read-only sessions by default …
        await expect(reader.query("insert into deployment_later values (2)")).rejects.toThrow(/read-only/);
        // … and without the privilege even when a session turns that off.
        await reader.query("set default_transaction_read_only = off");
        for (const statement of [
          "insert into deployment_later values (2)",
          "update users set name = 'x'",
          "delete from statements_raw",
          "truncate lessons",
          "create table deployment_mine (id int)",
        ]) {
          await expect(reader.query(statement), statement).rejects.toMatchObject({ code: "42501" });
        }
      } finally {
        await reader.end().catch(() => {});
        await owner.end().catch(() => {});
        await database.drop();
        const cleanup = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await cleanup.connect();
        await cleanup.query(`drop role if exists ${role}`);
        await cleanup.end();
      }
    },
  );
});

describe("Dockerfile", () => {
  const stages = dockerStages();
  const final = stages[stages.length - 1]!;

  it("builds in a Node 24 stage and runs in a separate Node 24 one", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[0]!.from).toMatch(/^FROM\s+node:24[\w.-]*\s+AS\s+build$/i);
    expect(final.from).toMatch(/^FROM\s+node:24[\w.-]*(\s+AS\s+\w+)?$/i);
    expect(stages[0]!.body).toMatch(/^RUN npm run build/m);
  });

  it("ships production dependencies and compiled code only", () => {
    expect(final.body).toMatch(/^RUN npm (ci\b[^\n]*--omit=dev|prune\b[^\n]*(--omit=dev|--production))/m);
    expect(final.body).not.toMatch(/^COPY\s+(?!--from)[^\n]*\bsrc\b/m);
    expect(final.body).not.toMatch(/^(COPY|ADD)\s+(--\S+\s+)*\.\s/m);
    expect(final.body).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    for (const folder of ["drizzle", "bin", "orchestrator_contracts"]) {
      expect(final.body, folder).toMatch(new RegExp(`^COPY ${folder} \\./${folder}$`, "m"));
    }
    // No secret in the image: no ENV or ARG that sets one.
    expect(DOCKERFILE).not.toMatch(/^(ENV|ARG)\s[^\n]*(PASSWORD|SECRET|_PEM|TOKEN)/im);
  });

  it("runs as a non-root user, checks /health, and lets the command choose the role", () => {
    const user = /^USER\s+(\S+)/m.exec(final.body)?.[1];
    expect(user).toBeDefined();
    expect(["root", "0", "0:0"]).not.toContain(user);
    expect(final.body).toMatch(/^HEALTHCHECK\s[^\n]*\/health['"]/m);
    expect(final.body).toMatch(/^ENTRYPOINT \["node", "bin\/cohort-lrs\.js"\]$/m);
    const cmd = /^CMD (\[.*\])$/m.exec(final.body)?.[1];
    expect(JSON.parse(cmd ?? "null")).toEqual(["api"]);
  });

  it("leaves secrets and local data out of the build context", () => {
    const ignored = read(".dockerignore").split("\n");
    for (const entry of [".env", "node_modules", "data", ".git"]) expect(ignored, entry).toContain(entry);
  });
});

describe("the README's Deploying section", () => {
  it("covers running, scaling, the ETL modes, backups, upgrades, logs, metrics, SQLPad, Mailpit and Kafka", () => {
    const readme = read("README.md");
    expect(readme).toMatch(/^## Deploying$/m);
    const guide = readme.slice(readme.indexOf("## Deploying"));
    for (const topic of [
      "docker compose up",
      "--scale worker=3",
      "ETL_MODE=incremental",
      "--scale worker=0",
      "pg_dump",
      "docker compose run --rm migrate",
      "docker compose logs -f api",
      "/metrics",
      READONLY_ROLE,
      ":8025",
      "--profile kafka",
      "publishStatements",
    ]) {
      expect(guide, topic).toContain(topic);
    }
    expect(guide).toMatch(/reserved/i);
  });
});

/** Whether a Docker engine answers here, and if not, why. */
function dockerEngine(): { available: boolean; reason: string } {
  const info = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], {
    encoding: "utf8",
    timeout: 20_000,
  });
  if (info.error) return { available: false, reason: `no docker command (${info.error.message})` };
  if (info.status !== 0) {
    const why = (info.stderr || info.stdout).trim().split("\n").pop() ?? `exit ${info.status}`;
    return { available: false, reason: `no Docker engine answers \`docker info\`: ${why}` };
  }
  return { available: true, reason: "" };
}

describe("the image, built by Docker", () => {
  const engine = dockerEngine();
  if (!engine.available) console.warn(`deployment.test.ts: skipping the image build: ${engine.reason}`);
  const tag = `cohort-lrs:deployment-test-${randomBytes(3).toString("hex")}`;
  const docker = (args: string[], timeout = 60_000) =>
    spawnSync("docker", args, { cwd: ROOT, encoding: "utf8", timeout, maxBuffer: 64 * 1024 * 1024 });

  it.skipIf(!engine.available)(
    `builds, and runs \`cohort-lrs --help\` as a non-root user without sources${engine.available ? "" : ` (skipped: ${engine.reason})`}`,
    () => {
      const build = docker(["build", "--tag", tag, "."], 15 * 60_000);
      expect(build.status, build.stderr.slice(-4000)).toBe(0);
      try {
        const help = docker(["run", "--rm", tag, "--help"]);
        expect(help.status, help.stderr).toBe(0);
        expect(help.stdout).toContain("Usage: cohort-lrs");
        for (const role of APP_ROLES) expect(help.stdout, role).toMatch(new RegExp(`^  ${role}\\s`, "m"));
        const inside = docker([
          "run",
          "--rm",
          "--entrypoint",
          "sh",
          tag,
          "-c",
          "id -u; test ! -e /app/src && test -f /app/dist/cli.js && test -d /app/drizzle && " +
            "test -f /app/orchestrator_contracts/contract_schema.json && test ! -e /app/node_modules/typescript && echo layout-ok",
        ]);
        expect(inside.status, inside.stderr).toBe(0);
        const [uid, layout] = inside.stdout.trim().split("\n");
        expect(Number(uid)).not.toBe(0);
        expect(layout).toBe("layout-ok");
      } finally {
        docker(["image", "rm", "--force", tag]);
      }
    },
    20 * 60_000,
  );
});
