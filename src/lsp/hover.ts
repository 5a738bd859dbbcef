/**
 * @module lsp/hover: what the thing under the cursor is — an action module (summary, platforms,
 * inputs, outputs, reference), a field (its description and what it expects), or a reference and
 * what it resolves to when that is known without running (a constant's value, a parameter's
 * default, the step and module a chaining reference reads).
 */
import type { Hover } from "vscode-languageserver";
import { findModule } from "../modules/index.ts";
import type { Analysis, ReferenceInfo } from "./analysis.ts";
import { cursorAt } from "./cursor.ts";
import { actionDocs } from "./docs.ts";
import { describeField, fieldsOf, schemaAt, type Schema } from "./schema-at.ts";
import { variableNamed } from "./symbols.ts";

const CONTEXT_DOCS = "a fact of the execution, known when the step runs (docs/component-documents.md §2.2)";

export function hoverAt(analysis: Analysis, offset: number, line: number, character: number): Hover | undefined {
  const reference = analysis.references.find((r) => r.span[0] <= offset && offset < r.span[1]);
  if (reference !== undefined) return markdown(describeReference(analysis, reference));
  const text = analysis.text.split("\n")[line]?.replace(/\r$/, "") ?? "";
  const keyLine = /^(\s*(?:-\s+)*)([\w.$-]+)(\s*:)(\s*)(.*)$/.exec(text);
  if (keyLine === null) return undefined;
  const keyStart = keyLine[1]!.length;
  const keyEnd = keyStart + keyLine[2]!.length;
  const valueStart = keyEnd + keyLine[3]!.length + keyLine[4]!.length;
  const key = keyLine[2]!;
  // The outline as seen from the key's start: the keys above it, and the step's action.
  const cursor = cursorAt(analysis.text, line, keyStart, analysis);
  if (key === "action" && character >= valueStart && cursor.outline.path.at(-2) === "steps") {
    const module = findModule(keyLine[5]!.trim().replace(/^["']|["']$/g, ""));
    return module === undefined ? undefined : markdown(actionDocs(module));
  }
  if (character < keyStart || character > keyEnd) return undefined;
  const schema = schemaAt([...cursor.outline.path, key], cursor.step?.action);
  const about = describeField(schema);
  return about === undefined ? undefined : markdown(`**${key}** — ${about}`);
}

function describeReference(analysis: Analysis, ref: ReferenceInfo): string {
  const r = ref.reference;
  switch (r.kind) {
    case "variable": {
      const variable = variableNamed(analysis, r.name);
      if (variable === undefined) return `\`${r.name}\` matches no parameter or constant: it stays as written`;
      const value = variable.value === undefined ? (variable.kind === "parameter" ? "no default: a value must be given with --parameters" : "no value") : `\`${variable.value}\``;
      const label = variable.kind === "parameter" ? `parameter **${r.name}**, default ${value}` : `constant **${r.name}** = ${value}`;
      return variable.description === undefined ? label : `${label}\n\n${variable.description}`;
    }
    case "chain": {
      const step = analysis.steps.find((s) => s.phase === r.phase && s.name === r.step);
      if (step === undefined) return `no step '${r.step}' in phase '${r.phase}'`;
      const module = findModule(step.action ?? "");
      const field = module === undefined ? undefined : fieldsOf((r.part === "outputs" ? module.output : module.input) as unknown as Schema)[r.field];
      const about = describeField(field);
      return [`${r.part} of step **${r.phase}/${r.step}**${step.action === undefined ? "" : ` (${step.action})`}${r.index === undefined ? "" : `, iteration ${r.index}`}: \`${r.field}\``, ...(about === undefined ? [] : [about]), "known when that step has run"].join("\n\n");
    }
    case "loop":
      return `the ${r.field === "index" ? "index (from 0)" : "item or number"} of the current iteration of loop '${r.loop}'`;
    case "context":
      return `\`context:${r.key}\` — ${CONTEXT_DOCS}`;
    case "env":
      return `environment variable \`${r.name}\` of awstoe's process, read when the step runs`;
    case "ssm":
      return r.through === undefined ? `Parameter Store parameter \`${r.name}\`, read when the step runs` : `the Parameter Store parameter named by parameter **${r.through}**, read when the step runs`;
    case "imds":
      return `instance metadata \`${r.path}\`, read when the step runs`;
    case "malformed":
      return `not a reference awstoe can resolve: ${r.why}`;
    default:
      return "not a parameter, loop or chaining reference: it stays as written";
  }
}

function markdown(value: string): Hover {
  return { contents: { kind: "markdown", value } };
}
