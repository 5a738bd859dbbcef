/** @module document/rules/variables: parameter and constant names, uniqueness and allowed values. */
import { textOf, type RuleContext } from "./_context.ts";
import { isRecord } from "../../model/platform.ts";
import { stepsUsingVariable } from "../variable-uses.ts";

export function checkVariables(ctx: RuleContext): void {
  const seen = new Map<string, string>();
  for (const kind of ["parameters", "constants"] as const) {
    const list = ctx.doc[kind];
    if (!Array.isArray(list)) continue;
    list.forEach((item, index) => {
      if (!isRecord(item)) return;
      const keys = Object.keys(item);
      if (keys.includes("name") && keys.includes("type")) {
        ctx.issues.push({
          code: "E_VARIABLE",
          path: [kind, index],
          message: `invalid variable: ${kind} are one-key mappings named after the variable, not mappings with a 'name' field`,
          hint: `write \`- ${textOf(item.name) ?? "MyName"}:\` and indent type/default/description under it`,
          supersedes: true,
        });
        return;
      }
      for (const name of keys) {
        const where = [kind, index, name];
        const previous = seen.get(name);
        if (previous !== undefined) {
          ctx.issues.push({ code: "E_VARIABLE", path: where, at: "key", message: `invalid variable '${name}': the name is already used by a ${previous}`, hint: "parameter and constant names must be unique together" });
        }
        seen.set(name, kind === "parameters" ? "parameter" : "constant");
        const body = item[name];
        if (kind === "parameters" && isRecord(body)) {
          checkAllowedValues(ctx, name, body, where);
          if (body.default === undefined) warnNoDefault(ctx, name, where);
        }
      }
    });
  }
}

function checkAllowedValues(ctx: RuleContext, name: string, body: Record<string, unknown>, path: readonly (string | number)[]): void {
  if (!Array.isArray(body.allowedValues) || body.default === undefined) return;
  const allowed = body.allowedValues.map(textOf);
  const fallback = textOf(body.default) === undefined ? undefined : ctx.sourceText([...path, "default"]) ?? textOf(body.default);
  if (fallback !== undefined && !allowed.includes(fallback)) {
    ctx.issues.push({ code: "E_VARIABLE", path: [...path, "default"], message: `invalid variable '${name}': default '${fallback}' is not one of its allowedValues (${allowed.join(", ")})` });
  }
}

/**
 * A parameter without a default is an empty string when a run gives it no value (as in AWSTOE;
 * `run --require-parameter-values` refuses instead): say so, and where it would be empty.
 */
function warnNoDefault(ctx: RuleContext, name: string, path: readonly (string | number)[]): void {
  const steps = stepsUsingVariable(ctx.doc, name);
  ctx.issues.push({
    code: "W_PARAMETER_NO_DEFAULT", severity: "warning", path, at: "key",
    message: `parameter '${name}' has no default: a run that gives it no value uses an empty string${steps.length === 0 ? "" : ` in ${steps.join(", ")}`}`,
    hint: `pass --parameters ${name}=<value> when running, or add a default`,
  });
}
