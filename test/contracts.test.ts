/**
 * The orchestrator contracts stay true: each is valid against the schema, there is one per plan
 * module, the files of started modules exist, and every `done` module's endpoints are registered
 * in the app as built by createApp().
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/http/app.ts";
import { buildApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DIR = `${ROOT}orchestrator_contracts/`;
const MODULES = ["a.01", "a.02", "a.03", "a.04", "a.05", "a.05b", "a.06", "a.07", "a.07b", "a.07c", "a.08"];

interface Contract {
  module: string;
  allowed_files: string[];
  required_endpoints: string[];
  status: "planned" | "in_progress" | "done";
}

const contracts = readdirSync(DIR)
  .filter((file) => file.endsWith(".json") && file !== "contract_schema.json")
  .map((file) => ({ file, contract: JSON.parse(readFileSync(`${DIR}${file}`, "utf8")) as Contract }));

let database: TestDatabase;
let app: App;
beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildApp(database);
});
afterAll(async () => {
  await app.close();
  await database.drop();
});

describe("orchestrator_contracts/", () => {
  it("holds one valid contract per plan module, named after it", () => {
    const validate = new Ajv2020({ allErrors: true }).compile(
      JSON.parse(readFileSync(`${DIR}contract_schema.json`, "utf8")),
    );
    for (const { file, contract } of contracts) {
      expect(validate(contract), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(file).toBe(`${contract.module}.json`);
    }
    expect(contracts.map(({ contract }) => contract.module).sort()).toEqual([...MODULES].sort());
  });

  it("lists only existing files for modules that have started", () => {
    for (const { contract } of contracts.filter(({ contract }) => contract.status !== "planned")) {
      for (const file of contract.allowed_files)
        expect(existsSync(`${ROOT}${file}`), `${contract.module}: ${file}`).toBe(true);
    }
  });

  it("registers every endpoint of every done module", () => {
    const registered = new Set(app.routeTable.map((route) => `${route.method} ${route.url}`));
    for (const { contract } of contracts.filter(({ contract }) => contract.status === "done")) {
      for (const endpoint of contract.required_endpoints) {
        expect(registered.has(endpoint), `${contract.module}: ${endpoint}`).toBe(true);
      }
    }
  });
});
