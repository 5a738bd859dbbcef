/**
 * @module lsp/symbols: the names references point at — steps (through chaining,
 * `{{ phase.step.outputs.x }}`) and parameters/constants (`{{ Name }}`, `aws:ssm:resolve(Name)`) —
 * with every place each is written, for go to definition, find references and rename.
 */
import type { Analysis, Span, StepInfo, VariableInfo } from "./analysis.ts";

export type DocSymbol =
  | { kind: "step"; phase: string; name: string }
  | { kind: "variable"; name: string };

export interface Occurrence {
  /** The name itself (no quotes, no braces). */
  span: Span;
  definition: boolean;
}

/** The symbol under `offset`: a reference to one, or its definition. */
export function symbolAt(analysis: Analysis, offset: number): DocSymbol | undefined {
  const inside = (span: Span | undefined) => span !== undefined && span[0] <= offset && offset <= span[1];
  for (const ref of analysis.references) {
    if (!inside(ref.span)) continue;
    const r = ref.reference;
    if (r.kind === "chain") return { kind: "step", phase: r.phase, name: r.step };
    if (r.kind === "variable") return { kind: "variable", name: r.name };
    if (r.kind === "ssm" && r.through !== undefined) return { kind: "variable", name: r.through };
    return undefined;
  }
  const step = analysis.steps.find((s) => inside(s.nameSpan));
  if (step?.phase !== undefined && step.name !== undefined) return { kind: "step", phase: step.phase, name: step.name };
  const variable = analysis.variables.find((v) => inside(v.keySpan));
  return variable === undefined ? undefined : { kind: "variable", name: variable.name };
}

/** Where `symbol` is defined: the step's `name:` value, or the parameter/constant key. */
export function definitionOf(analysis: Analysis, symbol: DocSymbol): Span | undefined {
  if (symbol.kind === "step") {
    const step = stepNamed(analysis, symbol.phase, symbol.name);
    return step?.nameSpan === undefined ? undefined : unquoted(analysis.text, step.nameSpan);
  }
  const variable = analysis.variables.find((v) => v.name === symbol.name);
  return variable === undefined ? undefined : unquoted(analysis.text, variable.keySpan);
}

/** Every place `symbol` is written, its definition first. */
export function occurrencesOf(analysis: Analysis, symbol: DocSymbol): Occurrence[] {
  const found: Occurrence[] = [];
  const definition = definitionOf(analysis, symbol);
  if (definition !== undefined) found.push({ span: definition, definition: true });
  for (const ref of analysis.references) {
    const r = ref.reference;
    if (symbol.kind === "step" && r.kind === "chain" && r.phase === symbol.phase && r.step === symbol.name) {
      const start = ref.exprStart + r.phase.length + 1;
      found.push({ span: [start, start + r.step.length], definition: false });
    } else if (symbol.kind === "variable" && r.kind === "variable" && r.name === symbol.name) {
      found.push({ span: [ref.exprStart, ref.exprStart + r.name.length], definition: false });
    } else if (symbol.kind === "variable" && r.kind === "ssm" && r.through === symbol.name) {
      const at = ref.expr.indexOf(symbol.name, ref.expr.indexOf("("));
      found.push({ span: [ref.exprStart + at, ref.exprStart + at + symbol.name.length], definition: false });
    }
  }
  return found;
}

/** Why `newName` cannot be the symbol's new name, or undefined when it can. */
export function renameProblem(symbol: DocSymbol, newName: string): string | undefined {
  if (symbol.kind === "step") return /^[^.[\]{}\s]+$/.test(newName) ? undefined : "a step name that chaining can reach has no '.', brackets, braces or spaces";
  return /^[A-Za-z0-9_-]{3,128}$/.test(newName) ? undefined : "parameter and constant names are 3 to 128 of A-Z a-z 0-9 - _";
}

function stepNamed(analysis: Analysis, phase: string, name: string): StepInfo | undefined {
  return analysis.steps.find((s) => s.phase === phase && s.name === name);
}

export function variableNamed(analysis: Analysis, name: string): VariableInfo | undefined {
  return analysis.variables.find((v) => v.name === name);
}

/** A scalar's span without the quotes it is written in. */
function unquoted(text: string, span: Span): Span {
  const first = text[span[0]];
  return (first === '"' || first === "'") && span[1] - span[0] >= 2 ? [span[0] + 1, span[1] - 1] : span;
}
