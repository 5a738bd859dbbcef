/**
 * @module engine/variables: the value of every parameter and constant of one document for a run
 * (docs/component-documents.md §3): per-document value > global value > default; constants are fixed.
 */
import { isRecord } from "../model/platform.ts";
import type { SourceMap } from "../document/source-map.ts";
import type { Issue } from "../errors.ts";
import { stepsUsingVariable } from "../document/variable-uses.ts";

export interface SuppliedParameters {
  /** `--parameters` or config `parameters`. */
  global: ReadonlyMap<string, string>;
  /** config `documents[].parameters` for this document. */
  document: ReadonlyMap<string, string>;
}

export interface ResolveOptions {
  /**
   * A parameter with no default and no value given stops the run (E_PARAMETER_NO_VALUE) instead of
   * being an empty string with a warning (AWSTOE's behaviour): `--require-parameter-values`.
   */
  requireValues?: boolean;
}

/**
 * Values by name, and issues (no value, a value outside allowedValues) placed in the document.
 * Issues with severity "warning" (a parameter left empty) do not stop the run.
 */
export function resolveVariables(doc: Record<string, unknown>, supplied: SuppliedParameters, map: SourceMap | undefined, options: ResolveOptions = {}): { values: Map<string, string>; issues: Issue[] } {
  const values = new Map<string, string>();
  const issues: Issue[] = [];
  const text = (value: unknown, path: (string | number)[]): string | undefined => {
    if (value === undefined || value === null) return undefined;
    return typeof value === "string" ? value : (map?.sourceText(path) ?? String(value));
  };
  eachVariable(doc, "constants", (name, body, path) => {
    const value = text(body.value, [...path, "value"]);
    if (value !== undefined) values.set(name, value);
  });
  eachVariable(doc, "parameters", (name, body, path) => {
    if (values.has(name)) return; // a constant of the same name wins; the validator reports the clash
    const given = supplied.document.get(name) ?? supplied.global.get(name);
    const value = given ?? text(body.default, [...path, "default"]);
    if (value === undefined) {
      const hint = `give it one with --parameters ${name}=<value>, or add a default`;
      if (options.requireValues === true) {
        issues.push({ code: "E_PARAMETER_NO_VALUE", path, at: "key", message: `parameter '${name}' has no value`, hint: `${hint} (--require-parameter-values is on)` });
        return;
      }
      // AWSTOE runs with an empty string; so do we, but not silently.
      issues.push({ code: "W_PARAMETER_NO_VALUE", severity: "warning", path, at: "key", message: `parameter '${name}' has no value, so it is an empty string${usedByText(doc, name)}`, hint });
      values.set(name, "");
      return;
    }
    const allowed = Array.isArray(body.allowedValues) ? body.allowedValues.map((v, i) => text(v, [...path, "allowedValues", i])) : undefined;
    if (allowed !== undefined && !allowed.includes(value)) {
      issues.push({ code: "E_VARIABLE", path, at: "key", message: `parameter '${name}' is '${value}', which is not one of its allowedValues (${allowed.join(", ")})` });
      return;
    }
    values.set(name, value);
  });
  return { values, issues };
}

function eachVariable(doc: Record<string, unknown>, kind: "parameters" | "constants", visit: (name: string, body: Record<string, unknown>, path: (string | number)[]) => void): void {
  const list = doc[kind];
  if (!Array.isArray(list)) return;
  list.forEach((item, index) => {
    if (!isRecord(item)) return;
    for (const [name, body] of Object.entries(item)) if (isRecord(body)) visit(name, body, [kind, index, name]);
  });
}

function usedByText(doc: Record<string, unknown>, name: string): string {
  const steps = stepsUsingVariable(doc, name);
  return steps.length === 0 ? " (no step uses it)" : ` in ${steps.join(", ")}`;
}
