/**
 * @module engine/inputs: a step's inputs from the document to what its module receives.
 *
 * 1. every scalar becomes the text the author wrote (`1.0` stays "1.0");
 * 2. `{{ references }}` are resolved (expr/render.ts);
 * 3. values are converted to what the schema's fields mean (true/false, whole numbers, the
 *    canonical spelling of a case-insensitive choice) and checked again — a reference may have
 *    produced something the validator could not see. A flag takes the YAML 1.1 words too
 *    (yes/no, on/off, y/n; model/schema-kit.ts), whether written in place or produced by a
 *    reference: the text means the same either way, and `--parameters Force=yes` feeding
 *    `force: '{{ Force }}'` should not fail where `force: yes` works. (Whether AWSTOE substitutes
 *    before or after Go decodes the value is not documented; this is our choice.);
 * 4. defaults are filled in. The record form also lists absent fields ("" / null), as
 *    detailedoutput.json does.
 */
import { checkSchema, isError } from "../document/check-schema.ts";
import { isRecord } from "../model/platform.ts";
import type { SourceMap } from "../document/source-map.ts";
import { formatPath, StepError, type Issue, type Path } from "../errors.ts";
import { renderValue, type ChainUse } from "../expr/render.ts";
import type { Scope } from "../expr/scope.ts";
import { flagFromText } from "../model/schema-kit.ts";
import type { ModuleDef } from "../modules/index.ts";

type Schema = Record<string, unknown>;

export interface PreparedInputs {
  /** What execute() gets: one mapping, or a list for list modules. */
  value: unknown;
  /** The normalized list of objects that chaining and detailedoutput.json see. */
  list: Record<string, unknown>[];
}

/** Scalars → their source text, so rendering works on what the author wrote. */
export function asWritten(value: unknown, path: Path, map: SourceMap | undefined): unknown {
  if (typeof value === "number" || typeof value === "boolean") return map?.sourceText(path) ?? String(value);
  if (Array.isArray(value)) return value.map((item, i) => asWritten(item, [...path, i], map));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = asWritten(item, [...path, key], map);
    return out;
  }
  return value;
}

/** A loop with its forEach items as written; `for` bounds stay numbers (they are literals). */
export function loopAsWritten(loop: Record<string, unknown>, path: Path, map: SourceMap | undefined): Record<string, unknown> {
  return loop.forEach === undefined ? loop : { ...loop, forEach: asWritten(loop.forEach, [...path, "forEach"], map) };
}

/** Resolves and types a step's inputs for `module`. Throws ResolveError or StepError. */
export function prepareInputs(module: ModuleDef, raw: unknown, rawPath: Path, map: SourceMap | undefined, scope: Scope, used?: ChainUse[]): PreparedInputs {
  const rendered = renderValue(asWritten(raw ?? {}, rawPath, map), scope, used);
  if (module.shape === "condition") {
    const expression = isRecord(rendered) ? rendered : {};
    return { value: expression, list: [expression] };
  }
  const elements = module.shape === "list" ? (Array.isArray(rendered) ? rendered : [rendered]) : [rendered];
  const typed = elements.map((element, i) => typeElement(module, element, module.shape === "list" ? [i] : []));
  const list = typed.map((element) => withAbsentFields(module.input as unknown as Schema, element));
  return { value: module.shape === "list" ? typed : typed[0], list };
}

function typeElement(module: ModuleDef, element: unknown, path: Path): Record<string, unknown> {
  const schema = module.input as unknown as Schema;
  const converted = convert(schema, element);
  const withDefaults = isRecord(converted) ? applyDefaults(schema, converted) : converted;
  const issues: Issue[] = [];
  checkSchema(schema, withDefaults, path, () => undefined, issues);
  const errors = issues.filter(isError);
  if (errors.length > 0) {
    const first = errors[0]!;
    const where = formatPath(first.path);
    throw new StepError(`after resolving references, ${where === "" ? "inputs" : `input ${where}`}: ${first.message}`);
  }
  const leftover = untyped(schema, withDefaults, path);
  if (leftover !== undefined) throw new StepError(`after resolving references, input ${formatPath(leftover.path)}: ${leftover.message}`);
  return withDefaults as Record<string, unknown>;
}

/**
 * A flag, whole number or choice that is still text after conversion: validation let it through as
 * a `{{ reference }}`, and the reference did not resolve to a value of that type (an unknown name
 * stays as written). It must fail the step — a module would otherwise read the text as truthy.
 */
function untyped(schema: Schema, value: unknown, path: Path): { path: Path; message: string } | undefined {
  const expected: Record<string, () => string> = {
    flag: () => "true or false",
    whole: () => "a whole number",
    choice: () => `one of ${(schema["x-choices"] as string[]).join(", ")}`,
  };
  const kind = schema["x-kind"];
  const stillText = typeof value === "string" && (kind !== "choice" || !(schema["x-choices"] as string[]).includes(value));
  if (typeof kind === "string" && expected[kind] !== undefined && stillText) {
    return { path, message: `'${value}' is not ${expected[kind]!()}` };
  }
  if (Array.isArray(value) && isRecord(schema.items)) {
    for (const [i, item] of value.entries()) {
      const found = untyped(schema.items as Schema, item, [...path, i]);
      if (found !== undefined) return found;
    }
  }
  if (isRecord(value) && isRecord(schema.properties)) {
    const properties = schema.properties as Record<string, Schema>;
    for (const [key, item] of Object.entries(value)) {
      const found = Object.hasOwn(properties, key) ? untyped(properties[key]!, item, [...path, key]) : undefined;
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Text → the typed value the schema's field stands for; anything unexpected is left for the check. */
function convert(schema: Schema, value: unknown): unknown {
  switch (schema["x-kind"]) {
    case "flag":
      return typeof value === "string" ? (flagFromText(value) ?? value) : value;
    case "whole":
      if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
      return value;
    case "choice": {
      const choices = schema["x-choices"] as string[];
      const match = typeof value === "string" ? choices.find((c) => c.toLowerCase() === value.toLowerCase()) : undefined;
      return match ?? value;
    }
  }
  if (Array.isArray(value) && isRecord(schema.items)) return value.map((item) => convert(schema.items as Schema, item));
  if (isRecord(value) && isRecord(schema.properties)) {
    const properties = schema.properties as Record<string, Schema>;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = Object.hasOwn(properties, key) ? convert(properties[key]!, item) : item;
    return out;
  }
  return value;
}

function applyDefaults(schema: Schema, value: Record<string, unknown>): Record<string, unknown> {
  const out = { ...value };
  for (const [key, field] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    if (out[key] === undefined && field.default !== undefined) out[key] = field.default;
  }
  return out;
}

/** Every declared field, absent ones as "" (text) or null (anything else), for the record. */
function withAbsentFields(schema: Schema, value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    const absent = field["x-kind"] === "text" ? "" : null;
    out[key] = value[key] !== undefined ? value[key] : absent;
  }
  return out;
}
