/**
 * @module logs/log-folder: the run's log folder `TOE_<UTC time>_UTC-0_<executionId>` (docs: the
 * log folder) and the files in it that are written whole: document copies, detailedoutput.json,
 * chaining.json.
 *
 * The folder holds parameter values and step output, so it is private: the folder 0700, every file
 * 0600, written through safe-fs's durable write. It is made new (never an existing folder or a
 * link someone placed at its name) and, on resume, found again from the log directory and the
 * execution id — never at a path taken from the state file alone.
 *
 * A small reserve file keeps room for the last record: when a step's output fills the disk, the
 * reserve is given up so the final detailedoutput.json can still be written.
 */
import { chmodSync, lstatSync, mkdirSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { LogDirectoryError } from "../errors.ts";
import type { ChainingEntry, ExecutionRecord } from "../model/record.ts";
import { folderTimestamp } from "../model/time.ts";
import type { Masker } from "./mask.ts";
import { describeWriteError, PARENT_FOLDER_MODE, PRIVATE_FOLDER_MODE, writeFileDurably } from "../safe-fs/durable.ts";
import { checkPathToFolder, UntrustedFolderError } from "../safe-fs/private-folder.ts";

/** Bytes set aside for the final record (a record of thousands of steps fits). */
export const RESERVE_BYTES = 512 * 1024;
const RESERVE_FILE = ".opentoe-space-reserve";

export class LogFolder {
  private readonly folders = new Set<string>();
  private reserved = false;
  private masker: Masker | undefined;

  private constructor(readonly path: string) {}

  /** Creates `<logDirectory>/TOE_…` (and the log directory itself when missing). */
  static create(logDirectory: string, executionId: string, started: Date): LogFolder {
    const path = LogFolder.pathFor(logDirectory, executionId, folderTimestamp(started));
    try {
      LogFolder.trustedDirectory(logDirectory); // what exists of it, before anything is made below it
      mkdirSync(dirname(path), { recursive: true, mode: PARENT_FOLDER_MODE });
      LogFolder.trustedDirectory(logDirectory); // and the folders just made
      mkdirSync(path, { mode: PRIVATE_FOLDER_MODE });
    } catch (error) {
      if (error instanceof LogDirectoryError) throw error;
      const taken = (error as NodeJS.ErrnoException).code === "EEXIST";
      throw new LogDirectoryError(`cannot create the log folder '${path}': ${taken ? "something already has that name" : (error as Error).message}`, {
        hint: taken ? "run again (the folder name has the time in seconds) or pass another --execution-id" : "choose a writable folder with --log-directory",
      });
    }
    const folder = new LogFolder(LogFolder.checked(path));
    folder.reserve();
    return folder;
  }

  /**
   * The folder of an execution being resumed: `<logDirectory>/<name>`, where the name recorded in
   * the state file must be this execution's (`TOE_…_UTC-0_<executionId>`) and the folder a real
   * folder of ours. Its files are appended to, not replaced.
   */
  static reopen(logDirectory: string, executionId: string, recorded: string): LogFolder {
    const name = basename(recorded);
    const stamp = /^TOE_(\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d)_UTC-0_/.exec(name)?.[1];
    const expected = stamp === undefined ? undefined : LogFolder.pathFor(logDirectory, executionId, stamp);
    if (expected === undefined || expected !== resolve(recorded)) {
      throw new LogDirectoryError(`the state file names the log folder '${recorded}', which is not the folder of execution ${executionId} in the log directory '${resolve(logDirectory)}'`, {
        hint: "resume with the same --log-directory as the run that started the execution, or delete the state file to start again",
      });
    }
    LogFolder.trustedDirectory(logDirectory);
    try {
      mkdirSync(expected, { mode: PRIVATE_FOLDER_MODE });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new LogDirectoryError(`cannot reopen the log folder '${expected}' of the execution being resumed: ${(error as Error).message}`);
      }
    }
    const folder = new LogFolder(LogFolder.checked(expected));
    folder.reserve();
    return folder;
  }

  /**
   * The log folder's parents follow the state folder's rules (safe-fs/private-folder): whoever can
   * change the log directory or a folder above it can move the log folder aside mid-run and put a
   * link to a folder of theirs at its name — and the steps' scripts, which root runs, are written
   * there. A sticky folder of root's, like /tmp, is fine.
   */
  private static trustedDirectory(logDirectory: string): void {
    if (process.platform === "win32") return; // ACLs: not described by these rules
    try {
      checkPathToFolder(resolve(logDirectory), process.geteuid?.() ?? 0);
    } catch (error) {
      if (!(error instanceof UntrustedFolderError)) throw error;
      throw new LogDirectoryError(`refusing the log directory '${logDirectory}': ${error.message}; nothing ran`, {
        hint: "awstoe writes the scripts it runs and the parameter values below it, so only root (or the user running awstoe) may be able to change it or any folder above it; pass --log-directory with a folder such as /var/log/awstoe",
      });
    }
  }

  private static pathFor(logDirectory: string, executionId: string, stamp: string): string {
    return resolve(logDirectory, `TOE_${stamp}_UTC-0_${executionId}`);
  }

  /** A real folder of the running user (not a link planted at its name); narrowed to 0700. */
  private static checked(path: string): string {
    const stats = lstatSync(path);
    const uid = process.geteuid?.();
    if (!stats.isDirectory() || (uid !== undefined && stats.uid !== uid)) {
      throw new LogDirectoryError(`the log folder '${path}' is ${stats.isSymbolicLink() ? "a symbolic link" : !stats.isDirectory() ? "not a folder" : "owned by another user"}; awstoe writes its logs only into a folder it made`, {
        hint: "remove it, or choose another --log-directory",
      });
    }
    if (process.platform !== "win32" && (stats.mode & 0o077) !== 0) chmodSync(path, PRIVATE_FOLDER_MODE);
    return path;
  }

  /** `document.yaml` for the first document, `document_<n>.yaml` for the n-th. */
  saveDocument(position: number, text: string): void {
    this.write(position === 1 ? "document.yaml" : `document_${position}.yaml`, text);
  }

  /**
   * The record as it stands, replaced whole (record-writer.ts decides how often while steps
   * finish), so a crash or reboot leaves a truthful record.
   */
  saveRecord(record: ExecutionRecord): void {
    this.write("detailedoutput.json", `${JSON.stringify(record, this.masker?.replacer, 4)}\n`);
  }

  saveChaining(entries: readonly ChainingEntry[]): void {
    this.write("chaining.json", `${JSON.stringify({ references: entries }, this.masker?.replacer, 4)}\n`);
  }

  /** From now on secret values are masked in the record files (logs/mask.ts). */
  maskSecrets(masker: Masker): void {
    this.masker = masker;
  }

  /**
   * A file of one step's own (generated script): `steps/<phase>/<step>.<name>`. One folder per
   * phase, created once — a folder per step cost more than a trivial step itself.
   */
  stepFile(phase: string, step: string, name: string): string {
    const folder = join(this.path, "steps", safeName(phase));
    if (!this.folders.has(folder)) {
      mkdirSync(folder, { recursive: true, mode: PRIVATE_FOLDER_MODE });
      this.folders.add(folder);
    }
    return join(folder, `${safeName(step)}.${name}`);
  }

  file(name: string): string {
    return join(this.path, name);
  }

  /** Gives the reserve back to the file system (a full disk), so the final record fits. */
  releaseReserve(): void {
    if (!this.reserved) return;
    this.reserved = false;
    rmSync(join(this.path, RESERVE_FILE), { force: true });
  }

  /** The run is over: the reserve goes. */
  close(): void {
    this.releaseReserve();
  }

  private reserve(): void {
    try {
      writeFileDurably(join(this.path, RESERVE_FILE), Buffer.alloc(RESERVE_BYTES), { flush: false });
      this.reserved = true;
    } catch {
      // Too little space even for the reserve: the run goes on, and a full disk is reported when it comes.
    }
  }

  /** One whole file; on a full disk the reserve is given up once and the write tried again. */
  private write(name: string, text: string): void {
    const path = join(this.path, name);
    try {
      writeFileDurably(path, text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOSPC" && this.reserved) {
        this.releaseReserve();
        return this.write(name, text);
      }
      throw new LogDirectoryError(`cannot write ${name} in '${this.path}': ${describeWriteError(error)}`, { hint: "free space or choose another --log-directory" });
    }
  }
}

/** Phase and step names are free text; keep folder names portable. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 100) || "_";
}
