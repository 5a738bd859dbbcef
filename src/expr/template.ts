/**
 * @module expr/template: the `{{ … }}` reference syntax (docs/component-documents.md §2, §6) — finding references
 * in a string and telling parameters, loop variables and chaining apart. Pure; no IO.
 */

/** One `{{ … }}` occurrence. `start`/`end` are offsets of the braces in the string. */
export interface TemplateRef {
  expr: string;
  raw: string;
  start: number;
  end: number;
}

export type Reference =
  | { kind: "variable"; name: string }
  | { kind: "loop"; loop: string; field: "index" | "value" }
  | { kind: "chain"; phase: string; step: string; part: "inputs" | "outputs"; index: number | undefined; field: string }
  | { kind: "other" };

// No lazy quantifier next to \s*: that backtracked cubically on an unclosed `{{` + spaces.
const REF = /\{\{([^{}]*)\}\}/g;

/** Every `{{ … }}` in `text`, left to right. */
export function findReferences(text: string): TemplateRef[] {
  const refs: TemplateRef[] = [];
  for (const match of text.matchAll(REF)) {
    refs.push({ expr: match[1]!.trim(), raw: match[0], start: match.index, end: match.index + match[0].length });
  }
  return refs;
}

/** Offset of a `{{` that is never closed (it stays in the text as written), or undefined. */
export function unclosedReference(text: string): number | undefined {
  const rest = text.replace(REF, (m) => " ".repeat(m.length));
  const at = rest.indexOf("{{");
  return at >= 0 && !rest.slice(at).includes("}}") ? at : undefined;
}

const CHAIN = /^([^.[\]]+)\.([^.[\]]+)\.(inputs|outputs)(?:\[(\d+)\])?\.([^.[\]]+)$/;
const VARIABLE = /^[A-Za-z0-9_-]+$/;
const LOOP = /^([^.[\]]+)\.(index|value)$/;

/** Classifies the inside of `{{ … }}` by its shape (docs/component-documents.md §6). */
export function classifyReference(expr: string): Reference {
  if (VARIABLE.test(expr)) return { kind: "variable", name: expr };
  const loop = LOOP.exec(expr);
  if (loop !== null) return { kind: "loop", loop: loop[1]!, field: loop[2] as "index" | "value" };
  const chain = CHAIN.exec(expr);
  if (chain !== null) {
    return {
      kind: "chain",
      phase: chain[1]!,
      step: chain[2]!,
      part: chain[3] as "inputs" | "outputs",
      index: chain[4] === undefined ? undefined : Number(chain[4]),
      field: chain[5]!,
    };
  }
  return { kind: "other" };
}
