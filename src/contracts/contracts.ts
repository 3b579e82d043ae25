/**
 * The orchestrator contracts (DESIGN §10, plan a.07c): one JSON file per plan module in
 * `orchestrator_contracts/`, validated against `contract_schema.json`.
 *
 * - `readContracts()` never throws on a bad file: an invalid one is reported with its path and
 *   the rule it breaks, and the others are still read.
 * - `updateContractStatus()` rewrites one file atomically (a temporary file, then rename) and
 *   keeps everything else in it as it was.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";

/** The package root (the checkout, or /app in the image). */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CONTRACTS_DIR = path.join(ROOT, "orchestrator_contracts");
const SCHEMA_FILE = "contract_schema.json";

export const STATUSES = ["planned", "in_progress", "done"] as const;
export type ContractStatus = (typeof STATUSES)[number];

export interface Contract {
  module: string;
  title?: string;
  agent: string;
  issue?: number;
  allowed_files: string[];
  required_endpoints: string[];
  status: ContractStatus;
  notes?: string;
}

export interface ContractFile {
  /** Path relative to the package root. */
  file: string;
  contract: Contract;
}

export interface ContractProblem {
  file: string;
  /** The rule it breaks, e.g. `/status must be equal to one of the allowed values (planned, in_progress, done)`. */
  problem: string;
}

function validator(dir: string) {
  const schema = JSON.parse(readFileSync(path.join(dir, SCHEMA_FILE), "utf8"));
  return new Ajv2020({ allErrors: true }).compile<Contract>(schema);
}

/** Every contract of `dir`, and the files that are not valid contracts. */
export function readContracts(dir = CONTRACTS_DIR): {
  contracts: ContractFile[];
  problems: ContractProblem[];
} {
  const validate = validator(dir);
  const contracts: ContractFile[] = [];
  const problems: ContractProblem[] = [];
  const files = readdirSync(dir)
    .filter((name) => name.endsWith(".json") && name !== SCHEMA_FILE)
    .sort();
  for (const name of files) {
    const file = path.relative(ROOT, path.join(dir, name)) || name;
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path.join(dir, name), "utf8"));
    } catch (error) {
      problems.push({ file, problem: `not valid JSON: ${(error as Error).message}` });
      continue;
    }
    if (!validate(data)) {
      for (const error of validate.errors ?? []) {
        const where = error.instancePath || "/";
        const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues;
        problems.push({
          file,
          problem: `${where} ${error.message}${allowed ? ` (${allowed.join(", ")})` : ""}`,
        });
      }
      continue;
    }
    if (name !== `${data.module}.json`) {
      problems.push({ file, problem: `/module is ${data.module}, but the file is named ${name}` });
      continue;
    }
    contracts.push({ file, contract: data });
  }
  return { contracts, problems };
}

export class ContractError extends Error {}

/** Sets the status of module `module`'s contract, keeping the rest of the file. */
export function updateContractStatus(module: string, status: string, dir = CONTRACTS_DIR): Contract {
  if (!(STATUSES as readonly string[]).includes(status)) {
    throw new ContractError(`status must be one of ${STATUSES.join(", ")}, got "${status}"`);
  }
  const file = path.join(dir, `${module}.json`);
  if (!/^a\.\d{2}[a-z]?$/.test(module) || !existsSync(file)) {
    throw new ContractError(`no contract for module "${module}" in ${dir}`);
  }
  const data = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  const updated = { ...data, status };
  const validate = validator(dir);
  if (!validate(updated)) {
    throw new ContractError(
      `${file} would not be a valid contract: ${validate.errors?.map((e) => `${e.instancePath} ${e.message}`).join("; ")}`,
    );
  }
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(updated, null, 2)}\n`);
  renameSync(temporary, file);
  return updated;
}

/**
 * Whether a contract's file is there. In a build (the container image: compiled `dist/`, no
 * `src/`), a source file counts when its compiled counterpart exists, and development files
 * (tests, benchmarks, tooling) are not part of it: null, never "missing".
 */
function fileExists(root: string, file: string): boolean | null {
  if (existsSync(path.join(root, file))) return true;
  if (existsSync(path.join(root, "src"))) return false;
  if (file.startsWith("src/") && !file.endsWith(".test.ts")) {
    return existsSync(path.join(root, "dist", file.slice("src/".length).replace(/\.ts$/, ".js")));
  }
  const shipped = ["bin/", "drizzle/", "orchestrator_contracts/", "package.json", "Dockerfile"];
  return shipped.some((prefix) => file === prefix || file.startsWith(prefix)) ? false : null;
}

export interface ModuleProgress {
  module: string;
  title: string | undefined;
  agent: string;
  status: ContractStatus;
  notes: string | undefined;
  endpoints: { endpoint: string; registered: boolean }[];
  /** `exists` is null for a development file (tests, benchmarks) that a build does not ship. */
  files: { file: string; exists: boolean | null }[];
  /** A `done` module whose endpoints or files are not all there. */
  flagged: boolean;
  problems: string[];
}

/** Each contract checked against the running app's routes and the files on disk. */
export function checkProgress(
  contracts: ContractFile[],
  registered: ReadonlySet<string>,
  root = ROOT,
): ModuleProgress[] {
  return contracts.map(({ contract }) => {
    const endpoints = contract.required_endpoints.map((endpoint) => ({
      endpoint,
      registered: registered.has(endpoint),
    }));
    const files = contract.allowed_files.map((file) => ({ file, exists: fileExists(root, file) }));
    const problems = [
      ...endpoints.filter((e) => !e.registered).map((e) => `endpoint not registered: ${e.endpoint}`),
      ...files.filter((f) => f.exists === false).map((f) => `file missing: ${f.file}`),
    ];
    return {
      module: contract.module,
      title: contract.title,
      agent: contract.agent,
      status: contract.status,
      notes: contract.notes,
      endpoints,
      files,
      flagged: contract.status === "done" && problems.length > 0,
      problems,
    };
  });
}
