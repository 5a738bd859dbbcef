/**
 * Boolean inputs written for Go's YAML decoder (current-awstoe.md §7). AWSTOE decodes with Go,
 * which takes the YAML 1.1 boolean words (https://yaml.org/type/bool.html) for a boolean field,
 * so real components say `overwrite: yes`. opentoe parses YAML 1.2, where those words are text;
 * boolean (flag) inputs accept exactly the spellings YAML 1.1 lists, with a W_YAML11_BOOLEAN
 * warning at the value, and text inputs keep the word as text.
 *
 * On the code before this change every "accepted with a warning" case below failed: the flag's
 * pattern took only true/false, so `overwrite: yes` was an E_INPUT error, the binary exited 1 and
 * the published schema refused "yes".
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Ajv from "ajv";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { componentJsonSchema } from "../../src/document/json-schema.ts";
import { validateText } from "../../src/document/validate.ts";
import { awstoeBinary, runAwstoe } from "../helpers/binary.ts";

const TRUE_WORDS = ["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"];
const FALSE_WORDS = ["n", "N", "no", "No", "NO", "off", "Off", "OFF"];
/** Also in the YAML 1.1 list, and booleans in YAML 1.2 as well: no warning. */
const PLAIN_BOOLEANS = ["true", "True", "TRUE", "false", "False", "FALSE"];

/** A CreateFile step whose `overwrite` (a flag) is `word`, on line 11 at column 24. */
function createFile(word: string, content = "hello"): string {
  return [
    "name: yaml11",
    "schemaVersion: 1.0",
    "phases:",
    "  - name: build",
    "    steps:",
    "      - name: Write",
    "        action: CreateFile",
    "        inputs:",
    "          - path: /tmp/opentoe-yaml11-never-written",
    `            content: ${content}`,
    `            overwrite: ${word}`,
    "",
  ].join("\n");
}

function validate(yaml: string) {
  const result = validateText(yaml, "doc.yaml", { platform: "linux" });
  return {
    valid: result.valid,
    errors: result.diagnostics.filter((d) => d.severity === "error"),
    warnings: result.diagnostics.filter((d) => d.severity === "warning"),
  };
}

describe("boolean inputs take the YAML 1.1 words", () => {
  for (const [word, meaning] of [...TRUE_WORDS.map((w) => [w, true] as const), ...FALSE_WORDS.map((w) => [w, false] as const)]) {
    test(`overwrite: ${word} is valid, with a warning at the value suggesting ${meaning}`, () => {
      const result = validate(createFile(word));
      expect(result.errors).toEqual([]);
      expect(result.valid).toBe(true);
      expect(result.warnings).toHaveLength(1);
      const warning = result.warnings[0]!;
      expect(warning.code).toBe("W_YAML11_BOOLEAN");
      expect(warning.path).toBe("phases[0].steps[0].inputs[0].overwrite");
      expect([warning.line, warning.column]).toEqual([11, 24]);
      expect(warning.message).toContain(`'${word}'`);
      expect(warning.message).toContain(`taken as ${meaning}`);
      expect(warning.hint).toBe(`write ${meaning}`);
    });
  }

  for (const word of PLAIN_BOOLEANS) {
    test(`overwrite: ${word} is a YAML 1.2 boolean: valid, no warning`, () => {
      const result = validate(createFile(word));
      expect(result.valid).toBe(true);
      expect(result.warnings).toEqual([]);
    });
  }

  test("a quoted word is the same text to a YAML 1.2 parser: accepted with the warning", () => {
    for (const word of ["'yes'", '"off"']) {
      const result = validate(createFile(word));
      expect(result.valid).toBe(true);
      expect(result.warnings.map((w) => w.code)).toEqual(["W_YAML11_BOOLEAN"]);
    }
  });

  // Only the spellings YAML 1.1 lists (and true/false in any case, as before); anything else
  // is still refused as not a boolean.
  for (const word of ["yess", "yEs", "oN", "nO", "OFf", "ye", "t", "1", "0", "'yes '"]) {
    test(`overwrite: ${word} is still an error`, () => {
      const result = validate(createFile(word));
      expect(result.valid).toBe(false);
      expect(result.errors.map((e) => e.code)).toEqual(["E_INPUT"]);
      expect(result.errors[0]!.message).toContain("overwrite: expected true or false");
      expect(result.warnings).toEqual([]);
    });
  }

  test("a text input keeps the word as text: no warning, nothing to fix", () => {
    const result = validate(createFile("true", "yes"));
    expect(result.valid).toBe(true);
    expect(result.warnings).toEqual([]);
  });

  test("every flag of every module is covered (a list module, a map module, several flags)", () => {
    const doc = [
      "schemaVersion: 1.0",
      "phases:",
      "  - name: build",
      "    steps:",
      "      - name: Remove",
      "        action: DeleteFolder",
      "        inputs:",
      "          - path: /tmp/opentoe-yaml11-never-made",
      "            force: Yes",
      "      - name: List",
      "        action: ListFiles",
      "        inputs:",
      "          path: /tmp",
      "          recursive: off",
      "",
    ].join("\n");
    const result = validate(doc);
    expect(result.valid).toBe(true);
    expect(result.warnings.map((w) => [w.code, w.path, w.line, w.column])).toEqual([
      ["W_YAML11_BOOLEAN", "phases[0].steps[0].inputs[0].force", 9, 20],
      ["W_YAML11_BOOLEAN", "phases[0].steps[1].inputs.recursive", 14, 22],
    ]);
    expect(result.warnings[0]!.message).toStartWith("DeleteFolder: force: ");
    expect(result.warnings[1]!.message).toStartWith("ListFiles: recursive: ");
  });

  test("step-level keys have no booleans: a YAML 1.1 word there is still refused by the field's own rule", () => {
    // Steps have no boolean keys (model/component.ts); `onFailure: yes` stays an onFailure error.
    const doc = createFile("true").replace("        action: CreateFile\n", "        action: CreateFile\n        onFailure: yes\n");
    const result = validate(doc);
    expect(result.errors.map((e) => e.code)).toEqual(["E_ON_FAILURE"]);
  });
});

describe("the published JSON Schema (awstoe schema) accepts the words too", () => {
  const check = new Ajv({ allErrors: true, strict: false }).compile(componentJsonSchema("test"));
  test.each([...TRUE_WORDS, ...FALSE_WORDS, ...PLAIN_BOOLEANS])("overwrite: %s", (word) => {
    expect(check(parseYaml(createFile(word)))).toBe(true);
  });
  test.each(["yess", "yEs", "oN"])("overwrite: %s is refused", (word) => {
    expect(check(parseYaml(createFile(word)))).toBe(false);
  });
});

describe("awstoe validate (compiled binary)", () => {
  let tmp: string;
  beforeAll(async () => {
    await awstoeBinary();
    tmp = mkdtempSync(join(tmpdir(), "opentoe-yaml11-"));
  }, 600_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test("shows the warning with its position and exits 0", () => {
    const path = join(tmp, "overwrite-yes.yaml");
    writeFileSync(path, createFile("yes"));
    const run = runAwstoe(["validate", "--documents", path, "--platform", "linux"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("W_YAML11_BOOLEAN");
    expect(run.stderr).toContain("'yes' is a YAML 1.1 boolean word");
    expect(run.stderr).toMatch(/:11:24\b/);
    expect(run.stdout).toContain('"validationStatus": "success"');
  });

  test("--output json carries the warning as data", () => {
    const path = join(tmp, "force-no.yaml");
    writeFileSync(path, createFile("NO"));
    const run = runAwstoe(["validate", "--documents", path, "--platform", "linux", "--output", "json"]);
    expect(run.code).toBe(0);
    const diagnostics = (JSON.parse(run.stdout) as { documents: { diagnostics: { code: string; severity: string; line: number; column: number }[] }[] }).documents[0]!.diagnostics;
    expect(diagnostics.map((d) => [d.code, d.severity, d.line, d.column])).toEqual([["W_YAML11_BOOLEAN", "warning", 11, 24]]);
  });

  test("a misspelt word is still an error: exit 1", () => {
    const path = join(tmp, "overwrite-yess.yaml");
    writeFileSync(path, createFile("yess"));
    const run = runAwstoe(["validate", "--documents", path, "--platform", "linux"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("overwrite: expected true or false, found 'yess'");
  });
});
