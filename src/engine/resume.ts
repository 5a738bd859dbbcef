/**
 * @module engine/resume: what an execution remembers across reboots and crashes (docs/reboot.md §5).
 *
 * Every finished step is journaled (state/journal.ts) with its record, what chaining may read and
 * its chaining entries. A resumed run walks the documents again: journaled steps are restored,
 * not run; the step that asked for a reboot with 194/3010 runs again from its start without
 * evaluating its `if` again (nor the `if` of the ExecuteDocument steps around it); after the
 * Reboot module the next step runs. Step positions are keys like `d0/build/3`, and a nested
 * document's steps hang below their ExecuteDocument step: `d0/build/3>d0/test/0`.
 */
import { JournalWriter, type Journal, type RebootEntry, type StepEntry } from "../state/journal.ts";
import { archiveJournal } from "../state/archive.ts";
import { bootId, startTicks } from "../platform/process-identity.ts";
import type { RebootRequest } from "../modules/index.ts";

/** Standalone reboots allowed per execution before the asking step fails (docs/reboot.md §6, inferred). */
export const MAX_REBOOTS = 10;

/** A reboot request with its asking step filled in (what the journal records). */
export type PlacedReboot = RebootRequest & { from: NonNullable<RebootRequest["from"]> };

export class ExecutionJournal {
  private constructor(
    /** Undefined when the run keeps no state (no state directory): nothing is journaled. */
    private readonly writer: JournalWriter | undefined,
    private readonly restored: ReadonlyMap<string, StepEntry>,
    private readonly lastReboot: RebootEntry | undefined,
    private reboots: number,
  ) {}

  static fresh(writer: JournalWriter | undefined): ExecutionJournal {
    return new ExecutionJournal(writer, new Map(), undefined, 0);
  }

  static resumed(journal: Journal): ExecutionJournal {
    return new ExecutionJournal(JournalWriter.resume(journal), journal.steps, journal.reboots.at(-1), journal.reboots.length);
  }

  /** Secret values are masked in every line written from now on (logs/mask.ts). */
  maskWith(replacer: (key: string, value: unknown) => unknown): void {
    this.writer?.maskWith(replacer);
  }

  /** A step finished before the restart: its entry, to restore instead of running it. */
  finished(key: string): StepEntry | undefined {
    return this.restored.get(key);
  }

  /** The step (or an ExecuteDocument step around it) whose `if` already said Execute before the reboot. */
  decided(key: string): boolean {
    const last = this.lastReboot;
    if (last === undefined) return false;
    return (last.rerun && last.key === key) || last.key.startsWith(`${key}>`);
  }

  get rebootCount(): number {
    return this.reboots;
  }

  /** Why another reboot may not happen, or undefined when it may. */
  rebootRefusal(): string | undefined {
    if (this.reboots < MAX_REBOOTS) return undefined;
    return `the step asked for reboot number ${this.reboots + 1}, and an execution may reboot at most ${MAX_REBOOTS} times (does the document reboot on every run?)`;
  }

  stepFinished(entry: Omit<StepEntry, "kind">): void {
    this.writer?.append({ kind: "step", ...entry });
  }

  /**
   * A step's program started as the leader of process group `pid`: journaled, so that a run
   * resuming after awstoe was killed can stop what the step left running before running it again.
   */
  processStarted(key: string, pid: number): void {
    if (this.writer === undefined) return;
    const boot = bootId();
    const started = startTicks(pid);
    this.writer.append({ kind: "process", key, pgid: pid, ...(boot === undefined ? {} : { boot }), ...(started === undefined ? {} : { started }), at: new Date().toISOString() });
  }

  /** Written and synced before the machine restarts or the reboot is handed over. */
  rebootRequested(request: PlacedReboot, at: string): void {
    this.reboots++;
    this.writer?.append({ kind: "reboot", key: request.from.key, rerun: request.rerunStep, exitCode: request.exitCode ?? null, at }, true);
  }

  /** The execution ended (not by a reboot): nothing is left to resume. */
  finish(): void {
    this.writer?.remove();
  }

  /**
   * The execution ended without success: its journal moves to the state folder's archive, so
   * `run --retry` can restore its finished steps (state/archive.ts). Returns where it went.
   */
  keepForRetry(stateDirectory: string, executionId: string): string | undefined {
    if (this.writer === undefined) return undefined;
    this.writer.close();
    return archiveJournal(stateDirectory, this.writer.path, executionId);
  }

  /** Leaves the journal for the run after the restart. */
  suspend(): void {
    this.writer?.close();
  }
}
