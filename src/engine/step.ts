/**
 * @module engine/step: one compiled step (engine/compile-step.ts) from start to finish
 * (docs/component-documents.md §8–§9): its `if` decision, attempts under the time limit, onFailure — and the
 * outcome as a value: the record, what chaining may read, the references it used, a reboot
 * request. Step failures are data here; nothing but bugs escapes as an exception.
 */
import { isHalt } from "./halt.ts";
import { StepError } from "../errors.ts";
import { describeWriteError } from "../safe-fs/durable.ts";
import { isRecord } from "../model/platform.ts";
import type { ChainUse } from "../expr/render.ts";
import type { StepData } from "../expr/scope.ts";
import type { ChainingEntry, ExecutionRecord, LoopRecord, StepRecord } from "../model/record.ts";
import { isFailure, type Status } from "../model/status.ts";
import { localTimestamp } from "../model/time.ts";
import type { ModuleContext, RebootRequest } from "../modules/index.ts";
import type { CompiledStep } from "./compile-step.ts";
import type { EnginePorts } from "./deps.ts";
import type { PlacedReboot } from "./resume.ts";

/** What a step needs from the document run around it. */
export interface StepHost {
  ports: Pick<EnginePorts, "now" | "signal">;
  log: { debug(message: string): void; info(message: string): void; warn(message: string): void };
  /** The step's journal key (`d0/build/3`, nested `d0/build/3>d0/test/1`): where its reboot request comes from. */
  key: string;
  /** The context for one call of the step's module (its files, processes, nested runs), stopped by `signal`. */
  moduleContext(signal: AbortSignal): ModuleContext;
  /** An attempt starts: the failure context quotes the last attempt's standard error only. */
  attemptStarts(): void;
  /** Why the step may not reboot the machine now (the execution's reboot budget is spent), or undefined. */
  rebootRefusal(): string | undefined;
  /** A module call starts with these resolved inputs (`iteration` names a loop's iteration): the step's log records them. */
  callStarts?(iteration: string | undefined, inputs: unknown): void;
}

/**
 * A finished step, or one that asked for a reboot and runs again after it (exit 194/3010, or a
 * step of the document its ExecuteDocument runs asked): of that one nothing is kept now.
 */
export type StepOutcome = FinishedStep | { finished: false; reboot: PlacedReboot };

export interface FinishedStep {
  finished: true;
  record: StepRecord;
  /** What later steps may chain to. */
  data: StepData;
  /** The chaining references the step resolved, each once (chaining.json, the journal). */
  uses: ChainingEntry[];
  /** Counted as executed (not skipped). */
  executed: boolean;
  /** Stop the whole execution (onFailure Abort, a reboot request, an interruption). */
  stop: boolean;
  /** The step asked for a reboot (the Reboot module); the run goes on with the next step after it. */
  reboot?: PlacedReboot;
  /** Why it did not run, for the recap (a skipping `if`). */
  note?: string;
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
  reboot?: RebootRequest;
}

/** How a step ended, besides its status and message. */
interface Ending {
  executed: boolean;
  loop?: LoopRecord | null;
  detailedOutput?: ExecutionRecord[] | null;
  /** Stopped by an interrupt or a halt: onFailure does not apply, the execution stops. */
  interrupted?: boolean;
  reboot?: PlacedReboot;
  note?: string;
}

export async function runStep(step: CompiledStep, host: StepHost): Promise<StepOutcome> {
  const usedBy = `${step.phase}/${step.name}`;
  const startTime = localTimestamp(host.ports.now());
  const started = performance.now();
  const uses: ChainUse[] = [...(step.condition?.uses ?? [])];
  // onFailure applies to any failure, a timeout included: Abort stops everything, Continue goes on,
  // Ignore records `ignoredFailure`.
  const end = (status: Status, failureMessage: string, inputs: Record<string, unknown>[], outputs: Record<string, unknown>[] | undefined, ending: Ending): FinishedStep => {
    const ignored = isFailure(status) && step.onFailure === "Ignore" && ending.interrupted !== true;
    // Key order as in docs/log-folder.md §7; a module without outputs records "[]".
    const recorded = (outputs ?? []).filter((o) => !isRecord(o) || Object.keys(o).length > 0);
    const record: StepRecord = {
      name: step.name, status: ignored ? "ignoredFailure" : status, failureMessage, timeoutSeconds: step.timeoutSeconds, onFailure: step.onFailure, maxAttempts: step.maxAttempts, action: step.action, startTime,
      endTime: localTimestamp(host.ports.now()), durationMs: Math.round(performance.now() - started),
      inputs: JSON.stringify(inputs), outputs: JSON.stringify(recorded), loop: ending.loop ?? null, detailedOutput: ending.detailedOutput ?? null,
    };
    const failedHard = isFailure(status) && !ignored && (step.onFailure === "Abort" || ending.interrupted === true);
    return {
      finished: true, record, data: { inputs, outputs }, uses: uses.map((use) => ({ expression: use.expression, usedBy, resolved: use.resolved })), executed: ending.executed,
      stop: failedHard || ending.reboot !== undefined, ...(ending.reboot ? { reboot: ending.reboot } : {}), ...(ending.note ? { note: ending.note } : {}),
    };
  };

  // 1. The condition, decided once by compileStep (never on retries, nor after a reboot).
  if (step.condition !== undefined) {
    const condition = step.condition;
    if (!condition.ok) return end("failed", `${step.action}: the if condition could not be evaluated: ${messageOf(condition.error)}`, [], undefined, { executed: false });
    host.log.debug(`${usedBy}: if ${condition.value.explain} → ${condition.value.decision}`);
    if (condition.value.decision !== "Execute") {
      uses.push(...step.unrunInputs.uses);
      const inputs = step.unrunInputs.ok ? step.unrunInputs.value.list : [];
      if (condition.value.decision === "Skip") return end("skipped", "", inputs, undefined, { executed: false, note: `if ${condition.value.explain}` });
      return end("failed", "step aborted by if condition", inputs, undefined, { executed: false });
    }
  }

  // 2. The loop's values, worked out once when the step started.
  let loop: LoopRecord | null = null;
  if (step.loop !== undefined) {
    uses.push(...step.loop.uses);
    if (!step.loop.ok) return end("failed", `${step.action}: the loop could not be expanded: ${messageOf(step.loop.error)}`, [], undefined, { executed: true });
    loop = { name: step.loop.value.name ?? "", type: step.loop.value.type, values: step.loop.value.values, failedIterations: [] };
  }
  uses.push(...(step.iterations[0]?.uses ?? []));

  // 3. Attempts, each with the whole time limit; a retry starts the loop again at index 0.
  let attempt!: Attempt;
  for (let n = 1; n <= step.maxAttempts; n++) {
    if (n > 1) host.log.info(`${usedBy}: attempt ${n} of ${step.maxAttempts}`);
    attempt = await runAttempt(step, host);
    if (attempt.ok || attempt.reboot !== undefined || host.ports.signal.aborted) break;
    if (n < step.maxAttempts) host.log.warn(`${usedBy}: attempt ${n} of ${step.maxAttempts} failed, trying again: ${attempt.message}`);
  }
  if (loop !== null) loop.failedIterations = attempt.failedIterations;
  const ran: Ending = { executed: true, loop, detailedOutput: attempt.detailedOutput };
  if (attempt.reboot !== undefined) {
    // A request from inside a nested document was counted against the budget where it was made.
    const inner = attempt.reboot.from;
    const refusal = inner === undefined ? host.rebootRefusal() : undefined;
    if (refusal !== undefined) return end("failed", `${step.action}: ${refusal}`, attempt.inputs, undefined, ran);
    const reboot: PlacedReboot = { ...attempt.reboot, from: inner ?? { key: host.key, step: usedBy } };
    if (reboot.rerunStep || inner !== undefined) return { finished: false, reboot };
    return end("success", "", attempt.inputs, [attempt.outputs], { ...ran, reboot });
  }
  if (attempt.ok) return end("success", "", attempt.inputs, [attempt.outputs], ran);
  const interrupted = host.ports.signal.aborted;
  const tries = step.maxAttempts > 1 && !interrupted ? ` (after ${step.maxAttempts} attempts)` : "";
  // A loop that failed keeps what its successful iterations produced, consolidated as for a loop
  // that succeeded, so later steps can chain to it; a step that produced nothing has no outputs.
  const kept = loop !== null && attempt.succeeded > 0 ? [attempt.outputs] : undefined;
  return end(attempt.timedOut ? "timedOut" : "failed", `${attempt.message}${tries}`, attempt.inputs, kept, { ...ran, interrupted });
}

async function runAttempt(step: CompiledStep, host: StepHost): Promise<Attempt> {
  const { signal } = host.ports;
  const controller = new AbortController();
  const stopOnInterrupt = () => controller.abort(isHalt(signal.reason) ? signal.reason : new Error("interrupted"));
  signal.addEventListener("abort", stopOnInterrupt, { once: true });
  if (signal.aborted) stopOnInterrupt();
  const timer = step.timeoutSeconds === -1 ? undefined : setTimeout(() => controller.abort(new Error("timeout")), step.timeoutSeconds * 1000);
  const looping = step.loop !== undefined;
  const outputs: Record<string, unknown>[] = [];
  let inputs: Record<string, unknown>[] = [];
  let detailedOutput: ExecutionRecord[] | null = null;
  const result = (ok: boolean, message: string, failedAt?: number, reboot?: RebootRequest, overTime = false): Attempt => ({
    ok, timedOut: overTime, message, outputs: consolidate(outputs), succeeded: outputs.length, inputs,
    failedIterations: looping && failedAt !== undefined ? [failedAt] : [], detailedOutput, ...(reboot ? { reboot } : {}),
  });
  host.attemptStarts();
  try {
    for (const [index, iteration] of step.iterations.entries()) {
      const where = looping ? `${iterationName(step, index)}: ` : "";
      try {
        if (!iteration.ok) throw iteration.error;
        inputs = iteration.value.inputs.list;
        host.callStarts?.(looping ? iterationName(step, index) : undefined, iteration.value.inputs.value);
        const outcome = await untilAborted(step.module.execute(iteration.value.inputs.value, host.moduleContext(controller.signal)), controller.signal);
        if (outcome.detailedOutput !== undefined) detailedOutput = [...(detailedOutput ?? []), ...outcome.detailedOutput];
        // A step that continues with the next one after the restart keeps its outputs (chainable).
        if (outcome.reboot !== undefined && !outcome.reboot.rerunStep) outputs.push(outcome.outputs as Record<string, unknown>);
        if (outcome.reboot !== undefined) return result(false, "", undefined, outcome.reboot);
        if (outcome.failed !== undefined) return result(false, `${step.module.name}: ${where}${outcome.failed}`, index);
        outputs.push(outcome.outputs as Record<string, unknown>);
      } catch (error) {
        if (controller.signal.aborted) return result(false, stoppedMessage(controller.signal, step.timeoutSeconds, looping ? iterationName(step, index) : undefined), index, undefined, timedOut(controller.signal));
        return result(false, `${step.module.name}: ${where}${messageOf(error)}`, index);
      }
    }
    return result(true, "");
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal.removeEventListener("abort", stopOnInterrupt);
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

/**
 * How a person finds an iteration in a message: counted from 1, with its value —
 * "iteration 3 of 4 (nginx-bogus)" ({{ loop.index }} of that iteration is 2).
 */
export function iterationName(step: Pick<CompiledStep, "loop">, index: number): string {
  const values = step.loop?.ok ? step.loop.value.values : [];
  const value = values[index];
  const shown = value === undefined ? "" : ` (${value.length > 60 ? `${value.slice(0, 57)}…` : value})`;
  return `iteration ${index + 1} of ${values.length}${shown}`;
}

function stoppedMessage(signal: AbortSignal, timeoutSeconds: number, iteration: string | undefined): string {
  if (isHalt(signal.reason)) return `stopped: ${signal.reason.message}`;
  if (timedOut(signal)) {
    return iteration !== undefined
      ? `the loop timed out after ${secondsPhrase(timeoutSeconds)} (in ${iteration})`
      : `the step timed out after ${secondsPhrase(timeoutSeconds)}`;
  }
  return "awstoe was interrupted while this step was running";
}

/** "1 second", "30 seconds": a time limit in words. */
function secondsPhrase(n: number): string {
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
