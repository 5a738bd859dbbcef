/**
 * @module document/check-schema: check plain data against our TypeBox (JSON Schema) definitions
 * and word each problem for a person: which field, what was found, what would be right, and the
 * closest known name when a key looks misspelt.
 *
 * It understands the JSON Schema keywords our schemas use (type, enum, const, anyOf, properties,
 * required, additionalProperties, patternProperties, items, min/max…) plus our `x-` hints.
 * Issues of severity "warning" (a flag written as a YAML 1.1 word) do not make a value fail.
 * test/document/check-schema.test.ts cross-checks it against a standard validator.
 */
import { isRecord } from "../model/platform.ts";
import { yaml11Boolean } from "../model/schema-kit.ts";
import { guess } from "../model/suggest.ts";
import type { DiagnosticCode, Issue, Path } from "../errors.ts";

type Schema = Record<string, unknown>;

/** Scalar source text lookup (so `permissions: 0755` is checked as "0755"). */
export type SourceText = (path: Path) => string | undefined;

export function checkSchema(schema: unknown, value: unknown, path: Path, sourceText: SourceText, issues: Issue[]): void {
  walk(schema as Schema, value, path, sourceText, issues, undefined);
}

/** True when `value` satisfies `schema` (no errors; warnings allowed). */
export function matchesSchema(schema: unknown, value: unknown, path: Path, sourceText: SourceText): boolean {
  const issues: Issue[] = [];
  walk(schema as Schema, value, path, sourceText, issues, undefined);
  return !issues.some(isError);
}

export function isError(issue: Issue): boolean {
  return issue.severity !== "warning";
}

function walk(schema: Schema, value: unknown, path: Path, text: SourceText, issues: Issue[], inheritedCode: DiagnosticCode | undefined): void {
  // Parts with their own rule set (conditions) are checked by document/rules, with better words.
  if (schema["x-checked-by-rules"] === true) return;
  const code = (schema["x-code"] as DiagnosticCode | undefined) ?? inheritedCode;
  const hint = schema["x-hint"] as string | undefined;
  const push = (fallback: DiagnosticCode, message: string, extra: Partial<Issue> = {}) =>
    issues.push({ code: code ?? fallback, path, message, ...(hint === undefined ? {} : { hint }), ...extra });

  if (schema["x-kind"] === "flag" && typeof value === "string") warnYaml11Word(value, path, issues);
  if (Array.isArray(schema.anyOf)) {
    walkAnyOf(schema, schema.anyOf as Schema[], value, path, text, issues, code);
    return;
  }
  if ("const" in schema && !sameValue(schema.const, value, text(path))) {
    push("E_VALUE", `expected ${expected(schema)}, found ${describe(value, text(path))}`);
    return;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((v) => sameValue(v, value, text(path)))) {
    const words = (schema.enum as unknown[]).filter((v): v is string => typeof v === "string");
    const meant = typeof value === "string" ? guess(value, words) : { text: "" };
    push("E_VALUE", `expected ${expected(schema)}, found ${describe(value, text(path))}${meant.text}`, suggested(meant.match));
    return;
  }
  const types = typeList(schema);
  if (types !== undefined && !types.some((t) => hasType(value, t))) {
    push("E_TYPE", `expected ${expected(schema)}, found ${describe(value, text(path))}`);
    return;
  }
  if (typeof value === "string" || ((typeof value === "number" || typeof value === "boolean") && types?.includes("string"))) {
    checkText(schema, typeof value === "string" ? value : (text(path) ?? String(value)), push);
  }
  if (typeof value === "number" && !types?.includes("string")) {
    if (typeof schema.minimum === "number" && value < schema.minimum) push("E_VALUE", `expected ${expected(schema)}, found ${describe(value, text(path))}`);
    else if (typeof schema.maximum === "number" && value > schema.maximum) push("E_VALUE", `expected ${expected(schema)}, found ${describe(value, text(path))}`);
  }
  if (Array.isArray(value)) walkArray(schema, value, path, text, issues, push);
  else if (isRecord(value)) walkObject(schema, value, path, text, issues, push);
}

function walkAnyOf(schema: Schema, branches: Schema[], value: unknown, path: Path, text: SourceText, issues: Issue[], code: DiagnosticCode | undefined): void {
  const attempts: Issue[][] = [];
  for (const branch of branches) {
    const found: Issue[] = [];
    walk(branch, value, path, text, found, code);
    if (!found.some(isError)) {
      issues.push(...found); // the first branch that fits settles it (its warnings stand)
      return;
    }
    attempts.push(found);
  }
  // Prefer the branch of the same kind as the value (a mapping for a mapping…): its complaints
  // are about the author's actual mistake, not about choosing another shape altogether.
  const sameKind = branches.map((b, i) => ({ b, i })).filter(({ b }) => kindMatches(b, value));
  if (sameKind.length === 1 && (Array.isArray(value) || isRecord(value))) {
    issues.push(...attempts[sameKind[0]!.i]!);
    return;
  }
  const hint = schema["x-hint"] as string | undefined;
  issues.push({
    code: code ?? (sameKind.length > 0 ? "E_VALUE" : "E_TYPE"),
    path,
    message: `expected ${expected(schema)}, found ${describe(value, text(path))}${choiceSuggestion(schema, value).text}`,
    ...suggested(choiceSuggestion(schema, value).match),
    ...(hint === undefined ? {} : { hint }),
  });
}

/**
 * `overwrite: yes` — a YAML 1.1 boolean word. YAML 1.2 reads it as text; Go's decoder, and so
 * AWSTOE, as a boolean. Accepted as that boolean, with a warning at the value.
 */
function warnYaml11Word(value: string, path: Path, issues: Issue[]): void {
  const meaning = yaml11Boolean(value);
  if (meaning === undefined) return;
  issues.push({
    code: "W_YAML11_BOOLEAN",
    severity: "warning",
    path,
    message: `'${value}' is a YAML 1.1 boolean word, taken as ${meaning} (as AWSTOE's Go YAML decoder does); YAML 1.2 tools read it as the text '${value}'`,
    hint: `write ${meaning}`,
  });
}

function checkText(schema: Schema, value: string, push: (c: DiagnosticCode, m: string, extra?: Partial<Issue>) => void): void {
  if (typeof schema.minLength === "number" && value.length < schema.minLength) {
    push("E_VALUE", schema.minLength === 1 ? "must not be empty" : `must be at least ${schema.minLength} characters`);
  } else if (typeof schema.maxLength === "number" && value.length > schema.maxLength) {
    push("E_VALUE", `must be at most ${schema.maxLength} characters`);
  } else if (typeof schema.pattern === "string" && !compiled(schema.pattern).test(value)) {
    const meant = choiceSuggestion(schema, value);
    push("E_VALUE", `expected ${expected(schema)}, found ${describe(value)}${meant.text}`, suggested(meant.match));
  }
}

function walkArray(schema: Schema, value: unknown[], path: Path, text: SourceText, issues: Issue[], push: (c: DiagnosticCode, m: string) => void): void {
  if (typeof schema.minItems === "number" && value.length < schema.minItems) {
    push("E_VALUE", schema.minItems === 1 ? "must not be an empty list" : `needs at least ${schema.minItems} items`);
  }
  if (typeof schema.maxItems === "number" && value.length > schema.maxItems) {
    push("E_VALUE", schema.maxItems === 1 ? "takes exactly one item" : `takes at most ${schema.maxItems} items`);
  }
  const items = schema.items as Schema | undefined;
  if (items !== undefined) value.forEach((item, i) => walk(items, item, [...path, i], text, issues, undefined));
}

function walkObject(schema: Schema, value: Record<string, unknown>, path: Path, text: SourceText, issues: Issue[], push: (c: DiagnosticCode, m: string, extra?: Partial<Issue>) => void): void {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, Schema>).map(
    ([pattern, sub]) => [compiled(pattern), sub] as const,
  );
  const keys = Object.keys(value);
  // A misspelt required field is reported once, as "did you mean", not also as missing.
  const misspelt = new Set<string>();
  for (const key of keys) {
    // Own keys only: `constructor` or `toString` must not find Object.prototype's members.
    const known = Object.hasOwn(properties, key) ? properties[key] : undefined;
    if (known !== undefined) {
      walk(known, value[key], [...path, key], text, issues, undefined);
      continue;
    }
    const byPattern = patterns.find(([regex]) => regex.test(key));
    if (byPattern !== undefined) {
      walk(byPattern[1], value[key], [...path, key], text, issues, undefined);
    } else if (schema.additionalProperties === false) {
      const keyExpected = schema["x-key-expected"] as string | undefined;
      const meant = guess(key, Object.keys(properties).filter((k) => !(k in value)));
      if (meant.match !== undefined) misspelt.add(meant.match);
      const message = keyExpected !== undefined ? `'${key}' is not ${keyExpected}` : `unknown field '${key}'${meant.text}`;
      issues.push({
        code: keyExpected !== undefined ? ((schema["x-code"] as DiagnosticCode | undefined) ?? "E_VALUE") : "E_UNKNOWN_FIELD",
        path: [...path, key],
        at: "key",
        message,
        ...(keyExpected === undefined ? suggested(meant.match) : {}),
        ...(keyExpected === undefined && Object.keys(properties).length > 0 ? { hint: `known fields here: ${Object.keys(properties).join(", ")}` } : {}),
        ...(typeof schema["x-hint"] === "string" ? { hint: schema["x-hint"] } : {}),
      });
    } else if (isRecord(schema.additionalProperties)) {
      walk(schema.additionalProperties, value[key], [...path, key], text, issues, undefined);
    }
  }
  for (const name of (schema.required ?? []) as string[]) {
    if (!(name in value) && !misspelt.has(name)) push("E_MISSING_FIELD", `missing required field '${name}'`, { at: "key" });
  }
  if (typeof schema.minProperties === "number" && keys.length < schema.minProperties) push("E_VALUE", `expected ${expected(schema)}, found an empty mapping`);
  if (typeof schema.maxProperties === "number" && keys.length > schema.maxProperties) {
    push("E_VALUE", `expected ${expected(schema)}, found ${keys.length} keys (${keys.slice(0, 4).join(", ")}${keys.length > 4 ? ", …" : ""})`);
  }
}

// --- internal ---

const regexCache = new Map<string, RegExp>();

/** Schemas are few and fixed, so each pattern is compiled once. */
function compiled(pattern: string): RegExp {
  let regex = regexCache.get(pattern);
  if (regex === undefined) {
    regex = new RegExp(pattern, "u");
    regexCache.set(pattern, regex);
  }
  return regex;
}

const typeLists = new WeakMap<Schema, string[] | undefined>();

/** The schema's `type` as a list (cached: schemas are fixed and walked for every value). */
function typeList(schema: Schema): string[] | undefined {
  if (typeLists.has(schema)) return typeLists.get(schema);
  const list = typeof schema.type === "string" ? [schema.type] : Array.isArray(schema.type) ? (schema.type as string[]) : undefined;
  typeLists.set(schema, list);
  return list;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "string": return typeof value === "string";
    case "number": return typeof value === "number" && Number.isFinite(value);
    case "integer": return typeof value === "number" && Number.isInteger(value);
    case "boolean": return typeof value === "boolean";
    case "array": return Array.isArray(value);
    case "object": return isRecord(value);
    case "null": return value === null;
    default: return false;
  }
}

/** Would this branch accept values of the same JSON kind as `value`? */
function kindMatches(schema: Schema, value: unknown): boolean {
  const types = typeList(schema);
  if (types !== undefined) return types.some((t) => hasType(value, t) || (t === "integer" && typeof value === "number"));
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).some((b) => kindMatches(b, value));
  return false;
}

/** enum/const comparison; a number matches by the text the author wrote ("1.0" is not "1"). */
function sameValue(expectedValue: unknown, value: unknown, source: string | undefined): boolean {
  if (typeof value === "number" && source !== undefined) return String(expectedValue) === source;
  return expectedValue === value;
}

const TYPE_WORDS: Record<string, string> = {
  string: "text", integer: "a whole number", number: "a number", boolean: "true or false",
  array: "a list", object: "a mapping", null: "nothing",
};

function expected(schema: Schema): string {
  if (typeof schema["x-expected"] === "string") return schema["x-expected"];
  if ("const" in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${(schema.enum as unknown[]).map((v) => String(v)).join(", ")}`;
  if (Array.isArray(schema.anyOf)) return [...new Set((schema.anyOf as Schema[]).map(expected))].join(" or ");
  const types = typeList(schema);
  if (types !== undefined) return types.map((t) => TYPE_WORDS[t] ?? t).join(" or ");
  return "a valid value";
}

function choiceSuggestion(schema: Schema, value: unknown): { text: string; match?: string } {
  const choices = schema["x-choices"];
  return Array.isArray(choices) && typeof value === "string" ? guess(value, choices as string[]) : { text: "" };
}

/** The quick-fix replacement of an issue whose message says "did you mean", when it does. */
function suggested(match: string | undefined): Partial<Issue> {
  return match === undefined ? {} : { suggestion: match };
}

export function describe(value: unknown, source?: string): string {
  if (value === null || value === undefined) return "an empty value";
  if (source !== undefined && typeof value !== "string") return source;
  if (typeof value === "string") {
    const shown = value.length > 40 ? `${value.slice(0, 37)}…` : value;
    return `'${shown.replace(/\n/g, "\\n").replace(/\t/g, "\\t").replace(/\r/g, "\\r")}'`;
  }
  if (typeof value === "number") return `${value}`;
  if (typeof value === "boolean") return `${value}`;
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (isRecord(value)) return Object.keys(value).length === 0 ? "an empty mapping" : "a mapping";
  return typeof value;
}


