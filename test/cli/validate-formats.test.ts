/**
 * `awstoe validate --output github|sarif` (docs/cli.md §12): the renderers on their own
 * (escaping, placement, URIs) and the command run from source on documents with errors and
 * warnings at known lines. The SARIF log is checked against the official SARIF 2.1.0 schema
 * (test/fixtures/sarif/, see its README), offline.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import type { ArgsDef } from "citty";
import type { CheckedDocument } from "../../src/cli/_check-documents.ts";
import { escapeData, escapeProperty, githubAnnotation, renderGithub } from "../../src/cli/_github.ts";
import { artifactUri, sarifLog, SARIF_SCHEMA } from "../../src/cli/_sarif.ts";
import { runArgs } from "../../src/cli/run.ts";
import { validateArgs } from "../../src/cli/validate.ts";
import type { Diagnostic } from "../../src/errors.ts";
import { VERSION } from "../../src/version.ts";

const REPO = join(import.meta.dir, "../..");
const MAIN = join(REPO, "src/main.ts");
const SCHEMA_FILE = join(REPO, "test/fixtures/sarif/sarif-schema-2.1.0.json");

/** A warning at 10:20 (an unknown variable) and an error at 12:17 (an unknown action). */
const MIXED = `name: mixed
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Hello
        action: ExecuteBash
        inputs:
          commands:
            - echo {{ Missing }}
      - name: Typo
        action: ExecuteBsh
        inputs:
          commands:
            - echo hi
`;
const WARNING_ONLY = MIXED.replace("ExecuteBsh", "ExecuteBash");
const VALID = WARNING_ONLY.replace("{{ Missing }}", "hello");

let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "opentoe-validate-formats-"));
  writeFileSync(join(tmp, "mixed.yaml"), MIXED);
  writeFileSync(join(tmp, "warn.yaml"), WARNING_ONLY);
  writeFileSync(join(tmp, "valid.yaml"), VALID);
  // A name needing every property escape; a comma cannot go through --documents, so via --config.
  writeFileSync(join(tmp, "odd,na:me%.yaml"), MIXED);
  writeFileSync(join(tmp, "odd.json"), JSON.stringify({ documents: [{ path: "odd,na:me%.yaml" }] }));
  writeFileSync(join(tmp, "broken.json"), "{ not json");
});

afterAll(() => {
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `awstoe validate …` from source, in the temp folder (so relative paths are relative to it). */
function validate(...args: string[]): Run {
  const run = Bun.spawnSync([process.execPath, MAIN, "validate", ...args], { cwd: tmp, env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  return { code: run.exitCode ?? -1, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

function diagnostic(fields: Partial<Diagnostic> = {}): Diagnostic {
  return { code: "E_INPUT", severity: "error", message: "bad input", file: "a.yaml", path: "phases[0]", line: 3, column: 5, ...fields };
}

function checked(diagnostics: Diagnostic[], source = "a.yaml"): CheckedDocument {
  return { source, valid: !diagnostics.some((d) => d.severity === "error"), diagnostics, report: "" };
}

describe("--output github", () => {
  test("message escaping: %, CR and LF (and nothing else)", () => {
    expect(escapeData("100% done\r\nnext: a, b")).toBe("100%25 done%0D%0Anext: a, b");
  });

  test("property escaping adds : and ,", () => {
    expect(escapeProperty("C:\\x,y%\n.yaml")).toBe("C%3A\\x%2Cy%25%0A.yaml");
  });

  test("an error and a warning, placed, with title and hint", () => {
    expect(githubAnnotation(diagnostic({ hint: "try 'x'" }))).toBe("::error file=a.yaml,line=3,col=5,title=E_INPUT::bad input — try 'x'");
    expect(githubAnnotation(diagnostic({ severity: "warning", code: "W_UNKNOWN_VARIABLE", message: "50% sure\nsecond line" }))).toBe(
      "::warning file=a.yaml,line=3,col=5,title=W_UNKNOWN_VARIABLE::50%25 sure%0Asecond line",
    );
  });

  test("a file name with : , % and a newline is escaped as a property", () => {
    expect(githubAnnotation(diagnostic({ file: "d:ir/a,b%\nc.yaml" }))).toStartWith("::error file=d%3Air/a%2Cb%25%0Ac.yaml,line=3,");
  });

  test("a diagnostic without a line gets only file=", () => {
    const d: Diagnostic = { code: "E_SOURCE_MISSING", severity: "error", message: "document 'x.yaml' does not exist", file: "x.yaml", path: "" };
    expect(githubAnnotation(d)).toBe("::error file=x.yaml,title=E_SOURCE_MISSING::document 'x.yaml' does not exist");
  });

  test("no diagnostics, no output", () => {
    expect(renderGithub([checked([])])).toBe("");
  });

  test("the command: one annotation per diagnostic on stdout, no JSON result, the report on stderr, exit 1", () => {
    const run = validate("--documents", "mixed.yaml", "--output", "github");
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      "::warning file=mixed.yaml,line=10,col=20,title=W_UNKNOWN_VARIABLE::'{{ Missing }}' matches no parameter or constant, so it is kept as written\n" +
        "::error file=mixed.yaml,line=12,col=17,title=E_UNKNOWN_ACTION::unknown action 'ExecuteBsh' — did you mean 'ExecuteBash'? — action names are case-sensitive; `awstoe schema` lists them all\n",
    );
    expect(run.stdout).not.toContain("validationStatus");
    expect(run.stderr).toContain("mixed.yaml:12:17: error: unknown action 'ExecuteBsh'");
  });

  test("the command: a file name needing escapes (through --config)", () => {
    const run = validate("--config", "odd.json", "-o", "github");
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toStartWith("::warning file=odd%2Cna%3Ame%25.yaml,line=10,col=20,title=W_UNKNOWN_VARIABLE::");
    expect(lines[1]).toStartWith("::error file=odd%2Cna%3Ame%25.yaml,line=12,col=17,title=E_UNKNOWN_ACTION::");
  });

  test("the command: warnings only exit 0; a valid document prints nothing on stdout", () => {
    const warned = validate("-d", "warn.yaml", "-o", "github");
    expect(warned.code).toBe(0);
    expect(warned.stdout).toStartWith("::warning file=warn.yaml,line=10,col=20,title=W_UNKNOWN_VARIABLE::");
    const valid = validate("-d", "valid.yaml", "-o", "github");
    expect(valid.code).toBe(0);
    expect(valid.stdout).toBe("");
    expect(valid.stderr).toContain("valid.yaml");
  });

  test("the command: a config file that cannot be used is annotated too", () => {
    const run = validate("--config", "broken.json", "-o", "github");
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error file=broken\.json,line=1,col=\d+,title=E_JSON_SYNTAX::config file is not valid JSON/);
    expect(run.stdout).not.toContain("validationStatus");
  });
});

/** RFC 3986 URI-reference characters: unreserved, reserved, and %XX escapes only. */
const URI_REFERENCE = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;

let schemaCheck: ValidateFunction | undefined;

/**
 * Ajv on the official schema. It is draft-04 (`id`); Ajv 8 reads draft-07, so `id` becomes `$id`
 * and `$schema` goes (the schema uses no keyword the two drafts read differently). Formats: uri
 * and uri-reference are checked for characters a URI cannot hold, date-time is not used here.
 */
function sarifSchema(): ValidateFunction {
  if (schemaCheck !== undefined) return schemaCheck;
  const { $schema: _draft, id, ...rest } = JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as { $schema: string; id: string } & Record<string, unknown>;
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    formats: {
      "uri-reference": URI_REFERENCE,
      uri: (value: string) => URI_REFERENCE.test(value) && /^[A-Za-z][A-Za-z0-9+.-]*:/.test(value),
      "date-time": true,
    },
  });
  schemaCheck = ajv.compile({ $id: id, ...rest });
  return schemaCheck;
}

function schemaErrors(log: unknown): string[] {
  const check = sarifSchema();
  return check(log) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region?: Record<string, number> } }[];
}

interface SarifRun {
  tool: { driver: { name: string; version: string; informationUri: string; rules: { id: string; shortDescription: { text: string } }[] } };
  invocations: { executionSuccessful: boolean }[];
  results: SarifResult[];
}

describe("--output sarif", () => {
  test("the official schema compiles and rejects what it should (the check can fail)", () => {
    const good = sarifLog([checked([diagnostic()])]);
    expect(schemaErrors(good)).toEqual([]);
    const broken = structuredClone(good) as { version: string; runs: { tool: { driver: Record<string, unknown> }; results: { level: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
    broken.runs[0]!.results[0]!.level = "fatal";
    expect(schemaErrors(broken).join("\n")).toContain("level");
    const noName = structuredClone(good) as typeof broken;
    delete noName.runs[0]!.tool.driver.name;
    expect(schemaErrors(noName).join("\n")).toContain("name");
    const badVersion = { ...(structuredClone(good) as typeof broken), version: "2.0.0" };
    expect(schemaErrors(badVersion)).not.toEqual([]);
    const spaceInUri = structuredClone(good) as typeof broken;
    spaceInUri.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri = "a b.yaml";
    expect(schemaErrors(spaceInUri).join("\n")).toContain("uri");
  });

  test("the command: a schema-valid log with the error and the warning at their lines, exit 1", () => {
    const run = validate("--documents", "./mixed.yaml,valid.yaml", "--output", "sarif");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("mixed.yaml:12:17: error");
    const log = JSON.parse(run.stdout) as { $schema: string; version: string; runs: SarifRun[] };
    expect(schemaErrors(log)).toEqual([]);
    expect(log.$schema).toBe(SARIF_SCHEMA);
    expect(log.version).toBe("2.1.0");
    expect(log.runs).toHaveLength(1);
    const [sarifRun] = log.runs;
    expect(sarifRun!.tool.driver.name).toBe("awstoe (opentoe)");
    expect(sarifRun!.tool.driver.version).toBe(VERSION);
    expect(sarifRun!.tool.driver.rules.map((r) => r.id)).toEqual(["E_UNKNOWN_ACTION", "W_UNKNOWN_VARIABLE"]);
    expect(sarifRun!.tool.driver.rules.every((r) => r.shortDescription.text.length > 0)).toBe(true);
    expect(sarifRun!.invocations).toEqual([{ executionSuccessful: true }]);
    // valid.yaml has no diagnostics: no results of its own.
    expect(sarifRun!.results.map((r) => [r.ruleId, r.level, r.locations[0]!.physicalLocation.region])).toEqual([
      ["W_UNKNOWN_VARIABLE", "warning", { startLine: 10, startColumn: 20, endLine: 10, endColumn: 33 }],
      ["E_UNKNOWN_ACTION", "error", { startLine: 12, startColumn: 17, endLine: 12, endColumn: 27 }],
    ]);
    for (const result of sarifRun!.results) {
      expect(sarifRun!.tool.driver.rules[result.ruleIndex]!.id).toBe(result.ruleId);
      expect(result.locations[0]!.physicalLocation.artifactLocation).toEqual({ uri: "mixed.yaml", uriBaseId: "%SRCROOT%" });
    }
    expect(sarifRun!.results[1]!.message.text).toBe("unknown action 'ExecuteBsh' — did you mean 'ExecuteBash'? — action names are case-sensitive; `awstoe schema` lists them all");
  });

  test("the command: valid documents give an empty, schema-valid log and exit 0", () => {
    const run = validate("-d", "valid.yaml", "-o", "sarif");
    expect(run.code).toBe(0);
    const log = JSON.parse(run.stdout) as { runs: SarifRun[] };
    expect(schemaErrors(log)).toEqual([]);
    expect(log.runs[0]!.results).toEqual([]);
    expect(log.runs[0]!.tool.driver.rules).toEqual([]);
  });

  test("the command: odd file names and a broken config still give schema-valid logs", () => {
    const odd = validate("--config", "odd.json", "-o", "sarif");
    expect(odd.code).toBe(1);
    const oddLog = JSON.parse(odd.stdout) as { runs: SarifRun[] };
    expect(schemaErrors(oddLog)).toEqual([]);
    expect(oddLog.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe("odd%2Cna%3Ame%25.yaml");
    const broken = validate("--config", "broken.json", "-o", "sarif");
    expect(broken.code).toBe(1);
    const brokenLog = JSON.parse(broken.stdout) as { runs: SarifRun[] };
    expect(schemaErrors(brokenLog)).toEqual([]);
    expect(brokenLog.runs[0]!.results.map((r) => r.ruleId)).toEqual(["E_JSON_SYNTAX"]);
  });

  test("a diagnostic without a position has an artifact location only; one without an end has no end", () => {
    const log = sarifLog([checked([{ code: "E_SOURCE_MISSING", severity: "error", message: "missing", file: "x.yaml", path: "" }, diagnostic({ hint: "h" })])]) as { runs: SarifRun[] };
    expect(schemaErrors(log)).toEqual([]);
    const [missing, placed] = log.runs[0]!.results;
    expect(missing!.locations[0]!.physicalLocation).toEqual({ artifactLocation: { uri: "x.yaml", uriBaseId: "%SRCROOT%" } });
    expect(placed!.locations[0]!.physicalLocation.region).toEqual({ startLine: 3, startColumn: 5 });
    expect(placed!.message.text).toBe("bad input — h");
  });

  test.each([
    ["a.yaml", {}, { uri: "a.yaml", uriBaseId: "%SRCROOT%" }],
    ["./dir/a.yaml", {}, { uri: "dir/a.yaml", uriBaseId: "%SRCROOT%" }],
    ["../up/a b#1.yaml", {}, { uri: "../up/a%20b%231.yaml", uriBaseId: "%SRCROOT%" }],
    ["c:d.yaml", {}, { uri: "c%3Ad.yaml", uriBaseId: "%SRCROOT%" }],
    ["dir\\a.yaml", {}, { uri: "dir%5Ca.yaml", uriBaseId: "%SRCROOT%" }],
    ["dir\\a.yaml", { windowsPaths: true }, { uri: "dir/a.yaml", uriBaseId: "%SRCROOT%" }],
    ["/srv/components/a é.yaml", {}, { uri: "file:///srv/components/a%20%C3%A9.yaml" }],
    ["C:\\work\\a.yaml", { windowsPaths: true }, { uri: "file:///C:/work/a.yaml" }],
    ["\\\\server\\share\\a.yaml", { windowsPaths: true }, { uri: "file://server/share/a.yaml" }],
    ["s3://bucket/dir/a b.yaml", {}, { uri: "s3://bucket/dir/a%20b.yaml" }],
    ["arn:aws:imagebuilder:us-east-1:123456789012:component/hello/1.0.0/1", {}, { uri: "arn:aws:imagebuilder:us-east-1:123456789012:component/hello/1.0.0/1" }],
  ] as const)("artifact URI of %p %p", (source, options, expected) => {
    const uri = artifactUri(source, options);
    expect(uri).toEqual(expected);
    expect(uri.uri).toMatch(URI_REFERENCE);
  });
});

describe("--output values", () => {
  test("validate offers text, json, github and sarif; run keeps text and json, described for --dry-run", () => {
    const validateOutput = (validateArgs as unknown as ArgsDef).output as { options: string[] };
    const runOutput = (runArgs as unknown as ArgsDef).output as { options: string[]; description: string };
    expect(validateOutput.options).toEqual(["text", "json", "github", "sarif"]);
    expect(runOutput.options).toEqual(["text", "json"]);
    expect(runOutput.description).toContain("--dry-run");
    expect(runOutput.description).not.toContain("diagnostic");
  });

  test("an unknown value is a usage error (exit 2)", () => {
    const run = validate("-d", "valid.yaml", "-o", "junit");
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
  });
});
