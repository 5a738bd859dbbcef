/**
 * @module logs/earlier-execution: finding an earlier execution's log folder in a log directory by
 * its id, and reading its record — for `run --outputs-from` (its steps' outputs) and for saying why
 * `run --retry` has nothing to retry (the execution succeeded).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ExecutionRecord } from "../model/record.ts";
import { isRecord } from "../model/platform.ts";
import { checkTrustedFile, UntrustedFolderError } from "../safe-fs/private-folder.ts";

/** The pattern of the folders an execution id names (log-folder.ts makes them). */
export function logFolderPattern(executionId: string): string {
  return `TOE_<time>_UTC-0_${executionId}`;
}

/**
 * The newest log folder of `executionId` in `logDirectory` (a retry reuses the folder, a rerun
 * with the same --execution-id makes another), or undefined. The id is matched exactly at the end
 * of the name, so it cannot reach outside the directory.
 */
export function findLogFolder(logDirectory: string, executionId: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(logDirectory);
  } catch {
    return undefined;
  }
  const suffix = `_UTC-0_${executionId}`;
  const mine = names.filter((n) => n.startsWith("TOE_") && n.endsWith(suffix) && /^TOE_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_UTC-0_/.test(n)).sort();
  return mine.length === 0 ? undefined : resolve(logDirectory, mine.at(-1)!);
}

/**
 * The folder's detailedoutput.json, or why it cannot be read or trusted. Its outputs become
 * chaining values of a run as root (--outputs-from), and a log directory may be a shared sticky
 * folder such as /tmp where anyone can make a folder with the right name: the record, its folder
 * and the folders above must be root's (or the running user's) and writable by no one else.
 */
export function readRecord(folder: string, uid: number = process.geteuid?.() ?? 0): ExecutionRecord | string {
  const path = join(folder, "detailedoutput.json");
  if (process.platform !== "win32") {
    try {
      checkTrustedFile(path, uid); // ACLs on Windows are not described by these rules
    } catch (error) {
      if (error instanceof UntrustedFolderError) return `refusing '${path}': ${error.message}`;
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") return `'${path}' cannot be read: ${(error as Error).message}`;
    }
  }
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (!isRecord(value) || !Array.isArray(value.documents) || typeof value.status !== "string") return `'${path}' is not an execution record`;
    return value as unknown as ExecutionRecord;
  } catch (error) {
    return `'${path}' cannot be read: ${(error as Error).message}`;
  }
}
