/**
 * @module state/journal: the resume state of one execution (docs/log-folder.md §11.1) as an append-only journal.
 *
 * Line 1 is a header naming the execution; each later line records one finished step, one reboot,
 * or one process group a step started. Every line carries a checksum of its own text. A step's
 * line is one write() call, so killing awstoe at any moment leaves whole lines only; a reboot's
 * line is also fsync'd, because that one must survive the power cycle that follows. Appending
 * costs microseconds per step, where rewriting a whole state file (write, fsync, rename) cost
 * about a millisecond on ext4.
 *
 * A torn last line can only come from a power loss in the middle of a step's line (never after a
 * reboot's, which was synced): it is dropped and that step runs again. Anything else that does
 * not check out is a StateError — never a silent fresh start that would repeat finished steps.
 */
import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, rmSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { StateError } from "../errors.ts";
import type { ChainingEntry } from "../model/record.ts";
import type { InvocationFacets } from "./fingerprint.ts";
import { appendWhole, describeWriteError, writeFileDurably } from "../safe-fs/durable.ts";
import { ensurePrivateFolder } from "../safe-fs/private-folder.ts";

export const STATE_FILE = "opentoe-execution.state";
const FORMAT = "opentoe-state";
const VERSION = 1;

export interface StateHeader {
  format: typeof FORMAT;
  version: typeof VERSION;
  executionId: string;
  /** Hash of what was asked for (documents and their text, parameters, phases). */
  fingerprint: string;
  /** The document sources, to name them in messages. */
  documents: string[];
  logFolder: string;
  /** The execution record's startTime. */
  startTime: string;
  /** What the fingerprint was made of, hashed, so `run --retry` can say what differs (absent in older journals). */
  facets?: InvocationFacets;
  /** `run --from`/`--only`/`--outputs-from` as given, so `run --retry` applies them again. */
  selection?: { from?: string; only?: readonly string[]; outputsFrom?: string };
}

export interface StepEntry {
  kind: "step";
  /** Position of the step: `d<doc>/<phase>/<index>`, nested steps after `>`. */
  key: string;
  executed: boolean;
  record: Record<string, unknown>;
  data: { inputs: Record<string, unknown>[]; outputs: Record<string, unknown>[] | null };
  chaining: ChainingEntry[];
  phaseStartTime: string;
  documentStartTime: string;
}

export interface RebootEntry {
  kind: "reboot";
  key: string;
  /** Run the step again after the restart (exit 194/3010), rather than the next one (Reboot module). */
  rerun: boolean;
  exitCode: number | null;
  at: string;
}

/**
 * A step's program started: its process group, so that a run resuming after awstoe itself was
 * killed (kill -9, SIGHUP of a terminal) can stop what that step left running before the step
 * runs again. `boot` and `started` tell the same process from a later one with a reused id.
 */
export interface ProcessEntry {
  kind: "process";
  key: string;
  pgid: number;
  /** The kernel's boot id when it started (undefined where it cannot be read). */
  boot?: string;
  /** Start time of the group leader in clock ticks since boot (Linux /proc), if known. */
  started?: number;
  at: string;
}

export type StateEntry = StepEntry | RebootEntry | ProcessEntry;

export interface Journal {
  path: string;
  header: StateHeader;
  steps: Map<string, StepEntry>;
  reboots: RebootEntry[];
  /** Process groups started by steps, last first per key; those of finished steps are dropped. */
  processes: Map<string, ProcessEntry[]>;
  /** Bytes of whole, checked lines; anything after them is a torn tail to cut off. */
  validLength: number;
  /** Set when a torn last line was dropped. */
  tornTail: boolean;
}

/** The journal in `directory`, or undefined when there is none. Throws StateError when unusable. */
export function readJournal(directory: string): Journal | undefined {
  return readJournalFile(join(directory, STATE_FILE));
}

/** A journal at an exact path (an archived one: state/archive.ts), or undefined when there is none. */
export function readJournalFile(path: string): Journal | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw unusable(path, `it cannot be read (${(error as Error).message})`);
  }
  const lines = text.split("\n");
  const complete = lines.slice(0, -1); // the part after the last newline is never a whole line
  const journal: Journal = { path, header: undefined as unknown as StateHeader, steps: new Map(), reboots: [], processes: new Map(), validLength: 0, tornTail: lines.at(-1) !== "" };
  for (const [index, line] of complete.entries()) {
    const value = decodeLine(line);
    const last = index === complete.length - 1 && journal.tornTail === false;
    if (value === undefined) {
      if (index === 0) throw unusable(path, "its first line is damaged");
      if (last) {
        journal.tornTail = true;
        break;
      }
      throw unusable(path, `line ${index + 1} is damaged`);
    }
    if (index === 0) journal.header = header(path, value);
    else addEntry(journal, path, index + 1, value);
    journal.validLength += Buffer.byteLength(line) + 1;
  }
  if (journal.header === undefined) {
    if (complete.length === 0 && text.length > 0) throw unusable(path, "it holds no complete line");
    if (text.length === 0) throw unusable(path, "it is empty");
  }
  return journal;
}

/** Appends lines to a journal; created fresh or reopened to resume. */
export class JournalWriter {
  private constructor(
    readonly path: string,
    private fd: number | undefined,
    /** Bytes in the file: an append that fails half-way is cut back to this. */
    private size: number,
  ) {}

  /** Replaces string values on the way out (logs/mask.ts: secret values never reach the journal). */
  private replacer: ((key: string, value: unknown) => unknown) | undefined;

  maskWith(replacer: (key: string, value: unknown) => unknown): void {
    this.replacer = replacer;
  }

  /**
   * A new journal holding only the header, put in place whole (safe-fs durable write), in a
   * private state folder (made, or checked, here too: the engine refuses an unsafe one earlier).
   */
  static create(directory: string, header: Omit<StateHeader, "format" | "version">): JournalWriter {
    const path = join(directory, STATE_FILE);
    try {
      ensurePrivateFolder(directory);
      writeFileDurably(path, encodeLine({ format: FORMAT, version: VERSION, ...header }));
      return JournalWriter.openForAppend(path);
    } catch (error) {
      throw new StateError(`cannot keep resume state in '${directory}': ${describeWriteError(error)}`, { hint: "choose a writable folder that survives reboots with --state-directory" });
    }
  }

  /** Reopens a journal to go on after a reboot or crash, cutting off a torn last line first. */
  static resume(journal: Journal): JournalWriter {
    try {
      const writer = JournalWriter.openForAppend(journal.path);
      if (journal.tornTail) {
        ftruncateSync(writer.fd!, journal.validLength);
        fsyncSync(writer.fd!);
        writer.size = journal.validLength;
      }
      return writer;
    } catch (error) {
      throw unusable(journal.path, `it cannot be written (${describeWriteError(error)})`);
    }
  }

  /** O_NOFOLLOW: the journal is a plain file of ours, never something a link points at. */
  private static openForAppend(path: string): JournalWriter {
    const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | (constants.O_NOFOLLOW ?? 0));
    return new JournalWriter(path, fd, fstatSync(fd).size);
  }

  /**
   * One line, all or nothing: a line that cannot be written whole (a full disk) is cut off again
   * and the error thrown as a StateError, so the journal never holds a glued or torn line that
   * would make every later resume fail. `durable` also waits until it is on disk.
   */
  append(entry: StateEntry, durable = false): void {
    if (this.fd === undefined) return;
    try {
      this.size = appendWhole(this.fd, Buffer.from(encodeLine(entry, this.replacer), "utf8"), this.size);
      if (durable) fsyncSync(this.fd);
    } catch (error) {
      throw new StateError(`cannot record the progress of the execution in '${this.path}': ${describeWriteError(error)}`, { hint: "free space on that file system (or choose another --state-directory) and run the same command again; finished steps are kept" });
    }
  }

  /** The execution is over: the journal goes, and its folder too when nothing else is in it. */
  remove(): void {
    this.close();
    rmSync(this.path, { force: true });
    try {
      rmdirSync(join(this.path, ".."));
    } catch {
      // not empty or not ours to remove
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function encodeLine(value: object, replacer?: (key: string, value: unknown) => unknown): string {
  const json = JSON.stringify(value, replacer);
  return `${json}\t${checksum(json)}\n`;
}

function decodeLine(line: string): unknown {
  const tab = line.lastIndexOf("\t");
  if (tab < 0) return undefined;
  const json = line.slice(0, tab);
  if (checksum(json) !== line.slice(tab + 1)) return undefined;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return undefined;
  }
}

function checksum(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

function header(path: string, value: unknown): StateHeader {
  const h = value as Partial<StateHeader>;
  if (h?.format !== FORMAT) throw unusable(path, "it is not an opentoe state file");
  if (h.version !== VERSION) throw unusable(path, `it was written in state format ${String(h.version)}, and this awstoe reads format ${VERSION}`, "finish or discard that execution with the awstoe version that started it");
  const fields: (keyof StateHeader)[] = ["executionId", "fingerprint", "logFolder", "startTime"];
  for (const field of fields) if (typeof h[field] !== "string") throw unusable(path, `its header has no ${field}`);
  if (!Array.isArray(h.documents)) throw unusable(path, "its header has no documents");
  return h as StateHeader;
}

function addEntry(journal: Journal, path: string, line: number, value: unknown): void {
  const entry = value as Partial<StateEntry>;
  if (typeof entry?.key !== "string") throw unusable(path, `line ${line} names no step`);
  if (entry.kind === "step" && typeof entry.record === "object" && entry.record !== null && typeof entry.data === "object" && Array.isArray(entry.chaining)) {
    journal.steps.set(entry.key, entry as StepEntry);
    journal.processes.delete(entry.key); // a finished step's programs were waited for
  } else if (entry.kind === "reboot" && typeof entry.rerun === "boolean") {
    journal.reboots.push(entry as RebootEntry);
  } else if (entry.kind === "process" && typeof entry.pgid === "number" && Number.isInteger(entry.pgid) && entry.pgid > 1) {
    const list = journal.processes.get(entry.key) ?? [];
    list.push(entry as ProcessEntry);
    journal.processes.set(entry.key, list);
  } else {
    throw unusable(path, `line ${line} is not a step or reboot record`);
  }
}

function unusable(path: string, why: string, hint?: string): StateError {
  return new StateError(`cannot resume from the state file '${path}': ${why}`, {
    hint: hint ?? `if that execution should not be resumed, delete the file and run again (its finished steps will run again)`,
  });
}
