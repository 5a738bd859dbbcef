/**
 * One step's outcome as the engine records it, in-process with real bash steps: what a retried
 * step leaves in chaining.json and in the resume journal.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineDeps } from "../../src/engine/deps.ts";
import { hostDeps } from "../../src/engine/host-deps.ts";
import { runExecution, type RunRequest } from "../../src/engine/run.ts";
import { plainPalette } from "../../src/logs/terminal.ts";
import { readJournal } from "../../src/state/journal.ts";

const root = mkdtempSync(join(tmpdir(), "opentoe-step-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function deps(cwd: string): EngineDeps {
  const base = hostDeps({ signal: new AbortController().signal, palette: plainPalette, renderDiagnostics: () => "", cwd, interactive: false, terminal: { stdout: () => {}, stderr: () => {} } });
  return { ...base, ports: { ...base.ports, reboot: { exitCode: 194, clearTrigger: async () => undefined, reboot: async () => "handed over (stand-in)" } } };
}

test("a step that fails twice before it succeeds lists each chaining reference once", async () => {
  const dir = join(root, "retried");
  mkdirSync(dir);
  writeFileSync(join(dir, "doc.yaml"), `name: retried
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Source
        action: ExecuteBash
        inputs:
          commands: ["echo hello"]
      - name: Flaky
        action: ExecuteBash
        maxAttempts: 3
        inputs:
          commands:
            - n=$(( $(cat count 2>/dev/null || echo 0) + 1 )); echo $n > count; [ $n -ge 3 ] || exit 1
            - echo '{{ build.Source.outputs.stdout }}' '{{ build.Source.inputs.commands }}'
      - name: Restart
        action: ExecuteBash
        inputs:
          commands: ["test -f rebooted && exit 0; touch rebooted; exit 194"]
`);
  const request: RunRequest = { documents: [{ source: "doc.yaml", parameters: new Map() }], parameters: new Map(), phases: [], executionId: "exec-1", logDirectory: join(dir, "logs"), trace: false, stateDirectory: join(dir, "state") };
  const references = [
    { expression: "build.Source.outputs.stdout", usedBy: "build/Flaky", resolved: true },
    { expression: "build.Source.inputs.commands", usedBy: "build/Flaky", resolved: true },
  ];

  const first = await runExecution(request, deps(dir));
  expect(first.reboot).toEqual({ exitCode: 194 });
  expect(readFileSync(join(dir, "count"), "utf8")).toBe("3\n");
  const journal = readJournal(join(dir, "state"))!;
  const flaky = [...journal.steps.values()].find((entry) => (entry.record as { name: string }).name === "Flaky")!;
  expect(flaky.chaining).toEqual(references);
  expect(JSON.parse(readFileSync(join(first.logFolder, "chaining.json"), "utf8"))).toEqual({ references });

  const second = await runExecution(request, deps(dir));
  expect(second.summary.status).toBe("success");
  expect(JSON.parse(readFileSync(join(second.logFolder, "chaining.json"), "utf8"))).toEqual({ references });
});
