/**
 * @module engine/plan: `awstoe run --dry-run` — what a run would do, worked out without running
 * anything: documents, the phases that would run, each step with its resolved inputs, loop
 * iterations and `if` decisions. Whatever depends on an earlier step's outputs is shown as
 * deferred, with the reason. Probes in conditions (binaryExists, fileExists…) only look.
 */
import { isRecord } from "../model/platform.ts";
import { ResolveError } from "../errors.ts";
import { evaluateCondition, normalizeIf } from "../expr/condition.ts";
import { expandLoop } from "../expr/loop.ts";
import { renderString } from "../expr/render.ts";
import type { Scope } from "../expr/scope.ts";
import { STEP_DEFAULTS } from "../model/component.ts";
import { findModule } from "../modules/index.ts";
import type { EngineDeps } from "./deps.ts";
import { asWritten, loopAsWritten, prepareInputs } from "./inputs.ts";
import { prepareDocuments, type Prepared, type ReadyDocument } from "./prepare.ts";
import type { RunRequest } from "./run.ts";

/** Loop iterations listed in a plan; the rest are counted. */
const LISTED_ITERATIONS = 25;

export interface PlannedStep {
  phase: string;
  name: string;
  action: string;
  timeoutSeconds: number;
  onFailure: string;
  maxAttempts: number;
  /** The `if` decision, or why it can only be made during the run. */
  condition?: { decision?: "Execute" | "Skip" | "Abort"; explain?: string; deferred?: string };
  loop?: { type: "for" | "forEach"; count?: number; values?: string[]; deferred?: string };
  /** Resolved inputs per iteration (one entry without a loop); undefined when deferred. */
  iterations?: { index: number; value?: string; inputs: unknown }[];
  /** Why (some of) the inputs are only known during the run. */
  deferred?: string;
}

export interface PlannedDocument {
  source: string;
  name: string;
  phases: { name: string; steps: PlannedStep[] }[];
  /** Phases of the document that --phases leaves out. */
  skippedPhases: string[];
}

export interface Plan {
  valid: boolean;
  documents: PlannedDocument[];
  failures: Prepared["failures"];
}

export async function planExecution(request: RunRequest, deps: EngineDeps): Promise<Plan> {
  const prepared = await prepareDocuments(request.documents, request.parameters, deps, { blockedModules: request.blockedModules ?? [] });
  if (prepared.failures.length > 0) return { valid: false, documents: [], failures: prepared.failures };
  return { valid: true, documents: prepared.ready.map((doc) => planDocument(doc, request.phases, deps)), failures: [] };
}

function planDocument(doc: ReadyDocument, phases: readonly string[] | undefined, deps: EngineDeps): PlannedDocument {
  const scope: Scope = { variables: doc.variables, steps: new Map() };
  const planned: PlannedDocument = { source: doc.source, name: typeof doc.doc.name === "string" ? doc.doc.name : "", phases: [], skippedPhases: [] };
  (doc.doc.phases as Record<string, unknown>[]).forEach((phase, p) => {
    const name = String(phase.name);
    if (phases !== undefined && phases.length > 0 && !phases.includes(name)) {
      planned.skippedPhases.push(name);
      return;
    }
    const steps = (phase.steps as Record<string, unknown>[]).map((step, s) => planStep(doc, name, step, ["phases", p, "steps", s], scope, deps));
    planned.phases.push({ name, steps });
  });
  return planned;
}

function planStep(doc: ReadyDocument, phase: string, step: Record<string, unknown>, path: (string | number)[], scope: Scope, deps: EngineDeps): PlannedStep {
  const module = findModule(String(step.action))!;
  const fixed = module.fixedStepFields ?? {};
  const planned: PlannedStep = {
    phase,
    name: String(step.name),
    action: module.name,
    timeoutSeconds: fixed.timeoutSeconds ?? (typeof step.timeoutSeconds === "number" ? step.timeoutSeconds : STEP_DEFAULTS.timeoutSeconds),
    onFailure: typeof step.onFailure === "string" ? step.onFailure : STEP_DEFAULTS.onFailure,
    maxAttempts: fixed.maxAttempts ?? (typeof step.maxAttempts === "number" ? step.maxAttempts : STEP_DEFAULTS.maxAttempts),
  };
  const render = (text: string) => renderString(text, scope);
  if (step.if !== undefined) {
    planned.condition = attempt(() => {
      const condition = normalizeIf(asWritten(step.if, [...path, "if"], doc.map));
      const { value, explain } = evaluateCondition(condition.expression, render, deps.probe);
      return { decision: value ? condition.then : condition.else, explain };
    });
  }
  let values: (string | undefined)[] = [undefined];
  if (isRecord(step.loop)) {
    const raw = step.loop;
    const loop = attempt(() => expandLoop(loopAsWritten(raw, [...path, "loop"], doc.map), render));
    if ("deferred" in loop) {
      planned.loop = { type: isRecord(step.loop) && step.loop.for !== undefined ? "for" : "forEach", deferred: loop.deferred };
      planned.deferred = "the loop's items are only known during the run";
      return planned;
    }
    planned.loop = { type: loop.type, count: loop.values.length, values: loop.values.slice(0, LISTED_ITERATIONS) };
    values = loop.values.slice(0, LISTED_ITERATIONS);
  }
  const loopName = isRecord(step.loop) && typeof step.loop.name === "string" ? step.loop.name : undefined;
  const iterations: NonNullable<PlannedStep["iterations"]> = [];
  for (const [index, value] of values.entries()) {
    const iterationScope: Scope = value === undefined ? scope : { ...scope, loop: { ...(loopName ? { name: loopName } : {}), index, value } };
    const inputs = attempt(() => ({ inputs: prepareInputs(module, step.inputs, [...path, "inputs"], doc.map, iterationScope).value }));
    if ("deferred" in inputs) {
      planned.deferred = inputs.deferred;
      return planned;
    }
    iterations.push({ index, ...(value === undefined ? {} : { value }), inputs: inputs.inputs });
  }
  planned.iterations = iterations;
  return planned;
}

/** Runs `work`; a reference to an earlier step's outputs turns into a "deferred" reason. */
function attempt<T extends object>(work: () => T): T | { deferred: string } {
  try {
    return work();
  } catch (error) {
    if (error instanceof ResolveError) return { deferred: `depends on {{ ${error.expression} }}, known only when the run gets there` };
    return { deferred: `cannot be worked out in advance: ${(error as Error).message}` };
  }
}

