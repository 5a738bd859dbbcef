/**
 * @module engine/document-run: running one document's phases and steps, with what its steps
 * share — the log, the log folder, chaining records and the context handed to modules.
 */
import type { LogFolder } from "../logs/log-folder.ts";
import type { ChainingEntry } from "../model/record.ts";
import type { RunLog } from "../logs/run-log.ts";
import { stepKey, type Scope, type StepData } from "../expr/scope.ts";
import { evaluateCondition } from "../expr/condition.ts";
import type { DocumentRecord, ExecutionRecord, PhaseRecord, RunSummary, StepRecord } from "../model/record.ts";
import type { StepEntry } from "../state/journal.ts";
import type { ExecutionJournal, RebootRequest } from "./resume.ts";
import { isFailure, rollUp, type Status } from "../model/status.ts";
import { isArnSource } from "../model/component-arn.ts";
import { nestedIn, StderrCapture, type FailureContext } from "./failure-context.ts";
import { localTimestamp } from "../model/time.ts";
import type { ModuleContext, NestedRunRequest } from "../modules/index.ts";
import type { EngineDeps } from "./deps.ts";
import type { ReadyDocument } from "./prepare.ts";
import { runStep } from "./step.ts";
import { isRecord } from "../model/platform.ts";

export interface Counters {
  executed: number;
  /** Steps that failed or timed out. */
  failed: number;
  /** Steps whose failure was ignored (onFailure: Ignore). */
  ignored: number;
  /** Steps whose `if` skipped them. */
  skipped: number;
}

/** What the document run needs from the execution around it. */
export interface ExecutionHooks {
  /** Rewrites detailedoutput.json of the top-level execution. */
  save(): void;
  /** Runs a nested document for ExecuteDocument (depth and cycles are checked there). */
  runNested(request: NestedRunRequest, parent: DocumentRun): Promise<{ record: ExecutionRecord; summary: RunSummary; reboot?: boolean }>;
  /** Finished steps are journaled here, and restored from it after a reboot. */
  journal: ExecutionJournal;
  /**
   * Ends the execution for a reason outside any step (a log or state file that cannot be written
   * any more): the running step is stopped and no further step starts.
   */
  halt(reason: string): void;
}

export class DocumentRun {
  readonly chaining: ChainingEntry[] = [];
  stopped = false;
  /** Set when a step (here or in a nested document) asked for a reboot: the run stops for it. */
  rebootRequest: RebootRequest | undefined;
  /** The key of the step running now (nested documents hang their keys below it). */
  currentKey = "";
  /** The first step of this document that failed or timed out, for console.log's failure context. */
  firstFailure: FailureContext | undefined;
  /** Set by the nested runner: the first failure inside the document an ExecuteDocument step ran. */
  nestedFailure: FailureContext | undefined;
  /** Standard error of the running step's programs (reset at each attempt, by engine/step.ts). */
  readonly stepStderr = new StderrCapture();

  constructor(
    readonly deps: EngineDeps,
    readonly log: RunLog,
    readonly folder: LogFolder,
    readonly doc: ReadyDocument,
    readonly record: DocumentRecord,
    readonly counters: Counters,
    private readonly hooks: ExecutionHooks,
    /** Documents from the top down to this one, by identity (cycle detection). */
    readonly ancestors: readonly string[],
    /** Folder prefix for step files of nested executions. */
    private readonly folderPrefix: string,
    /** Start of this document's step keys: `d<n>`, or `<ExecuteDocument step key>>d0` when nested. */
    private readonly keyPrefix: string,
  ) {}

  /** Why this step may not reboot the machine (the reboot budget is spent), or undefined. */
  rebootRefusal(): string | undefined {
    return this.hooks.journal.rebootRefusal();
  }

  /** Runs the selected phases in document order; stops early after an Abort-level failure. */
  async run(phases: readonly string[] | undefined): Promise<void> {
    const steps = new Map<string, StepData>();
    const scope = (): Scope => ({ variables: this.doc.variables, steps });
    const docName = this.record.name || this.doc.source;
    for (const [phaseIndex, phase] of (this.doc.doc.phases as Record<string, unknown>[]).entries()) {
      const phaseName = String(phase.name);
      if (phases !== undefined && phases.length > 0 && !phases.includes(phaseName)) continue;
      const phaseRecord: PhaseRecord = { name: phaseName, status: "running", startTime: localTimestamp(this.deps.now()), endTime: "", failureMessage: "", steps: [] };
      /** The status of the step that ended this phase early, if one did (a timed-out one makes it timedOut). */
      let stoppedBy: Status | undefined;
      this.record.phases.push(phaseRecord);
      for (const [stepIndex, step] of (phase.steps as Record<string, unknown>[]).entries()) {
        if (!isRecord(step)) continue;
        if (this.deps.signal.aborted) {
          this.stopped = true; // interrupted or halted: no further step starts
          break;
        }
        const key = `${this.keyPrefix}/${phaseName}/${stepIndex}`;
        const restored = this.hooks.journal.finished(key);
        if (restored !== undefined) {
          this.restore(restored, phaseName, phaseRecord, steps);
          continue;
        }
        const stepPath = ["phases", phaseIndex, "steps", stepIndex];
        if (this.deps.interactive) this.log.debug(`[${docName}] ${phaseName}/${String(step.name)}: starting ${String(step.action)}`);
        else this.log.progress(`[${docName}] ${phaseName}/${String(step.name)}: running ${String(step.action)}`);
        const started = performance.now();
        const chainingBefore = this.chaining.length;
        this.currentKey = key;
        this.nestedFailure = undefined;
        this.stepStderr.reset();
        const outcome = await runStep(this, phaseName, step, stepPath, scope(), this.hooks.journal.decided(key));
        if (outcome.reboot?.rerun) {
          // Not finished: it runs again after the restart, so nothing of it is kept now.
          this.chaining.length = chainingBefore;
          this.rebootRequest = this.nestedReboot ?? { key, step: `${phaseName}/${outcome.record.name}`, rerun: true, ...(outcome.reboot.exitCode === undefined ? {} : { exitCode: outcome.reboot.exitCode }) };
          this.log.progress(`[${docName}] ${phaseName}/${outcome.record.name}: asked for a reboot${outcome.reboot.exitCode === undefined ? "" : ` (exit code ${outcome.reboot.exitCode})`}; it runs again after the restart`);
          break;
        }
        steps.set(stepKey(phaseName, String(step.name)), outcome.data);
        this.tally(outcome.record, outcome.executed, phaseName, phaseRecord);
        this.noteFailure(phaseName, outcome.record, this.stepStderr.text());
        this.journal(() => this.hooks.journal.stepFinished({
          key,
          executed: outcome.executed,
          record: outcome.record as unknown as Record<string, unknown>,
          data: { inputs: [...outcome.data.inputs], outputs: outcome.data.outputs === undefined ? null : [...outcome.data.outputs] },
          chaining: this.chaining.slice(chainingBefore),
          phaseStartTime: phaseRecord.startTime,
          documentStartTime: this.record.startTime,
        }));
        this.progress(docName, phaseName, outcome.record.name, outcome.record.status, performance.now() - started, outcome.record.failureMessage);
        this.hooks.save();
        if (outcome.reboot) {
          this.rebootRequest = { key, step: `${phaseName}/${outcome.record.name}`, rerun: false };
          this.log.progress(`[${docName}] ${phaseName}/${outcome.record.name}: reboot requested; the run goes on with the next step after the restart`);
          break;
        }
        if (outcome.stop) {
          this.stopped = true;
          stoppedBy = outcome.record.status;
          break;
        }
      }
      if (this.rebootRequest !== undefined) {
        this.stopped = true;
        this.hooks.save();
        return; // statuses stay "running": the execution is not over
      }
      phaseRecord.status = rollUp(phaseRecord.steps.map((s) => s.status), stoppedBy);
      phaseRecord.endTime = localTimestamp(this.deps.now());
      if (this.record.failureMessage === "" && phaseRecord.failureMessage !== "") this.record.failureMessage = phaseRecord.failureMessage;
      this.hooks.save();
      if (this.stopped) break;
    }
    this.record.status = rollUp(this.record.phases.map((p) => p.status), this.stopped ? this.record.phases.at(-1)?.status : undefined);
    this.record.endTime = localTimestamp(this.deps.now());
  }

  /** A journal write; one that fails halts the execution rather than letting it go on unrecorded. */
  private journal(write: () => void): void {
    try {
      write();
    } catch (error) {
      this.hooks.halt((error as Error).message);
    }
  }

  /** Set by the nested runner when a step of a nested document asked for the reboot. */
  nestedReboot: RebootRequest | undefined;

  /** A step finished before a restart, put back as it was: record, chaining data, counters. */
  private restore(entry: StepEntry, phaseName: string, phaseRecord: PhaseRecord, steps: Map<string, StepData>): void {
    const record = entry.record as unknown as StepRecord;
    // A journal written before the status words changed says `ignored`.
    if ((record.status as string) === "ignored") record.status = "ignoredFailure";
    if (phaseRecord.steps.length === 0) phaseRecord.startTime = entry.phaseStartTime;
    this.record.startTime = entry.documentStartTime;
    steps.set(stepKey(phaseName, record.name), { inputs: entry.data.inputs, outputs: entry.data.outputs ?? undefined });
    this.chaining.push(...entry.chaining);
    this.tally(record, entry.executed, phaseName, phaseRecord);
    this.noteFailure(phaseName, record, ""); // its standard error went with the process that ran it
    this.log.debug(`${phaseName}/${record.name}: finished before the restart (${record.status}); not run again`);
  }

  /** Adds a finished step to its phase record and the counters. */
  private tally(record: StepRecord, executed: boolean, phaseName: string, phaseRecord: PhaseRecord): void {
    phaseRecord.steps.push(record);
    if (executed) this.counters.executed++;
    if (isFailure(record.status)) this.counters.failed++;
    if (record.status === "ignoredFailure") this.counters.ignored++;
    if (record.status === "skipped") this.counters.skipped++;
    if (isFailure(record.status) && phaseRecord.failureMessage === "") {
      phaseRecord.failureMessage = `step '${phaseName}/${record.name}' failed: ${record.failureMessage}`;
    }
  }

  /**
   * Keeps the first failed (or timed-out) step for the failure context. An ExecuteDocument step
   * that failed because a step of its document did names that inner step, under this document.
   */
  private noteFailure(phaseName: string, record: StepRecord, stderr: string): void {
    if (this.firstFailure !== undefined || !isFailure(record.status)) return;
    const document = this.record.name || this.doc.source;
    const componentArn = isArnSource(this.doc.source) ? { componentArn: this.doc.source } : {};
    const inner = this.nestedFailure;
    this.firstFailure = inner !== undefined
      ? nestedIn(inner, { document, ...componentArn, via: `${phaseName}/${record.name}` })
      : { document, ...componentArn, nested: [], phase: phaseName, step: record.name, action: record.action, errorMessage: record.failureMessage, stderr };
  }

  /** The context one module call gets; side effects come from the engine's deps. */
  moduleContext(signal: AbortSignal, usedBy: string): ModuleContext {
    const [phase = "", step = ""] = usedBy.split("/");
    const log = this.log;
    return {
      platform: this.deps.platform,
      cwd: this.deps.cwd,
      signal,
      workFile: (name) => this.folder.stepFile(`${this.folderPrefix}${phase}`, step, name),
      exec: (request) => {
        log.debug(`${usedBy}: running ${request.command} ${request.args.join(" ")}`);
        const key = this.currentKey;
        const onOutput = (stream: "stdout" | "stderr", text: string) => {
          log.output(text);
          if (stream === "stderr") this.stepStderr.add(text);
        };
        return this.deps.exec({ cwd: this.deps.cwd, ...request, signal, onOutput, onSpawn: (pid) => this.journal(() => this.hooks.journal.processStarted(key, pid)) });
      },
      shell: this.deps.shell,
      s3: this.deps.s3,
      log: {
        debug: (m) => log.debug(`${usedBy}: ${m}`),
        info: (m) => log.info(`${usedBy}: ${m}`),
        warn: (m) => log.warn(`${usedBy}: ${m}`),
      },
      print: (text) => log.output(text.endsWith("\n") ? text : `${text}\n`),
      evaluate: (expression) => evaluateCondition(expression, (text) => text, this.deps.probe),
      runDocument: (request) => this.hooks.runNested(request, this),
    };
  }

  private progress(doc: string, phase: string, step: string, status: string, ms: number, failure: string): void {
    const c = this.log.palette;
    const seconds = `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
    const plain = `[${doc}] ${phase}/${step}: ${status} (${seconds})${failure ? ` — ${failure}` : ""}`;
    const bad = status === "failed" || status === "timedOut";
    const paint = status === "success" ? c.green : bad ? c.red : status === "skipped" ? c.dim : c.yellow;
    const mark = status === "success" ? "✔" : bad ? "✖" : status === "skipped" ? "↷" : "!";
    const coloured = `${paint(mark)} ${c.dim(`[${doc}]`)} ${phase}/${c.bold(step)}: ${paint(status)} ${c.dim(`(${seconds})`)}${failure ? ` — ${failure}` : ""}`;
    this.log.progress(plain, coloured);
  }
}
