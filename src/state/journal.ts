/**
 * @module state/journal: the resume state of one execution (cli.md §10) as an append-only journal.
 *
 * Line 1 is a header naming the execution; each later line records one finished step or one
 * reboot. Every line carries a checksum of its own text. A step's line is one write() call, so
 * killing awstoe at any moment leaves whole lines only; a reboot's line is also fsync'd, because
 * that one must survive the power cycle that follows. Appending costs microseconds per step,
 * where rewriting a whole state file (write, fsync, rename) cost about a millisecond on ext4.
 *
 * A torn last line can only come from a power loss in the middle of a step's line (never after a
 * reboot's, which was synced): it is dropped and that step runs again. Anything else that does
 * not check out is a StateError — never a silent fresh start that would repeat finished steps.
 */
import { createHash } from "node:crypto";
import { closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, rmdirSync, writeSync } from "node:fs";
import { join } from "node:path";
import { StateError } from "../errors.ts";

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
}

export interface StepEntry {
  kind: "step";
  /** Position of the step: `d<doc>/<phase>/<index>`, nested steps after `>`. */
  key: string;
  executed: boolean;
  record: Record<string, unknown>;
  data: { inputs: Record<string, unknown>[]; outputs: Record<string, unknown>[] | null };
  chaining: { expression: string; usedBy: string; resolved: boolean }[];
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

export type StateEntry = StepEntry | RebootEntry;

export interface Journal {
  path: string;
  header: StateHeader;
  steps: Map<string, StepEntry>;
  reboots: RebootEntry[];
  /** Bytes of whole, checked lines; anything after them is a torn tail to cut off. */
  validLength: number;
  /** Set when a torn last line was dropped. */
  tornTail: boolean;
}

/** The journal in `directory`, or undefined when there is none. Throws StateError when unusable. */
export function readJournal(directory: string): Journal | undefined {
  const path = join(directory, STATE_FILE);
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
  const journal: Journal = { path, header: undefined as unknown as StateHeader, steps: new Map(), reboots: [], validLength: 0, tornTail: lines.at(-1) !== "" };
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
  ) {}

  /** A new journal holding only the header, put in place whole (temp file, fsync, rename). */
  static create(directory: string, header: Omit<StateHeader, "format" | "version">): JournalWriter {
    const path = join(directory, STATE_FILE);
    try {
      mkdirSync(directory, { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      const fd = openSync(temporary, "w");
      try {
        writeSync(fd, encodeLine({ format: FORMAT, version: VERSION, ...header }));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, path);
      syncFolder(directory);
      return new JournalWriter(path, openSync(path, "a"));
    } catch (error) {
      throw new StateError(`cannot keep resume state in '${directory}': ${(error as Error).message}`, { hint: "choose a writable folder that survives reboots with --state-directory" });
    }
  }

  /** Reopens a journal to go on after a reboot or crash, cutting off a torn last line first. */
  static resume(journal: Journal): JournalWriter {
    try {
      const fd = openSync(journal.path, "r+");
      if (journal.tornTail) {
        ftruncateSync(fd, journal.validLength);
        fsyncSync(fd);
      }
      closeSync(fd);
      return new JournalWriter(journal.path, openSync(journal.path, "a"));
    } catch (error) {
      throw unusable(journal.path, `it cannot be written (${(error as Error).message})`);
    }
  }

  /** One line in one write() call; `durable` also waits until it is on disk. */
  append(entry: StateEntry, durable = false): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, encodeLine(entry));
    if (durable) fsyncSync(this.fd);
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

function encodeLine(value: object): string {
  const json = JSON.stringify(value);
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
  } else if (entry.kind === "reboot" && typeof entry.rerun === "boolean") {
    journal.reboots.push(entry as RebootEntry);
  } else {
    throw unusable(path, `line ${line} is not a step or reboot record`);
  }
}

function unusable(path: string, why: string, hint?: string): StateError {
  return new StateError(`cannot resume from the state file '${path}': ${why}`, {
    hint: hint ?? `if that execution should not be resumed, delete the file and run again (its finished steps will run again)`,
  });
}

/** Makes a rename in `directory` itself durable (POSIX); Windows cannot open folders, and needs not. */
function syncFolder(directory: string): void {
  if (process.platform === "win32") return;
  const fd = openSync(directory, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
