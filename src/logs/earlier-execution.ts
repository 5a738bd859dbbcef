/**
 * @module logs/earlier-execution: finding an earlier execution's log folder in a log directory by
 * its id, and reading its record — for `run --outputs-from` (its steps' outputs) and for saying why
 * `run --retry` has nothing to retry (the execution succeeded).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ExecutionRecord } from "../model/record.ts";
import { isRecord } from "../model/platform.ts";

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

/** The folder's detailedoutput.json, or why it cannot be read. */
export function readRecord(folder: string): ExecutionRecord | string {
  const path = join(folder, "detailedoutput.json");
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (!isRecord(value) || !Array.isArray(value.documents) || typeof value.status !== "string") return `'${path}' is not an execution record`;
    return value as unknown as ExecutionRecord;
  } catch (error) {
    return `'${path}' cannot be read: ${(error as Error).message}`;
  }
}
