/**
 * @module engine/step: one step from start to finish (documents.md §8–§9): the `if` decision,
 * loop expansion, attempts under the time limit, and the outcome as a record plus what chaining
 * may read. Step failures are data here; nothing but bugs escapes as an exception.
 */
import { isHalt } from "./halt.ts";
import { StepError } from "../errors.ts";
import { describeWriteError } from "../logs/log-folder.ts";
import { isRecord } from "../model/platform.ts";
import { evaluateCondition, normalizeIf } from "../expr/condition.ts";
import { expandLoop } from "../expr/loop.ts";
import { renderString, type ChainUse } from "../expr/render.ts";
import type { Scope, StepData } from "../expr/scope.ts";
import { STEP_DEFAULTS, type OnFailure } from "../model/component.ts";
import type { ExecutionRecord, LoopRecord, StepRecord } from "../model/record.ts";
import { localTimestamp } from "../model/time.ts";
import { findModule, type ModuleDef } from "../modules/index.ts";
import { asWritten, loopAsWritten, prepareInputs } from "./inputs.ts";
import type { DocumentRun } from "./document-run.ts";

export interface StepOutcome {
  record: StepRecord;
  /** What later steps may chain to. */
  data: StepData;
  /** Stop the whole execution (onFailure Abort, a reboot request, an interruption). */
  stop: boolean;
  /** Counted as executed (not skipped). */
  executed: boolean;
  /** The step asked for a reboot; `rerun`: it runs again after the restart (exit 194/3010). */
  reboot?: { rerun: boolean; exitCode?: number };
}

interface Attempt {
  ok: boolean;
  /** Stopped for going over the step's time limit. */
  timedOut: boolean;
  message: string;
  /** The outputs of the iterations that succeeded, consolidated; `succeeded` says how many did. */
  outputs: Record<string, unknown>;
  succeeded: number;
  inputs: Record<string, unknown>[];
  failedIterations: number[];
  detailedOutput: ExecutionRecord[] | null;
  reboot?: { rerun: boolean; exitCode?: number };
}

/** `decided`: the step's `if` said Execute before a reboot and is not evaluated again. */
export async function runStep(run: DocumentRun, phase: string, step: Record<string, unknown>, stepPath: (string | number)[], scope: Scope, decided = false): Promise<StepOutcome> {
  const name = String(step.name);
  const action = String(step.action);
  const module = findModule(action)!; // validated before the run
  const fixed = module.fixedStepFields ?? {};
  const timeoutSeconds = module.ignoresTimeout ? -1 : (fixed.timeoutSeconds ?? (typeof step.timeoutSeconds === "number" ? step.timeoutSeconds : STEP_DEFAULTS.timeoutSeconds));
  const maxAttempts = fixed.maxAttempts ?? (typeof step.maxAttempts === "number" ? step.maxAttempts : STEP_DEFAULTS.maxAttempts);
  const onFailure = (typeof step.onFailure === "string" ? step.onFailure : STEP_DEFAULTS.onFailure) as OnFailure;
  const started = run.deps.now();
  const usedBy = `${phase}/${name}`;
  const used: ChainUse[] = [];
  const startTime = localTimestamp(started);
  const finish = (status: StepRecord["status"], failureMessage: string, inputs: unknown[], outputs: unknown[], loop: LoopRecord | null, detailedOutput: ExecutionRecord[] | null): StepRecord => {
    for (const use of used) run.chaining.push({ expression: use.expression, usedBy, resolved: use.resolved });
    // Key order as in cli.md §7.1; a module without outputs records "[]".
    const recorded = outputs.filter((o) => !isRecord(o) || Object.keys(o).length > 0);
    return {
      name, status, failureMessage, timeoutSeconds, onFailure, maxAttempts, action, startTime,
      endTime: localTimestamp(run.deps.now()),
      inputs: JSON.stringify(inputs), outputs: JSON.stringify(recorded), loop, detailedOutput,
    };
  };
  const inputsFor = (s: Scope) => {
    try {
      return prepareInputs(module, step.inputs, [...stepPath, "inputs"], run.doc.map, s, used).list;
    } catch {
      return [];
    }
  };

  // 1. The condition, evaluated once (never on retries, nor after a reboot).
  if (step.if !== undefined && decided) run.log.debug(`${usedBy}: if already decided Execute before the restart`);
  if (step.if !== undefined && !decided) {
    let decision: "Execute" | "Skip" | "Abort";
    try {
      const condition = normalizeIf(asWritten(step.if, [...stepPath, "if"], run.doc.map));
      const { value, explain } = evaluateCondition(condition.expression, (text) => renderString(text, scope, used), run.deps.probe);
      decision = value ? condition.then : condition.else;
      run.log.debug(`${usedBy}: if ${explain} → ${decision}`);
    } catch (error) {
      const message = `${action}: the if condition could not be evaluated: ${messageOf(error)}`;
      return failed(run, finish("failed", message, [], [], null, null), { inputs: [], outputs: undefined }, onFailure, false);
    }
    if (decision === "Skip") {
      const inputs = inputsFor(scope);
      return { record: finish("skipped", "", inputs, [], null, null), data: { inputs, outputs: undefined }, stop: false, executed: false };
    }
    if (decision === "Abort") {
      const inputs = inputsFor(scope);
      return failed(run, finish("failed", "step aborted by if condition", inputs, [], null, null), { inputs, outputs: undefined }, onFailure, false);
    }
  }

  // 2. The loop's values, computed once when the step starts.
  let loop: LoopRecord | null = null;
  if (isRecord(step.loop)) {
    try {
      const expanded = expandLoop(loopAsWritten(step.loop, [...stepPath, "loop"], run.doc.map), (text) => renderString(text, scope, used));
      loop = { name: expanded.name ?? "", type: expanded.type, values: expanded.values, failedIterations: [] };
    } catch (error) {
      const message = `${action}: the loop could not be expanded: ${messageOf(error)}`;
      return failed(run, finish("failed", message, [], [], null, null), { inputs: [], outputs: undefined }, onFailure, true);
    }
  }

  // 3. Attempts, each with the whole time limit; a retry starts the loop again at index 0.
  let attempt: Attempt | undefined;
  for (let n = 1; n <= maxAttempts; n++) {
    if (n > 1) run.log.info(`${usedBy}: attempt ${n} of ${maxAttempts}`);
    attempt = await runAttempt(run, module, step, stepPath, scope, loop, timeoutSeconds, used, usedBy);
    if (attempt.ok || attempt.reboot !== undefined || run.deps.signal.aborted) break;
    if (n < maxAttempts) run.log.warn(`${usedBy}: attempt ${n} of ${maxAttempts} failed, trying again: ${attempt.message}`);
  }
  const last = attempt!;
  if (loop !== null) loop.failedIterations = last.failedIterations;
  if (last.reboot !== undefined) {
    // A nested document's reboot was already counted against the budget where it was asked for.
    const refusal = run.nestedReboot === undefined ? run.rebootRefusal() : undefined;
    if (refusal !== undefined) {
      return failed(run, finish("failed", `${action}: ${refusal}`, last.inputs, [], loop, last.detailedOutput), { inputs: last.inputs, outputs: undefined }, onFailure, true);
    }
    const record = finish("success", "", last.inputs, [last.outputs], loop, last.detailedOutput);
    return { record, data: { inputs: last.inputs, outputs: [last.outputs] }, stop: true, executed: true, reboot: last.reboot };
  }
  if (last.ok) {
    return { record: finish("success", "", last.inputs, [last.outputs], loop, last.detailedOutput), data: { inputs: last.inputs, outputs: [last.outputs] }, stop: false, executed: true };
  }
  const tries = maxAttempts > 1 && !run.deps.signal.aborted ? ` (after ${maxAttempts} attempts)` : "";
  // A loop that failed keeps what its successful iterations produced, consolidated as for a loop
  // that succeeded, so later steps can chain to it; a step that produced nothing has no outputs.
  const kept = loop !== null && last.succeeded > 0 ? [last.outputs] : undefined;
  const record = finish(last.timedOut ? "timedOut" : "failed", `${last.message}${tries}`, last.inputs, kept ?? [], loop, last.detailedOutput);
  return failed(run, record, { inputs: last.inputs, outputs: kept }, onFailure, true, run.deps.signal.aborted);
}

/**
 * Applies onFailure to a failed (or timed-out) step: Abort stops everything, Continue goes on,
 * Ignore marks it `ignoredFailure` — whatever the failure was, a timeout included.
 */
function failed(run: DocumentRun, record: StepRecord, data: StepData, onFailure: OnFailure, executed: boolean, interrupted = false): StepOutcome {
  if (onFailure === "Ignore" && !interrupted) return { record: { ...record, status: "ignoredFailure" }, data, stop: false, executed };
  return { record, data, stop: interrupted || onFailure === "Abort", executed };
}

async function runAttempt(
  run: DocumentRun,
  module: ModuleDef,
  step: Record<string, unknown>,
  stepPath: (string | number)[],
  scope: Scope,
  loop: LoopRecord | null,
  timeoutSeconds: number,
  used: ChainUse[],
  usedBy: string,
): Promise<Attempt> {
  const controller = new AbortController();
  const stopOnInterrupt = () => controller.abort(isHalt(run.deps.signal.reason) ? run.deps.signal.reason : new Error("interrupted"));
  run.deps.signal.addEventListener("abort", stopOnInterrupt, { once: true });
  if (run.deps.signal.aborted) stopOnInterrupt();
  const timer = timeoutSeconds === -1 ? undefined : setTimeout(() => controller.abort(new Error("timeout")), timeoutSeconds * 1000);
  const values = loop?.values ?? [undefined];
  const outputs: Record<string, unknown>[] = [];
  let inputs: Record<string, unknown>[] = [];
  let detailedOutput: ExecutionRecord[] | null = null;
  const result = (ok: boolean, message: string, failedIterations: number[] = [], reboot?: Attempt["reboot"], overTime = false): Attempt => ({
    ok, timedOut: overTime, message, outputs: consolidate(outputs), succeeded: outputs.length, inputs, failedIterations, detailedOutput, ...(reboot ? { reboot } : {}),
  });
  run.stepStderr.reset(); // the failure context quotes the last attempt's standard error
  try {
    for (let index = 0; index < values.length; index++) {
      const iterationScope: Scope = loop === null ? scope : { ...scope, loop: { ...(loop.name ? { name: loop.name } : {}), index, value: values[index]! } };
      const where = loop === null ? "" : `iteration ${index}: `;
      try {
        const prepared = prepareInputs(module, step.inputs, [...stepPath, "inputs"], run.doc.map, iterationScope, index === 0 ? used : undefined);
        inputs = prepared.list;
        const ctx = run.moduleContext(controller.signal, usedBy);
        const outcome = await untilAborted(module.execute(prepared.value, ctx), controller.signal);
        if (outcome.detailedOutput !== undefined) detailedOutput = [...(detailedOutput ?? []), ...outcome.detailedOutput];
        // A step that continues with the next one after the restart keeps its outputs (chainable).
        if (outcome.reboot !== undefined && !outcome.reboot.rerunStep) outputs.push(outcome.outputs as Record<string, unknown>);
        if (outcome.reboot !== undefined) return result(false, "", [], { rerun: outcome.reboot.rerunStep, ...(outcome.reboot.exitCode === undefined ? {} : { exitCode: outcome.reboot.exitCode }) });
        if (outcome.failed !== undefined) return result(false, `${module.name}: ${where}${outcome.failed}`, loop === null ? [] : [index]);
        outputs.push(outcome.outputs as Record<string, unknown>);
      } catch (error) {
        if (controller.signal.aborted) return result(false, stoppedMessage(controller.signal, timeoutSeconds, loop !== null, index), loop === null ? [] : [index], undefined, timedOut(controller.signal));
        return result(false, `${module.name}: ${where}${messageOf(error)}`, loop === null ? [] : [index]);
      }
    }
    return result(true, "");
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    run.deps.signal.removeEventListener("abort", stopOnInterrupt);
  }
}

/** Loop outputs: string fields of successful iterations joined with newlines; others keep the last value. */
function consolidate(outputs: Record<string, unknown>[]): Record<string, unknown> {
  if (outputs.length <= 1) return outputs[0] ?? {};
  const merged: Record<string, unknown> = {};
  for (const output of outputs) {
    for (const [key, value] of Object.entries(output)) {
      merged[key] = typeof value === "string" && typeof merged[key] === "string" ? `${merged[key]}\n${value}` : value;
    }
  }
  return merged;
}

/** Resolves with the module's promise, or rejects as soon as the step is stopped. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** The attempt's own signal was aborted by its time limit (not by an interrupt or a halt). */
function timedOut(signal: AbortSignal): boolean {
  return signal.aborted && !isHalt(signal.reason) && signal.reason instanceof Error && signal.reason.message === "timeout";
}

function stoppedMessage(signal: AbortSignal, timeoutSeconds: number, looping: boolean, index: number): string {
  if (isHalt(signal.reason)) return `stopped: ${signal.reason.message}`;
  if (timedOut(signal)) {
    return looping
      ? `the loop timed out after ${seconds(timeoutSeconds)} (in iteration ${index})`
      : `the step timed out after ${seconds(timeoutSeconds)}`;
  }
  return "awstoe was interrupted while this step was running";
}

function seconds(n: number): string {
  return `${n} second${n === 1 ? "" : "s"}`;
}

/** A module's error as its sentence; a raw write failure of the file system (a full disk while
 * writing the step's script, say) in the same words as the log files' own. */
function messageOf(error: unknown): string {
  const errno = error as NodeJS.ErrnoException;
  if (!(error instanceof StepError) && typeof errno?.code === "string" && DISK_CODES.has(errno.code)) {
    return `cannot write${errno.path === undefined ? "" : ` '${errno.path}'`}: ${describeWriteError(error)}`;
  }
  return error instanceof Error ? error.message : String(error);
}
const DISK_CODES = new Set(["ENOSPC", "EDQUOT", "EROFS", "EIO"]);
