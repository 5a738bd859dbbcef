/**
 * @module model/schema-kit: the few schema shapes component documents need, as TypeBox builders.
 *
 * awstoe reads YAML loosely: a text field may hold `1.0` or `true` (read as their source text),
 * integers and booleans may come as strings so `{{ references }}` can feed them. These builders
 * express exactly that as plain JSON Schema, so one definition serves the validator, the runtime
 * input check and the editor schema printed by `awstoe schema`.
 *
 * Keys starting with `x-` are ours: `x-expected` words what a field accepts for error messages.
 * They are stripped from the published JSON Schema.
 *
 * Types. A schema's static type is what a module receives once the engine has resolved, converted
 * and defaulted a step's inputs (engine/inputs.ts), not everything the validator lets through: a
 * Flag is `boolean` although `"yes"` and `{{ Force }}` pass validation, a Whole is `number`, a
 * case-insensitive Choice is its canonical word. The builders declare that type with
 * `Type.Unsafe<T>()`; a schema written by hand in a module does the same. A declared `default`
 * shows in the builder's type ({@link Field}), so {@link Filled} knows that such a field is always
 * present when the step runs.
 */
import { Type, type Static, type TArray, type TObject, type TOptional, type TProperties, type TSchema, type TUnsafe } from "@sinclair/typebox";
import type { DiagnosticCode } from "../errors.ts";

/** A `{{ … }}` reference somewhere in a string; such a value is only checked when the step runs. */
export const TEMPLATE_PATTERN = "\\{\\{[^{}]*\\}\\}";

/**
 * The YAML 1.1 boolean words that YAML 1.2 (our parser) reads as text: the rest of the YAML 1.1
 * list (https://yaml.org/type/bool.html) is true|True|TRUE|false|False|FALSE, booleans in 1.2 too.
 * AWSTOE is written in Go, whose YAML decoders take all of them for a boolean field (yaml.v2
 * resolves them as booleans anywhere; yaml.v3 accepts them when the target is a bool), including
 * the one-letter y/Y/n/N — so do we, for flag inputs, with a warning (W_YAML11_BOOLEAN).
 */
export const YAML11_TRUE_WORDS: readonly string[] = ["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"];
export const YAML11_FALSE_WORDS: readonly string[] = ["n", "N", "no", "No", "NO", "off", "Off", "OFF"];

/** true/false for one of the YAML 1.1-only boolean words (exact spelling), else undefined. */
export function yaml11Boolean(text: string): boolean | undefined {
  if (YAML11_TRUE_WORDS.includes(text)) return true;
  if (YAML11_FALSE_WORDS.includes(text)) return false;
  return undefined;
}

/**
 * The value a flag's text stands for: true/false in any letter case, or a YAML 1.1 word in one of
 * its listed spellings; surrounding spaces are ignored. undefined for anything else.
 */
export function flagFromText(text: string): boolean | undefined {
  const trimmed = text.trim();
  const lower = trimmed.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  return yaml11Boolean(trimmed);
}

const BOOLEAN_TEXT_PATTERN = `^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|${[...YAML11_TRUE_WORDS, ...YAML11_FALSE_WORDS].join("|")})$`;
const INTEGER_TEXT_PATTERN = "^\\s*[+-]?\\d+\\s*$";

interface Common {
  description?: string;
  /** The diagnostic code for problems with this field (default E_TYPE / E_VALUE). */
  "x-code"?: DiagnosticCode;
  /** How error messages word what the field accepts. */
  "x-expected"?: string;
}

/** A builder's schema: validated as its JSON Schema says, received by modules as `T`. */
export type Field<T, O = unknown> = TUnsafe<T> & DefaultOf<T, O>;

/** `{ default: T }` when the options declare a default: the engine fills it in for a missing field. */
type DefaultOf<T, O> = O extends { default: unknown } ? { default: T } : unknown;

/** An optional field whose default the engine fills in: present whenever a module runs. */
type AlwaysPresent<F> = F extends TOptional<TSchema> ? (F extends { default: unknown } ? true : false) : true;

/**
 * What a mapping holds when a step runs: its static type, with every optional field that declares
 * a default made required (engine/inputs.ts fills defaults in before execute is called).
 */
export type Filled<S extends TSchema> = S extends TObject<infer P extends TProperties>
  ? Flatten<
      { [K in keyof P as AlwaysPresent<P[K]> extends true ? K : never]: Static<P[K]> } & {
        [K in keyof P as AlwaysPresent<P[K]> extends true ? never : K]?: Static<P[K]>;
      }
    >
  : Static<S>;

/** One object type rather than an intersection, so editors show the fields. */
type Flatten<T> = T extends infer O ? { [K in keyof O]: O[K] } : never;

function template(): TSchema {
  return Type.String({ pattern: TEMPLATE_PATTERN, description: "a {{ reference }} (a parameter, loop.value, phase.step.outputs.field, env:NAME, context:KEY, aws:imds:PATH, aws:ssm:NAME), checked when the step runs" });
}

/** Text. YAML numbers and booleans are accepted and read as the text the author wrote. */
export function Text<const O extends Common & { default?: string; minLength?: number; pattern?: string } = {}>(options?: O): Field<string, O> {
  return Type.Unsafe<string>({ type: ["string", "number", "boolean"], "x-expected": "text", "x-kind": "text", ...options }) as Field<string, O>;
}

/** A list of text items. */
export function TextList<const O extends Common & { minItems?: number; default?: string[] } = {}>(options?: O): TArray<TUnsafe<string>> & DefaultOf<string[], O> {
  return Type.Array(Text(), { "x-expected": "a list of text items", ...options }) as TArray<TUnsafe<string>> & DefaultOf<string[], O>;
}

/**
 * true/false; also the strings "true"/"false" in any case, the YAML 1.1 words (yes/no, on/off,
 * y/n in their listed spellings; the validator warns about them), or a reference.
 */
export function Flag<const O extends Common & { default?: boolean } = {}>(options?: O): Field<boolean, O> {
  return Type.Unsafe<boolean>({
    anyOf: [{ type: "boolean" }, { type: "string", pattern: BOOLEAN_TEXT_PATTERN }, template()],
    "x-expected": "true or false",
    "x-kind": "flag",
    ...options,
  }) as Field<boolean, O>;
}

/** A whole number, optionally bounded; digit strings and references are accepted too. */
export function Whole<const O extends Common & { default?: number; minimum?: number; maximum?: number; templates?: boolean } = {}>(
  options?: O,
): Field<number, O> {
  const { templates = true, minimum, maximum, ...rest } = options ?? {};
  const bounds = { ...(minimum === undefined ? {} : { minimum }), ...(maximum === undefined ? {} : { maximum }) };
  const branches: unknown[] = [{ type: "integer", ...bounds }];
  if (templates) branches.push({ type: "string", pattern: INTEGER_TEXT_PATTERN }, template());
  return Type.Unsafe<number>({ anyOf: branches, "x-expected": describeWhole(minimum, maximum), "x-kind": "whole", ...bounds, ...rest }) as Field<number, O>;
}

function describeWhole(minimum?: number, maximum?: number): string {
  if (minimum !== undefined && maximum !== undefined) return `a whole number from ${minimum} to ${maximum}`;
  if (minimum !== undefined) return `a whole number of at least ${minimum}`;
  return "a whole number";
}

/**
 * One of a fixed set of words. `caseInsensitive` accepts any letter case (the value is
 * normalised when the step runs); `templates` also accepts a reference.
 */
export function Choice<const T extends readonly string[], const O extends Common & { default?: T[number]; caseInsensitive?: boolean; templates?: boolean } = {}>(
  values: T,
  options?: O,
): Field<T[number], O> {
  const { caseInsensitive = false, templates = false, ...rest } = options ?? {};
  const words: Record<string, unknown> = caseInsensitive
    ? { type: "string", pattern: `^(?:${values.map(caseInsensitivePattern).join("|")})$` }
    : { type: "string", enum: [...values] };
  const expected = `one of ${values.join(", ")}${caseInsensitive ? " (any case)" : ""}`;
  const marks = { "x-expected": expected, "x-choices": [...values], "x-kind": "choice" };
  const schema = templates ? { anyOf: [words, template()], ...marks, ...rest } : { ...words, ...marks, ...rest };
  return Type.Unsafe<T[number]>(schema) as Field<T[number], O>;
}

function caseInsensitivePattern(word: string): string {
  return [...word]
    .map((ch) => {
      const lower = ch.toLowerCase();
      const upper = ch.toUpperCase();
      if (lower !== upper) return `[${upper}${lower}]`;
      return ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
}

/** A mapping with exactly these fields (unknown fields are errors). */
export function Fields<P extends Parameters<typeof Type.Object>[0]>(properties: P, options: Common & { title?: string } = {}) {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/** The private `x-` keys, removed from schemas shown to other tools. */
export function isPrivateKey(key: string): boolean {
  return key.startsWith("x-");
}
