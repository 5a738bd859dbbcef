/**
 * @module engine/run: one `awstoe run` — the log folder, loading and validating every document
 * before anything runs, the documents in order, nested documents for ExecuteDocument, and the
 * final record and summary (docs/cli.md §6–§7).
 */
import type { ConsoleMirror } from "../model/ports.ts";
import { StateError, StepError } from "../errors.ts";
import { ensurePrivateFolder, UntrustedFolderError } from "../safe-fs/private-folder.ts";
import { sweepTemporaries } from "../safe-fs/durable.ts";
import { identityOf as processIdentity, markedGroups, stillRunning, stopGroup, stopLeftoverGroup } from "../platform/process-identity.ts";
import { RunLock, type LockHolder } from "../state/run-lock.ts";
import { RunHalt } from "./halt.ts";
import { LogFolder } from "../logs/log-folder.ts";
import { RecordWriter } from "../logs/record-writer.ts";
import { RunLog } from "../logs/run-log.ts";
import { Masker } from "../logs/mask.ts";
import { HostValues } from "./host-values.ts";
import { checkPhases, unknownParameters } from "./typos.ts";
import { plannedSteps, recapLines, unrunSteps, type RecapEntry } from "./recap.ts";
import type { PlannedDocument } from "../logs/junit.ts";
import type { ChainingEntry, ExecutionRecord, RunSummary } from "../model/record.ts";
import { isFailure, rollUp, type Status } from "../model/status.ts";
import { formatFailureContext, type FailureContext } from "./failure-context.ts";
import { localTimestamp } from "../model/time.ts";
import type { NestedRunRequest } from "../modules/index.ts";
import { VERSION } from "../version.ts";
import type { EngineDeps } from "./deps.ts";
import { DocumentRun, joinFailures, STEP_MARKER, type Counters, type Execution, type NestedOutcome, type Parent } from "./document-run.ts";
import { uploadLogFolder, type LogUploadTarget } from "./log-upload.ts";
import { identityOf, prepareDocuments, type DocumentRequest, type Prepared } from "./prepare.ts";

import { facetsOf, fingerprintOf } from "../state/fingerprint.ts";
import { selectionFor, takeUpRetry } from "./rerun.ts";
import type { SelectionRequest, StepSelection } from "./rerun-plan.ts";
import { isSuccessful } from "../model/status.ts";
import { JournalWriter, readJournal, type Journal, type ProcessEntry } from "../state/journal.ts";
import { ExecutionJournal, MAX_REBOOTS, type PlacedReboot } from "./resume.ts";

/** Nested levels below the top document (docs/modules.md#executedocument: 4 documents in a chain). */
export const MAX_NESTED_LEVELS = 3;

export interface RunRequest {
  documents: DocumentRequest[];
  /** Global parameters (`--parameters` or config `parameters`). */
  parameters: ReadonlyMap<string, string>;
  /** Phases to run; empty or undefined = all. */
  phases?: readonly string[];
  executionId: string;
  logDirectory: string;
  trace: boolean;
  /** Copy the log folder to S3 when the run ends (docs/cli.md §8). */
  logUpload?: LogUploadTarget;
  /** Stream console.log to CloudWatch Logs (docs/cli.md §9); failures fail the run unless ignored. */
  mirror?: { target: ConsoleMirror; ignoreFailures: boolean };
  /** Where the resume journal lives (docs/log-folder.md §11); without one, nothing survives a reboot or crash. */
  stateDirectory?: string;
  /** The execution id came from the command line or config (not made up for this run). */
  executionIdGiven?: boolean;
  /** Action modules no document, nested ones included, may use (--blocked-action-modules). */
  blockedModules?: readonly string[];
  /** `run --version`: the component application version, recorded as the record's componentVersion. */
  componentVersion?: string;
  /** A parameter with no default and no value stops the run (--require-parameter-values) instead of being empty. */
  requireParameterValues?: boolean;
  /** `run --retry`: take up this failed execution again (its id is also `executionId`; engine/rerun.ts). */
  retry?: string;
  /** `run --from`/`--only`/`--outputs-from`: which steps run (engine/rerun-plan.ts). */
  selection?: SelectionRequest;
}

export interface RunResult {
  record: ExecutionRecord;
  summary: RunSummary;
  logFolder: string;
  /** The execution stopped for a reboot (handed over, or the machine is restarting): exit with this. */
  reboot?: { exitCode: number };
  /** For reports written from `record` outside the log folder (run --junit): the steps asked for, and the execution's secret masking. */
  report?: { planned: PlannedDocument[]; mask: (text: string) => string };
}

export async function runExecution(request: RunRequest, deps: EngineDeps): Promise<RunResult> {
  if (request.stateDirectory === undefined) return runLocked(request, deps, undefined);
  // The state folder is where root keeps what it runs after a reboot: refuse one that anyone else
  // could change before anything is read from it or run, then hold it for this run alone.
  const stateDirectory = privateStateFolder(request.stateDirectory);
  const lock = RunLock.acquire(stateDirectory, lockHolder(request), stillRunning);
  try {
    sweepTemporaries(stateDirectory); // half-written files of a run that was killed
    return await runLocked({ ...request, stateDirectory }, deps, stateDirectory);
  } finally {
    lock.release();
  }
}

async function runLocked(request: RunRequest, outerDeps: EngineDeps, stateDirectory: string | undefined): Promise<RunResult> {
  const outerSignal = outerDeps.ports.signal;
  const started = outerDeps.ports.now();
  // One signal for the whole run: SIGINT/SIGTERM from outside, or a halt from inside (a log or
  // state file that cannot be written any more) — both stop the running step and start no other.
  const runSignal = new AbortController();
  const forward = () => runSignal.abort(outerSignal.reason);
  outerSignal.addEventListener("abort", forward, { once: true });
  if (outerSignal.aborted) forward();
  const deps: EngineDeps = { ...outerDeps, ports: { ...outerDeps.ports, signal: runSignal.signal } };
  let haltReason: string | undefined;
  const halt = (reason: string) => {
    if (haltReason !== undefined) return;
    haltReason = reason;
    runSignal.abort(new RunHalt(reason));
  };
  let earlier = stateDirectory === undefined ? undefined : readJournal(stateDirectory);
  // A trigger with no execution to resume is stale and goes at once; one that resumes an
  // execution stays until this run has everything it needs (at boot the network may be slow).
  let cleared = stateDirectory === undefined || earlier !== undefined ? undefined : await deps.ports.reboot.clearTrigger(stateDirectory);
  if (earlier !== undefined && request.executionIdGiven === true && earlier.header.executionId !== request.executionId) {
    throw foreignState(earlier, `it belongs to execution ${earlier.header.executionId}, not ${request.executionId}`);
  }
  const blockedModules = request.blockedModules ?? [];
  const prepared = await prepareDocuments(request.documents, request.parameters, deps, { patient: earlier !== undefined, blockedModules, requireParameterValues: request.requireParameterValues === true });
  const invocation = prepared.failures.length > 0 ? undefined : { documents: request.documents.map((d, i) => ({ ...d, text: prepared.ready[i]!.text })), parameters: request.parameters, phases: request.phases ?? [] };
  const fingerprint = invocation === undefined ? undefined : fingerprintOf(invocation);
  if (earlier !== undefined && fingerprint !== undefined && earlier.header.fingerprint !== fingerprint) {
    throw foreignState(earlier, "this run asks for something else: the documents, their text, the parameters or the phases differ");
  }
  // A --phases name no document has would run nothing and report success: refused before anything is made.
  if (prepared.failures.length === 0) checkPhases(request.phases, prepared.ready);
  // --retry of an execution not under way (a retry interrupted by a reboot or a crash resumes as any execution does).
  const retrying = request.retry !== undefined && earlier === undefined;
  if (retrying) {
    earlier = takeUpRetry({ stateDirectory, executionId: request.retry!, logDirectory: request.logDirectory, invocation, fingerprint, invalid: prepared.failures.length > 0 ? invalidMessage(prepared) : undefined });
  }
  // A retry applies the --from/--only of the execution it takes up (kept in its journal's header).
  const selectionRequest = request.selection ?? earlier?.header.selection;
  const selection: StepSelection | undefined = selectionRequest === undefined || prepared.failures.length > 0 ? undefined : selectionFor(selectionRequest, prepared.ready, request.phases ?? [], request.logDirectory);
  if (earlier !== undefined && stateDirectory !== undefined && prepared.failures.length === 0) cleared = await deps.ports.reboot.clearTrigger(stateDirectory);
  const executionId = earlier?.header.executionId ?? request.executionId;
  const folder = earlier === undefined ? LogFolder.create(request.logDirectory, executionId, started) : LogFolder.reopen(request.logDirectory, executionId, earlier.header.logFolder);
  // Secret values (SecureString, Secrets Manager) join it as steps fetch them: every writer masks.
  const masker = new Masker();
  folder.maskSecrets(masker);
  const log = new RunLog({
    masker,
    liveLine: deps.presentation.interactive,
    applicationLog: folder.file("application.log"),
    consoleLog: folder.file("console.log"),
    trace: request.trace,
    palette: deps.presentation.palette,
    stderr: deps.presentation.terminal.stderr,
    stdout: deps.presentation.terminal.stdout,
    onWriteFailure: (reason) => {
      folder.releaseReserve(); // room for the final record
      halt(`${reason} (log folder '${folder.path}')`);
    },
  });
  const record: ExecutionRecord = { executionId, ...(request.componentVersion === undefined ? {} : { componentVersion: request.componentVersion }), status: "running", startTime: earlier?.header.startTime ?? localTimestamp(started), endTime: "", failureMessage: "", documents: [] };
  const counters: Counters = { executed: 0, failed: 0, ignored: 0, skipped: 0 };
  const chaining: ChainingEntry[] = [];
  const recap: RecapEntry[] = [];
  let firstFailure: FailureContext | undefined;
  let journal: ExecutionJournal | undefined;
  const writer = new RecordWriter(folder, record, undefined, (error) => halt((error as Error).message));
  try {
    log.info(`awstoe ${VERSION} (opentoe): execution ${executionId} on ${deps.ports.platform}, log folder ${folder.path}`);
    if (cleared !== undefined) log.info(cleared);
    if (retrying) log.info(`retrying execution ${executionId}: ${earlier!.steps.size} step(s) that finished before the failure are restored, not run again; the rest run again`);
    else if (earlier !== undefined) log.info(`resuming after ${earlier.reboots.length} reboot(s): ${earlier.steps.size} finished step(s) are restored, not run again`);
    let problem = request.mirror ? await openMirror(request.mirror, log) : undefined;
    const mirrorOpen = request.mirror !== undefined && problem === undefined;
    prepared.texts.forEach((loaded, i) => folder.saveDocument(i + 1, loaded.text));
    reportWarnings(prepared, log);
    for (const line of unknownParameters(request.parameters, prepared.ready)) log.warn(line);
    writer.flush();
    if (problem === undefined && prepared.failures.length === 0) {
      const header = { executionId, fingerprint: fingerprint!, documents: request.documents.map((d) => d.source), logFolder: folder.path, startTime: record.startTime, facets: facetsOf(invocation!), ...(selectionRequest === undefined ? {} : { selection: selectionRequest }) };
      const opened = openJournal(earlier, stateDirectory, header, log);
      if (typeof opened === "string") problem = opened;
      else {
        journal = opened;
        journal.maskWith(masker.replacer);
      }
      if (journal !== undefined && earlier !== undefined) problem = await stopLeftovers(earlier, log);
    }
    if (problem !== undefined) {
      record.status = "failed";
      record.failureMessage = problem;
    } else if (prepared.failures.length > 0) {
      reportInvalid(prepared, log, deps);
      record.status = "failed";
      record.failureMessage = invalidMessage(prepared);
      if (earlier !== undefined) log.warn(`the execution being resumed keeps its state and boot trigger, so it is tried again at the next boot or when the same command runs again`);
    } else {
      const underway: Underway = { request, deps, log, folder, record, writer, counters, chaining, journal: journal!, stateDirectory };
      const hostValues = new HostValues({ ports: deps.ports.host, platform: deps.ports.platform, executionId, masker, now: deps.ports.now, newUuid: deps.ports.newId, signal: deps.ports.signal });
      const execution = executionWithNesting({ executionId, deps, log, folder, journal: journal!, masker, hostValues, recap, save: () => writer.request(), halt, ...(selection === undefined ? {} : { selection }) }, blockedModules, request.requireParameterValues === true);
      let stoppedBy: Status | undefined;
      for (const [index, doc] of prepared.ready.entries()) {
        if (deps.ports.signal.aborted) break;
        const run = DocumentRun.topLevel({ execution, doc, index, counters });
        record.documents.push(run.record);
        const outcome = await run.run(request.phases);
        chaining.push(...outcome.chaining);
        firstFailure ??= outcome.firstFailure;
        if (outcome.reboot !== undefined && haltReason === undefined) {
          const handedOver = await stopForReboot(outcome.reboot, underway);
          if (handedOver !== undefined) return handedOver;
          break;
        }
        record.failureMessage = joinFailures(record.failureMessage, outcome.record.failureMessage);
        if (outcome.stopped) {
          stoppedBy = outcome.record.status;
          break;
        }
      }
      if (record.status === "running") record.status = rollUp(record.documents.map((d) => d.status), stoppedBy);
    }
    if (haltReason !== undefined) {
      failUnfinished(record, haltReason, localTimestamp(deps.ports.now()));
      record.status = "failed";
      record.failureMessage = `the execution was stopped: ${haltReason}`;
      log.error(record.failureMessage);
    }
    // The first failed step, then its standard error, in console.log (and so in the CloudWatch and
    // S3 copies) before the summary: docs/cli.md §7.
    if (isFailure(record.status) && firstFailure !== undefined) log.output(formatFailureContext(firstFailure));
    if (request.mirror && mirrorOpen) await closeMirror(request.mirror, record, log);
    record.endTime = localTimestamp(deps.ports.now());
    writer.flush();
    folder.saveChaining(chaining);
    // A halted run keeps its journal: the same command resumes it once the disk has room again.
    // One that failed keeps it in the archive, for --retry.
    let retryHint: string | undefined;
    if (haltReason !== undefined) journal?.suspend();
    else if (!isSuccessful(record.status) && journal !== undefined && stateDirectory !== undefined) retryHint = keepForRetry(journal, stateDirectory, executionId, log);
    else journal?.finish();
    log.info(`execution ${executionId} finished: ${record.status}`);
    const logUrl = request.logUpload ? await uploadLogs(folder.path, request.logUpload, deps, log) : folder.path;
    const summary = summaryOf(record, counters, logUrl);
    if (prepared.failures.length === 0 && problem === undefined) {
      const ended = new Set(recap.map((e) => e.key));
      const lines = recapLines(summary, recap, unrunSteps(plannedSteps(prepared.ready, request.phases), ended), deps.ports.now().getTime() - started.getTime(), deps.presentation.palette);
      const hint = retryHint === undefined ? [] : [retryHint];
      log.recap([...lines.plain, ...hint], [...lines.coloured, ...hint]);
    }
    log.summary(`${JSON.stringify(summary, null, 4)}\n`);
    return { record, summary, logFolder: folder.path, report: { planned: plannedSteps(prepared.ready, request.phases), mask: (text) => masker.mask(text) } };
  } finally {
    outerSignal.removeEventListener("abort", forward);
    log.close();
    folder.close();
  }
}

/** An execution under way, as its end sees it. */
interface Underway extends Pick<Execution, "deps" | "log" | "folder" | "journal"> {
  request: RunRequest;
  record: ExecutionRecord;
  writer: RecordWriter;
  counters: Counters;
  chaining: ChainingEntry[];
  stateDirectory: string | undefined;
}

/**
 * The failed execution's journal goes to the archive; a failure to keep it is said, not fatal (the
 * record is what counts). Returns the recap's line saying how to retry, when it was kept.
 */
function keepForRetry(journal: ExecutionJournal, stateDirectory: string, executionId: string, log: RunLog): string | undefined {
  try {
    log.info(`the journal of execution ${executionId} is kept in '${journal.keepForRetry(stateDirectory, executionId)}' for --retry`);
    return `retry: the same command with --retry ${executionId} restores the steps before the failure and runs the rest again`;
  } catch (error) {
    log.warn(`${(error as Error).message}; --retry ${executionId} will not be possible`);
    return undefined;
  }
}

/** Journals the execution (fresh or resumed), or says why it cannot be. */
function openJournal(earlier: Journal | undefined, stateDirectory: string | undefined, header: Parameters<typeof JournalWriter.create>[1], log: RunLog): ExecutionJournal | string {
  try {
    if (earlier !== undefined) return ExecutionJournal.resumed(earlier);
    return ExecutionJournal.fresh(stateDirectory === undefined ? undefined : JournalWriter.create(stateDirectory, header));
  } catch (error) {
    const message = `${(error as Error).message}; nothing ran`;
    log.error(message);
    return message;
  }
}

/**
 * The journal's reboot line goes to disk first, then the record; then the port restarts the
 * machine or hands the reboot over (exit 194/3010). A machine that cannot be restarted fails
 * the execution here instead, and the execution ends as any other (undefined).
 */
async function stopForReboot(reboot: PlacedReboot, run: Underway): Promise<RunResult | undefined> {
  const { record, deps, log, journal, folder } = run;
  const fail = (why: string): undefined => {
    record.status = "failed";
    record.failureMessage = `step '${reboot.from.step}' asked for a reboot, and ${why}`;
    failUnfinished(record, record.failureMessage, localTimestamp(deps.ports.now()));
    log.error(record.failureMessage);
    return undefined;
  };
  try {
    journal.rebootRequested(reboot, new Date().toISOString());
  } catch (error) {
    return fail(`the execution cannot be saved for it: ${(error as Error).message}`);
  }
  run.writer.flush();
  folder.saveChaining(run.chaining);
  let message: string;
  try {
    message = await deps.ports.reboot.reboot(record.executionId, run.stateDirectory!);
  } catch (error) {
    return fail(`the machine cannot be restarted: ${(error as Error).message}`);
  }
  log.warn(`reboot ${journal.rebootCount} of at most ${MAX_REBOOTS}: ${message}`);
  if (run.request.mirror) await run.request.mirror.target.close();
  journal.suspend();
  return { record, summary: summaryOf(record, run.counters, folder.path), logFolder: folder.path, reboot: { exitCode: deps.ports.reboot.exitCode } };
}

/** The state folder, made private or refused (nothing has run yet). */
function privateStateFolder(path: string): string {
  try {
    return ensurePrivateFolder(path);
  } catch (error) {
    const why = error instanceof UntrustedFolderError ? error.message : (error as Error).message;
    throw new StateError(`refusing the state folder '${path}': ${why}; nothing ran`, {
      hint: "awstoe keeps what it runs after a reboot there, so only root (or the user running awstoe) may be able to change it or any folder above it; pass --state-directory with a folder such as /var/lib/awstoe",
    });
  }
}

function lockHolder(request: RunRequest): LockHolder {
  const me = processIdentity(process.pid);
  return { ...me, since: new Date().toISOString(), executionId: request.executionId, command: `awstoe run --documents ${request.documents.map((d) => d.source).join(",")}` };
}

/**
 * awstoe was killed while a step ran (kill -9, a closed terminal): what that step started may still
 * run. It is stopped before anything runs again, so the step never runs twice at once. Returns why
 * the run cannot go on, if so.
 */
async function stopLeftovers(earlier: Journal, log: RunLog): Promise<string | undefined> {
  // What each unfinished step started: the groups the journal recorded, and any process still
  // carrying the step's marker (awstoe may have been killed before it journaled a program).
  const groups = new Map<number, { key: string; entry?: ProcessEntry }>();
  for (const [key, entries] of earlier.processes) for (const entry of entries) groups.set(entry.pgid, { key, entry });
  for (const [key, pgids] of markedGroups(STEP_MARKER, `${earlier.header.executionId}:`)) {
    if (earlier.steps.has(key)) continue; // a finished step's background job (a service) stays
    for (const pgid of pgids) if (!groups.has(pgid)) groups.set(pgid, { key });
  }
  for (const [pgid, { key, entry }] of groups) {
    const result = entry !== undefined ? await stopLeftoverGroup(entry) : await stopGroup(pgid);
    // Every decision goes to application.log: a step found running twice must be explainable.
    log.debug(`process group ${pgid} of step ${key} (${entry === undefined ? "found by its marker" : `journaled: boot ${entry.boot ?? "?"}, started ${entry.started ?? "?"}`}): ${result}`);
    if (result === "stopped") log.warn(`stopped process group ${pgid} that step ${key} had started before awstoe was killed`);
    if (result === "still-running") {
      const message = `process group ${pgid}, started by step ${key} before awstoe was killed, is still running after SIGKILL; nothing ran`;
      log.error(message);
      return message;
    }
    if (result === "unknown") log.warn(`cannot tell whether process group ${pgid} of step ${key} still runs on this platform; the step runs again`);
  }
  return undefined;
}

/** The document and phase the reboot stopped in end failed, with the execution's reason. */
function failUnfinished(record: ExecutionRecord, message: string, endTime: string): void {
  for (const doc of record.documents.filter((d) => d.status === "running")) {
    for (const phase of doc.phases.filter((p) => p.status === "running")) Object.assign(phase, { status: "failed", endTime, failureMessage: phase.failureMessage || message });
    Object.assign(doc, { status: "failed", endTime, failureMessage: doc.failureMessage || message });
  }
}

/** A journal in the state directory that this invocation cannot continue. */
function foreignState(journal: Journal, why: string): StateError {
  return new StateError(`the state directory holds the unfinished execution ${journal.header.executionId} (${journal.header.documents.join(", ")}), and ${why}`, {
    hint: `run that execution's own command again to finish it, pass another --state-directory, or delete '${journal.path}' to abandon it`,
  });
}

/** Opens the CloudWatch copy before any step; returns the reason the run cannot go on, if any. */
async function openMirror(mirror: NonNullable<RunRequest["mirror"]>, log: RunLog): Promise<string | undefined> {
  try {
    await mirror.target.open();
    log.mirrorTo((text) => mirror.target.write(text));
    log.info(`console output is copied to ${mirror.target.description}`);
    return undefined;
  } catch (error) {
    const reason = `cannot send the console output to ${mirror.target.description}: ${(error as Error).message}`;
    if (mirror.ignoreFailures) {
      log.warn(`${reason} (continuing without it: --cw-ignore-failures)`);
      return undefined;
    }
    log.error(`${reason}; nothing ran (--cw-ignore-failures runs without it)`);
    return reason;
  }
}

/** Flushes the CloudWatch copy; lines lost after retries fail the run unless ignored (docs/cli.md §9). */
async function closeMirror(mirror: NonNullable<RunRequest["mirror"]>, record: ExecutionRecord, log: RunLog): Promise<void> {
  log.mirrorTo(undefined);
  const loss = await mirror.target.close();
  if (loss === undefined) return;
  if (mirror.ignoreFailures) {
    log.warn(`${loss} (ignored: --cw-ignore-failures)`);
    return;
  }
  log.error(loss);
  record.status = "failed";
  if (record.failureMessage === "") record.failureMessage = loss;
}

/** docs/cli.md §8: upload problems are reported but leave the status alone; logUrl says where the logs are. */
async function uploadLogs(path: string, target: LogUploadTarget, deps: EngineDeps, log: RunLog): Promise<string> {
  const result = await uploadLogFolder(path, target, deps.ports.s3);
  if (result.failures.length === 0) {
    log.info(`log folder uploaded to ${result.url}/ (${result.uploaded} files)`);
    return result.url;
  }
  log.error(`log upload to ${result.url}/ incomplete: ${result.failures.length} of ${result.failures.length + result.uploaded} files failed; first: ${result.failures[0]}`);
  return path;
}

/**
 * The run summary, also ExecuteDocument's outputs, with its fields in the order current AWSTOE
 * prints them (docs/cli.md §7).
 */
function summaryOf(record: ExecutionRecord, counters: Counters, logUrl: string): RunSummary {
  return {
    executionId: record.executionId,
    status: record.status,
    failedStepCount: counters.failed,
    executedStepCount: counters.executed,
    ignoredFailedStepCount: counters.ignored,
    skippedStepCount: counters.skipped,
    failureMessage: record.failureMessage,
    logUrl,
  };
}

/** What the documents run with but the person should know (a parameter left empty): one line each. */
function reportWarnings(prepared: Prepared, log: RunLog): void {
  for (const { diagnostics } of prepared.warnings) {
    for (const d of diagnostics) log.warn(`${d.file}${d.line === undefined ? "" : `:${d.line}:${d.column}`}: ${d.message}${d.hint === undefined ? "" : ` — ${d.hint}`}`);
  }
}

function reportInvalid(prepared: Prepared, log: RunLog, deps: EngineDeps): void {
  for (const failure of prepared.failures) {
    log.error(`document '${failure.source}' cannot run: ${failure.diagnostics.filter((d) => d.severity === "error").length} problem(s)`);
    log.output(`${deps.presentation.renderDiagnostics(failure.diagnostics, failure.map)}\n`);
  }
}

function invalidMessage(prepared: Prepared): string {
  const first = prepared.failures[0]!;
  const error = first.diagnostics.find((d) => d.severity === "error");
  const where = error?.line === undefined ? "" : `:${error.line}:${error.column}`;
  const more = prepared.failures.length > 1 ? ` (and ${prepared.failures.length - 1} more invalid document(s))` : "";
  // A document that could not be read says so itself ("failed to load document '…': …").
  if (error?.code.startsWith("E_SOURCE_") && error.message.includes(first.source)) return `${error.message}; nothing ran${more}`;
  return `document '${first.source}' is not valid, so nothing ran: ${first.source}${where}: ${error?.message ?? "invalid"}${more}`;
}

/** The execution as its documents see it; ExecuteDocument runs a child execution in the same log folder, after depth and cycle checks. */
function executionWithNesting(shared: Omit<Execution, "runNested">, blockedModules: readonly string[], requireParameterValues: boolean): Execution {
  const { deps, log } = shared;
  const execution: Execution = {
    ...shared,
    async runNested(request: NestedRunRequest, parent: Parent): Promise<NestedOutcome> {
      if (parent.ancestors.length > MAX_NESTED_LEVELS) throw new StepError(`maximum document nesting depth (${MAX_NESTED_LEVELS}) exceeded`);
      const identity = identityOf(request.document, deps.ports.cwd);
      if (parent.ancestors.includes(identity)) {
        throw new StepError(`cyclic document execution detected: ${[...parent.ancestors, identity].join(" → ")}`);
      }
      const prepared = await prepareDocuments([{ source: request.document, parameters: request.parameters, ...(request.bucketOwner ? { bucketOwner: request.bucketOwner } : {}) }], new Map(), deps, { blockedModules, requireParameterValues });
      reportWarnings(prepared, log);
      if (prepared.failures.length > 0) {
        reportInvalid(prepared, log, deps);
        throw new StepError(invalidMessage(prepared).replace(/^document/, "nested document"));
      }
      const executionId = deps.ports.newId();
      const run = DocumentRun.nested({ execution, doc: prepared.ready[0]!, parent, executionId });
      const record: ExecutionRecord = { executionId, status: "running", startTime: localTimestamp(deps.ports.now()), endTime: "", failureMessage: "", documents: [run.record] };
      log.info(`nested execution ${executionId}: ${request.document}`);
      const outcome = await run.run(request.phases);
      if (outcome.reboot === undefined) {
        record.status = outcome.record.status;
        record.failureMessage = outcome.record.failureMessage;
        record.endTime = localTimestamp(deps.ports.now());
      }
      // A nested run's logs live in the parent's folder: its logUrl is "" (docs/modules.md#executedocument).
      return { ...outcome, execution: record, summary: summaryOf(record, run.counters, "") };
    },
  };
  return execution;
}
