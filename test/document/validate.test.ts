/** Rule-by-rule checks of the validator on small documents written inline. */
import { describe, expect, test } from "bun:test";
import { validateText } from "../../src/document/validate.ts";
import type { PlatformName } from "../../src/model/platform.ts";

function check(yaml: string, platform: PlatformName = "linux") {
  const result = validateText(yaml, "doc.yaml", { platform });
  return {
    valid: result.valid,
    codes: result.diagnostics.filter((d) => d.severity === "error").map((d) => d.code),
    warnings: result.diagnostics.filter((d) => d.severity === "warning").map((d) => d.code),
    messages: result.diagnostics.map((d) => d.message),
  };
}

const step = (body: string) => `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n${body}`;
const bash = (name: string, extra = "", command = "echo hi") =>
  `      - name: ${name}\n        action: ExecuteBash\n${extra}        inputs:\n          commands:\n            - ${command}\n`;

describe("top level", () => {
  for (const version of ["1.0", "1", "'1.0'", "'1'"]) {
    test(`schemaVersion ${version} is accepted`, () => {
      expect(check(`schemaVersion: ${version}\nphases:\n  - name: build\n    steps:\n${bash("A")}`).valid).toBe(true);
    });
  }
  for (const version of ["2.0", "'1.1'", "1.00", "[1]", "true"]) {
    test(`schemaVersion ${version} is refused`, () => {
      expect(check(`schemaVersion: ${version}\nphases:\n  - name: build\n    steps:\n${bash("A")}`).codes).toContain("E_SCHEMA_VERSION");
    });
  }
  test("missing schemaVersion and phases are both reported", () => {
    const result = check("name: x\n");
    expect(result.codes.filter((c) => c === "E_MISSING_FIELD")).toHaveLength(2);
  });
  test("all problems are reported in one pass", () => {
    const result = check(`schemaVersion: 3\nbogus: 1\nphases:\n  - name: build\n    steps:\n${bash("A", "        onFailure: Never\n")}${bash("A")}`);
    expect(result.codes).toEqual(expect.arrayContaining(["E_SCHEMA_VERSION", "E_UNKNOWN_FIELD", "E_ON_FAILURE", "E_DUPLICATE_STEP"]));
  });
});

describe("steps and platforms", () => {
  test("a Windows-only action fails on Linux and passes on Windows", () => {
    const doc = step("      - name: P\n        action: ExecutePowerShell\n        inputs:\n          commands: [Write-Output 1]\n");
    expect(check(doc, "linux").codes).toEqual(["E_ACTION_UNSUPPORTED_ON_PLATFORM"]);
    expect(check(doc, "windows").valid).toBe(true);
  });
  test("UpdateOS is refused on macOS, accepted without inputs on Linux", () => {
    const doc = step("      - name: U\n        action: UpdateOS\n");
    expect(check(doc, "linux").valid).toBe(true);
    expect(check(doc, "macos").codes).toEqual(["E_ACTION_UNSUPPORTED_ON_PLATFORM"]);
  });
  test("timeoutSeconds -1 and positive values pass; 0, -2 and 1.5 do not", () => {
    expect(check(step(bash("A", "        timeoutSeconds: -1\n"))).valid).toBe(true);
    expect(check(step(bash("A", "        timeoutSeconds: 30\n"))).valid).toBe(true);
    for (const bad of ["0", "-2", "1.5", "soon"]) expect(check(step(bash("A", `        timeoutSeconds: ${bad}\n`))).codes).toEqual(["E_TIMEOUT"]);
  });
  test("ExecuteDocument accepts -1/1 and refuses other step limits", () => {
    const nested = (extra: string) => step(`      - name: N\n        action: ExecuteDocument\n${extra}        inputs:\n          document: other.yaml\n`);
    expect(check(nested("        timeoutSeconds: -1\n        maxAttempts: 1\n")).valid).toBe(true);
    expect(check(nested("        maxAttempts: 3\n")).codes).toEqual(["E_EXECUTE_DOCUMENT_FIELDS"]);
  });
  test("a list module takes one mapping as a one-item list", () => {
    expect(check(step("      - name: F\n        action: CreateFolder\n        inputs:\n          path: /tmp/x\n")).valid).toBe(true);
  });
  test("integers and booleans of inputs may be text or references", () => {
    const doc = step("      - name: R\n        action: Reboot\n        inputs:\n          delaySeconds: '{{ Delay }}'\n      - name: D\n        action: DeleteFolder\n        inputs:\n          - path: /tmp/x\n            force: 'TRUE'\n");
    expect(check(doc).codes).toEqual([]);
  });
  test("CreateFile permissions given as a YAML number are read as written", () => {
    const doc = (perm: string) => step(`      - name: F\n        action: CreateFile\n        inputs:\n          - path: /tmp/x\n            permissions: ${perm}\n`);
    expect(check(doc("0755")).valid).toBe(true);
    expect(check(doc("0955")).codes).toEqual(["E_INPUT"]);
  });
});

describe("variables", () => {
  test("allowedValues must contain the default", () => {
    const doc = (def: string) => `schemaVersion: 1.0\nparameters:\n  - Tier:\n      type: string\n      default: ${def}\n      allowedValues: [web, db]\nphases:\n  - name: build\n    steps:\n${bash("A", "", "echo {{ Tier }}")}`;
    expect(check(doc("web")).valid).toBe(true);
    expect(check(doc("cache")).codes).toEqual(["E_VARIABLE"]);
  });
  test("names must be 3-128 word characters", () => {
    const doc = (name: string) => `schemaVersion: 1.0\nconstants:\n  - ${name}:\n      type: string\n      value: x\nphases:\n  - name: build\n    steps:\n${bash("A")}`;
    expect(check(doc("Ok_1")).valid).toBe(true);
    expect(check(doc("ab")).codes).toEqual(["E_VARIABLE"]);
    expect(check(doc("has.dot")).codes).toEqual(["E_VARIABLE"]);
    expect(check(doc("x".repeat(129))).codes).toEqual(["E_VARIABLE"]);
  });
  test("an undeclared name is a warning, not an error", () => {
    const result = check(step(bash("A", "", "echo {{ Nope }}")));
    expect(result.valid).toBe(true);
    expect(result.warnings).toEqual(["W_UNKNOWN_VARIABLE"]);
  });
});

describe("loops", () => {
  test("the three loop forms validate", () => {
    const doc = step(
      bash("For", "        loop:\n          for: {start: 1, end: 5, updateBy: 2}\n", "echo {{ loop.value }}") +
        bash("List", "        loop:\n          name: items\n          forEach: [a, b]\n", "echo {{ items.value }} {{ loop.index }}") +
        bash("Delimited", "        loop:\n          forEach:\n            list: a;b\n            delimiter: ';'\n", "echo {{ loop.value }}"),
    );
    expect(check(doc)).toMatchObject({ valid: true, warnings: [] });
  });
  test("updateBy 0, a wrong direction and empty lists are refused", () => {
    expect(check(step(bash("A", "        loop:\n          for: {start: 1, end: 5, updateBy: 0}\n"))).codes).toEqual(["E_LOOP"]);
    expect(check(step(bash("A", "        loop:\n          for: {start: 5, end: 1, updateBy: 1}\n"))).codes).toEqual(["E_LOOP"]);
    expect(check(step(bash("A", "        loop:\n          forEach: []\n"))).codes).toEqual(["E_VALUE"]);
    expect(check(step(bash("A", "        loop:\n          for: {start: 1, end: 1, updateBy: -1}\n"))).valid).toBe(true);
  });
  test("loop names are unique per phase", () => {
    const loop = "        loop:\n          name: same\n          forEach: [a]\n";
    expect(check(step(bash("A", loop) + bash("B", loop))).codes).toEqual(["E_LOOP"]);
  });
});

describe("conditions", () => {
  test("a list-wrapped if with then/else and nested not (list form) is fine", () => {
    const doc = step(bash("A", "        if:\n          - and:\n              - binaryExists: bash\n              - not:\n                  - stringIsEmpty: x\n            then: Execute\n            else: Abort\n"));
    expect(check(doc).valid).toBe(true);
  });
  test("depth 4 passes, depth 5 fails", () => {
    const nest = (n: number): string => {
      let inner = "fileExists: /x";
      for (let i = 0; i < n; i++) inner = `not: {${inner}}`;
      return inner;
    };
    expect(check(step(bash("A", `        if: {${nest(4)}}\n`))).valid).toBe(true);
    expect(check(step(bash("A", `        if: {${nest(5)}}\n`))).codes).toEqual(["E_CONDITION"]);
  });
  test("hash operators need a path and a digest of the right length", () => {
    const sha = "a".repeat(64);
    expect(check(step(bash("A", `        if: {fileSHA256Equals: ${sha}, path: /etc/hosts}\n`))).valid).toBe(true);
    expect(check(step(bash("A", "        if: {fileSHA256Equals: abc, path: /etc/hosts}\n"))).codes).toEqual(["E_CONDITION"]);
    expect(check(step(bash("A", `        if: {fileSHA256Equals: ${sha}}\n`))).codes).toEqual(["E_CONDITION"]);
  });
  test("Assert inputs are an expression without then/else", () => {
    const assert = (body: string) => step(`${bash("A")}      - name: Check\n        action: Assert\n        inputs: ${body}\n`);
    expect(check(assert("{numberGreaterThanEquals: 3, value: '{{ build.A.outputs.stdout }}'}")).valid).toBe(true);
    expect(check(assert("{stringEquals: a, value: b, else: Skip}")).codes).toEqual(["E_CONDITION"]);
  });
});

describe("chaining", () => {
  test("inputs and outputs of earlier steps, including other phases and indexed forms", () => {
    const doc = `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Get\n        action: S3Download\n        inputs:\n          - source: s3://b/k\n            destination: /tmp/k\n${bash("Show", "", "echo {{ build.Get.inputs[0].destination }}")}  - name: validate\n    steps:\n${bash("Use", "", "echo {{ build.Show.outputs.stdout }} {{ build.Get.inputs.source }}")}`;
    expect(check(doc)).toMatchObject({ valid: true, warnings: [] });
  });
  test("a later phase cannot be read", () => {
    const doc = `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n${bash("A", "", "echo {{ validate.B.outputs.stdout }}")}  - name: validate\n    steps:\n${bash("B")}`;
    expect(check(doc).codes).toEqual(["E_CHAINING"]);
  });
  test("an input field the module does not have is refused", () => {
    expect(check(step(bash("A") + bash("B", "", "echo {{ build.A.inputs.command }}"))).messages[0]).toContain("did you mean 'commands'");
  });
});

describe("loop size", () => {
  test("a literal forEach over the iteration cap is refused", () => {
    const list = Array.from({ length: 10_001 }, (_, i) => i).join(",");
    expect(check(step(bash("A", `        loop:\n          forEach:\n            list: '${list}'\n`))).codes).toEqual(["E_LOOP"]);
    expect(check(step(bash("A", `        loop:\n          forEach:\n            list: '${list.slice(0, 2000)}'\n`))).codes).toEqual([]);
  });
});

describe("parameters without a default", () => {
  test("warned about, naming the steps where it would be empty", () => {
    const yaml = `schemaVersion: 1.0\nparameters:\n  - Url:\n      type: string\n  - Kept:\n      type: string\n      default: x\nphases:\n  - name: build\n    steps:\n${bash("Fetch", "", "curl {{ Url }}")}${bash("Other")}`;
    const result = check(yaml);
    expect(result.valid).toBe(true);
    expect(result.warnings).toEqual(["W_PARAMETER_NO_DEFAULT"]);
    expect(result.messages).toEqual(["parameter 'Url' has no default: a run that gives it no value uses an empty string in build/Fetch"]);
  });
});
