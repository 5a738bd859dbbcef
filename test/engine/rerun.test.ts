/**
 * run --retry / --from in the engine, in-process with real bash steps: nested documents, onFailure
 * Continue, and reboots during a retry or a --from run. Each step appends to ./ledger when it runs.
 * The command-line view, with goldens, is test/e2e/rerun.test.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineDeps } from "../../src/engine/deps.ts";
import { hostDeps } from "../../src/engine/host-deps.ts";
import { runExecution, type RunRequest } from "../../src/engine/run.ts";
import { StateError } from "../../src/errors.ts";
import { plainPalette } from "../../src/logs/terminal.ts";
import type { ExecutionRecord, StepRecord } from "../../src/model/record.ts";

const root = mkdtempSync(join(tmpdir(), "opentoe-rerun-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

function deps(cwd: string): EngineDeps {
  const base = hostDeps({ signal: new AbortController().signal, palette: plainPalette, renderDiagnostics: () => "", cwd, interactive: false, terminal: { stdout: () => {}, stderr: () => {} } });
  return { ...base, ports: { ...base.ports, reboot: { exitCode: 194, clearTrigger: async () => undefined, reboot: async () => "handed over (stand-in)" } } };
}

type Step = { name: string; commands?: string[]; extra?: string[] };
function yaml(name: string, steps: Step[]): string {
  const body = steps.map((s) => [`      - name: ${s.name}`, ...(s.extra ?? ["        action: ExecuteBash", "        inputs:", "          commands:", ...(s.commands ?? []).map((c) => `            - ${JSON.stringify(c)}`)])].join("\n"));
  return ["name: " + name, "schemaVersion: 1.0", "phases:", "  - name: build", "    steps:", ...body, ""].join("\n");
}
const ledgerLine = (name: string) => `echo ${name} >> ledger`;
const FLAKY = "test -f flag || exit 1";
const REBOOT_ONCE = "if [ ! -f rebooted ]; then touch rebooted; exit 194; fi";

function setup(steps: Step[], files: Record<string, string> = {}): { dir: string; request: RunRequest } {
  const dir = join(root, `c${++count}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "doc.yaml"), yaml("rerun", steps));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const request: RunRequest = { documents: [{ source: "doc.yaml", parameters: new Map() }], parameters: new Map(), phases: [], executionId: "exec-1", logDirectory: join(dir, "logs"), trace: false, stateDirectory: join(dir, "state") };
  return { dir, request };
}
const ledger = (dir: string) => (existsSync(join(dir, "ledger")) ? readFileSync(join(dir, "ledger"), "utf8").split("\n").filter(Boolean) : []);
const steps = (record: ExecutionRecord): StepRecord[] => record.documents.flatMap((d) => d.phases.flatMap((p) => p.steps));
const retry = (request: RunRequest): RunRequest => ({ ...request, retry: "exec-1", executionIdGiven: true });

describe("run --retry in the engine", () => {
  test("inside a failed ExecuteDocument step, the nested steps that succeeded are restored; the step itself runs again", async () => {
    const child = yaml("child", [{ name: "C0", commands: [ledgerLine("C0")] }, { name: "C1", commands: [ledgerLine("C1"), FLAKY] }]);
    const { dir, request } = setup([{ name: "S0", commands: [ledgerLine("S0")] }, { name: "Nested", extra: ["        action: ExecuteDocument", "        inputs:", "          document: child.yaml"] }, { name: "After", commands: [ledgerLine("After")] }], { "child.yaml": child });
    expect((await runExecution(request, deps(dir))).summary.status).toBe("failed");
    writeFileSync(join(dir, "flag"), "");
    const second = await runExecution(retry(request), deps(dir));
    expect(second.summary.status).toBe("success");
    expect(ledger(dir)).toEqual(["S0", "C0", "C1", "C1", "After"]);
    expect(steps(second.record).map((s) => [s.name, s.restored === true])).toEqual([["S0", true], ["Nested", false], ["After", false]]);
    const nested = steps(second.record)[1]!.detailedOutput![0]!;
    expect(steps(nested).map((s) => [s.name, s.status, s.restored === true])).toEqual([["C0", "success", true], ["C1", "success", false]]);
  });

  test("onFailure Continue: the steps after the failure ran, and run again", async () => {
    const { dir, request } = setup([
      { name: "S0", commands: [ledgerLine("S0")] },
      { name: "S1", extra: ["        action: ExecuteBash", "        onFailure: Continue", "        inputs:", "          commands:", `            - ${JSON.stringify(ledgerLine("S1"))}`, `            - ${JSON.stringify(FLAKY)}`] },
      { name: "S2", commands: [ledgerLine("S2")] },
    ]);
    expect((await runExecution(request, deps(dir))).summary.status).toBe("failed");
    writeFileSync(join(dir, "flag"), "");
    expect((await runExecution(retry(request), deps(dir))).summary.status).toBe("success");
    expect(ledger(dir)).toEqual(["S0", "S1", "S2", "S1", "S2"]);
  });

  test("a reboot during a retry: the same command resumes it, the restored steps stay marked", async () => {
    const { dir, request } = setup([{ name: "S0", commands: [ledgerLine("S0")] }, { name: "S1", commands: [ledgerLine("S1"), FLAKY] }, { name: "S2", commands: [ledgerLine("S2"), REBOOT_ONCE] }]);
    await runExecution(request, deps(dir));
    writeFileSync(join(dir, "flag"), "");
    const first = await runExecution(retry(request), deps(dir));
    expect(first.reboot).toEqual({ exitCode: 194 });
    const second = await runExecution(retry(request), deps(dir));
    expect(second.summary.status).toBe("success");
    expect(second.logFolder).toBe(first.logFolder);
    expect(ledger(dir)).toEqual(["S0", "S1", "S1", "S2", "S2"]);
    expect(steps(second.record).map((s) => s.restored === true)).toEqual([true, false, false]);
    expect(existsSync(join(dir, "state"))).toBe(false);
  });
});

describe("run --retry of a --from/--only run", () => {
  test("applies the same selection: left-out steps stay left out, before and after the failure", async () => {
    const { dir, request } = setup([{ name: "S0", commands: [ledgerLine("S0")] }, { name: "S1", commands: [ledgerLine("S1")] }, { name: "S2", commands: [ledgerLine("S2"), FLAKY] }, { name: "S3", commands: [ledgerLine("S3")] }]);
    expect((await runExecution({ ...request, selection: { only: ["build/S0", "build/S2"] } }, deps(dir))).summary.status).toBe("failed");
    writeFileSync(join(dir, "flag"), "");
    const second = await runExecution(retry(request), deps(dir));
    expect(second.summary).toMatchObject({ status: "success", skippedStepCount: 2 });
    expect(ledger(dir)).toEqual(["S0", "S2", "S2"]);
    expect(steps(second.record).map((s) => [s.name, s.status, s.restored === true, s.notSelected !== undefined])).toEqual([["S0", "success", true, false], ["S1", "skipped", true, true], ["S2", "success", false, false], ["S3", "skipped", false, true]]);
  });
});

describe("run --retry refusals in the engine", () => {
  test("another --log-directory is refused before the archived journal is taken up; the right one then works", async () => {
    const { dir, request } = setup([{ name: "S0", commands: [ledgerLine("S0")] }, { name: "S1", commands: [ledgerLine("S1"), FLAKY] }]);
    await runExecution(request, deps(dir));
    const elsewhere = await runExecution({ ...retry(request), logDirectory: join(dir, "other-logs") }, deps(dir)).catch((e: unknown) => e);
    expect(elsewhere).toBeInstanceOf(StateError);
    expect((elsewhere as StateError).message).toBe(`cannot retry execution exec-1 with the log directory '${join(dir, "other-logs")}': its log folder is '${readdirSync(join(dir, "logs")).map((n) => join(dir, "logs", n)).find((p) => p.includes("TOE_2"))}'`);
    expect(readdirSync(join(dir, "state", "executions"))).toEqual(["exec-1.state"]);
    writeFileSync(join(dir, "flag"), "");
    expect((await runExecution(retry(request), deps(dir))).summary.status).toBe("success");
    expect(ledger(dir)).toEqual(["S0", "S1", "S1"]);
  });
});

describe("run --from in the engine", () => {
  test("a reboot during a --from run keeps the left-out steps left out", async () => {
    const { dir, request } = setup([{ name: "S0", commands: [ledgerLine("S0")] }, { name: "S1", commands: [ledgerLine("S1"), REBOOT_ONCE] }, { name: "S2", commands: [ledgerLine("S2")] }]);
    const from = { ...request, selection: { from: "build/S1" } };
    expect((await runExecution(from, deps(dir))).reboot).toEqual({ exitCode: 194 });
    const second = await runExecution(from, deps(dir));
    expect(second.summary).toMatchObject({ status: "success", executedStepCount: 2, skippedStepCount: 1 });
    expect(ledger(dir)).toEqual(["S1", "S1", "S2"]);
    expect(steps(second.record).map((s) => [s.name, s.status, s.notSelected ?? ""])).toEqual([["S0", "skipped", "not selected: this run starts at --from build/S1"], ["S1", "success", ""], ["S2", "success", ""]]);
  });
});
