/**
 * @module engine/plan: `awstoe run --dry-run` — what a run would do, worked out without running
 * anything: documents, the phases that would run, each step with its resolved inputs, loop
 * iterations and `if` decisions, compiled as the run compiles them (engine/compile-step.ts).
 * Whatever depends on an earlier step's outputs is shown as deferred, with the reason. Probes in
 * conditions (binaryExists, fileExists…) only look.
 */
import { ResolveError } from "../errors.ts";
import type { HostLookup, Scope } from "../expr/scope.ts";
import { Masker } from "../logs/mask.ts";
import { HostValues, needsNetwork } from "./host-values.ts";
import { checkPhases, unknownParameters } from "./typos.ts";
import type { Probe } from "../model/ports.ts";
import { compileStep, type CompiledStep } from "./compile-step.ts";
import type { EngineDeps } from "./deps.ts";
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

export interface PlanOptions {
  /**
   * Also read aws:ssm:, aws:imds: and context:accountId/region references (`--resolve-aws`);
   * without it they are shown as written. Secret values are masked by `masker` either way.
   */
  resolveAws?: boolean;
  masker?: Masker;
}

export async function planExecution(request: RunRequest, deps: EngineDeps, options: PlanOptions = {}): Promise<Plan> {
  const prepared = await prepareDocuments(request.documents, request.parameters, deps, { blockedModules: request.blockedModules ?? [], requireParameterValues: request.requireParameterValues === true });
  for (const warning of prepared.warnings) deps.presentation.terminal.stderr(`${deps.presentation.renderDiagnostics(warning.diagnostics, warning.map)}\n`);
  if (prepared.failures.length === 0) checkPhases(request.phases, prepared.ready);
  for (const line of unknownParameters(request.parameters, prepared.ready)) deps.presentation.terminal.stderr(`warning: ${line}\n`);
  if (prepared.failures.length > 0) return { valid: false, documents: [], failures: prepared.failures };
  const { ports } = deps;
  const hostValues = new HostValues({ ports: ports.host, platform: ports.platform, executionId: request.executionId, masker: options.masker ?? new Masker(), now: ports.now, newUuid: ports.newId, signal: ports.signal });
  const documents: PlannedDocument[] = [];
  for (const doc of prepared.ready) documents.push(await planDocument(doc, request.phases, ports.probe, hostValues, options.resolveAws === true));
  return { valid: true, documents, failures: [] };
}

async function planDocument(doc: ReadyDocument, phases: readonly string[] | undefined, probe: Probe, hostValues: HostValues, resolveAws: boolean): Promise<PlannedDocument> {
  const scope: Scope = { variables: doc.variables, steps: new Map() };
  const planned: PlannedDocument = { source: doc.source, name: typeof doc.doc.name === "string" ? doc.doc.name : "", phases: [], skippedPhases: [] };
  for (const [p, phase] of (doc.doc.phases as Record<string, unknown>[]).entries()) {
    const name = String(phase.name);
    if (phases !== undefined && phases.length > 0 && !phases.includes(name)) {
      planned.skippedPhases.push(name);
      continue;
    }
    const steps: PlannedStep[] = [];
    for (const [s, step] of (phase.steps as Record<string, unknown>[]).entries()) {
      if (resolveAws) await hostValues.prefetch(step, doc.variables);
      const lookup = hostValues.lookup(name, String(step.name));
      const host: HostLookup = { resolve: (reference, raw) => (!resolveAws && needsNetwork(reference) ? raw : lookup.resolve(reference, raw)) };
      steps.push(planStep(compileStep(doc, name, step, ["phases", p, "steps", s], { ...scope, host }, probe)));
    }
    planned.phases.push({ name, steps });
  }
  return planned;
}

/** What the run would do with the step, as far as it is known before anything runs. */
function planStep(step: CompiledStep): PlannedStep {
  const { phase, name, action, timeoutSeconds, onFailure, maxAttempts } = step;
  const planned: PlannedStep = { phase, name, action, timeoutSeconds, onFailure, maxAttempts };
  if (step.condition !== undefined) planned.condition = step.condition.ok ? step.condition.value : { deferred: deferral(step.condition.error) };
  if (step.loop !== undefined) {
    if (!step.loop.ok) {
      planned.loop = { type: step.loop.type, deferred: deferral(step.loop.error) };
      planned.deferred = "the loop's items are only known during the run";
      return planned;
    }
    const { type, values } = step.loop.value;
    planned.loop = { type, count: values.length, values: values.slice(0, LISTED_ITERATIONS) };
  }
  const iterations: NonNullable<PlannedStep["iterations"]> = [];
  for (const iteration of step.iterations.slice(0, LISTED_ITERATIONS)) {
    if (!iteration.ok) {
      planned.deferred = deferral(iteration.error);
      return planned;
    }
    const { index, value, inputs } = iteration.value;
    iterations.push({ index, ...(value === undefined ? {} : { value }), inputs: inputs.value });
  }
  planned.iterations = iterations;
  return planned;
}

/** Why a part of a step can only be worked out during the run. */
function deferral(error: unknown): string {
  if (error instanceof ResolveError) return `depends on {{ ${error.expression} }}, known only when the run gets there`;
  return `cannot be worked out in advance: ${(error as Error).message}`;
}
