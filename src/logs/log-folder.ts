/**
 * @module logs/log-folder: the run's log folder `TOE_<UTC time>_UTC-0_<executionId>` (cli.md §7)
 * and the files in it that are written whole: document copies, detailedoutput.json, chaining.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { LogDirectoryError } from "../errors.ts";
import type { ExecutionRecord } from "../model/record.ts";
import { folderTimestamp } from "../model/time.ts";
import { writeFileAtomic } from "./atomic.ts";

export interface ChainingEntry {
  expression: string;
  usedBy: string;
  resolved: boolean;
}

export class LogFolder {
  private readonly folders = new Set<string>();

  private constructor(readonly path: string) {}

  /** Creates `<logDirectory>/TOE_…` (and the log directory itself when missing). */
  static create(logDirectory: string, executionId: string, started: Date): LogFolder {
    const path = resolve(logDirectory, `TOE_${folderTimestamp(started)}_UTC-0_${executionId}`);
    try {
      mkdirSync(path, { recursive: true });
    } catch (error) {
      throw new LogDirectoryError(`cannot create the log folder '${path}': ${(error as Error).message}`, {
        hint: "choose a writable folder with --log-directory",
      });
    }
    return new LogFolder(path);
  }

  /** The folder of an execution resumed after a reboot: its files are appended to, not replaced. */
  static open(path: string): LogFolder {
    try {
      mkdirSync(path, { recursive: true });
    } catch (error) {
      throw new LogDirectoryError(`cannot reopen the log folder '${path}' of the execution being resumed: ${(error as Error).message}`);
    }
    return new LogFolder(path);
  }

  /** `document.yaml` for the first document, `document_<n>.yaml` for the n-th (README Q6). */
  saveDocument(position: number, text: string): void {
    this.write(position === 1 ? "document.yaml" : `document_${position}.yaml`, text);
  }

  /** Rewritten after every step (atomically), so a crash or reboot leaves a truthful record. */
  saveRecord(record: ExecutionRecord): void {
    this.writeAtomic("detailedoutput.json", `${JSON.stringify(record, null, 4)}\n`);
  }

  saveChaining(entries: readonly ChainingEntry[]): void {
    this.writeAtomic("chaining.json", `${JSON.stringify({ references: entries }, null, 4)}\n`);
  }

  /**
   * A file of one step's own (generated script): `steps/<phase>/<step>.<name>`. One folder per
   * phase, created once — a folder per step cost more than a trivial step itself.
   */
  stepFile(phase: string, step: string, name: string): string {
    const folder = join(this.path, "steps", safeName(phase));
    if (!this.folders.has(folder)) {
      mkdirSync(folder, { recursive: true });
      this.folders.add(folder);
    }
    return join(folder, `${safeName(step)}.${name}`);
  }

  file(name: string): string {
    return join(this.path, name);
  }

  private write(name: string, text: string): void {
    try {
      writeFileSync(join(this.path, name), text);
    } catch (error) {
      throw new LogDirectoryError(`cannot write ${name} in '${this.path}': ${(error as Error).message}`);
    }
  }

  private writeAtomic(name: string, text: string): void {
    try {
      writeFileAtomic(join(this.path, name), text);
    } catch (error) {
      throw new LogDirectoryError(`cannot write ${name} in '${this.path}': ${(error as Error).message}`);
    }
  }
}

/** Phase and step names are free text; keep folder names portable. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 100) || "_";
}
