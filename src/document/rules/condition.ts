/**
 * @module document/rules/condition: the `if` of steps and the inputs of Assert — one operator per
 * expression, its operands, literal operands that can never work, then/else, nesting depth (docs/component-documents.md §8, §11).
 */
import type { Path } from "../../errors.ts";
import { parseDecimal, patternProblem } from "../../expr/condition.ts";
import { COMPARISON_OPERATORS, MAX_LOGICAL_DEPTH, STEP_ACTIONS, comparisonByName, isLogicalOperator, LOGICAL_OPERATORS } from "../../model/conditions.ts";
import { guess } from "../../model/suggest.ts";
import { hasTemplate } from "../../modules/index.ts";
import { describe } from "../check-schema.ts";
import { stepsOf, textOf, type RuleContext } from "./_context.ts";
import { isRecord } from "../../model/platform.ts";

const OPERATOR_NAMES = [...COMPARISON_OPERATORS.map((o) => o.name), ...LOGICAL_OPERATORS];
const DIGEST_LENGTH: Record<string, number> = { fileMD5Equals: 32, fileSHA1Equals: 40, fileSHA256Equals: 64, fileSHA512Equals: 128 };

export function checkConditions(ctx: RuleContext): void {
  for (const ref of stepsOf(ctx.doc)) {
    if (ref.step.if !== undefined) checkIf(ctx, ref.step.if, [...ref.path, "if"]);
  }
}

/** `if`: a mapping (or one-item list of it) with one operator plus optional then/else. */
function checkIf(ctx: RuleContext, value: unknown, path: Path): void {
  if (Array.isArray(value)) {
    if (value.length !== 1) {
      fail(ctx, path, `the if list must hold exactly one expression, found ${value.length}`, "write the expression as a mapping directly under if");
      return;
    }
    checkIf(ctx, value[0], [...path, 0]);
    return;
  }
  checkExpression(ctx, value, path, 0, true);
}

/** Checks an expression used as Assert's inputs: like `if`, but without then/else. */
export function checkAssertInputs(ctx: RuleContext, value: unknown, path: Path): void {
  checkExpression(ctx, value, path, 0, false);
}

function checkExpression(ctx: RuleContext, value: unknown, path: Path, depth: number, top: boolean): void {
  if (!isRecord(value)) {
    fail(ctx, path, `expected an expression mapping such as {stringEquals: a, value: b}, found ${describe(value, ctx.sourceText(path))}`);
    return;
  }
  const keys = Object.keys(value);
  const operators = keys.filter((k) => comparisonByName.has(k) || isLogicalOperator(k));
  if (operators.length === 0) {
    const unknown = keys.find((k) => !["value", "path", "then", "else"].includes(k));
    const meant = unknown === undefined ? { text: "" } : guess(unknown, OPERATOR_NAMES);
    fail(
      ctx,
      unknown === undefined ? path : [...path, unknown],
      unknown === undefined ? "no operator found" : `unknown operator '${unknown}'${meant.text}`,
      "operators: " + OPERATOR_NAMES.join(", "),
      unknown === undefined ? "value" : "key",
      meant.match,
    );
    return;
  }
  if (operators.length > 1) {
    fail(ctx, [...path, operators[1]!], `one operator per expression, found ${operators.join(" and ")}`, "combine several comparisons with and: [ … ] or or: [ … ]", "key");
    return;
  }
  const operator = operators[0]!;
  const allowed = new Set<string>([operator, ...(top ? ["then", "else"] : [])]);
  const comparison = comparisonByName.get(operator);
  for (const operand of comparison?.operands ?? []) allowed.add(operand);
  for (const key of keys) {
    if (allowed.has(key)) continue;
    const why = key === "then" || key === "else" ? `${key} is only allowed at the top of an if` : `'${key}' does not belong to ${operator}`;
    fail(ctx, [...path, key], why, undefined, "key");
  }
  if (top) {
    for (const key of ["then", "else"] as const) {
      if (value[key] !== undefined && !(STEP_ACTIONS as readonly string[]).includes(String(value[key]))) {
        const meant = guess(String(value[key]), STEP_ACTIONS);
        fail(ctx, [...path, key], `${key} must be one of ${STEP_ACTIONS.join(", ")}, found ${describe(value[key])}${meant.text}`, undefined, undefined, meant.match);
      }
    }
  }
  if (comparison !== undefined) {
    for (const operand of comparison.operands) {
      if (!(operand in value)) fail(ctx, path, `${operator} needs a '${operand}' beside it`, operand === "value" ? `e.g. ${operator}: x, value: '{{ build.Step.outputs.stdout }}'` : `e.g. ${operator}: <hex>, path: /some/file`);
    }
    for (const key of [operator, ...comparison.operands]) {
      if (key in value && textOf(value[key]) === undefined) fail(ctx, [...path, key], `${key} takes a single value, found ${describe(value[key])}`);
    }
    checkLiteralOperand(ctx, operator, value[operator], [...path, operator]);
    if (comparison.baseline === "number" && "value" in value) checkYamlNumber(ctx, operator, value.value, [...path, "value"]);
    return;
  }
  if (depth + 1 > MAX_LOGICAL_DEPTH) {
    fail(ctx, [...path, operator], `exceeds maximum nesting depth of ${MAX_LOGICAL_DEPTH} and/or/not levels`, undefined, "key");
    return;
  }
  const operand = value[operator];
  const children = operator === "not" ? (Array.isArray(operand) ? operand : [operand]) : operand;
  if (!Array.isArray(children) || (operator !== "not" && children.length === 0)) {
    fail(ctx, [...path, operator], `${operator} takes a list of expressions, found ${describe(operand)}`);
    return;
  }
  if (operator === "not" && children.length !== 1) {
    fail(ctx, [...path, operator], `not takes exactly one expression, found ${children.length}`);
    return;
  }
  children.forEach((child, i) => {
    const childPath = operator === "not" && !Array.isArray(operand) ? [...path, operator] : [...path, operator, i];
    checkExpression(ctx, child, childPath, depth + 1, false);
  });
}

/** Literal operands that can never work: a bad regex, a baseline that is not a number, a short digest. */
function checkLiteralOperand(ctx: RuleContext, operator: string, value: unknown, path: Path): void {
  const text = ctx.sourceText(path) ?? textOf(value);
  if (text === undefined || hasTemplate(text)) return;
  const kind = comparisonByName.get(operator)?.baseline;
  if (kind === "number") {
    if (typeof value === "number") checkYamlNumber(ctx, operator, value, path);
    else if (parseDecimal(text) === undefined) fail(ctx, path, `${operator} compares numbers, but '${text}' is not a number`);
  } else if (kind === "regex") {
    // RE2, as patternMatches runs it (Go's regexp): no backreferences, no lookaround.
    const problem = patternProblem(text);
    if (problem !== undefined) fail(ctx, path, `'${text}' is not a valid regular expression: ${problem}`, "patterns use RE2 syntax (Go's regexp package): no backreferences or lookaround");
  } else if (kind === "digest") {
    const want = DIGEST_LENGTH[operator]!;
    if (!/^[0-9a-fA-F]+$/.test(text) || text.length !== want) fail(ctx, path, `${operator} expects ${want} hex digits, found '${text}'`);
  }
}

/**
 * A YAML number (unquoted) of a numeric comparison is compared by its source text, exactly; one
 * written another way (1e3, .5, 0x10, .inf) would be read as no number at all, so it is refused.
 * Quoted text that is not a number stays allowed in `value`: the comparison is then false (§10).
 */
function checkYamlNumber(ctx: RuleContext, operator: string, value: unknown, path: Path): void {
  if (typeof value !== "number") return;
  const text = ctx.sourceText(path) ?? String(value);
  if (parseDecimal(text) !== undefined) return;
  fail(ctx, path, `${operator} compares numbers written as plain decimals, but ${text} is written another way`, "write digits with an optional sign and decimal point, such as 1000 or 0.5");
}

/** `suggestion`: the did-you-mean word the message names, for a quick fix (Issue.suggestion). */
function fail(ctx: RuleContext, path: Path, message: string, hint?: string, at?: "key" | "value", suggestion?: string): void {
  ctx.issues.push({
    code: "E_CONDITION", path, message: `conditional expression: ${message}`,
    ...(hint === undefined ? {} : { hint }), ...(at === undefined ? {} : { at }), ...(suggestion === undefined ? {} : { suggestion }),
  });
}
