/**
 * The blocked-module rule (document/rules/blocked.ts): a step using a module the caller blocks is
 * an E_ACTION_BLOCKED error at its action; an ExecuteDocument step whose document is a literal
 * local path is checked through that document; what cannot be read now is left for run time.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateText } from "../../src/document/validate.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "opentoe-blocked-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const doc = (steps: string) => `name: T\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n${steps}`;
const bash = (name: string, command = "echo hi") => `      - name: ${name}\n        action: ExecuteBash\n        inputs:\n          commands: [${command}]\n`;
const reboot = (name: string, extra = "") => `      - name: ${name}\n        action: Reboot\n${extra}`;
const runs = (name: string, document: string, extra = "") => `      - name: ${name}\n        action: ExecuteDocument\n${extra}        inputs:\n          document: ${document}\n`;

function check(text: string, blocked: string[], source = "doc.yaml") {
  const result = validateText(text, source, { platform: "linux", blockedModules: blocked, cwd: dir });
  return { ...result, blocked: result.diagnostics.filter((d) => d.code === "E_ACTION_BLOCKED") };
}

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

describe("steps of the document itself", () => {
  test("a step using a blocked module is an error at its action, naming the module and the step", () => {
    const result = check(doc(bash("Hello") + reboot("Restart")), ["Reboot"]);
    expect(result.valid).toBe(false);
    expect(result.blocked).toHaveLength(1);
    expect(result.blocked[0]).toMatchObject({
      severity: "error",
      file: "doc.yaml",
      path: "phases[0].steps[1].action",
      line: 11,
      column: 17,
      message: "step 'Restart' (phase 'build') uses the blocked action module 'Reboot'",
    });
    expect(result.blocked[0]!.hint).toContain("--blocked-action-modules");
  });

  test("nothing is blocked without a list, or when the list names other modules", () => {
    expect(check(doc(bash("Hello") + reboot("Restart")), []).valid).toBe(true);
    expect(check(doc(bash("Hello") + reboot("Restart")), ["UpdateOS", "ExecutePowerShell"]).valid).toBe(true);
    expect(validateText(doc(reboot("Restart")), "doc.yaml", { platform: "linux" }).valid).toBe(true);
  });

  test("a blocked module inside a loop step, and one behind an if, are errors too", () => {
    const looped = reboot("Looped", "        loop:\n          forEach: [a, b]\n");
    const guarded = bash("Guarded").replace("        action: ExecuteBash\n", "        action: ExecuteBash\n        if:\n          stringEquals: x\n          value: y\n");
    const result = check(doc(looped + guarded), ["Reboot", "ExecuteBash"]);
    expect(result.blocked.map((d) => d.path)).toEqual(["phases[0].steps[0].action", "phases[0].steps[1].action"]);
    expect(result.blocked.map((d) => d.message)).toEqual([
      "step 'Looped' (phase 'build') uses the blocked action module 'Reboot'",
      "step 'Guarded' (phase 'build') uses the blocked action module 'ExecuteBash'",
    ]);
  });

  test("every step using it is reported, in every phase", () => {
    const text = `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n${reboot("A")}  - name: test\n    steps:\n${reboot("B")}`;
    expect(check(text, ["Reboot"]).blocked.map((d) => d.message)).toEqual([
      "step 'A' (phase 'build') uses the blocked action module 'Reboot'",
      "step 'B' (phase 'test') uses the blocked action module 'Reboot'",
    ]);
  });

  test("an exit code 194 is not the Reboot module", () => {
    expect(check(doc(bash("AskForReboot", "exit 194")), ["Reboot"]).valid).toBe(true);
  });
});

describe("documents run through ExecuteDocument", () => {
  test("a literal local path is read and its blocked step named with its file:line:col", () => {
    const child = write("child.yaml", doc(bash("Hello") + reboot("Restart")));
    const result = check(doc(runs("RunChild", child)), ["Reboot"], "parent.yaml");
    expect(result.blocked).toHaveLength(1);
    expect(result.blocked[0]).toMatchObject({
      file: "parent.yaml",
      path: "phases[0].steps[0].inputs.document",
      line: 9,
      column: 21,
      message: "step 'RunChild' (phase 'build') runs 'child.yaml': child.yaml:11:17: step 'Restart' (phase 'build') uses the blocked action module 'Reboot'",
    });
  });

  test("an absolute path, a child in a loop, and a grandchild are followed", () => {
    write("grandchild.yaml", doc(reboot("Deep")));
    write("middle.yaml", doc(runs("RunGrandchild", "grandchild.yaml")));
    const looped = runs("Looped", join(dir, "middle.yaml"), "        loop:\n          forEach: [a, b]\n");
    const result = check(doc(looped), ["Reboot"], "top.yaml");
    expect(result.blocked).toHaveLength(1);
    expect(result.blocked[0]!.message).toBe(
      `step 'Looped' (phase 'build') runs '${join(dir, "middle.yaml")}': ${join(dir, "middle.yaml")}:9:21: step 'RunGrandchild' (phase 'build') runs 'grandchild.yaml': grandchild.yaml:7:17: step 'Deep' (phase 'build') uses the blocked action module 'Reboot'`,
    );
  });

  test("a child without blocked modules, or with other problems only, is fine here", () => {
    write("clean.yaml", doc(bash("Hello")));
    write("broken.yaml", "schemaVersion: 1.0\nphases: nope\n");
    expect(check(doc(runs("A", "clean.yaml") + runs("B", "broken.yaml")), ["Reboot"]).valid).toBe(true);
  });

  test("what cannot be read now is left for the step: references, missing files, s3:// and ARNs", () => {
    const text = doc(
      runs("Ref", "'{{ loop.value }}'", "        loop:\n          forEach: [child.yaml]\n") +
        runs("Missing", "written-later.yaml") +
        runs("Remote", "s3://bucket/child.yaml") +
        runs("Arn", "arn:aws:imagebuilder:us-east-1:123456789012:component/x/1.0.0/1"),
    );
    expect(check(text, ["Reboot"]).blocked).toEqual([]);
  });

  test("a cycle of documents ends (the run reports the cycle)", () => {
    write("ping.yaml", doc(runs("ToPong", "pong.yaml") + reboot("R")));
    write("pong.yaml", doc(runs("ToPing", "ping.yaml")));
    const result = check(doc(runs("Start", "ping.yaml")), ["Reboot"], "start.yaml");
    expect(result.blocked).toHaveLength(1);
    expect(result.blocked[0]!.message).toContain("ping.yaml:11:17: step 'R' (phase 'build') uses the blocked action module 'Reboot'");
  });

  test("ExecuteDocument itself can be blocked", () => {
    expect(check(doc(runs("RunChild", "clean.yaml")), ["ExecuteDocument"]).blocked.map((d) => d.path)).toEqual(["phases[0].steps[0].action"]);
  });
});
