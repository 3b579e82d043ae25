import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";

export class DirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
    what: string,
  ) {
    super(
      `${what} in ${dir} is in use by process ${pid}; stop that process first ` +
        "(or, to run a task against the running server, use its admin area or API)",
    );
    this.name = "DirLockedError";
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes `<dir>.lock` for this process, or throws `DirLockedError` naming the process that holds
 * it. A lock left by a process that no longer exists is taken over.
 */
export function acquireDirLock(dir: string, what: string): { release(): void } {
  const lockPath = `${path.resolve(dir)}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(lockPath);
          } catch {
            // already gone: nothing to release
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
      if (Number.isInteger(holder) && isAlive(holder)) {
        throw new DirLockedError(dir, holder, what);
      }
      unlinkSync(lockPath); // stale: its process is gone
    }
  }
  throw new Error(`could not lock ${dir}`);
}
