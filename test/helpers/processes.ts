/** @module test/helpers/processes: watching real processes the tests start (Linux /proc where it helps). */
import { existsSync, readFileSync } from "node:fs";

/** Alive = exists and is not a zombie (PID 1 in a container may never reap orphans). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
  const stat = `/proc/${pid}/stat`;
  if (existsSync(stat)) return !/^\d+ \(.*\) Z/.test(readFileSync(stat, "utf8"));
  return true;
}

/** Waits up to `ms` for the pid to die (orphans are reaped asynchronously). */
export async function diesWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await Bun.sleep(25);
  }
  return !isAlive(pid);
}

/** The pid a test script wrote into `file` (waits up to 2 s for it); also noted in `seen` for cleanup. */
export async function pidFrom(file: string, seen: number[]): Promise<number> {
  for (let i = 0; i < 200 && !(existsSync(file) && readFileSync(file, "utf8").trim()); i++) await Bun.sleep(10);
  const pid = Number(readFileSync(file, "utf8").trim());
  seen.push(pid);
  return pid;
}
