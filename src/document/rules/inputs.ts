/** @module document/rules/inputs: each step's inputs against its action module (docs/component-documents.md §12). */
import { formatPath, type Issue, type Path } from "../../errors.ts";
import { findModule, type ModuleDef } from "../../modules/index.ts";
import { checkSchema } from "../check-schema.ts";
import { checkAssertInputs } from "./condition.ts";
import { stepsOf, textOf, type RuleContext } from "./_context.ts";
import { isRecord } from "../../model/platform.ts";

export function checkInputs(ctx: RuleContext): void {
  for (const ref of stepsOf(ctx.doc)) {
    const action = textOf(ref.step.action);
    const module = action === undefined ? undefined : findModule(action);
    if (module === undefined) continue;
    const path = [...ref.path, "inputs"];
    const inputs = ref.step.inputs;
    if (inputs === undefined || inputs === null) {
      if (!module.inputsOptional) {
        ctx.issues.push({ code: "E_INPUT", path: ref.path, at: "key", message: `${module.name}: missing inputs`, hint: `add an inputs: section; \`awstoe schema\` shows what ${module.name} takes` });
      }
      continue;
    }
    if (module.shape === "condition") {
      checkAssertInputs(ctx, inputs, path);
      continue;
    }
    for (const [element, elementPath] of elementsOf(ctx, module, inputs, path)) checkElement(ctx, module, element, elementPath);
  }
}

/** A list module takes a list of mappings, or one mapping standing for a one-item list. */
function elementsOf(ctx: RuleContext, module: ModuleDef, inputs: unknown, path: Path): [unknown, Path][] {
  if (module.shape === "list") {
    if (Array.isArray(inputs)) {
      if (inputs.length === 0) ctx.issues.push({ code: "E_INPUT", path, message: `${module.name}: inputs must not be an empty list` });
      return inputs.map((item, i) => [item, [...path, i]]);
    }
    return [[inputs, path]];
  }
  if (Array.isArray(inputs)) {
    ctx.issues.push({
      code: "E_INPUT",
      path,
      message: `${module.name}: inputs is one mapping, not a list`,
      hint: inputs.length === 1 ? "remove the leading '- ' so the fields sit directly under inputs" : undefined,
    } as Issue);
    return [];
  }
  return [[inputs, path]];
}

function checkElement(ctx: RuleContext, module: ModuleDef, element: unknown, path: Path): void {
  const found: Issue[] = [];
  checkSchema(module.input, element, path, ctx.sourceText, found);
  for (const issue of found) {
    const field = formatPath(issue.path.slice(path.length));
    // Warnings (W_YAML11_BOOLEAN) keep their own code; schema errors are input errors.
    const code = issue.severity === "warning" || issue.code === "E_UNKNOWN_FIELD" ? issue.code : "E_INPUT";
    ctx.issues.push({ ...issue, code, message: `${module.name}: ${field && issue.code !== "E_UNKNOWN_FIELD" && issue.code !== "E_MISSING_FIELD" ? `${field}: ` : ""}${issue.message}` });
  }
  if (!isRecord(element)) return;
  if (ctx.platform === "windows") {
    for (const field of module.notOnWindows ?? []) {
      if (element[field] !== undefined) {
        ctx.issues.push({ code: "E_FIELD_UNSUPPORTED_ON_PLATFORM", path: [...path, field], at: "key", message: `${module.name}: '${field}' is not supported on Windows`, hint: "remove it, or set ownership and permissions with ExecutePowerShell" });
      }
    }
  }
  for (const issue of module.check?.(element, { platform: ctx.platform }) ?? []) {
    ctx.issues.push({ ...issue, code: issue.code ?? "E_INPUT", path: [...path, ...issue.path], message: `${module.name}: ${issue.message}` });
  }
}
