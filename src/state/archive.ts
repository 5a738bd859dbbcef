/**
 * @module state/archive: journals of executions that ended without success, kept so that
 * `awstoe run --retry <id>` can restore their finished steps (docs/log-folder.md §11.4).
 *
 * `<state folder>/executions/<execution id>.state`, private like the state folder itself. Only the
 * newest MAX_ARCHIVED are kept: an archive that grows with every failed build would fill the disk
 * of a machine that bakes images in a loop. A successful execution leaves nothing here.
 */
import { readdirSync, renameSync, rmdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { StateError } from "../errors.ts";
import { describeWriteError, syncFolder } from "../safe-fs/durable.ts";
import { ensurePrivateFolder } from "../safe-fs/private-folder.ts";
import { readJournalFile, type Journal } from "./journal.ts";

export const ARCHIVE_FOLDER = "executions";
/** Failed executions kept for --retry; older ones are removed as new ones arrive. */
export const MAX_ARCHIVED = 20;
const SUFFIX = ".state";

/**
 * An execution id that can only ever name a file inside the archive: the same alphabet as the log
 * folder's name (no separators, no leading dot, so never `.` or `..`).
 */
export const EXECUTION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isSafeExecutionId(id: string): boolean {
  return EXECUTION_ID.test(id);
}

/** Where the archived journal of `executionId` is (or would be). */
export function archivedJournalPath(stateDirectory: string, executionId: string): string {
  if (!isSafeExecutionId(executionId)) throw new StateError(`'${executionId}' is not an execution id`, { hint: "execution ids are letters, digits, '.', '_' and '-', as in the log folder's name" });
  return join(stateDirectory, ARCHIVE_FOLDER, `${executionId}${SUFFIX}`);
}

/**
 * Moves the journal at `journalPath` into the archive (a rename in the same file system, then the
 * folder flushed), replacing an older one of the same execution, and removes the oldest beyond
 * MAX_ARCHIVED. Returns where it went.
 */
export function archiveJournal(stateDirectory: string, journalPath: string, executionId: string): string {
  const target = archivedJournalPath(stateDirectory, executionId);
  const folder = join(stateDirectory, ARCHIVE_FOLDER);
  try {
    ensurePrivateFolder(folder);
    renameSync(journalPath, target);
    syncFolder(folder); // the rename is durable only once the folder is
  } catch (error) {
    throw new StateError(`cannot keep the journal of execution ${executionId} for --retry in '${folder}': ${describeWriteError(error)}`);
  }
  prune(folder, MAX_ARCHIVED);
  return target;
}

/** The archived journal of `executionId`, or undefined when there is none. Throws StateError when it is unusable. */
export function readArchived(stateDirectory: string, executionId: string): Journal | undefined {
  return readJournalFile(archivedJournalPath(stateDirectory, executionId));
}

/** Removes the archived journal of `executionId` (it has been taken up again); the folder too when empty. */
export function removeArchived(stateDirectory: string, executionId: string): void {
  rmSync(archivedJournalPath(stateDirectory, executionId), { force: true });
  try {
    rmdirSync(join(stateDirectory, ARCHIVE_FOLDER));
  } catch {
    // not empty: other executions are kept
  }
}

/** Keeps the newest `keep` archived journals (by modification time). */
function prune(folder: string, keep: number): void {
  const entries = readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(SUFFIX))
    .map((e) => ({ path: join(folder, e.name), at: statSync(join(folder, e.name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const old of entries.slice(keep)) rmSync(old.path, { force: true });
}
