/**
 * @module lsp/analysis: one version of an open document, understood once — the validator's
 * diagnostics, and the index the editor features read (steps in execution order, parameters and
 * constants, every `{{ … }}` with its offsets). Built from the same parse `awstoe validate` does
 * (document/validate.ts validateText and its source map), so positions agree with its reports.
 */
import type { Diagnostic } from "../errors.ts";
import { findReferences, classifyReference, type Reference } from "../expr/template.ts";
import { isRecord, type PlatformName } from "../model/platform.ts";
import type { SourceMap } from "../document/source-map.ts";
import { validateText } from "../document/validate.ts";

/** Offsets into the document text, end exclusive. */
export type Span = [number, number];

export interface StepInfo {
  phase: string | undefined;
  name: string | undefined;
  action: string | undefined;
  /** Position in execution order (phases in document order, steps within them). */
  order: number;
  path: (string | number)[];
  /** The whole step mapping. */
  span: Span;
  /** The `name:` value, as written (quotes included when quoted). */
  nameSpan: Span | undefined;
  actionSpan: Span | undefined;
  /** The loop's own name, when the step loops and names it. */
  loopName: string | undefined;
  loops: boolean;
}

export interface VariableInfo {
  name: string;
  kind: "parameter" | "constant";
  /** The name key (`- Name:`). */
  keySpan: Span;
  /** A parameter's default or a constant's value, as text. */
  value: string | undefined;
  description: string | undefined;
}

export interface ReferenceInfo {
  /** The `{{ … }}` braces included. */
  span: Span;
  expr: string;
  /** Offset in the text where `expr` starts. */
  exprStart: number;
  reference: Reference;
  /** The step whose mapping holds it. */
  step: StepInfo;
}

export interface Analysis {
  text: string;
  /** The parsed document; undefined when the text is not YAML (yet). */
  document: Record<string, unknown> | undefined;
  map: SourceMap | undefined;
  diagnostics: Diagnostic[];
  steps: StepInfo[];
  variables: VariableInfo[];
  references: ReferenceInfo[];
}

export function analyze(text: string, source: string, platform: PlatformName): Analysis {
  const result = validateText(text, source, { platform });
  const document = isRecord(result.document) ? result.document : undefined;
  const map = result.map;
  const empty = { text, document, map, diagnostics: result.diagnostics, steps: [], variables: [], references: [] };
  if (document === undefined || map === undefined) return empty;
  const steps = stepsOf(document, map);
  return { ...empty, steps, variables: variablesOf(document, map), references: steps.flatMap((step) => referencesIn(text, step)) };
}

function stepsOf(document: Record<string, unknown>, map: SourceMap): StepInfo[] {
  const steps: StepInfo[] = [];
  const phases = Array.isArray(document.phases) ? document.phases : [];
  phases.forEach((phase, phaseIndex) => {
    if (!isRecord(phase) || !Array.isArray(phase.steps)) return;
    phase.steps.forEach((step, stepIndex) => {
      const path = ["phases", phaseIndex, "steps", stepIndex];
      const span = map.range(path)?.value;
      if (!isRecord(step) || span === undefined) return;
      const loop = isRecord(step.loop) ? step.loop : undefined;
      steps.push({
        phase: scalar(phase.name),
        name: scalar(step.name),
        action: scalar(step.action),
        order: steps.length,
        path,
        span,
        nameSpan: map.range([...path, "name"])?.value,
        actionSpan: map.range([...path, "action"])?.value,
        loopName: scalar(loop?.name),
        loops: loop !== undefined,
      });
    });
  });
  return steps;
}

function variablesOf(document: Record<string, unknown>, map: SourceMap): VariableInfo[] {
  const found: VariableInfo[] = [];
  for (const [list, kind] of [["parameters", "parameter"], ["constants", "constant"]] as const) {
    const items = Array.isArray(document[list]) ? (document[list] as unknown[]) : [];
    items.forEach((item, index) => {
      if (!isRecord(item)) return;
      for (const [name, body] of Object.entries(item)) {
        const keySpan = map.range([list, index, name])?.key;
        if (keySpan === undefined) continue;
        const settings = isRecord(body) ? body : {};
        found.push({ name, kind, keySpan, value: scalar(kind === "parameter" ? settings.default : settings.value), description: scalar(settings.description) });
      }
    });
  }
  return found;
}

/** Every `{{ … }}` written inside a step's mapping, found in the raw text so offsets are exact. */
function referencesIn(text: string, step: StepInfo): ReferenceInfo[] {
  const [start, end] = step.span;
  return findReferences(text.slice(start, end)).map((found) => {
    const inner = found.raw.indexOf(found.expr, 2);
    return {
      span: [start + found.start, start + found.end] as Span,
      expr: found.expr,
      exprStart: start + found.start + (inner < 0 ? 2 : inner),
      reference: classifyReference(found.expr),
      step,
    };
  });
}

/** A scalar as text (numbers and booleans as written by String()); undefined otherwise. */
export function scalar(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

/** The step whose mapping contains `offset`, if any. */
export function stepAt(analysis: Analysis, offset: number): StepInfo | undefined {
  return analysis.steps.find((s) => s.span[0] <= offset && offset <= s.span[1]);
}

/** Steps that run before `step` (chaining can read only those). */
export function earlierSteps(analysis: Analysis, step: StepInfo | undefined): StepInfo[] {
  return step === undefined ? analysis.steps : analysis.steps.filter((s) => s.order < step.order);
}
