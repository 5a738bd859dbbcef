/**
 * @module state/run-lock: one run at a time per state folder.
 *
 * Two runs on one state folder would both take the journal as theirs and run every step twice.
 * The lock is a file `run.lock` in the (private) state folder naming its holder: pid, boot id and
 * start time. It is made whole under a random name and linked into place — link() fails when the
 * name exists, atomically, on every POSIX file system — so exactly one run gets it. A lock whose
 * holder is gone (killed, crashed, or the machine rebooted) is stale and taken over, so a crash
 * cannot leave a state folder locked for ever. Node has no flock(), which would do this for us.
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { StateError } from "../errors.ts";
import { openExclusiveBeside, PRIVATE_FOLDER_MODE, writeAll } from "../safe-fs/durable.ts";

export const LOCK_FILE = "run.lock";

export interface LockHolder {
  pid: number;
  boot?: string;
  started?: number;
  /** When it took the lock (ISO), and what it runs, for the message to a second run. */
  since: string;
  executionId: string;
  command: string;
}

/** Whether the recorded holder is running now ("unknown": a process with its id exists). */
export type HolderCheck = (holder: LockHolder) => "alive" | "gone" | "unknown";

export class RunLock {
  private constructor(readonly path: string) {}

  /**
   * Takes the lock of `folder` for `me`, taking over a stale one. Throws a StateError naming the
   * holder when another run has it.
   */
  static acquire(folder: string, me: LockHolder, check: HolderCheck): RunLock {
    const path = join(folder, LOCK_FILE);
    for (let tries = 0; tries < 5; tries++) {
      if (placeLock(path, me)) return new RunLock(path);
      const holder = readHolder(path);
      if (holder === "missing") continue; // released meanwhile: try again
      if (holder !== "unreadable") {
        const state = check(holder);
        if (state !== "gone") throw busy(folder, holder, state);
      }
      takeOverStale(path, holder);
    }
    throw new StateError(`cannot take the run lock '${path}': other runs keep taking it`, { hint: "wait for the other runs on this state folder to end" });
  }

  /** Gives the lock up (end of the run, or before exiting for a reboot); an emptied folder goes too. */
  release(): void {
    rmSync(this.path, { force: true });
    try {
      rmdirSync(dirname(this.path));
    } catch {
      // journal or boot trigger still there (or not ours to remove): the folder stays
    }
  }
}

/** Writes the holder under a random name and links it to `path`; false when `path` exists. */
function placeLock(path: string, me: LockHolder): boolean {
  let created: { path: string; fd: number };
  try {
    created = openExclusiveBeside(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    // A run that just ended removed the emptied folder: make it again, private.
    mkdirSync(dirname(path), { mode: PRIVATE_FOLDER_MODE });
    created = openExclusiveBeside(path);
  }
  const { path: temporary, fd } = created;
  let open = true;
  try {
    writeAll(fd, Buffer.from(`${JSON.stringify(me)}\n`, "utf8"));
    fsyncSync(fd);
    closeSync(fd);
    open = false;
    linkSync(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new StateError(`cannot take the run lock '${path}': ${(error as Error).message}`);
  } finally {
    if (open) closeSync(fd);
    rmSync(temporary, { force: true });
  }
}

function readHolder(path: string): LockHolder | "missing" | "unreadable" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "unreadable";
  }
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    return typeof value.pid === "number" && typeof value.since === "string" ? (value as LockHolder) : "unreadable";
  } catch {
    // A lock file is written whole before it is linked into place: this one is not ours, or
    // was cut short by a power loss before its first fsync reached the disk. Stale either way.
    return "unreadable";
  }
}

/**
 * Moves a stale lock aside. Two runs may find the same stale lock; if the file moved aside turns
 * out to be a newer, live lock (the other run already replaced the stale one), it is put back.
 */
function takeOverStale(path: string, seen: LockHolder | "unreadable"): void {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = readHolder(aside);
  const same = seen === "unreadable" ? moved === "unreadable" : moved !== "missing" && moved !== "unreadable" && moved.pid === seen.pid && moved.since === seen.since;
  if (!same) {
    try {
      linkSync(aside, path);
    } catch {
      // a third run holds it now; its lock stands
    }
  }
  rmSync(aside, { force: true });
}

function busy(folder: string, holder: LockHolder, state: "alive" | "unknown"): StateError {
  const who = `process ${holder.pid} (since ${holder.since}, execution ${holder.executionId}: ${holder.command})`;
  const certain = state === "alive" ? "is running" : "may still be running (a process with its id exists)";
  return new StateError(`another awstoe run is using the state folder '${folder}': ${who} ${certain}`, {
    hint: `wait for it to end, or give this run its own --state-directory; if that process is not awstoe, delete '${join(folder, LOCK_FILE)}'`,
  });
}
