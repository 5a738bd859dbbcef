/**
 * @module lsp/template-completion: names inside `{{ … }}` (docs/component-documents.md §2, §6) —
 * parameters and constants; phases, then the steps of that phase that run earlier than the
 * cursor's, then `inputs`/`outputs`, then the fields that step's module has; `loop.*` (and the
 * loop's own name) inside a looping step; and the env:/context:/aws: forms.
 */
import { CompletionItemKind, type CompletionItem } from "vscode-languageserver";
import { CONTEXT_KEYS } from "../expr/template.ts";
import { findModule } from "../modules/index.ts";
import { earlierSteps, type Analysis, type StepInfo } from "./analysis.ts";
import type { Cursor } from "./cursor.ts";
import { describeField, fieldsOf, type Schema } from "./schema-at.ts";

const HOST_FORMS: [string, string][] = [
  ["env:", "an environment variable of awstoe's process"],
  ["context:", "a fact of the execution (executionId, region, osPlatform, …)"],
  ["aws:ssm:", "a Parameter Store parameter, read when the step runs"],
  ["aws:imds:", "an instance metadata path, read when the step runs"],
];

export function templateCompletions(cursor: Cursor, analysis: Analysis | undefined): CompletionItem[] {
  const expr = cursor.template!;
  // The word being written: after the last `.`, `:` or `(`.
  const word = /[^.:(\s]*$/.exec(expr)![0];
  const range = { start: { line: cursor.line, character: cursor.character - word.length }, end: { line: cursor.line, character: cursor.character } };
  const item = (label: string, kind: CompletionItemKind, documentation?: string): CompletionItem => ({
    label, kind, textEdit: { range, newText: label }, ...(documentation === undefined ? {} : { documentation }),
  });
  const head = expr.slice(0, expr.length - word.length);
  const steps = visibleSteps(cursor, analysis);
  const step = cursor.step;

  if (head === "context:") return CONTEXT_KEYS.map((key) => item(key, CompletionItemKind.Constant));
  if (head === "aws:") return HOST_FORMS.filter(([form]) => form.startsWith("aws:")).map(([form, doc]) => item(form.slice(4), CompletionItemKind.Keyword, doc));
  if (/^aws:ssm:resolve\(\s*$/.test(head)) return (analysis?.variables ?? []).filter((v) => v.kind === "parameter").map((v) => item(v.name, CompletionItemKind.Variable, v.description));
  if (/^(env|aws:ssm|aws:imds):/.test(head)) return [];

  const parts = head.split(".").slice(0, -1);
  if (head === "") {
    const phases = [...new Set(steps.map((s) => s.phase).filter((p): p is string => p !== undefined))];
    const loops = step?.loops === true ? ["loop", ...(step.loopName === undefined ? [] : [step.loopName])] : [];
    return [
      ...(analysis?.variables ?? []).map((v) => item(v.name, CompletionItemKind.Variable, `${v.kind}${v.value === undefined ? "" : ` = ${v.value}`}${v.description === undefined ? "" : ` — ${v.description}`}`)),
      ...phases.map((p) => item(p, CompletionItemKind.Folder, `phase ${p}: chain to its earlier steps`)),
      ...loops.map((l) => item(l, CompletionItemKind.Variable, "the current loop iteration: .index, .value")),
      ...HOST_FORMS.map(([form, doc]) => item(form, CompletionItemKind.Keyword, doc)),
    ];
  }
  if (parts.length === 1) {
    const [first] = parts as [string];
    if (step?.loops === true && (first === "loop" || first === step.loopName)) {
      return [item("index", CompletionItemKind.Field, "the iteration's index, from 0"), item("value", CompletionItemKind.Field, "the iteration's item or number")];
    }
    return steps.filter((s) => s.phase === first && s.name !== undefined).map((s) => item(s.name!, CompletionItemKind.Function, s.action === undefined ? undefined : `runs ${s.action}`));
  }
  const target = steps.find((s) => s.phase === parts[0] && s.name === parts[1]);
  if (target === undefined) return [];
  if (parts.length === 2) return [item("outputs", CompletionItemKind.Field, "what the step produced"), item("inputs", CompletionItemKind.Field, "the step's resolved inputs")];
  const part = /^(inputs|outputs)(\[\d+\])?$/.exec(parts[2]!)?.[1];
  if (parts.length !== 3 || part === undefined) return [];
  const module = findModule(target.action ?? "");
  if (module === undefined || module.shape === "condition") return [];
  const fields = fieldsOf((part === "outputs" ? module.output : module.input) as unknown as Schema);
  return Object.entries(fields).map(([name, schema]) => item(name, CompletionItemKind.Field, describeField(schema)));
}

/** The steps chaining may read from the cursor: those that run earlier than its step. */
function visibleSteps(cursor: Cursor, analysis: Analysis | undefined): StepInfo[] {
  if (analysis === undefined) return [];
  const info = cursor.step?.info;
  if (info !== undefined) return earlierSteps(analysis, info);
  // A step not in the analysis (no name yet, or the text does not parse): the steps above it.
  const offset = cursor.lines.slice(0, cursor.line).reduce((sum, l) => sum + l.length + 1, 0);
  return analysis.steps.filter((s) => s.span[1] <= offset);
}
