/**
 * @module expr/condition: evaluates the expressions of `if` and of the Assert module
 * (documents.md §8, §10, §11). Pure: the file system and PATH are reached only through the
 * injected Probe, references only through the injected `render`.
 */
import { STEP_ACTIONS, comparisonByName, isLogicalOperator } from "../model/conditions.ts";
import { ResolveError } from "../errors.ts";

/** What conditions may ask about the machine; platform/probe.ts has the real one. */
export interface Probe {
  binaryExists(name: string): boolean;
  fileExists(path: string): boolean;
  folderExists(path: string): boolean;
  /** Lower- or upper-case hex digest; undefined when the file is missing or unreadable. */
  fileDigest(path: string, algorithm: DigestAlgorithm): string | undefined;
}

export type DigestAlgorithm = "md5" | "sha1" | "sha256" | "sha512";
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
 * Splits a step's `if` into its expression and then/else (README Q3: a mapping or a one-item
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
    if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
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
      return result(/^\s+$/u.test(baseline), show(baseline));
    case "stringEquals":
    case "stringLessThan":
    case "stringLessThanEquals":
    case "stringGreaterThan":
    case "stringGreaterThanEquals": {
      const order = compareText(baseline, other);
      const [symbol, holds] = ORDERING[operator]!;
      return result(holds(order), `${show(baseline)} ${symbol} ${show(other)}`);
    }
    case "numberEquals":
    case "numberLessThan":
    case "numberLessThanEquals":
    case "numberGreaterThan":
    case "numberGreaterThanEquals": {
      const a = parseNumber(baseline);
      const b = parseNumber(other);
      const [symbol, holds] = ORDERING[operator]!;
      if (a === undefined || b === undefined) {
        return { value: false, explain: `${operator}: ${show(a === undefined ? baseline : other)} is not a number, so false` };
      }
      return result(holds(a < b ? -1 : a > b ? 1 : 0), `${shorten(baseline.trim())} ${symbol} ${shorten(other.trim())}`);
    }
    case "patternMatches": {
      let pattern: RegExp;
      try {
        pattern = new RegExp(baseline, "u");
      } catch {
        return { value: false, explain: `${operator}: ${show(baseline)} is not a valid regular expression, so false` };
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

/** For each ordering operator: how it is written in `explain`, and when `compare(a, b)` satisfies it. */
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
 * Case-insensitive, untrimmed, code-point order (README Q2). JS `<` compares UTF-16 code units,
 * which puts U+10000 and above before U+E000–U+FFFF, so walk code points instead.
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

// Plain decimal only: no hex, Infinity, NaN, underscores or empty text, which Number() would accept.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The number written in `text` (surrounding white space ignored), or undefined. */
export function parseNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) return undefined;
  const value = Number(trimmed);
  // 1e999 overflows to Infinity; comparing overflowed values would call them equal.
  return Number.isFinite(value) ? value : undefined;
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
