/**
 * Reboot and resume in the engine, in-process with real bash steps. The reboot itself is a
 * stand-in port (mode "disabled", or a recording "standalone" one): nothing here may restart
 * this machine. End-to-end runs of the compiled binary are in test/e2e/reboot.test.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineDeps, RebootPort } from "../../src/engine/deps.ts";
import { hostDeps } from "../../src/engine/host-deps.ts";
import { MAX_REBOOTS } from "../../src/engine/resume.ts";
import { runExecution, type RunRequest } from "../../src/engine/run.ts";
import { StateError } from "../../src/errors.ts";
import { plainPalette } from "../../src/logs/terminal.ts";
import { STATE_FILE } from "../../src/state/journal.ts";

const root = mkdtempSync(join(tmpdir(), "opentoe-resume-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

const disabled: RebootPort = { exitCode: 194, clearTrigger: async () => undefined, reboot: async () => "handed over (stand-in)" };
function deps(cwd: string, reboot: RebootPort = disabled): EngineDeps {
  const base = hostDeps({ signal: new AbortController().signal, palette: plainPalette, renderDiagnostics: () => "", cwd, interactive: false, terminal: { stdout: () => {}, stderr: () => {} } });
  return { ...base, ports: { ...base.ports, reboot } };
}

/** A folder with a document whose steps are given as bash command lists. */
function setup(steps: string[][], extra: Partial<RunRequest> = {}): { dir: string; request: RunRequest } {
  const dir = join(root, `c${++count}`);
  mkdirSync(dir, { recursive: true });
  const body = steps.map((commands, i) => [`      - name: S${i}`, "        action: ExecuteBash", "        inputs:", "          commands:", ...commands.map((c) => `            - ${JSON.stringify(c)}`)].join("\n"));
  writeFileSync(join(dir, "doc.yaml"), ["name: resume", "schemaVersion: 1.0", "phases:", "  - name: build", "    steps:", ...body, ""].join("\n"));
  const request: RunRequest = { documents: [{ source: "doc.yaml", parameters: new Map() }], parameters: new Map(), phases: [], executionId: "exec-1", logDirectory: join(dir, "logs"), trace: false, stateDirectory: join(dir, "state"), ...extra };
  return { dir, request };
}

/** A failed execution's state folder holds nothing but its journal in the --retry archive. */
function expectOnlyArchived(dir: string, executionId: string): void {
  expect(readdirSync(join(dir, "state"))).toEqual(["executions"]);
  expect(readdirSync(join(dir, "state", "executions"))).toEqual([`${executionId}.state`]);
}

describe("resume", () => {
  test("a reboot leaves the journal; the next run resumes in the same log folder and removes it", async () => {
    const { dir, request } = setup([["echo one >> ledger"], ["test -f flag && exit 0; touch flag; exit 194"], ["echo three >> ledger"]]);
    const first = await runExecution(request, deps(dir));
    expect(first.reboot).toEqual({ exitCode: 194 });
    expect(existsSync(join(dir, "state", STATE_FILE))).toBe(true);
    expect(JSON.parse(readFileSync(join(first.logFolder, "detailedoutput.json"), "utf8")).status).toBe("running");
    const second = await runExecution({ ...request, executionId: "another-made-up-id" }, deps(dir));
    expect(second.reboot).toBeUndefined();
    expect(second.summary.status).toBe("success");
    expect(second.summary.executionId).toBe("exec-1"); // the resumed execution's id, not the new random one
    expect(second.logFolder).toBe(first.logFolder);
    expect(readFileSync(join(dir, "ledger"), "utf8")).toBe("one\nthree\n");
    expect(readFileSync(join(first.logFolder, "application.log"), "utf8")).toContain("resuming after 1 reboot(s): 1 finished step(s) are restored");
    expect(existsSync(join(dir, "state"))).toBe(false);
  });

  test("a changed document is another execution: refused with a StateError, nothing runs, the journal stays", async () => {
    const { dir, request } = setup([["echo one >> ledger"], ["exit 194"]]);
    await runExecution(request, deps(dir));
    writeFileSync(join(dir, "doc.yaml"), readFileSync(join(dir, "doc.yaml"), "utf8").replace("echo one", "echo changed"));
    const error = await runExecution(request, deps(dir)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).message).toBe("the state directory holds the unfinished execution exec-1 (doc.yaml), and this run asks for something else: the documents, their text, the parameters or the phases differ");
    expect((error as StateError).hint).toContain(join(dir, "state", STATE_FILE));
    expect(readFileSync(join(dir, "ledger"), "utf8")).toBe("one\n");
    expect(existsSync(join(dir, "state", STATE_FILE))).toBe(true);
  });

  test("other parameters or phases, or another explicit execution id, are refused the same way", async () => {
    const { dir, request } = setup([["exit 194"]]);
    await runExecution(request, deps(dir));
    for (const other of [{ parameters: new Map([["x", "1"]]) }, { phases: ["build"] }, { executionId: "exec-2", executionIdGiven: true }] as Partial<RunRequest>[]) {
      await expect(runExecution({ ...request, ...other }, deps(dir))).rejects.toThrow(/the state directory holds the unfinished execution exec-1/);
    }
  });

  test(`a document that keeps rebooting fails after ${MAX_REBOOTS} reboots, naming the limit`, async () => {
    const { dir, request } = setup([["echo run >> ledger; exit 194"]]);
    let result = await runExecution(request, deps(dir));
    let runs = 1;
    while (result.reboot !== undefined && runs < MAX_REBOOTS + 5) {
      result = await runExecution(request, deps(dir));
      runs++;
    }
    expect(runs).toBe(MAX_REBOOTS + 1);
    expect(result.summary.status).toBe("failed");
    expect(result.summary.failureMessage).toContain(`asked for reboot number ${MAX_REBOOTS + 1}, and an execution may reboot at most ${MAX_REBOOTS} times`);
    expect(readFileSync(join(dir, "ledger"), "utf8").split("\n").filter(Boolean)).toHaveLength(MAX_REBOOTS + 1);
    expectOnlyArchived(dir, "exec-1");
  });

  test("the port carries the reboot out; a machine that cannot restart fails the run", async () => {
    const calls: string[] = [];
    const standalone: RebootPort = { exitCode: 194, clearTrigger: async (d) => (calls.push(`clear ${d}`), undefined), reboot: async (id, d) => (calls.push(`restart ${id} ${d}`), "restarting (stand-in)") };
    const { dir, request } = setup([["exit 194"]]);
    const first = await runExecution(request, deps(dir, standalone));
    expect(first.reboot).toEqual({ exitCode: 194 });
    expect(calls).toEqual([`clear ${join(dir, "state")}`, `restart exec-1 ${join(dir, "state")}`]);
    const broken: RebootPort = { ...standalone, reboot: async () => Promise.reject(new Error("cannot reboot: needs root")) };
    const second = await runExecution(request, deps(dir, broken));
    expect(second.reboot).toBeUndefined();
    expect(second.summary.status).toBe("failed");
    expect(second.summary.failureMessage).toBe("step 'build/S0' asked for a reboot, and the machine cannot be restarted: cannot reboot: needs root");
    // Nothing is left "running" in the final record.
    expect(JSON.stringify(second.record)).not.toContain('"running"');
    expect(second.record.documents[0]!.phases[0]!.status).toBe("failed");
    expectOnlyArchived(dir, "exec-1");
  });

  test("a corrupt journal stops the run before anything runs", async () => {
    const { dir, request } = setup([["echo ran >> ledger"]]);
    mkdirSync(join(dir, "state"), { recursive: true });
    writeFileSync(join(dir, "state", STATE_FILE), "garbage\n");
    await expect(runExecution(request, deps(dir))).rejects.toThrow(/cannot resume from the state file .*: its first line is damaged/);
    expect(existsSync(join(dir, "ledger"))).toBe(false);
  });

  test("a run that ends normally leaves no state; a failed one leaves only its archived journal (for --retry)", async () => {
    const { dir, request } = setup([["exit 3"]]);
    const result = await runExecution(request, deps(dir));
    expect(result.summary.status).toBe("failed");
    expectOnlyArchived(dir, "exec-1");
    const ok = setup([["true"]]);
    expect((await runExecution(ok.request, deps(ok.dir))).summary.status).toBe("success");
    expect(existsSync(join(ok.dir, "state"))).toBe(false);
  });
});

describe("resume at boot and after a kill", () => {
  /** A standalone-like port that records when the boot trigger is cleared. */
  const recording = () => {
    const cleared: string[] = [];
    const port: RebootPort = { exitCode: 194, clearTrigger: async (folder) => (cleared.push(folder), "removed the trigger (stand-in)"), reboot: async () => "handed over (stand-in)" };
    return { cleared, port };
  };

  test("the boot trigger stays until the resumed run has loaded its documents", async () => {
    const { dir, request } = setup([["echo one >> ledger"], ["test -f flag && exit 0; touch flag; exit 194"]]);
    await runExecution(request, deps(dir));
    const { cleared, port } = recording();
    // At boot the document cannot be read yet (its file system, or the network, is not there).
    const base = deps(dir, port);
    const unreadable: EngineDeps = { ...base, ports: { ...base.ports, loadDocument: () => ({ ok: false, diagnostic: { code: "E_SOURCE_UNREADABLE", severity: "error", message: "failed to load document 'doc.yaml': not there yet", file: "doc.yaml", path: "" } }) } };
    const early = await runExecution(request, unreadable);
    expect(early.summary.status).toBe("failed");
    expect(cleared).toEqual([]); // the trigger is kept: the next boot tries again
    expect(existsSync(join(dir, "state", STATE_FILE))).toBe(true);
    const later = await runExecution(request, deps(dir, port));
    expect(later.summary.status).toBe("success");
    expect(cleared).toEqual([join(dir, "state")]);
    expect(readFileSync(join(dir, "ledger"), "utf8")).toBe("one\n");
  });

  test("a run with nothing to resume clears a stale trigger at once", async () => {
    const { dir, request } = setup([["true"]]);
    const { cleared, port } = recording();
    await runExecution(request, deps(dir, port));
    expect(cleared).toEqual([join(dir, "state")]);
  });

  test("a step's process group from a killed run is stopped before anything runs again", async () => {
    const { dir, request } = setup([["test -f flag && exit 0; touch flag; sleep 30 >/dev/null 2>&1 & echo $! > bg.pid; exit 194"], ["true"]]);
    // The first run leaves a background job of step S0 running (as a killed awstoe would leave its step).
    await runExecution(request, deps(dir));
    const pid = Number(readFileSync(join(dir, "bg.pid"), "utf8").trim());
    const alive = () => {
      try {
        process.kill(pid, 0);
        return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
      } catch {
        return false;
      }
    };
    expect(alive()).toBe(true);
    // A journal that still lists the group as unfinished: S0's reboot line says it runs again.
    const resumed = await runExecution(request, deps(dir));
    expect(resumed.summary.status).toBe("success");
    expect(alive()).toBe(false);
    expect(readFileSync(join(resumed.logFolder, "application.log"), "utf8")).toMatch(/stopped process group \d+ that step d0\/build\/0 had started/);
  });
});

describe("leftovers found by the step marker", () => {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
    } catch {
      return false;
    }
  };
  /** The journal without its process lines: as when awstoe was killed before it could write one. */
  const forgetProcesses = (dir: string) => {
    const file = join(dir, "state", STATE_FILE);
    writeFileSync(file, readFileSync(file, "utf8").split("\n").filter((line) => !line.startsWith('{"kind":"process"')).join("\n"));
  };

  test("an unfinished step's process is stopped even when the journal never recorded it", async () => {
    const { dir, request } = setup([["test -f flag && exit 0; touch flag; sleep 30 >/dev/null 2>&1 & echo $! > bg.pid; exit 194"]]);
    await runExecution(request, deps(dir));
    const pid = Number(readFileSync(join(dir, "bg.pid"), "utf8").trim());
    forgetProcesses(dir);
    expect(alive(pid)).toBe(true);
    const resumed = await runExecution(request, deps(dir));
    expect(resumed.summary.status).toBe("success");
    expect(alive(pid)).toBe(false);
    expect(readFileSync(join(resumed.logFolder, "application.log"), "utf8")).toContain("found by its marker): stopped");
  });

  test("a finished step's background job (a service it started) is left running", async () => {
    const { dir, request } = setup([["sleep 30 >/dev/null 2>&1 & echo $! > service.pid"], ["test -f flag && exit 0; touch flag; exit 194"]]);
    await runExecution(request, deps(dir));
    const pid = Number(readFileSync(join(dir, "service.pid"), "utf8").trim());
    try {
      const resumed = await runExecution(request, deps(dir));
      expect(resumed.summary.status).toBe("success");
      expect(alive(pid)).toBe(true);
    } finally {
      process.kill(pid, "SIGKILL");
    }
  });
});
