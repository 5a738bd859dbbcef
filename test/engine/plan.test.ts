import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostDeps } from "../../src/engine/host-deps.ts";
import { planExecution } from "../../src/engine/plan.ts";
import { plainPalette } from "../../src/logs/terminal.ts";

const dir = mkdtempSync(join(tmpdir(), "opentoe-plan-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const deps = hostDeps({ signal: new AbortController().signal, palette: plainPalette, renderDiagnostics: () => "", cwd: dir });

test("a plan resolves what it can, defers what needs earlier outputs, and runs nothing", async () => {
  const marker = join(dir, "ran");
  const doc = join(dir, "d.yaml");
  writeFileSync(doc, `schemaVersion: 1.0
parameters:
  - Items:
      type: string
      default: x;y
phases:
  - name: build
    steps:
      - name: Touch
        action: ExecuteBash
        inputs:
          commands: ["touch ${marker}"]
      - name: Loop
        action: ExecuteBash
        loop:
          name: it
          forEach:
            list: '{{ Items }}'
            delimiter: ';'
        inputs:
          commands: ["echo {{ it.value }}"]
      - name: Later
        action: ExecuteBash
        if:
          stringEquals: yes
          value: '{{ build.Touch.outputs.stdout }}'
        inputs:
          commands: ["true"]
  - name: test
    steps:
      - name: Check
        action: Assert
        inputs:
          fileExists: ${marker}
`);
  const plan = await planExecution({ documents: [{ source: doc, parameters: new Map() }], parameters: new Map(), phases: ["build"], executionId: "x", logDirectory: dir, trace: false }, deps);
  expect(plan.valid).toBe(true);
  const [touch, loop, later] = plan.documents[0]!.phases[0]!.steps;
  expect(touch!.iterations).toEqual([{ index: 0, inputs: { commands: [`touch ${marker}`] } }]);
  expect(loop!.loop).toEqual({ type: "forEach", count: 2, values: ["x", "y"] });
  expect(loop!.iterations!.map((i) => i.inputs)).toEqual([{ commands: ["echo x"] }, { commands: ["echo y"] }]);
  expect(later!.condition?.deferred).toContain("build.Touch.outputs.stdout");
  expect(plan.documents[0]!.skippedPhases).toEqual(["test"]);
  expect(Bun.file(marker).size).toBe(0);
  expect(await Bun.file(marker).exists()).toBe(false);
});

test("an invalid document gives no plan", async () => {
  const doc = join(dir, "bad.yaml");
  writeFileSync(doc, "schemaVersion: 1.0\nphases: []\n");
  const plan = await planExecution({ documents: [{ source: doc, parameters: new Map() }], parameters: new Map(), executionId: "x", logDirectory: dir, trace: false }, deps);
  expect(plan.valid).toBe(false);
  expect(plan.failures[0]?.diagnostics[0]?.code).toBe("E_NO_PHASES");
});

describe("plan with blocked modules", () => {
  test("--dry-run refuses a document using a blocked module, as run does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "opentoe-plan-blocked-"));
    try {
      writeFileSync(join(dir, "doc.yaml"), "name: b\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Restart\n        action: Reboot\n");
      const deps = hostDeps({ signal: new AbortController().signal, palette: plainPalette, renderDiagnostics: () => "", cwd: dir, interactive: false });
      const request = { documents: [{ source: "doc.yaml", parameters: new Map<string, string>() }], parameters: new Map<string, string>(), executionId: "x", logDirectory: dir, trace: false };
      expect((await planExecution(request, deps)).valid).toBe(true);
      const blocked = await planExecution({ ...request, blockedModules: ["Reboot"] }, deps);
      expect(blocked.valid).toBe(false);
      expect(blocked.failures[0]!.diagnostics.map((d) => d.code)).toContain("E_ACTION_BLOCKED");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
