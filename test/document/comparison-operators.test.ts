/**
 * The comparison operators as AWS documents them, run for real: every worked example of the page
 * below goes through a step's `if` (did the step run?) and through the Assert module (did the step
 * succeed?) in one document, validated and run in-process (runExecution with the host's deps, no
 * processes started). Then RE2 patterns and numbers at the validator and engine level.
 *
 * Source of EXAMPLES: "Use comparison operators in AWSTOE component documents", EC2 Image Builder
 * user guide, https://docs.aws.amazon.com/imagebuilder/latest/userguide/toe-comparison-operators.html
 * (page id toe-comparison-operators; read from a stored copy of the page's text), sections
 * "Compare strings" and "Compare numbers", in the page's order. The page's "Check files" section
 * has no worked results (its operands are placeholders such as '`/path/to/file`'), so it is not in
 * the table. Transcription notes:
 * - The four stringLessThan examples are printed with the key `stringlessThan` (lower-case l);
 *   they are transcribed as stringLessThan (our validator refuses the misspelt key, with a
 *   did-you-mean).
 * - One example contradicts the rest of the page and cannot hold together with it: stringLessThan
 *   'A' with value 'a' is printed as true ("isn't case sensitive"), while stringLessThanEquals,
 *   stringGreaterThan and stringGreaterThanEquals examples all treat 'A' and 'a' as equal — then
 *   'a' < 'A' is false. We follow the page's rule (case-insensitive; spec README Q2): the row
 *   carries `ours: false` and why, and a test checks it is the only row that differs.
 * - patternMatches '^[a-z]+$' with value 'ThisIsValue' is printed as true, which needs letter case
 *   ignored ("String comparisons are not case sensitive" heads the section the operator is in), so
 *   patterns are matched case-insensitively.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderDiagnostic } from "../../src/cli/_render.ts";
import type { SourceMap } from "../../src/document/source-map.ts";
import { validateText } from "../../src/document/validate.ts";
import type { EngineDeps } from "../../src/engine/deps.ts";
import { hostDeps } from "../../src/engine/host-deps.ts";
import { runExecution } from "../../src/engine/run.ts";
import type { Diagnostic } from "../../src/errors.ts";
import { plainPalette } from "../../src/logs/terminal.ts";
import type { StepRecord } from "../../src/model/record.ts";

interface Example {
  /** The operator key. */
  operator: string;
  /** The operator's operand as the page writes it, in YAML (quotes kept: '1' is text, 1 a number). */
  baseline: string;
  /** The `value` operand as written, in YAML; absent for single-value operators. */
  value?: string;
  /** The page's result. */
  documented: boolean;
  /** Our result where it differs from the page's, and why. */
  ours?: { result: boolean; why: string };
}

const ex = (operator: string, baseline: string, value: string | undefined, documented: boolean, ours?: Example["ours"]): Example => ({
  operator,
  baseline,
  ...(value === undefined ? {} : { value }),
  documented,
  ...(ours === undefined ? {} : { ours }),
});

// prettier-ignore
const EXAMPLES: readonly Example[] = [
  // Compare strings
  ex("stringIsEmpty", `""`, undefined, true),
  ex("stringIsEmpty", `" "`, undefined, false),
  ex("stringIsEmpty", `"Hello."`, undefined, false),
  ex("stringIsWhitespace", `"   "`, undefined, true),
  ex("stringIsWhitespace", `""`, undefined, false),
  ex("stringIsWhitespace", `" Hello?"`, undefined, false),
  ex("stringEquals", `'Testing, testing...'`, `'Testing, testing...'`, true),
  ex("stringEquals", `'Testing, testing...'`, `'Hello again.'`, false),
  ex("stringEquals", `'Testing, testing...'`, `'TESTING, TESTING....'`, false), // four dots: not equal in any case
  ex("stringEquals", `'Testing, testing...'`, `'   Testing, testing...'`, false),
  ex("stringEquals", `'Testing, testing...'`, `'Testing, testing...   '`, false),
  ex("stringLessThan", `'A'`, `'a'`, true, { result: false, why: "'a' and 'A' are equal ignoring case, as the page's other 'A'/'a' examples say" }),
  ex("stringLessThan", `'b'`, `'a'`, true),
  ex("stringLessThan", `'a'`, `'0'`, true),
  ex("stringLessThan", `'0'`, `'a'`, false),
  ex("stringLessThanEquals", `'a'`, `'a'`, true),
  ex("stringLessThanEquals", `'A'`, `'a'`, true),
  ex("stringLessThanEquals", `'b'`, `'a'`, true),
  ex("stringLessThanEquals", `'a'`, `'0'`, true),
  ex("stringLessThanEquals", `'0'`, `'a'`, false),
  ex("stringGreaterThan", `'a'`, `'A'`, false),
  ex("stringGreaterThan", `'a'`, `'b'`, true),
  ex("stringGreaterThan", `'0'`, `'a'`, true),
  ex("stringGreaterThan", `'a'`, `'0'`, false),
  ex("stringGreaterThanEquals", `'A'`, `'a'`, true),
  ex("stringGreaterThanEquals", `'a'`, `'b'`, true),
  ex("stringGreaterThanEquals", `'0'`, `'a'`, true),
  ex("stringGreaterThanEquals", `'a'`, `'0'`, false),
  ex("patternMatches", `'^[a-z]+$'`, `'ThisIsValue'`, true),
  // Compare numbers ("All of the following example comparisons return true" for numberEquals)
  ex("numberEquals", `1`, `1`, true),
  ex("numberEquals", `'1'`, `1`, true),
  ex("numberEquals", `1`, `'1'`, true),
  ex("numberEquals", `5.0`, `5.0`, true),
  ex("numberEquals", `-1`, `-1`, true),
  ex("numberLessThan", `2`, `1`, true),
  ex("numberLessThan", `2`, `1.9`, true),
  ex("numberLessThan", `2`, `'2'`, false),
  ex("numberLessThanEquals", `2`, `1`, true),
  ex("numberLessThanEquals", `2`, `1.9`, true),
  ex("numberLessThanEquals", `2`, `'2'`, true),
  ex("numberLessThanEquals", `2`, `2.1`, false),
  ex("numberGreaterThan", `1`, `2`, true),
  ex("numberGreaterThan", `1`, `1.1`, true),
  ex("numberGreaterThan", `1`, `'1'`, false),
  ex("numberGreaterThanEquals", `1`, `2`, true),
  ex("numberGreaterThanEquals", `1`, `1.1`, true),
  ex("numberGreaterThanEquals", `1`, `'1'`, true),
  ex("numberGreaterThanEquals", `1`, `0.8`, false),
];

const expected = (e: Example) => e.ours?.result ?? e.documented;
const label = (e: Example) => `${e.operator}: ${e.baseline}${e.value === undefined ? "" : `, value: ${e.value}`}`;

/** The expression as YAML lines at `indent`. */
function expression(e: { operator: string; baseline: string; value?: string }, indent: string): string {
  return `${indent}${e.operator}: ${e.baseline}\n${e.value === undefined ? "" : `${indent}value: ${e.value}\n`}`;
}

/**
 * Each example twice: as the `if` of a step that always succeeds when it runs (so `success` = the
 * condition was true, `skipped` = false), and as the inputs of an Assert that may fail and let the
 * run go on.
 */
function documentOf(examples: readonly { operator: string; baseline: string; value?: string }[]): string {
  const steps = examples.map(
    (e, i) =>
      `      - name: If${i}\n        action: Assert\n        if:\n${expression(e, "          ")}        inputs:\n          stringIsEmpty: ''\n` +
      `      - name: Assert${i}\n        action: Assert\n        onFailure: Continue\n        inputs:\n${expression(e, "          ")}`,
  );
  return `name: comparison-examples\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n${steps.join("")}`;
}

let tmp: string;
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), "opentoe-comparisons-")));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function validationErrors(yaml: string): string[] {
  const result = validateText(yaml, "example.yaml", { platform: "linux" });
  return result.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.line}:${d.column} ${d.message}`);
}

/** Runs one document the way `awstoe run` would; returns its steps by name. */
async function run(name: string, yaml: string): Promise<Map<string, StepRecord>> {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "component.yaml"), yaml);
  const renderDiagnostics = (diagnostics: Diagnostic[], map: SourceMap | undefined) => diagnostics.map((d) => renderDiagnostic(d, map, plainPalette)).join("\n\n");
  const base = hostDeps({ signal: new AbortController().signal, palette: plainPalette, renderDiagnostics, cwd: dir, interactive: false, terminal: { stdout: () => {}, stderr: () => {} } });
  const deps: EngineDeps = { ...base, ports: { ...base.ports, reboot: { exitCode: 194, clearTrigger: async () => undefined, reboot: async () => "not in tests" } } };
  const result = await runExecution(
    {
      documents: [{ source: "component.yaml", parameters: new Map() }],
      parameters: new Map(),
      executionId: "00000000-0000-4000-8000-0000000c0de0",
      logDirectory: join(dir, "logs"),
      trace: false,
    },
    deps,
  );
  const steps = result.record.documents.flatMap((d) => d.phases.flatMap((p) => p.steps));
  return new Map(steps.map((s) => [s.name, s]));
}

describe("toe-comparison-operators: every worked example, in if and in Assert", () => {
  const yaml = documentOf(EXAMPLES);
  let steps: Map<string, StepRecord>;
  beforeAll(async () => {
    steps = await run("examples", yaml);
  });

  test("the examples document is valid", () => {
    expect(validationErrors(yaml)).toEqual([]);
  });

  EXAMPLES.forEach((e, i) => {
    test(`${label(e)} → ${expected(e)}${e.ours === undefined ? "" : ` (page: ${e.documented}; ${e.ours.why})`}`, () => {
      const ran = steps.get(`If${i}`);
      const asserted = steps.get(`Assert${i}`);
      expect(ran?.status, `if: ${ran?.failureMessage}`).toBe(expected(e) ? "success" : "skipped");
      expect(asserted?.status, `Assert: ${asserted?.failureMessage}`).toBe(expected(e) ? "success" : "failed");
    });
  });

  test("only the one self-contradicting example differs from the page", () => {
    expect(EXAMPLES.filter((e) => e.ours !== undefined).map(label)).toEqual(["stringLessThan: 'A', value: 'a'"]);
  });

  test("a failed Assert says what it compared, value first", () => {
    const index = EXAMPLES.findIndex((e) => e.operator === "numberLessThanEquals" && e.value === "2.1");
    expect(steps.get(`Assert${index}`)?.failureMessage).toBe("Assert: expression evaluated to false: numberLessThanEquals: 2.1 <= 2 is false");
  });
});

describe("patternMatches is RE2 (Go's regexp)", () => {
  // Valid and invalid syntax per the RE2 syntax wiki (github.com/google/re2/wiki/Syntax) and Go's
  // regexp/syntax documentation (pkg.go.dev/regexp/syntax); see test/expr/condition.test.ts.
  const pattern = (source: string) => `name: p\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: P\n        action: Assert\n        inputs:\n          patternMatches: '${source}'\n          value: x\n`;

  test.each(["(?i)abc", "[[:digit:]]+", "(?P<year>\\d{4})", "(?<year>\\d{4})", "a\\z", "\\Qa.b\\E", "(?m)^a$", "(?s)a.b", "\\pL+"])("%s is valid", (source) => {
    expect(validationErrors(pattern(source))).toEqual([]);
  });

  test.each([
    ["(a)\\1", "invalid escape sequence: `\\1`"],
    ["(?=a)", "invalid or unsupported Perl syntax: `(?=`"],
    ["(?!a)", "invalid or unsupported Perl syntax: `(?!`"],
    ["(?<!a)b", "invalid named capture: `(?<!a)b`"],
    ["(?<=a)b", "invalid named capture: `(?<=a)b`"],
    ["a\\Z", "invalid escape sequence: `\\Z`"],
  ])("%s is a validation error when written in the document", (source, why) => {
    expect(validationErrors(pattern(source))).toEqual([`9:27 conditional expression: '${source}' is not a valid regular expression: ${why}`]);
  });

  const cases: readonly { pattern: string; value: string; matches: boolean; source: string }[] = [
    { pattern: "(?i)abc", value: "ABC", matches: true, source: "flag i: case-insensitive" },
    { pattern: "[[:digit:]]+", value: "x42", matches: true, source: "ASCII class [[:digit:]]; MatchString searches" },
    { pattern: "^[[:digit:]]+$", value: "x42", matches: false, source: "^ is the beginning of text" },
    { pattern: "(?P<year>\\d{4})", value: "in 2024", matches: true, source: "named capture (?P<name>re)" },
    { pattern: "a\\z", value: "ba", matches: true, source: "\\z: at end of text" },
    { pattern: "a\\z", value: "a\\n", matches: false, source: "\\z: at end of text, not before a final newline" },
    { pattern: "a$", value: "a\\n", matches: false, source: "$ without m: at end of text (like \\z not \\Z)" },
    { pattern: "(?m)a$", value: "a\\nb", matches: true, source: "$ with m: at end of line" },
    { pattern: "b", value: "abc", matches: true, source: "unanchored search" },
    { pattern: "(?-i)B", value: "abc", matches: false, source: "flag i cleared: exact case" },
  ];

  test("through if and Assert", async () => {
    // Double-quoted YAML, so "\n" in the table is a real newline in the value.
    const direct = cases.map(
      (c, i) =>
        `      - name: If${i}\n        action: Assert\n        if:\n          patternMatches: "${c.pattern.replaceAll("\\", "\\\\")}"\n          value: "${c.value}"\n        inputs:\n          stringIsEmpty: ''\n` +
        `      - name: Assert${i}\n        action: Assert\n        onFailure: Continue\n        inputs:\n          patternMatches: "${c.pattern.replaceAll("\\", "\\\\")}"\n          value: "${c.value}"\n`,
    );
    const yaml = `name: re2\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n${direct.join("")}`;
    expect(validationErrors(yaml)).toEqual([]);
    const ran = await run("re2", yaml);
    cases.forEach((c, i) => {
      expect(ran.get(`If${i}`)?.status, `if ${c.pattern} in ${JSON.stringify(c.value)} (${c.source})`).toBe(c.matches ? "success" : "skipped");
      expect(ran.get(`Assert${i}`)?.status, `Assert ${c.pattern} in ${JSON.stringify(c.value)} (${c.source})`).toBe(c.matches ? "success" : "failed");
    });
  });

  test("a pattern from a reference is not checked before the run; invalid, it makes the comparison false", async () => {
    const yaml = `name: p\nschemaVersion: 1.0\nparameters:\n  - Pattern:\n      type: string\n      default: '(a)\\1'\nphases:\n  - name: build\n    steps:\n      - name: If\n        action: Assert\n        if:\n          patternMatches: '{{ Pattern }}'\n          value: aa\n          else: Execute\n        inputs:\n          stringIsEmpty: ''\n      - name: Check\n        action: Assert\n        onFailure: Continue\n        inputs:\n          patternMatches: '{{ Pattern }}'\n          value: aa\n`;
    expect(validationErrors(yaml)).toEqual([]);
    const ran = await run("pattern-reference", yaml);
    expect(ran.get("If")?.status).toBe("success"); // else: Execute ran it
    expect(ran.get("Check")?.status).toBe("failed");
    expect(ran.get("Check")?.failureMessage).toBe("Assert: expression evaluated to false: patternMatches: '(a)\\1' is not a valid regular expression (invalid escape sequence: `\\1`), so false");
  });
});

describe("numbers: ^[-+]?([0-9]+[.])?[0-9]+$, compared exactly", () => {
  // [baseline, value, operator, result]; YAML as written. Text that is not a number makes the
  // comparison false (the page: "if the conversion is not possible, the comparison returns false").
  const cases: readonly [string, string, string, boolean][] = [
    ["1", "' 1'", "numberEquals", false],
    ["1", "'1 '", "numberEquals", false],
    ["1000", "'1e3'", "numberEquals", false],
    ["0.5", "'.5'", "numberEquals", false],
    ["5", "'5.'", "numberEquals", false],
    ["10", "'a10'", "numberEquals", false],
    ["1", "'+1.0'", "numberEquals", true],
    ["0", "'-0'", "numberEquals", true],
    ["'-0.0'", "0", "numberEquals", true],
    ["1.1", "1.10", "numberEquals", true],
    ["'1.10'", "'1.1'", "numberEquals", true],
    ["9007199254740992", "9007199254740993", "numberEquals", false],
    ["9007199254740993", "9007199254740992", "numberLessThan", true],
    ["9007199254740992", "9007199254740993", "numberGreaterThan", true],
    ["123456789012345678901234567890", "123456789012345678901234567890", "numberEquals", true],
    ["'-123456789012345678901234567890'", "'-123456789012345678901234567891'", "numberLessThan", true],
    ["0.3", "0.30000000000000000001", "numberGreaterThan", true],
    ["-1.5", "-1.25", "numberGreaterThan", true],
  ];

  test("through if and Assert", async () => {
    const examples = cases.map(([baseline, value, operator]) => ({ operator, baseline, value }));
    const yaml = documentOf(examples);
    expect(validationErrors(yaml)).toEqual([]);
    const ran = await run("numbers", yaml);
    cases.forEach(([baseline, value, operator, result], i) => {
      const what = `${operator}: ${baseline}, value: ${value}`;
      expect(ran.get(`If${i}`)?.status, `if ${what}`).toBe(result ? "success" : "skipped");
      expect(ran.get(`Assert${i}`)?.status, `Assert ${what}`).toBe(result ? "success" : "failed");
    });
  });

  const numberDoc = (baseline: string, value: string) =>
    `name: n\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: N\n        action: Assert\n        inputs:\n          numberEquals: ${baseline}\n          value: ${value}\n`;

  test.each(["' 1'", "'1e3'", "'.5'", "ten"])("a literal baseline %s that is not a number is a validation error", (baseline) => {
    const text = baseline.replace(/^'|'$/g, "");
    expect(validationErrors(numberDoc(baseline, "1"))).toEqual([`9:25 conditional expression: numberEquals compares numbers, but '${text}' is not a number`]);
  });

  test.each([
    ["1e3", "1"],
    ["1", ".5"],
    ["0x10", "1"],
    ["1", ".inf"],
  ])("a YAML number written another way than plain decimal (%s, %s) is a validation error", (baseline, value) => {
    const [written, column] = /^[0-9]$/.test(baseline) ? [value, 18] : [baseline, 25];
    const line = written === value ? 10 : 9;
    expect(validationErrors(numberDoc(baseline, value))).toEqual([
      `${line}:${column} conditional expression: numberEquals compares numbers written as plain decimals, but ${written} is written another way`,
    ]);
  });

  test("quoted text in value that is not a number is allowed (the comparison is false at run time)", () => {
    expect(validationErrors(numberDoc("1", "'1e3'"))).toEqual([]);
    expect(validationErrors(numberDoc("1", "' 1'"))).toEqual([]);
  });
});
