/**
 * @module model/conditions: the comparison and logical operators of `if` and `Assert`
 * (docs/component-documents.md §10–§11) as data, and the schema an editor uses to complete them.
 */
import { Type, type TSchema } from "@sinclair/typebox";
import { Choice, Text, Fields } from "./schema-kit.ts";

/** How an operator's own value (the baseline) is read. */
export type BaselineKind = "text" | "number" | "regex" | "program" | "path" | "digest";

export interface ComparisonOperator {
  /** The key written in the document. */
  name: string;
  /** Operand keys that must stand beside the operator key. */
  operands: readonly ("value" | "path")[];
  baseline: BaselineKind;
  summary: string;
}

function op(name: string, operands: ComparisonOperator["operands"], baseline: BaselineKind, summary: string) {
  return { name, operands, baseline, summary } as const satisfies ComparisonOperator;
}

export const COMPARISON_OPERATORS: readonly ComparisonOperator[] = [
  op("stringIsEmpty", [], "text", "true when the text is empty"),
  op("stringIsWhitespace", [], "text", "true when the text is not empty and only spaces"),
  // Two-value operators read as a predicate on `value` (docs/component-documents.md §10): `value` < this, etc.
  op("stringEquals", ["value"], "text", "true when both texts are equal, ignoring letter case"),
  op("stringLessThan", ["value"], "text", "true when `value` sorts before this text (ignoring letter case)"),
  op("stringLessThanEquals", ["value"], "text", "true when `value` sorts before or equals this text (ignoring letter case)"),
  op("stringGreaterThan", ["value"], "text", "true when `value` sorts after this text (ignoring letter case)"),
  op("stringGreaterThanEquals", ["value"], "text", "true when `value` sorts after or equals this text (ignoring letter case)"),
  op("patternMatches", ["value"], "regex", "true when this RE2 regular expression (Go's regexp syntax; letter case ignored) matches somewhere in `value`"),
  op("numberEquals", ["value"], "number", "true when both numbers are equal"),
  op("numberLessThan", ["value"], "number", "true when `value` is less than this number"),
  op("numberLessThanEquals", ["value"], "number", "true when `value` is less than or equal to this number"),
  op("numberGreaterThan", ["value"], "number", "true when `value` is greater than this number"),
  op("numberGreaterThanEquals", ["value"], "number", "true when `value` is greater than or equal to this number"),
  op("binaryExists", [], "program", "true when a program of this name is on PATH"),
  op("fileExists", [], "path", "true when this path is an existing file"),
  op("folderExists", [], "path", "true when this path is an existing folder"),
  op("fileMD5Equals", ["path"], "digest", "true when the MD5 digest of the file at `path` is this hex value"),
  op("fileSHA1Equals", ["path"], "digest", "true when the SHA-1 digest of the file at `path` is this hex value"),
  op("fileSHA256Equals", ["path"], "digest", "true when the SHA-256 digest of the file at `path` is this hex value"),
  op("fileSHA512Equals", ["path"], "digest", "true when the SHA-512 digest of the file at `path` is this hex value"),
];

export const LOGICAL_OPERATORS = ["and", "or", "not"] as const;
export type LogicalOperator = (typeof LOGICAL_OPERATORS)[number];

/** Maximum nesting of and/or/not (docs/component-documents.md §11). */
export const MAX_LOGICAL_DEPTH = 4;

export const STEP_ACTIONS = ["Execute", "Skip", "Abort"] as const;

export const comparisonByName: ReadonlyMap<string, ComparisonOperator> = new Map(
  COMPARISON_OPERATORS.map((o) => [o.name, o]),
);

export function isLogicalOperator(key: string): key is LogicalOperator {
  return (LOGICAL_OPERATORS as readonly string[]).includes(key);
}

/**
 * The editor schema for a condition. `extra` adds fields allowed beside the top-level operator
 * (`then`/`else` in `if`). Checking is done by document/rules/condition.ts, which gives better
 * messages than a generic schema could; this schema is for completion and hover text.
 */
export function conditionSchema(): TSchema {
  return Type.Recursive((Self) => Type.Union(variants(Self, {}), { "x-expected": "a comparison or an and/or/not expression" }), {
    $id: "Condition",
  });
}

function variants(self: TSchema, extra: Record<string, TSchema>): TSchema[] {
  const comparisons = COMPARISON_OPERATORS.map((o) => {
    const props: Record<string, TSchema> = { [o.name]: Text({ description: o.summary }), ...extra };
    for (const operand of o.operands) props[operand] = Text({ description: operand === "path" ? "the file to hash" : "the value to compare with" });
    return Fields(props);
  });
  const logical = [
    Fields({ and: Type.Array(self, { minItems: 1, description: "true when every expression is true" }), ...extra }),
    Fields({ or: Type.Array(self, { minItems: 1, description: "true when any expression is true" }), ...extra }),
    Fields({ not: Type.Union([self, Type.Array(self, { minItems: 1, maxItems: 1 })], { description: "negates one expression" }), ...extra }),
  ];
  return [...comparisons, ...logical];
}

export const IF_DESCRIPTION = "run, skip or abort this step depending on a condition";

/** The editor schema of a step's `if`: one expression plus optional then/else. */
export function ifSchema(): TSchema {
  // Refers to the one shared Condition definition (published under $defs by `awstoe schema`).
  const inner = Type.Unsafe({ $ref: "Condition" });
  const extra = {
    then: Type.Optional(Choice(STEP_ACTIONS, { description: "what to do when the condition is true (default Execute)" })),
    else: Type.Optional(Choice(STEP_ACTIONS, { description: "what to do when the condition is false (default Skip)" })),
  };
  const top = Type.Union(variants(inner, extra as Record<string, TSchema>));
  return Type.Union([top, Type.Array(top, { minItems: 1, maxItems: 1 })], {
    description: IF_DESCRIPTION,
    "x-checked-by-rules": true,
  });
}
