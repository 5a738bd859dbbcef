/**
 * @module engine/rerun-plan: the decisions behind running part of an execution again
 * (docs/cli.md §2.1) — which journaled steps `--retry` restores, which steps `--from`/`--only`
 * leave out, and which chaining values those left-out steps owe the steps that do run. Pure: the
 * documents, the journal and the earlier record come in as data; errors are UsageErrors.
 */
import { UsageError } from "../errors.ts";
import { classifyReference, findReferences } from "../expr/template.ts";
import type { StepData } from "../expr/scope.ts";
import { isRecord } from "../model/platform.ts";
import type { ExecutionRecord } from "../model/record.ts";
import { isFailure, type Status } from "../model/status.ts";
import { didYouMean } from "../model/suggest.ts";
import type { StepEntry } from "../state/journal.ts";

/**
 * The step lines `--retry` restores: those that finished before the first failed (or timed-out)
 * one, in the order they finished. The failed step and everything that finished after it — steps
 * an `onFailure: Continue` let run — run again. A nested document's lines come before their
 * ExecuteDocument step's, so its steps that succeeded are restored even when that step reruns.
 */
export function restorableSteps(steps: Iterable<StepEntry>): StepEntry[] {
  const kept: StepEntry[] = [];
  for (const entry of steps) {
    if (isFailure(String(entry.record.status) as Status)) break;
    kept.push(entry);
  }
  return kept;
}

/** `--from` / `--only` as given, and `--outputs-from`. */
export interface SelectionRequest {
  from?: string;
  only?: readonly string[];
  outputsFrom?: string;
}

/** A document as the selection sees it (engine/prepare.ts ReadyDocument has these). */
export interface SelectableDocument {
  source: string;
  doc: Record<string, unknown>;
}

/** A top-level step in run order. */
interface Place {
  key: string;
  document: number;
  phase: string;
  name: string;
  step: Record<string, unknown>;
}

/** Why a step does not run in this invocation, and what chaining may read of it (from --outputs-from). */
export interface LeftOut {
  reason: string;
  data?: StepData;
}

export interface StepSelection {
  /** The top-level step `key` (`d0/build/3`) does not run: why, and its borrowed data. */
  leftOut(key: string): LeftOut | undefined;
  /** How many steps run. */
  running: number;
}

/** Steps of earlier executions, by document position, phase and name, as chaining would read them. */
export type Borrowed = (document: number, phase: string, name: string) => StepData | undefined;

/**
 * Resolves `--from`/`--only` against the documents, and checks that every chaining reference of a
 * running step to a left-out step can be answered from `borrowed`. Everything wrong is gathered
 * into one UsageError. `phases` is --phases (empty: all).
 *
 * Addressing: `phase/step`; with several documents a name that more than one has is ambiguous and
 * must be written `<n>:phase/step`, n counting the documents from 1 in run order.
 */
export function selectSteps(request: SelectionRequest, documents: readonly SelectableDocument[], phases: readonly string[], borrowed: Borrowed | undefined): StepSelection {
  const places = topLevelSteps(documents, phases);
  const specs = request.from !== undefined ? [request.from] : [...(request.only ?? [])];
  const option = request.from !== undefined ? "--from" : "--only";
  const problems: string[] = [];
  const found = specs.map((spec) => {
    const match = locate(spec, places, documents);
    if (typeof match === "string") problems.push(match);
    return typeof match === "string" ? undefined : match;
  });
  if (problems.length > 0) {
    throw new UsageError(`${option}: ${problems.join("; ")}`, { hint: `steps are named phase/step as in the document${documents.length > 1 ? ", or <n>:phase/step for the n-th document" : ""}; nothing was run` });
  }
  let runs: Set<string>;
  let reason: string;
  if (request.from !== undefined) {
    const start = places.findIndex((p) => p.key === found[0]!.key);
    runs = new Set(places.slice(start).map((p) => p.key));
    reason = `not selected: this run starts at --from ${request.from}`;
  } else {
    runs = new Set(found.map((p) => p!.key));
    reason = `not selected: this run runs only ${specs.join(",")} (--only)`;
  }
  const data = new Map<string, StepData>();
  for (const place of places) {
    const lent = runs.has(place.key) ? undefined : borrowed?.(place.document, place.phase, place.name);
    if (lent !== undefined) data.set(place.key, lent);
  }
  const missing = missingOutputs(places, runs, data);
  if (missing.length > 0) {
    const from = request.outputsFrom === undefined ? "" : ` and execution ${request.outputsFrom} did not produce ${missing.length === 1 ? "it" : "them"}`;
    throw new UsageError(`${option} leaves out steps whose values the steps that run need${from}: ${missing.join("; ")}`, {
      hint: request.outputsFrom === undefined
        ? "pass --outputs-from <execution-id> of an earlier run of these documents whose steps produced them, or include those steps; nothing was run"
        : "choose an execution in which those steps succeeded, or include those steps; nothing was run",
    });
  }
  const suffix = request.outputsFrom === undefined ? "" : `; chaining reads its values from execution ${request.outputsFrom}`;
  const known = new Set(places.map((p) => p.key));
  return {
    running: runs.size,
    leftOut: (key) => {
      if (runs.has(key) || !known.has(key)) return undefined; // nested keys (`…>d0/…`) are never known: they run with their step
      const lent = data.get(key);
      return lent === undefined ? { reason } : { reason: `${reason}${suffix}`, data: lent };
    },
  };
}

/** Every top-level step of the selected phases, in run order, with its journal key. */
function topLevelSteps(documents: readonly SelectableDocument[], phases: readonly string[]): Place[] {
  const list = (value: unknown) => (Array.isArray(value) ? value : []);
  return documents.flatMap((d, document) =>
    list(d.doc.phases).filter(isRecord).filter((phase) => phases.length === 0 || phases.includes(String(phase.name))).flatMap((phase) =>
      list(phase.steps).flatMap((step, index) => (isRecord(step) ? [{ key: `d${document}/${String(phase.name)}/${index}`, document, phase: String(phase.name), name: String(step.name), step }] : [])),
    ),
  );
}

/** The step `spec` names, or a sentence saying why it names none. */
function locate(spec: string, places: readonly Place[], documents: readonly SelectableDocument[]): Place | string {
  const parsed = /^(?:(\d+):)?([^/]+)\/(.+)$/.exec(spec.trim());
  if (parsed === null) return `'${spec}' is not phase/step (e.g. build/Install)`;
  const [, number, phase, name] = parsed as unknown as [string, string | undefined, string, string];
  const document = number === undefined ? undefined : Number(number) - 1;
  if (document !== undefined && (document < 0 || document >= documents.length)) return `'${spec}': there is no document ${number} (this run has ${documents.length})`;
  const inScope = places.filter((p) => document === undefined || p.document === document);
  const matches = inScope.filter((p) => p.phase === phase && p.name === name);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    const which = matches.map((p) => `${p.document + 1}:${phase}/${name} (${documents[p.document]!.source})`).join(", ");
    return `'${spec}' is in more than one document; name one: ${which}`;
  }
  const phaseSteps = inScope.filter((p) => p.phase === phase);
  if (phaseSteps.length === 0) return `'${spec}': no phase '${phase}' runs${didYouMean(phase, new Set(inScope.map((p) => p.phase)))}`;
  return `'${spec}': phase '${phase}' has no step '${name}'${didYouMean(name, phaseSteps.map((p) => p.name))}`;
}

/** "build/Use needs build.Fetch.outputs.stdout (build/Fetch does not run)", once per reference. */
function missingOutputs(places: readonly Place[], runs: ReadonlySet<string>, data: ReadonlyMap<string, StepData>): string[] {
  const missing: string[] = [];
  for (const place of places.filter((p) => runs.has(p.key))) {
    const seen = new Set<string>();
    const loop = isRecord(place.step.loop) ? place.step.loop.forEach : undefined;
    forEachString([place.step.inputs, loop, place.step.if], (text) => {
      for (const found of findReferences(text)) {
        const ref = classifyReference(found.expr);
        if (ref.kind !== "chain" || seen.has(found.expr)) continue;
        const target = places.find((p) => p.document === place.document && p.phase === ref.phase && p.name === ref.step);
        if (target === undefined || runs.has(target.key)) continue; // validation already refused a reference to nothing
        seen.add(found.expr);
        const lent = data.get(target.key);
        const part = ref.part === "outputs" ? lent?.outputs : lent?.inputs;
        const has = part !== undefined && (ref.index === undefined ? part.some((item) => ref.field in item) : part[ref.index] !== undefined && ref.field in part[ref.index]!);
        if (!has) missing.push(`${place.phase}/${place.name} needs ${found.expr} (${target.phase}/${target.name} does not run)`);
      }
    });
  }
  return missing;
}

function forEachString(value: unknown, visit: (text: string) => void): void {
  if (typeof value === "string") visit(value);
  else if (Array.isArray(value)) for (const item of value) forEachString(item, visit);
  else if (isRecord(value)) for (const item of Object.values(value)) forEachString(item, visit);
}

/**
 * What chaining may read of the steps of an earlier execution's record (its detailedoutput.json):
 * a document's steps only when that execution ran the same source at the same position. A step's
 * outputs count when it succeeded, or when it was itself left out and carried borrowed ones.
 */
export function borrowedFrom(record: ExecutionRecord, sources: readonly string[]): Borrowed {
  return (document, phase, name) => {
    const doc = record.documents[document];
    if (doc === undefined || doc.filePath !== sources[document]) return undefined;
    const step = doc.phases.find((p) => p.name === phase)?.steps.find((s) => s.name === name);
    if (step === undefined) return undefined;
    const parse = (text: string) => {
      try {
        const value = JSON.parse(text) as unknown;
        return Array.isArray(value) ? value.filter(isRecord) : [];
      } catch {
        return [];
      }
    };
    const outputs = parse(step.outputs);
    const usable = step.status === "success" || (step.notSelected !== undefined && outputs.length > 0);
    return { inputs: parse(step.inputs), outputs: usable ? outputs : undefined };
  };
}
