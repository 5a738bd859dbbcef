/**
 * @module engine/compile-step: a document step, with the scope it starts in, turned into what
 * runs — the one place that works out a step's effective fields (defaults, and the fields a module
 * fixes or ignores), its `if` decision, its loop's values and each iteration's inputs. The run
 * (engine/step.ts) and `--dry-run` (engine/plan.ts) both start from it, so they cannot disagree.
 * Nothing here has side effects; conditions only look at the machine through the probe.
 */
import { isRecord } from "../model/platform.ts";
import type { Probe } from "../model/ports.ts";
import type { Path } from "../errors.ts";
import { evaluateCondition, normalizeIf, type StepAction } from "../expr/condition.ts";
import { expandLoop, type ExpandedLoop } from "../expr/loop.ts";
import { renderString, type ChainUse } from "../expr/render.ts";
import type { Scope } from "../expr/scope.ts";
import { STEP_DEFAULTS, type OnFailure } from "../model/component.ts";
import { findModule, type ModuleDef } from "../modules/index.ts";
import { asWritten, loopAsWritten, prepareInputs, type PreparedInputs } from "./inputs.ts";
import type { ReadyDocument } from "./prepare.ts";

/**
 * What one part of a step resolved to, or the error that stopped it (in a plan, typically a
 * reference to a step that has not run yet), with the chaining references met on the way.
 */
export type Resolution<T> = ({ ok: true; value: T } | { ok: false; error: unknown }) & { uses: ChainUse[] };

export interface Iteration {
  index: number;
  /** This iteration's loop value; undefined without a loop. */
  value?: string;
  inputs: PreparedInputs;
}

export interface CompiledStep {
  phase: string;
  name: string;
  action: string;
  module: ModuleDef;
  /** As the record says it: -1 is no limit, also for a module that ignores the step's limit. */
  timeoutSeconds: number;
  maxAttempts: number;
  onFailure: OnFailure;
  /** The `if` decision; absent without `if`. After a restart it is not made again: Execute. */
  condition?: Resolution<{ decision: StepAction; explain: string }>;
  /** The inputs a step that does not run (its `if` said Skip or Abort) records: without a loop iteration. */
  unrunInputs: Resolution<PreparedInputs>;
  /** The loop's values, worked out once as the step starts; absent without a loop. */
  loop?: Resolution<ExpandedLoop> & { type: ExpandedLoop["type"] };
  /** Each iteration's inputs; one without a loop, none when the loop could not be expanded. */
  iterations: Resolution<Iteration>[];
}

/** `decided`: the step's `if` said Execute before a reboot and is not evaluated again. */
export function compileStep(doc: ReadyDocument, phase: string, step: Record<string, unknown>, path: Path, scope: Scope, probe: Probe, decided = false): CompiledStep {
  const module = findModule(String(step.action))!; // validated before the run
  const fixed = module.fixedStepFields ?? {};
  const given = (value: unknown, fallback: number) => (typeof value === "number" ? value : fallback);
  const render = (uses: ChainUse[]) => (text: string) => renderString(text, scope, uses);
  const inputsIn = (iterationScope: Scope, uses: ChainUse[]) => prepareInputs(module, step.inputs, [...path, "inputs"], doc.map, iterationScope, uses);

  const unrunInputs = resolve((uses) => inputsIn(scope, uses));
  const compiled: CompiledStep = {
    phase,
    name: String(step.name),
    action: module.name,
    module,
    timeoutSeconds: module.ignoresTimeout ? -1 : (fixed.timeoutSeconds ?? given(step.timeoutSeconds, STEP_DEFAULTS.timeoutSeconds)),
    maxAttempts: fixed.maxAttempts ?? given(step.maxAttempts, STEP_DEFAULTS.maxAttempts),
    onFailure: (typeof step.onFailure === "string" ? step.onFailure : STEP_DEFAULTS.onFailure) as OnFailure,
    unrunInputs,
    iterations: [unrunInputs.ok ? { ...unrunInputs, value: { index: 0, inputs: unrunInputs.value } } : unrunInputs],
  };
  if (step.if !== undefined) {
    compiled.condition = decided
      ? { ok: true, value: { decision: "Execute", explain: "was decided before the restart" }, uses: [] }
      : resolve((uses) => {
          const condition = normalizeIf(asWritten(step.if, [...path, "if"], doc.map));
          const { value, explain } = evaluateCondition(condition.expression, render(uses), probe);
          return { decision: value ? condition.then : condition.else, explain };
        });
  }
  if (isRecord(step.loop)) {
    const raw = step.loop;
    const loop = resolve((uses) => expandLoop(loopAsWritten(raw, [...path, "loop"], doc.map), render(uses)));
    compiled.loop = { ...loop, type: raw.for !== undefined ? "for" : "forEach" };
    compiled.iterations = !loop.ok ? [] : loop.value.values.map((value, index) => {
      const iterationScope: Scope = { ...scope, loop: { ...(loop.value.name ? { name: loop.value.name } : {}), index, value } };
      return resolve((uses) => ({ index, value, inputs: inputsIn(iterationScope, uses) }));
    });
  }
  return compiled;
}

function resolve<T>(work: (uses: ChainUse[]) => T): Resolution<T> {
  const uses: ChainUse[] = [];
  try {
    return { ok: true, value: work(uses), uses };
  } catch (error) {
    return { ok: false, error, uses };
  }
}
