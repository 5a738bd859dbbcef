/**
 * @module expr/condition: evaluates the expressions of `if` and of the Assert module
 * (docs/component-documents.md §8, §10, §11). Pure: the file system and PATH are reached only through the
 * injected Probe, references only through the injected `render`.
 *
 * The two-value operators read as a predicate on `value`: `numberLessThan: 2` with `value: 1` is
 * "1 < 2", true — what every worked example of AWS's comparison-operators page says (§10,
 * corrected direction). Text comparisons ignore letter case and never trim; numbers are compared
 * exactly from their text; patterns are RE2 (Go's regexp), matched ignoring letter case.
 */
import type { DigestAlgorithm, Probe } from "../model/ports.ts";
import { STEP_ACTIONS, comparisonByName, isLogicalOperator } from "../model/conditions.ts";
import { ResolveError } from "../errors.ts";

/** What conditions may ask about the machine; platform/probe.ts has the real one. */
export type StepAction = (typeof STEP_ACTIONS)[number];

export interface Evaluation {
  value: boolean;
  /** What was compared, with resolved operands: for Assert's failure message and the log. */
  explain: string;
}

export interface NormalizedIf {
  expression: Record<string, unknown>;
  then: StepAction;
  else: StepAction;
}

const DIGESTS: Record<string, DigestAlgorithm> = {
  fileMD5Equals: "md5",
  fileSHA1Equals: "sha1",
  fileSHA256Equals: "sha256",
  fileSHA512Equals: "sha512",
};

/** Longest operand shown in `explain`; step outputs can be megabytes. */
const SHOWN_LENGTH = 200;

/**
 * Splits a step's `if` into its expression and then/else (docs/component-documents.md §8: a mapping or a one-item
 * list; then/else are siblings of the operator). The validator has already rejected other
 * shapes; should one get here anyway the step fails rather than the run crashing.
 */
export function normalizeIf(raw: unknown): NormalizedIf {
  const body = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
  if (!isRecord(body)) throw new ResolveError("conditional expression: if must be a mapping with one operator", "if");
  const { then: thenRaw, else: elseRaw, ...expression } = body;
  return { expression, then: action(thenRaw, "then", "Execute"), else: action(elseRaw, "else", "Skip") };
}

function action(value: unknown, key: string, fallback: StepAction): StepAction {
  if (value === undefined) return fallback;
  if ((STEP_ACTIONS as readonly unknown[]).includes(value)) return value as StepAction;
  throw new ResolveError(`conditional expression: ${key} must be one of ${STEP_ACTIONS.join(", ")}, found '${String(value)}'`, "if");
}

/**
 * Evaluates one expression. A bad operand makes its comparison false (§8) and never throws;
 * only a ResolveError from `render` escapes, so the engine can fail the step with it.
 */
export function evaluateCondition(
  expression: Record<string, unknown>,
  render: (text: string) => string,
  probe: Probe,
): Evaluation {
  const operators = Object.keys(expression).filter((k) => comparisonByName.has(k) || isLogicalOperator(k));
  if (operators.length !== 1) {
    return { value: false, explain: operators.length === 0 ? "no operator found, so false" : `several operators (${operators.join(", ")}), so false` };
  }
  const operator = operators[0]!;
  if (isLogicalOperator(operator)) return logical(operator, expression[operator], render, probe);
  return compare(operator, expression, render, probe);
}

function logical(operator: "and" | "or" | "not", operand: unknown, render: (text: string) => string, probe: Probe): Evaluation {
  const children = operator === "not" && !Array.isArray(operand) ? [operand] : operand;
  if (!Array.isArray(children) || children.length === 0 || (operator === "not" && children.length !== 1)) {
    return { value: false, explain: `${operator}: malformed operand, so false` };
  }
  const evaluate = (child: unknown): Evaluation =>
    isRecord(child) ? evaluateCondition(child, render, probe) : { value: false, explain: "not an expression, so false" };
  if (operator === "not") {
    const inner = evaluate(children[0]);
    return { value: !inner.value, explain: `not (${inner.explain}) is ${!inner.value}` };
  }
  // and stops at the first false child, or at the first true one (§11): later children are not
  // evaluated at all, so their references are not resolved and the probe is not asked.
  const decisive = operator === "or";
  for (let i = 0; i < children.length; i++) {
    const result = evaluate(children[i]);
    if (result.value === decisive) {
      return { value: decisive, explain: `${operator} is ${decisive} because item ${i + 1} of ${children.length} is ${decisive}: ${result.explain}` };
    }
  }
  return {
    value: !decisive,
    explain: `${operator} is ${!decisive}: ${decisive ? "none" : "all"} of ${children.length} ${children.length === 1 ? "item is" : "items are"} true`,
  };
}

function compare(operator: string, expression: Record<string, unknown>, render: (text: string) => string, probe: Probe): Evaluation {
  const text = (key: string): string | undefined => {
    const value = expression[key];
    if (typeof value === "string") return render(value);
    if (typeof value === "number") return plainNumber(value);
    if (typeof value === "boolean" || typeof value === "bigint") return String(value);
    return undefined;
  };
  const result = (value: boolean, what: string): Evaluation => ({ value, explain: `${operator}: ${what} is ${value}` });
  const baseline = text(operator);
  if (baseline === undefined) return { value: false, explain: `${operator}: the operand is not a single value, so false` };
  const operands = comparisonByName.get(operator)!.operands;
  const other = operands.length === 0 ? "" : text(operands[0]!);
  if (other === undefined) return { value: false, explain: `${operator}: '${operands[0]}' is missing or not a single value, so false` };

  switch (operator) {
    case "stringIsEmpty":
      return result(baseline.length === 0, show(baseline));
    case "stringIsWhitespace":
      // "contains only spaces" (documented): the space character itself, at least one of it.
      return result(/^ +$/.test(baseline), show(baseline));
    case "stringEquals":
    case "stringLessThan":
    case "stringLessThanEquals":
    case "stringGreaterThan":
    case "stringGreaterThanEquals": {
      const [symbol, holds] = ORDERING[operator]!;
      return result(holds(compareText(other, baseline)), `${show(other)} ${symbol} ${show(baseline)}`);
    }
    case "numberEquals":
    case "numberLessThan":
    case "numberLessThanEquals":
    case "numberGreaterThan":
    case "numberGreaterThanEquals": {
      const limit = parseDecimal(baseline);
      const number = parseDecimal(other);
      const [symbol, holds] = ORDERING[operator]!;
      if (limit === undefined || number === undefined) {
        return { value: false, explain: `${operator}: ${show(number === undefined ? other : baseline)} is not a number, so false` };
      }
      return result(holds(compareDecimal(number, limit)), `${shorten(other)} ${symbol} ${shorten(baseline)}`);
    }
    case "patternMatches": {
      const pattern = compilePattern(baseline);
      if (typeof pattern === "string") {
        return { value: false, explain: `${operator}: ${show(baseline)} is not a valid regular expression (${pattern}), so false` };
      }
      return result(pattern.test(other), `/${shorten(baseline)}/ in ${show(other)}`);
    }
    case "binaryExists":
      return result(baseline !== "" && safely(() => probe.binaryExists(baseline)), show(baseline));
    case "fileExists":
      return result(baseline !== "" && safely(() => probe.fileExists(baseline)), show(baseline));
    case "folderExists":
      return result(baseline !== "" && safely(() => probe.folderExists(baseline)), show(baseline));
  }
  const algorithm = DIGESTS[operator];
  if (algorithm !== undefined) {
    let digest: string | undefined;
    try {
      digest = other === "" ? undefined : probe.fileDigest(other, algorithm);
    } catch {
      digest = undefined;
    }
    if (digest === undefined) return { value: false, explain: `${operator}: ${show(other)} cannot be read, so false` };
    return result(digest.toLowerCase() === baseline.toLowerCase(), `digest of ${show(other)} ${digest.toLowerCase()} = ${show(baseline)}`);
  }
  return { value: false, explain: `${operator}: unknown operator, so false` };
}

/** For each ordering operator: how it is written in `explain`, and when `compare(value, baseline)` satisfies it. */
const ORDERING: Record<string, readonly [string, (order: number) => boolean]> = {
  stringEquals: ["=", (o) => o === 0],
  stringLessThan: ["<", (o) => o < 0],
  stringLessThanEquals: ["<=", (o) => o <= 0],
  stringGreaterThan: [">", (o) => o > 0],
  stringGreaterThanEquals: [">=", (o) => o >= 0],
  numberEquals: ["=", (o) => o === 0],
  numberLessThan: ["<", (o) => o < 0],
  numberLessThanEquals: ["<=", (o) => o <= 0],
  numberGreaterThan: [">", (o) => o > 0],
  numberGreaterThanEquals: [">=", (o) => o >= 0],
};

/**
 * Case-insensitive, untrimmed, code-point order of the lower-cased texts (docs/component-documents.md §10). JS `<`
 * compares UTF-16 code units, which puts U+10000 and above before U+E000–U+FFFF, so walk code
 * points instead. Negative when `a` sorts first.
 */
export function compareText(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x === y) return 0;
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const p = x.codePointAt(i)!;
    const q = y.codePointAt(j)!;
    if (p !== q) return p < q ? -1 : 1;
    i += p > 0xffff ? 2 : 1;
    j += q > 0xffff ? 2 : 1;
  }
  return i >= x.length ? -1 : 1; // one is a prefix of the other: the shorter sorts first
}

/**
 * A number as the comparison operators read it: digits with an optional sign and one decimal
 * point between digits — the page's `^[-+]?([0-9]+[.])?[0-9]+$`, nothing else (no spaces,
 * exponents, hex, `.5` or `5.`). YAML numbers reach here as their source text.
 */
const NUMBER_TEXT = /^([-+]?)(?:([0-9]+)\.)?([0-9]+)$/;

/**
 * An exact decimal: the digits before the point without leading zeros, after it without trailing
 * zeros, so equal numbers have equal parts (`+1.0` and `1`; `-0` and `0`, which is never negative).
 */
export interface Decimal {
  negative: boolean;
  whole: string;
  fraction: string;
}

/** The number written in `text` (nothing around it), or undefined when it is not one. */
export function parseDecimal(text: string): Decimal | undefined {
  const match = NUMBER_TEXT.exec(text);
  if (match === null) return undefined;
  const [, sign, beforePoint, last] = match as unknown as [string, string, string | undefined, string];
  const whole = (beforePoint ?? last).replace(/^0+/, "");
  const fraction = beforePoint === undefined ? "" : last.replace(/0+$/, "");
  return { negative: sign === "-" && (whole !== "" || fraction !== ""), whole, fraction };
}

/**
 * Compares exactly, at any length (Go's math/big does this for AWSTOE; float64 would call
 * 9007199254740993 and 9007199254740992 equal). Negative when `a` is the smaller.
 */
export function compareDecimal(a: Decimal, b: Decimal): number {
  if (a.negative !== b.negative) return a.negative ? -1 : 1;
  let magnitude = 0;
  if (a.whole.length !== b.whole.length) magnitude = a.whole.length < b.whole.length ? -1 : 1;
  else if (a.whole !== b.whole) magnitude = a.whole < b.whole ? -1 : 1;
  // Fractions without trailing zeros order like their digit strings: "5" < "51" < "6".
  else if (a.fraction !== b.fraction) magnitude = a.fraction < b.fraction ? -1 : 1;
  return a.negative && magnitude !== 0 ? -magnitude : magnitude;
}

/**
 * A JS number as plain decimal text. Documents from the engine arrive with YAML numbers as their
 * source text already; this is for callers that pass numbers, where String(1e21) is "1e+21".
 */
function plainNumber(n: number): string {
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(String(n));
  if (match === null) return String(n);
  const [, sign, first, rest = "", exponent] = match as unknown as [string, string, string, string | undefined, string];
  const digits = first + rest;
  const point = 1 + Number(exponent);
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + "0".repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** What `patternMatches` needs of a compiled pattern. */
export interface Pattern {
  test(text: string): boolean;
}

type Re2 = typeof import("re2js");
let re2: Re2 | undefined;

/**
 * Compiles `source` as `patternMatches` uses it: RE2 syntax and semantics (Go's regexp package,
 * through the re2js port), letter case ignored — string comparisons are not case sensitive, and
 * the page's one example (`^[a-z]+$` matches `ThisIsValue`) needs it; `(?-i)` turns that off.
 * Returns the pattern, or why it is not valid (Go's wording, without "error parsing regexp: ").
 * re2js is loaded on first use: a plain `require` keeps it inside the compiled binary and the Node
 * bundle, but runs it only when a document has a pattern (loading it costs milliseconds).
 */
export function compilePattern(source: string): Pattern | string {
  re2 ??= require("re2js") as Re2;
  const { RE2JS, RE2JSException } = re2;
  try {
    return RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
  }
  // The flag is written into the pattern as a leading (?i), which then shows in the message:
  // compile the author's text alone to say what is wrong with it.
  try {
    RE2JS.compile(source);
    return "not a valid RE2 pattern";
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
    return error.message.replace(/^error parsing regexp: /, "");
  }
}

/**
 * Why a pattern is not valid, or undefined. Validation of a document asks this for every literal
 * pattern, and most are plain text with anchors (`^Hello from `): for those — only literal
 * characters and `^ $ . * + ? |`, no escapes, classes, groups or braces — JavaScript's RegExp and
 * RE2 accept exactly the same patterns, so RE2 (several ms to load) is needed only for the rest,
 * and for a plain pattern JavaScript refuses (RE2 has the last word).
 */
export function patternProblem(source: string): string | undefined {
  if (/^[^\\[\](){}]*$/.test(source)) {
    try {
      new RegExp(source);
      return undefined;
    } catch {
      // fall through: RE2 decides, in its own words
    }
  }
  const compiled = compilePattern(source);
  return typeof compiled === "string" ? compiled : undefined;
}

/** A probe that throws must not crash the run: the comparison is false (§8). */
function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

function show(text: string): string {
  return `'${shorten(text)}'`;
}

function shorten(text: string): string {
  return text.length > SHOWN_LENGTH ? `${text.slice(0, SHOWN_LENGTH)}…` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
