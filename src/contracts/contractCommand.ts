/** `cohort-lrs contract list` and `cohort-lrs contract set-status MODULE STATUS`. */
import { UsageError } from "../process/usageError.ts";
import { ContractError, readContracts, updateContractStatus } from "./contracts.ts";

export function contractCommand(args: string[]): void {
  const [action, module, status] = args;
  if (action === "list") {
    const { contracts, problems } = readContracts();
    for (const { contract } of contracts)
      process.stdout.write(
        `${contract.module.padEnd(6)} ${contract.status.padEnd(11)} ${contract.title ?? ""}\n`,
      );
    for (const problem of problems) process.stdout.write(`invalid: ${problem.file}: ${problem.problem}\n`);
    if (problems.length) process.exitCode = 1;
    return;
  }
  if (action !== "set-status" || !module || !status) {
    throw new UsageError(
      "usage: cohort-lrs contract set-status MODULE STATUS (e.g. a.04 done), or cohort-lrs contract list",
    );
  }
  try {
    const updated = updateContractStatus(module, status);
    process.stdout.write(`${updated.module}: ${updated.status}\n`);
  } catch (error) {
    if (error instanceof ContractError) throw new UsageError(error.message);
    throw error;
  }
}
