/** validate: what it says about env:, context:, aws:imds: and aws:ssm: references. */
import { describe, expect, test } from "bun:test";
import { validateText } from "../../src/document/validate.ts";

function check(command: string, extra = "") {
  const yaml = `schemaVersion: 1.0\n${extra}phases:\n  - name: build\n    steps:\n      - name: A\n        action: ExecuteBash\n        inputs:\n          commands:\n            - "${command}"\n`;
  const result = validateText(yaml, "doc.yaml", { platform: "linux" });
  return { valid: result.valid, diagnostics: result.diagnostics.map((d) => `${d.code}: ${d.message}`) };
}

describe("validate: host references", () => {
  test("the known forms pass without warnings", () => {
    const result = check("echo {{ env:HOME }} {{ context:region }} {{ aws:imds:instance-id }} {{ aws:ssm:/x/y }} {{ aws:ssm:resolve(Param) }}", "parameters:\n  - Param:\n      type: string\n      default: /x\n");
    expect(result).toEqual({ valid: true, diagnostics: [] });
  });

  test("an unknown context key is an error with a did-you-mean", () => {
    const result = check("echo {{ context:regoin }}");
    expect(result.valid).toBe(false);
    expect(result.diagnostics.join("\n")).toMatch(/E_REFERENCE: .*'regoin' is not a context key — did you mean 'region'\?/);
  });

  test("credential metadata paths are refused", () => {
    for (const path of ["iam/security-credentials/Role", "identity-credentials/ec2/security-credentials/ec2-instance"]) {
      const result = check(`echo {{ aws:imds:${path} }}`);
      expect(result.valid, path).toBe(false);
      expect(result.diagnostics.join("\n")).toContain("E_REFERENCE");
    }
  });

  test("malformed forms and resolve() of an undeclared parameter are errors", () => {
    for (const command of ["echo {{ aws:ssm: }}", "echo {{ aws:s3:b/k }}", "echo {{ env: }}", "echo {{ aws:ssm:resolve(Nope) }}"]) {
      const result = check(command);
      expect(result.valid, command).toBe(false);
      expect(result.diagnostics.join("\n"), command).toContain("E_REFERENCE");
    }
    // a constant is not a parameter: resolve() names parameters only
    const constant = check("echo {{ aws:ssm:resolve(Const) }}", "constants:\n  - Const:\n      type: string\n      value: /x\n");
    expect(constant.valid).toBe(false);
  });

  test("disableLogging is a step field taking true or false", () => {
    const yaml = (value: string) => `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: A\n        action: ExecuteBash\n        disableLogging: ${value}\n        inputs:\n          commands: [echo hi]\n`;
    expect(validateText(yaml("true"), "d.yaml", { platform: "linux" }).valid).toBe(true);
    expect(validateText(yaml("false"), "d.yaml", { platform: "linux" }).valid).toBe(true);
    expect(validateText(yaml("sometimes"), "d.yaml", { platform: "linux" }).valid).toBe(false);
  });
});
