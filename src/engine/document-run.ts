/**
 * @module engine/document-run: running one document's phases and steps, with what its steps
 * share — the log, the log folder, chaining records and the context handed to modules.
 */
import type { LogFolder } from "../logs/log-folder.ts";
import type { Masker } from "../logs/mask.ts";
import type { HostValues } from "./host-values.ts";
import type { RunLog } from "../logs/run-log.ts";
import type { Palette } from "../logs/terminal.ts";
import { stepKey, type Scope, type StepData } from "../expr/scope.ts";
import { evaluateCondition } from "../expr/condition.ts";
import type { ChainingEntry, DocumentRecord, ExecutionRecord, PhaseRecord, RunSummary, StepRecord } from "../model/record.ts";
import type { StepEntry } from "../state/journal.ts";
import type { ExecutionJournal, PlacedReboot } from "./resume.ts";
import type { LeftOut, StepSelection } from "./rerun-plan.ts";
import { isFailure, rollUp, type Status } from "../model/status.ts";
import { isArnSource } from "../model/component-arn.ts";
import { nestedIn, StderrCapture, type FailureContext } from "./failure-context.ts";
import { localTimestamp } from "../model/time.ts";
import type { ModuleContext, NestedRunRequest } from "../modules/index.ts";
import type { EngineDeps } from "./deps.ts";
import type { ReadyDocument } from "./prepare.ts";
import { compileStep } from "./compile-step.ts";
import { runStep, type StepHost } from "./step.ts";
import { StepWatch } from "./step-watch.ts";
import { StepLog } from "../logs/step-log.ts";
import type { RecapEntry } from "./recap.ts";
import { isRecord } from "../model/platform.ts";
import { rmSync } from "node:fs";

export interface Counters {
  executed: number;
  /** Steps that failed or timed out. */
  failed: number;
  /** Steps whose failure was ignored (onFailure: Ignore). */
  ignored: number;
  /** Steps whose `if` skipped them. */
  skipped: number;
}

/** How a document run ended. */
export interface DocumentOutcome {
  record: DocumentRecord;
  /** Chaining references of its steps (nested documents' included), in the order they were met. */
  chaining: ChainingEntry[];
  /** The first step that failed or timed out, for console.log's failure context. */
  firstFailure: FailureContext | undefined;
  /** It ended early: an Abort-level failure, an interruption, or the reboot below. */
  stopped: boolean;
  /** A step (here or in a nested document) asked for a reboot: the execution stops for it. */
  reboot?: PlacedReboot;
}

/** What a nested document run hands back to the ExecuteDocument step that ran it. */
export interface NestedOutcome extends DocumentOutcome {
  execution: ExecutionRecord;
  summary: RunSummary;
}

/** What the document run needs from the execution around it. */
/** Environment variable every step program gets: `<executionId>:<step key>`. */
export const STEP_MARKER = "OPENTOE_STEP";

export interface Execution {
  /** The top-level execution's id (nested documents share it in their step markers). */
  executionId: string;
  deps: EngineDeps;
  log: RunLog;
  folder: LogFolder;
  /** Finished steps are journaled here, and restored from it after a reboot. */
  journal: ExecutionJournal;
  /** Secret values to keep out of everything written (program output is masked as it streams). */
  masker: Masker;
  /** Answers env:, context:, aws:imds: and aws:ssm: references. */
  hostValues: HostValues;
  /** Top-level steps as they end, for the recap. */
  recap: RecapEntry[];
  /** Rewrites detailedoutput.json of the top-level execution. */
  save(): void;
  /**
   * Ends the execution for a reason outside any step (a log or state file that cannot be written
   * any more): the running step is stopped and no further step starts.
   */
  halt(reason: string): void;
  /** `run --from`/`--only`: the top-level steps that do not run, and what chaining reads of them. */
  selection?: StepSelection;
  /** Runs a nested document for ExecuteDocument (depth and cycles are checked there). */
  runNested(request: NestedRunRequest, parent: Parent): Promise<NestedOutcome>;
}

/** The ExecuteDocument step a nested document runs for. */
export interface Parent {
  /** Documents from the top down to the parent's, by identity (cycle detection). */
  ancestors: readonly string[];
  /** The step's journal key: the nested document's step keys hang below it. */
  key: string;
}

/** The step running now, and what its module calls leave besides their results. */
interface RunningStep {
  key: string;
  phase: string;
  name: string;
  /** Standard error of its programs in the current attempt. */
  stderr: StderrCapture;
  /** What the document its ExecuteDocument ran left: chaining references, its first failure. */
  nestedChaining: ChainingEntry[];
  nestedFailure?: FailureContext;
  /** `disableLogging: true`: what its programs print goes to no log and no terminal. */
  quiet: boolean;
  /** Files the module generated (steps/<phase>/<step>.*). */
  workFiles: Set<string>;
  /** The live line, heartbeat and output header of the step. */
  watch: StepWatch;
  /** steps/<phase>/<step>.log */
  stepLog: StepLog;
}

export class DocumentRun {
  readonly record: DocumentRecord;
  private readonly chaining: ChainingEntry[] = [];
  private firstFailure: FailureContext | undefined;

  private constructor(
    private readonly execution: Execution,
    private readonly doc: ReadyDocument,
    readonly counters: Counters,
    /** Documents from the top down to this one, by identity (cycle detection). */
    private readonly ancestors: readonly string[],
    /** Folder prefix for step files of nested executions. */
    private readonly folderPrefix: string,
    /** Start of this document's step keys: `d<n>`, or `<ExecuteDocument step key>>d0` when nested. */
    private readonly keyPrefix: string,
  ) {
    this.record = newDocumentRecord(doc, execution.deps.ports.now());
  }

  /** Document `index` of the execution; its steps count in the execution's `counters`. */
  static topLevel(options: { execution: Execution; doc: ReadyDocument; index: number; counters: Counters }): DocumentRun {
    const { execution, doc, index, counters } = options;
    return new DocumentRun(execution, doc, counters, [doc.identity], "", `d${index}`);
  }

  /** The document an ExecuteDocument step runs, as the child execution `executionId`, with counters of its own. */
  static nested(options: { execution: Execution; doc: ReadyDocument; parent: Parent; executionId: string }): DocumentRun {
    const { execution, doc, parent, executionId } = options;
    const counters: Counters = { executed: 0, failed: 0, ignored: 0, skipped: 0 };
    return new DocumentRun(execution, doc, counters, [...parent.ancestors, doc.identity], `nested-${executionId.slice(0, 8)}/`, `${parent.key}>d0`);
  }

  /** Runs the selected phases in document order; stops early after an Abort-level failure. */
  async run(phases: readonly string[] | undefined): Promise<DocumentOutcome> {
    const { deps, log, journal } = this.execution;
    const steps = new Map<string, StepData>();
    const scope = (): Scope => ({ variables: this.doc.variables, steps });
    const docName = this.record.name || this.doc.source;
    let stopped = false;
    let reboot: PlacedReboot | undefined;
    for (const [phaseIndex, phase] of (this.doc.doc.phases as Record<string, unknown>[]).entries()) {
      const phaseName = String(phase.name);
      if (phases !== undefined && phases.length > 0 && !phases.includes(phaseName)) continue;
      const phaseRecord: PhaseRecord = { name: phaseName, status: "running", startTime: localTimestamp(deps.ports.now()), endTime: "", failureMessage: "", steps: [] };
      /** The status of the step that ended this phase early, if one did (a timed-out one makes it timedOut). */
      let stoppedBy: Status | undefined;
      this.record.phases.push(phaseRecord);
      for (const [stepIndex, step] of (phase.steps as Record<string, unknown>[]).entries()) {
        if (!isRecord(step)) continue;
        if (deps.ports.signal.aborted) {
          stopped = true; // interrupted or halted: no further step starts
          break;
        }
        const key = `${this.keyPrefix}/${phaseName}/${stepIndex}`;
        const restored = journal.finished(key);
        if (restored !== undefined) {
          this.restore(restored, phaseName, phaseRecord, steps);
          this.noteForRecap(key, `[${docName}] ${phaseName}/${String(step.name)}`, restored.record as unknown as StepRecord, undefined);
          continue;
        }
        const leftOut = this.execution.selection?.leftOut(key);
        if (leftOut !== undefined) {
          this.leaveOut(key, step, [phaseIndex, stepIndex], phaseName, phaseRecord, steps, leftOut);
          continue;
        }
        // Host references are read as the step starts: what they need from the network first.
        const hostValues = this.execution.hostValues;
        await hostValues.prefetch(step, this.doc.variables);
        const lookup = hostValues.lookup(phaseName, String(step.name));
        const compiled = compileStep(this.doc, phaseName, step, ["phases", phaseIndex, "steps", stepIndex], { ...scope(), host: lookup }, deps.ports.probe, journal.decided(key));
        const where = `[${docName}] ${phaseName}/${compiled.name}`;
        if (deps.presentation.interactive) log.debug(`${where}: starting ${compiled.action}`);
        else log.progress(`${where}: running ${compiled.action}`);
        const started = performance.now();
        const { interactive, github, heartbeatMs } = deps.presentation;
        const watch = new StepWatch(log, { interactive, github, heartbeatMs }, where, compiled.action);
        const stepLog = new StepLog(this.execution.folder.stepFile(`${this.folderPrefix}${phaseName}`, compiled.name, "log"), `${where} (${compiled.action}), started ${localTimestamp(deps.ports.now())}`, (text) => this.execution.masker.mask(text));
        const running: RunningStep = { key, phase: phaseName, name: compiled.name, stderr: new StderrCapture(), nestedChaining: [], quiet: step.disableLogging === true, workFiles: new Set(), watch, stepLog };
        let outcome: Awaited<ReturnType<typeof runStep>>;
        try {
          outcome = await runStep(compiled, this.stepHost(running));
        } finally {
          watch.end();
        }
        stepLog.end(outcome.finished ? stepEnding(outcome.record, performance.now() - started) : "asked for a reboot; it runs again after the restart");
        this.removeSecretFiles(running, lookup.usedSecret || (outcome.finished && this.holdsSecret(outcome.data.inputs)));
        if (!outcome.finished) {
          // Not finished: it runs again after the restart, so nothing of it is kept now.
          reboot = outcome.reboot;
          const code = reboot.from.key === key && reboot.exitCode !== undefined ? ` (exit code ${reboot.exitCode})` : "";
          log.progress(`${where}: asked for a reboot${code}; it runs again after the restart`);
          break;
        }
        const chaining = [...running.nestedChaining, ...outcome.uses];
        this.chaining.push(...chaining);
        steps.set(stepKey(phaseName, compiled.name), outcome.data);
        this.tally(outcome.record, outcome.executed, phaseName, phaseRecord);
        this.noteForRecap(key, where, outcome.record, outcome.note);
        this.noteFailure(phaseName, outcome.record, running.stderr.text(), running.nestedFailure);
        this.journal(() => journal.stepFinished({
          key,
          executed: outcome.executed,
          record: outcome.record as unknown as Record<string, unknown>,
          data: { inputs: [...outcome.data.inputs], outputs: outcome.data.outputs === undefined ? null : [...outcome.data.outputs] },
          chaining,
          phaseStartTime: phaseRecord.startTime,
          documentStartTime: this.record.startTime,
        }));
        this.progress(docName, phaseName, outcome.record, performance.now() - started);
        this.execution.save();
        if (outcome.reboot) {
          reboot = outcome.reboot;
          log.progress(`${where}: reboot requested; the run goes on with the next step after the restart`);
          break;
        }
        if (outcome.stop) {
          stopped = true;
          stoppedBy = outcome.record.status;
          break;
        }
      }
      if (reboot !== undefined) {
        this.execution.save();
        // Statuses stay "running": the execution is not over.
        return { record: this.record, chaining: this.chaining, firstFailure: this.firstFailure, stopped: true, reboot };
      }
      phaseRecord.status = rollUp(phaseRecord.steps.map((s) => s.status), stoppedBy);
      phaseRecord.endTime = localTimestamp(deps.ports.now());
      this.record.failureMessage = joinFailures(this.record.failureMessage, phaseRecord.failureMessage);
      this.execution.save();
      if (stopped) break;
    }
    this.record.status = rollUp(this.record.phases.map((p) => p.status), stopped ? this.record.phases.at(-1)?.status : undefined);
    this.record.endTime = localTimestamp(deps.ports.now());
    return { record: this.record, chaining: this.chaining, firstFailure: this.firstFailure, stopped };
  }

  /** A journal write; one that fails halts the execution rather than letting it go on unrecorded. */
  private journal(write: () => void): void {
    try {
      write();
    } catch (error) {
      this.execution.halt((error as Error).message);
    }
  }

  private stepHost(running: RunningStep): StepHost {
    return {
      ports: this.execution.deps.ports,
      log: this.execution.log,
      key: running.key,
      moduleContext: (signal) => this.moduleContext(signal, running),
      attemptStarts: () => running.stderr.reset(),
      callStarts: (iteration, inputs) => running.stepLog.inputs(iteration, inputs),
      rebootRefusal: () => this.execution.journal.rebootRefusal(),
    };
  }

  /**
   * A step whose inputs held a secret wrote it into its generated files (a script must contain
   * it to run): they go as soon as the step is over, so no copy of the log folder carries it.
   */
  private removeSecretFiles(running: RunningStep, secret: boolean): void {
    if (!secret) return;
    for (const file of running.workFiles) {
      try {
        rmSync(file, { force: true });
      } catch (error) {
        this.execution.log.warn(`${running.phase}/${running.name}: could not remove '${file}', which holds a secret value: ${(error as Error).message}`);
      }
    }
  }

  /** Whether resolved inputs carry a secret some other way (a nested document's parameter). */
  private holdsSecret(inputs: unknown): boolean {
    const { masker } = this.execution;
    if (!masker.active) return false;
    const text = JSON.stringify(inputs);
    return masker.mask(text) !== text;
  }

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
    this.noteFailure(phaseName, record, "", undefined); // its standard error went with the process that ran it
    if (record.restored === true) this.execution.log.progress(`[${this.record.name || this.doc.source}] ${phaseName}/${record.name}: restored — ${record.status} in an earlier attempt; not run again (--retry)`);
    else this.execution.log.debug(`${phaseName}/${record.name}: finished before the restart (${record.status}); not run again`);
  }

  /**
   * A step `--from`/`--only` leaves out: recorded as skipped with the reason, journaled like any
   * finished step (a reboot later in the run restores it), and chainable with what the earlier
   * execution of --outputs-from left.
   */
  private leaveOut(key: string, step: Record<string, unknown>, [phaseIndex, stepIndex]: [number, number], phaseName: string, phaseRecord: PhaseRecord, steps: Map<string, StepData>, leftOut: LeftOut): void {
    const { deps, log } = this.execution;
    // Compiled only for its effective fields (no host lookup: nothing is fetched for a step that does not run).
    const compiled = compileStep(this.doc, phaseName, step, ["phases", phaseIndex, "steps", stepIndex], { variables: this.doc.variables, steps }, deps.ports.probe);
    const now = localTimestamp(deps.ports.now());
    const record: StepRecord = {
      name: compiled.name, status: "skipped", failureMessage: "", timeoutSeconds: compiled.timeoutSeconds, onFailure: compiled.onFailure, maxAttempts: compiled.maxAttempts, action: compiled.action,
      startTime: now, endTime: now, durationMs: 0, inputs: JSON.stringify(leftOut.data?.inputs ?? []), outputs: JSON.stringify(leftOut.data?.outputs ?? []), loop: null, detailedOutput: null, notSelected: leftOut.reason,
    };
    if (leftOut.data !== undefined) steps.set(stepKey(phaseName, compiled.name), leftOut.data);
    this.tally(record, false, phaseName, phaseRecord);
    const where = `[${this.record.name || this.doc.source}] ${phaseName}/${compiled.name}`;
    this.noteForRecap(key, where, record, leftOut.reason);
    const data = leftOut.data === undefined ? { inputs: [], outputs: null } : { inputs: [...leftOut.data.inputs], outputs: leftOut.data.outputs === undefined ? null : [...leftOut.data.outputs] };
    this.journal(() => this.execution.journal.stepFinished({ key, executed: false, record: record as unknown as Record<string, unknown>, data, chaining: [], phaseStartTime: phaseRecord.startTime, documentStartTime: this.record.startTime }));
    log.progress(`${where}: not run — ${leftOut.reason}`);
    this.execution.save();
  }

  /** A top-level step for the recap (a nested document's steps are summed up by their ExecuteDocument step). */
  private noteForRecap(key: string, where: string, record: StepRecord, note: string | undefined): void {
    if (key.includes(">")) return;
    this.execution.recap.push({ key, where, action: record.action, status: record.status, reason: record.failureMessage || note || record.notSelected || "", ...(record.restored === true ? { restored: true } : {}) });
  }

  /** Adds a finished step to its phase record and the counters. */
  private tally(record: StepRecord, executed: boolean, phaseName: string, phaseRecord: PhaseRecord): void {
    phaseRecord.steps.push(record);
    if (executed) this.counters.executed++;
    if (isFailure(record.status)) this.counters.failed++;
    if (record.status === "ignoredFailure") this.counters.ignored++;
    if (record.status === "skipped") this.counters.skipped++;
    // Every failed step is named, not only the first (onFailure: Continue lets several fail).
    if (isFailure(record.status)) phaseRecord.failureMessage = joinFailures(phaseRecord.failureMessage, `step '${phaseName}/${record.name}' failed: ${record.failureMessage}`);
  }

  /**
   * Keeps the first failed (or timed-out) step for the failure context. An ExecuteDocument step
   * that failed because a step of its document did (`inner`) names that inner step, under this document.
   */
  private noteFailure(phaseName: string, record: StepRecord, stderr: string, inner: FailureContext | undefined): void {
    if (this.firstFailure !== undefined || !isFailure(record.status)) return;
    const document = this.record.name || this.doc.source;
    const componentArn = isArnSource(this.doc.source) ? { componentArn: this.doc.source } : {};
    if (inner !== undefined) this.firstFailure = nestedIn(inner, { document, ...componentArn, via: `${phaseName}/${record.name}` });
    else this.firstFailure = { document, ...componentArn, nested: [], phase: phaseName, step: record.name, action: record.action, errorMessage: record.failureMessage, stderr };
  }

  /** The context one module call gets; side effects come from the engine's ports. */
  private moduleContext(signal: AbortSignal, running: RunningStep): ModuleContext {
    const { deps: { ports }, log, folder, journal, masker } = this.execution;
    const usedBy = `${running.phase}/${running.name}`;
    return {
      platform: ports.platform,
      cwd: ports.cwd,
      signal,
      workFile: (name) => {
        const file = folder.stepFile(`${this.folderPrefix}${running.phase}`, running.name, name);
        running.workFiles.add(file);
        return file;
      },
      exec: async (request) => {
        log.debug(`${usedBy}: running ${request.command} ${request.args.join(" ")}`);
        // Each stream is masked as it arrives, holding back what could be the start of a secret.
        const masks = { stdout: masker.stream(), stderr: masker.stream() };
        const show = (stream: "stdout" | "stderr", text: string) => {
          if (running.quiet || text === "") return;
          running.watch.output();
          running.stepLog.output(stream, text);
          log.output(text);
          if (stream === "stderr") running.stderr.add(text);
        };
        const onOutput = (stream: "stdout" | "stderr", text: string) => show(stream, masks[stream].push(text));
        // The marker lets a resumed run find what this step left running (engine/run.ts stopLeftovers).
        const env = { ...(request.env ?? process.env), [STEP_MARKER]: `${this.execution.executionId}:${running.key}` };
        const result = await ports.exec({ cwd: ports.cwd, ...request, env, signal, onOutput, onSpawn: (pid) => this.journal(() => journal.processStarted(running.key, pid)) });
        show("stdout", masks.stdout.end());
        show("stderr", masks.stderr.end());
        // What the module keeps (outputs, failure messages) never holds a secret either.
        return masker.active ? { ...result, stdout: masker.mask(result.stdout), stderr: masker.mask(result.stderr) } : result;
      },
      shell: ports.shell,
      s3: ports.s3,
      log: {
        debug: (m) => log.debug(`${usedBy}: ${m}`),
        info: (m) => log.info(`${usedBy}: ${m}`),
        warn: (m) => log.warn(`${usedBy}: ${m}`),
      },
      print: (text) => {
        if (running.quiet) return;
        running.watch.output();
        const line = text.endsWith("\n") ? text : `${text}\n`;
        running.stepLog.output("stdout", line);
        log.output(line);
      },
      evaluate: (expression) => evaluateCondition(expression, (text) => text, ports.probe),
      runDocument: async (request) => {
        const nested = await this.execution.runNested(request, { ancestors: this.ancestors, key: running.key });
        running.nestedChaining.push(...nested.chaining);
        running.nestedFailure = nested.firstFailure;
        return { record: nested.execution, summary: nested.summary, ...(nested.reboot ? { reboot: nested.reboot } : {}) };
      },
    };
  }

  /** The line a person sees when a step ends: its status, how long it took, why it failed. */
  private progress(doc: string, phase: string, record: StepRecord, ms: number): void {
    const { name: step, status, failureMessage: failure } = record;
    const c = this.execution.log.palette;
    const took = `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
    const plain = `[${doc}] ${phase}/${step}: ${status} (${took})${failure ? ` — ${failure}` : ""}`;
    const [colour, mark] = LOOKS[status] ?? ["yellow", "!"];
    const paint = c[colour];
    const coloured = `${paint(mark)} ${c.dim(`[${doc}]`)} ${phase}/${c.bold(step)}: ${paint(status)} ${c.dim(`(${took})`)}${failure ? ` — ${failure}` : ""}`;
    this.execution.log.progress(plain, coloured, isFailure(status) ? "ERROR" : "INFO");
  }
}

/** The last line of a step's log: its status, time and failure. */
function stepEnding(record: StepRecord, ms: number): string {
  return `ended: ${record.status} after ${(ms / 1000).toFixed(2)} s${record.failureMessage ? ` — ${record.failureMessage}` : ""}`;
}

/** Failure messages of several steps, phases or documents, in order, one after the other. */
export function joinFailures(earlier: string, next: string): string {
  if (next === "") return earlier;
  return earlier === "" ? next : `${earlier}; ${next}`;
}

/** How a finished step's status looks on the terminal: its colour and mark. */
const LOOKS: Record<string, [keyof Palette, string]> = { success: ["green", "✔"], failed: ["red", "✖"], timedOut: ["red", "✖"], skipped: ["dim", "↷"] };

function newDocumentRecord(doc: ReadyDocument, now: Date): DocumentRecord {
  const text = (value: unknown) => String(value ?? "");
  const startTime = localTimestamp(now);
  return { name: text(doc.doc.name), filePath: doc.source, status: "running", description: text(doc.doc.description), startTime, endTime: "", failureMessage: "", phases: [] };
}
