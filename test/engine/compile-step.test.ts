/**
 * `--dry-run` and the run compile a step the same way (engine/compile-step.ts): for steps that
 * cover every step field and module quirk — defaults, explicit values, fields ExecuteDocument fixes,
 * the timeout Reboot ignores, loops, `if` — the plan says what the run then records.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineDeps } from "../../src/engine/deps.ts";
import { hostDeps } from "../../src/engine/host-deps.ts";
import { planExecution } from "../../src/engine/plan.ts";
import { runExecution, type RunRequest } from "../../src/engine/run.ts";
import { plainPalette } from "../../src/logs/terminal.ts";
import type { ExecutionRecord, StepRecord } from "../../src/model/record.ts";

const dir = mkdtempSync(join(tmpdir(), "opentoe-compile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function deps(): EngineDeps {
  const base = hostDeps({ signal: new AbortController().signal, palette: plainPalette, renderDiagnostics: () => "", cwd: dir, interactive: false, terminal: { stdout: () => {}, stderr: () => {} } });
  return { ...base, ports: { ...base.ports, reboot: { exitCode: 194, clearTrigger: async () => undefined, reboot: async () => "handed over (stand-in)" } } };
}

const DOCUMENT = `name: every-field
schemaVersion: 1.0
parameters:
  - Greeting:
      type: string
      default: hello
phases:
  - name: build
    steps:
      - name: Defaults
        action: ExecuteBash
        inputs:
          commands: ["echo {{ Greeting }}"]
      - name: Explicit
        action: ExecuteBash
        timeoutSeconds: 30
        maxAttempts: 2
        onFailure: Continue
        inputs:
          commands: ["true"]
      - name: Skipped
        action: ExecuteBash
        if:
          fileExists: ${join(dir, "not-there")}
        inputs:
          commands: ["echo never"]
      - name: Aborted
        action: ExecuteBash
        onFailure: Ignore
        if:
          stringEquals: a
          value: b
          else: Abort
        inputs:
          commands: ["echo never"]
      - name: Decided
        action: ExecuteBash
        if:
          stringEquals: '{{ Greeting }}'
          value: hello
        inputs:
          commands: ["echo decided"]
      - name: Each
        action: ExecuteBash
        timeoutSeconds: 20
        loop:
          name: item
          forEach: [a, b, c]
        inputs:
          commands: ["echo {{ item.value }}"]
      - name: Count
        action: ExecuteBash
        loop:
          for:
            start: 1
            end: 5
            updateBy: 2
        inputs:
          commands: ["echo {{ loop.index }}={{ loop.value }}"]
      - name: Check
        action: Assert
        inputs:
          stringEquals: '{{ Greeting }}'
          value: hello
      - name: Write
        action: CreateFile
        maxAttempts: 3
        inputs:
          - path: ${join(dir, "written.txt")}
            content: '{{ Greeting }}'
            overwrite: true
      - name: Nested
        action: ExecuteDocument
        inputs:
          document: nested.yaml
      - name: Restart
        action: Reboot
        timeoutSeconds: 30
        maxAttempts: 2
        onFailure: Continue
`;

/** The `if` decision a recorded status shows (in this document, only Abort steps fail). */
const DECISION_BY_STATUS: Record<string, string> = { skipped: "Skip", ignoredFailure: "Abort" };

const NESTED = `name: nested
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Inner
        action: ExecuteBash
        inputs:
          commands: ["echo inner"]
`;

test("plan = run for every step field", async () => {
  writeFileSync(join(dir, "doc.yaml"), DOCUMENT);
  writeFileSync(join(dir, "nested.yaml"), NESTED);
  mkdirSync(join(dir, "logs"));
  const request: RunRequest = { documents: [{ source: "doc.yaml", parameters: new Map() }], parameters: new Map(), phases: [], executionId: "exec-1", logDirectory: join(dir, "logs"), trace: false, stateDirectory: join(dir, "state") };

  const plan = await planExecution(request, deps());
  expect(plan.valid).toBe(true);
  const planned = plan.documents[0]!.phases[0]!.steps;

  // The Reboot step stops the first run; the second finishes the execution after the "restart".
  const first = await runExecution(request, deps());
  expect(first.reboot).toEqual({ exitCode: 194 });
  const second = await runExecution(request, deps());
  expect(second.summary.status).toBe("successWithIgnoredFailure");
  const record = JSON.parse(readFileSync(join(second.logFolder, "detailedoutput.json"), "utf8")) as ExecutionRecord;
  const recorded = record.documents[0]!.phases[0]!.steps;

  expect(planned.map((step) => step.name)).toEqual(recorded.map((step) => step.name));
  for (const [index, step] of planned.entries()) {
    const run: StepRecord = recorded[index]!;
    const fields = (s: { name: string; action: string; timeoutSeconds: number; maxAttempts: number; onFailure: string }) => ({ name: s.name, action: s.action, timeoutSeconds: s.timeoutSeconds, maxAttempts: s.maxAttempts, onFailure: s.onFailure });
    expect(fields(step)).toEqual(fields(run));
    expect(step.loop === undefined ? null : { type: step.loop.type, values: step.loop.values }).toEqual(run.loop === null ? null : { type: run.loop.type, values: run.loop.values });
    const decision: string = step.condition?.decision ?? "Execute";
    const ranAs: string = DECISION_BY_STATUS[run.status] ?? "Execute";
    expect({ name: step.name, decision }).toEqual({ name: run.name, decision: ranAs });
    // The inputs of the last iteration are what the record keeps (absent fields filled in).
    if (decision === "Execute" && step.action !== "Assert") {
      const inputs = step.iterations!.at(-1)!.inputs;
      expect(JSON.parse(run.inputs)).toMatchObject(Array.isArray(inputs) ? inputs : [inputs]);
    }
  }

  // The quirks, spelled out.
  const byName = new Map(planned.map((step) => [step.name, step]));
  expect(byName.get("Defaults")).toMatchObject({ timeoutSeconds: 7200, maxAttempts: 1, onFailure: "Abort" });
  expect(byName.get("Nested")).toMatchObject({ timeoutSeconds: -1, maxAttempts: 1 });
  expect(byName.get("Restart")).toMatchObject({ timeoutSeconds: -1, maxAttempts: 2, onFailure: "Continue" });
  expect(byName.get("Count")!.iterations!.map((i) => i.inputs)).toEqual([{ commands: ["echo 0=1"] }, { commands: ["echo 1=3"] }, { commands: ["echo 2=5"] }]);
});
