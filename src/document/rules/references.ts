/**
 * @module document/rules/references: every `{{ … }}` in a document — chaining must point at an
 * earlier step of the same document and at a field that step can have (V20); names that match
 * nothing are kept as written at run time, so they are warnings that usually catch typos.
 */
import type { Path } from "../../errors.ts";
import { classifyReference, CONTEXT_KEYS, credentialPath, findReferences, unclosedReference } from "../../expr/template.ts";
import { guess } from "../../model/suggest.ts";
import { findModule, type ModuleDef } from "../../modules/index.ts";
import { stepsOf, textOf, type RuleContext, type StepRef } from "./_context.ts";
import { isRecord } from "../../model/platform.ts";

interface Place {
  /** Where loop variables mean something: only in the inputs of a step that loops. */
  loopScope: boolean;
}

export function checkReferences(ctx: RuleContext): void {
  const variables = declaredVariables(ctx.doc, ["parameters", "constants"]);
  const parameters = declaredVariables(ctx.doc, ["parameters"]);
  const steps = stepsOf(ctx.doc);
  // Where each phase/step first appears, so "is it earlier?" is one lookup, not a scan.
  const firstAt = new Map<string, number>();
  steps.forEach((s, order) => {
    const key = stepKey(s.phaseName, s.stepName);
    if (!firstAt.has(key)) firstAt.set(key, order);
  });
  steps.forEach((ref, order) => {
    const loop = isRecord(ref.step.loop) ? ref.step.loop : undefined;
    const loopNames = new Set(["loop", ...(textOf(loop?.name) === undefined ? [] : [textOf(loop?.name)!])]);
    const visit = (value: unknown, path: Path, place: Place) =>
      forEachString(value, path, (text, at) => checkString(ctx, text, at, place, { ref, order, steps, firstAt, variables, parameters, loopNames, loops: loop !== undefined }));
    visit(ref.step.inputs, [...ref.path, "inputs"], { loopScope: true });
    if (loop !== undefined) visit(loop.forEach, [...ref.path, "loop", "forEach"], { loopScope: false });
    visit(ref.step.if, [...ref.path, "if"], { loopScope: false });
  });
}

interface Scope {
  ref: StepRef;
  /** Position of `ref` in execution order. */
  order: number;
  steps: StepRef[];
  firstAt: Map<string, number>;
  variables: Set<string>;
  /** Parameters alone (aws:ssm:resolve() reads one). */
  parameters: Set<string>;
  loopNames: Set<string>;
  loops: boolean;
}

function checkString(ctx: RuleContext, text: string, path: Path, place: Place, scope: Scope): void {
  const unclosed = unclosedReference(text);
  if (unclosed !== undefined) {
    ctx.issues.push({ code: "W_TEMPLATE_SYNTAX", severity: "warning", path, needle: "{{", message: "'{{' is never closed with '}}'; the text is used as written" });
  }
  for (const found of findReferences(text)) {
    const reference = classifyReference(found.expr);
    const at = { path, needle: found.raw };
    // The quick fix of a did-you-mean: the same `{{ … }}` with the misspelt word replaced.
    const fixed = (word: string, match: string | undefined) => (match === undefined ? {} : { suggestion: replaceLast(found.raw, word, match) });
    if (reference.kind === "variable") {
      if (!scope.variables.has(reference.name)) {
        const meant = guess(reference.name, scope.variables);
        ctx.issues.push({
          code: "W_UNKNOWN_VARIABLE", severity: "warning", ...at,
          message: `'${found.raw}' matches no parameter or constant, so it is kept as written${meant.text}`,
          ...fixed(reference.name, meant.match),
        });
      }
    } else if (reference.kind === "loop") {
      if (!scope.loopNames.has(reference.loop) || !place.loopScope || !scope.loops) {
        const why = !scope.loops ? "this step has no loop" : !place.loopScope ? "loop variables only work inside the step's inputs" : `this step's loop is not named '${reference.loop}'`;
        ctx.issues.push({ code: "W_LOOP_VARIABLE_OUTSIDE_LOOP", severity: "warning", ...at, message: `'${found.raw}' is kept as written: ${why}` });
      }
    } else if (reference.kind === "chain") {
      checkChain(ctx, found, reference, at, scope);
    } else if (reference.kind === "malformed") {
      ctx.issues.push({ code: "E_REFERENCE", ...at, message: `'${found.raw}' is not a reference awstoe can resolve: ${reference.why}`, hint: "the forms are env:NAME, context:KEY, aws:imds:PATH, aws:ssm:NAME and aws:ssm:resolve(PARAMETER)" });
    } else if (reference.kind === "context") {
      if (!(CONTEXT_KEYS as readonly string[]).includes(reference.key)) {
        const meant = guess(reference.key, CONTEXT_KEYS);
        ctx.issues.push({ code: "E_REFERENCE", ...at, message: `'${found.raw}': '${reference.key}' is not a context key${meant.text}`, hint: `context keys: ${CONTEXT_KEYS.join(", ")}`, ...fixed(reference.key, meant.match) });
      }
    } else if (reference.kind === "imds") {
      if (credentialPath(reference.path)) {
        ctx.issues.push({ code: "E_REFERENCE", ...at, message: `'${found.raw}' reads instance credentials (iam/, identity-credentials/), which awstoe refuses to put into a document`, hint: "steps that need AWS access get it from the instance role through the AWS CLI or SDK" });
      }
    } else if (reference.kind === "ssm") {
      if (reference.through !== undefined && !scope.parameters.has(reference.through)) {
        const meant = guess(reference.through, scope.parameters);
        ctx.issues.push({ code: "E_REFERENCE", ...at, message: `'${found.raw}': '${reference.through}' is not a parameter of this document${meant.text}`, hint: "resolve() reads the parameter name from a declared document parameter", ...fixed(reference.through, meant.match) });
      }
    } else if (reference.kind === "env") {
      // Known only when the step runs, in awstoe's own environment: nothing to check here.
    } else {
      ctx.issues.push({ code: "W_TEMPLATE_SYNTAX", severity: "warning", ...at, message: `'${found.raw}' is not a parameter, loop or chaining reference; it is kept as written` });
    }
  }
}

function checkChain(
  ctx: RuleContext,
  found: { expr: string; raw: string },
  reference: { phase: string; step: string; part: "inputs" | "outputs"; index: number | undefined; field: string },
  at: { path: Path; needle: string },
  scope: Scope,
): void {
  const expr = found.expr;
  /** `meant`: the did-you-mean of one part of the reference; the quick fix rewrites that part. */
  const fail = (why: string, hint?: string, meant?: { match?: string; part: "phase" | "step" | "field" }): void => {
    const suggestion = meant?.match === undefined ? undefined : replaceLast(found.raw, expr, chainText({ ...reference, [meant.part]: meant.match }));
    ctx.issues.push({ code: "E_CHAINING", ...at, message: `unknown chaining reference '${expr}': ${why}`, ...(hint === undefined ? {} : { hint }), ...(suggestion === undefined ? {} : { suggestion }) });
  };
  const isTarget = (s: StepRef) => s.phaseName === reference.phase && s.stepName === reference.step;
  const position = scope.firstAt.get(stepKey(reference.phase, reference.step));
  const target = position !== undefined && position < scope.order ? scope.steps[position] : undefined;
  if (target === undefined) {
    if (isTarget(scope.ref)) return fail("a step cannot refer to itself");
    if (position !== undefined) return fail(`step '${reference.phase}/${reference.step}' runs after this one`, "chaining can only read steps that ran earlier");
    const earlier = scope.steps.slice(0, scope.order);
    const phaseSteps = earlier.filter((s) => s.phaseName === reference.phase);
    if (phaseSteps.length === 0 && !scope.steps.some((s) => s.phaseName === reference.phase)) {
      const phases = new Set(earlier.map((s) => s.phaseName).filter((n): n is string => n !== undefined));
      const meant = guess(reference.phase, phases);
      return fail(`there is no phase '${reference.phase}'${meant.text}`, undefined, { match: meant.match, part: "phase" });
    }
    const names = phaseSteps.map((s) => s.stepName).filter((n): n is string => n !== undefined);
    const meant = guess(reference.step, names);
    return fail(`phase '${reference.phase}' has no earlier step '${reference.step}'${meant.text}`, undefined, { match: meant.match, part: "step" });
  }
  const module = findModule(textOf(target.step.action) ?? "");
  if (module === undefined || module.shape === "condition") return;
  const fields = fieldNames(module, reference.part);
  if (!fields.includes(reference.field)) {
    const offer = fields.length === 0 ? `${module.name} has no ${reference.part}` : `${module.name} ${reference.part} are ${fields.join(", ")}`;
    const meant = guess(reference.field, fields);
    fail(`'${reference.field}' is not one of the ${reference.part} of ${module.name}${meant.text}`, offer, { match: meant.match, part: "field" });
  }
}

function fieldNames(module: ModuleDef, part: "inputs" | "outputs"): string[] {
  const schema = (part === "inputs" ? module.input : module.output) as { properties?: Record<string, unknown> };
  return Object.keys(schema.properties ?? {});
}

function declaredVariables(doc: Record<string, unknown>, kinds: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const kind of kinds) {
    const list = doc[kind];
    if (!Array.isArray(list)) continue;
    for (const item of list) if (isRecord(item)) for (const key of Object.keys(item)) names.add(key);
  }
  return names;
}

/** Calls `visit` for every string inside `value` (any depth), with its path. */
function forEachString(value: unknown, path: Path, visit: (text: string, path: Path) => void): void {
  if (typeof value === "string") visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, i) => forEachString(item, [...path, i], visit));
  else if (isRecord(value)) for (const [key, item] of Object.entries(value)) forEachString(item, [...path, key], visit);
}

/** A chaining reference written out again: phase.step.part[index].field. */
function chainText(r: { phase: string; step: string; part: string; index: number | undefined; field: string }): string {
  return `${r.phase}.${r.step}.${r.part}${r.index === undefined ? "" : `[${r.index}]`}.${r.field}`;
}

/** `text` with the last occurrence of `word` replaced (the part of `{{ … }}` a did-you-mean corrects). */
function replaceLast(text: string, word: string, replacement: string): string {
  const at = text.lastIndexOf(word);
  return at < 0 ? text : `${text.slice(0, at)}${replacement}${text.slice(at + word.length)}`;
}

function stepKey(phase: string | undefined, step: string | undefined): string {
  return `${phase ?? ""}\u0000${step ?? ""}`;
}
