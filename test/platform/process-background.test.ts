/**
 * runProcess with background jobs (real child processes): a program that exits while something it
 * started still holds its output pipes ends the run after the drain period, with its real exit
 * code, and what it left behind keeps running. Timeouts and aborts of a program still running
 * kill its whole group as before (process.test.ts).
 */
import type { ExecRequest } from "../../src/model/ports.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scriptOutcome } from "../../src/modules/_exec.ts";
import { DRAIN_AFTER_EXIT_MS, KILL_GRACE_MS, killAllRunning, runProcess } from "../../src/platform/process.ts";
import { moduleContext } from "../helpers/module-context.ts";
import { diesWithin, isAlive, pidFrom } from "../helpers/processes.ts";

const posix = process.platform !== "win32";
const tmp = mkdtempSync(join(tmpdir(), "opentoe-process-bg-"));
/** Every background pid a test started: killed at the end, whatever the test's outcome. */
const leftovers: number[] = [];
afterAll(() => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  rmSync(tmp, { recursive: true, force: true });
});

const sh = (script: string, extra: Partial<ExecRequest> = {}) => runProcess({ command: "sh", args: ["-c", script], ...extra });

describe.skipIf(!posix)("runProcess: background jobs holding the output", () => {
  test("a program that exits at once ends the run within seconds, exit 0, and its background job keeps running", async () => {
    const file = join(tmp, "bg.pid");
    const started = Date.now();
    const result = await sh(`sleep 30 & echo $! > '${file}'; echo started; exit 0`, { timeoutMs: 20_000 });
    const took = Date.now() - started;
    const sleeper = await pidFrom(file, leftovers);
    expect(took).toBeLessThan(5_000);
    expect(took).toBeGreaterThanOrEqual(DRAIN_AFTER_EXIT_MS - 50);
    expect(result).toMatchObject({ exitCode: 0, signal: null, timedOut: false, aborted: false, leftRunning: true, stdout: "started\n" });
    expect(result.spawnError).toBeUndefined();
    // Left running: not killed at the end of the drain, nor a moment later.
    await Bun.sleep(300);
    expect(isAlive(sleeper)).toBe(true);
    // Nor by an interrupt of awstoe afterwards: the run is over, nothing of it is "running".
    expect(killAllRunning("SIGTERM")).toBe(0);
    await Bun.sleep(100);
    expect(isAlive(sleeper)).toBe(true);
  });

  test("the real exit code is reported, not a timeout", async () => {
    const file = join(tmp, "bg-exit3.pid");
    const result = await sh(`sleep 30 & echo $! > '${file}'; echo bye; exit 3`, { timeoutMs: 10_000 });
    const sleeper = await pidFrom(file, leftovers);
    expect(result).toMatchObject({ exitCode: 3, timedOut: false, aborted: false, leftRunning: true, stdout: "bye\n" });
    expect(isAlive(sleeper)).toBe(true);
  });

  test("a trailing line printed just before exit, and output of the background job during the drain, are captured", async () => {
    const file = join(tmp, "bg-trailing.pid");
    const seen = { stdout: "", stderr: "" };
    const result = await sh(
      `(sleep 0.1; echo from-background; exec sleep 30) & echo $! > '${file}'; echo first; echo trailing-err >&2; printf 'last line without newline'; exit 0`,
      { onOutput: (stream, text) => (seen[stream] += text) },
    );
    await pidFrom(file, leftovers);
    expect(result.leftRunning).toBe(true);
    expect(result.stdout).toContain("first\n");
    expect(result.stdout).toContain("last line without newline");
    expect(result.stdout).toContain("from-background\n");
    expect(result.stderr).toBe("trailing-err\n");
    expect(seen).toEqual({ stdout: result.stdout, stderr: result.stderr });
  });

  test("a background job with its output redirected does not hold the run, and is not reported", async () => {
    const file = join(tmp, "bg-quiet.pid");
    const started = Date.now();
    const result = await sh(`sleep 30 >/dev/null 2>&1 & echo $! > '${file}'; echo done`);
    await pidFrom(file, leftovers);
    expect(Date.now() - started).toBeLessThan(DRAIN_AFTER_EXIT_MS);
    expect(result).toMatchObject({ exitCode: 0, leftRunning: false, stdout: "done\n" });
  });

  test("a normal program is not held for the drain period", async () => {
    const started = Date.now();
    const result = await sh("echo hi");
    expect(Date.now() - started).toBeLessThan(DRAIN_AFTER_EXIT_MS);
    expect(result).toMatchObject({ exitCode: 0, leftRunning: false, stdout: "hi\n" });
  });

  test("a timeout while the program still runs kills its group, even a member ignoring SIGTERM that holds the pipes after the program died", async () => {
    const file = join(tmp, "stubborn.pid");
    const started = Date.now();
    const result = await sh(`(trap '' TERM; exec sleep 300) & echo $! > '${file}'; sleep 300`, { timeoutMs: 300 });
    const stubborn = await pidFrom(file, leftovers);
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGTERM", leftRunning: false });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300 + KILL_GRACE_MS - 50);
    expect(await diesWithin(stubborn, 1000)).toBe(true);
  });

  test("an abort during the drain ends it at once and stops nothing", async () => {
    const file = join(tmp, "bg-abort.pid");
    const controller = new AbortController();
    const running = sh(`sleep 30 & echo $! > '${file}'; exit 0`, { signal: controller.signal });
    const sleeper = await pidFrom(file, leftovers);
    await Bun.sleep(50); // the program has exited; the drain is under way
    const abortedAt = Date.now();
    controller.abort();
    const result = await running;
    expect(Date.now() - abortedAt).toBeLessThan(DRAIN_AFTER_EXIT_MS);
    expect(result).toMatchObject({ exitCode: 0, leftRunning: true, aborted: false, timedOut: false });
    expect(isAlive(sleeper)).toBe(true);
  });
});

describe.skipIf(!posix)("scriptOutcome with a background job left running", () => {
  test("succeeds, warns in the log, and says so in the outputs", async () => {
    const file = join(tmp, "outcome.pid");
    const warnings: string[] = [];
    const ctx = moduleContext({ log: { debug: () => {}, info: () => {}, warn: (m) => warnings.push(m) } });
    const outcome = scriptOutcome("the script", await ctx.exec({ command: "sh", args: ["-c", `sleep 30 & echo $! > '${file}'; echo started`] }), ctx);
    await pidFrom(file, leftovers);
    expect(outcome.outputs.stdout).toBe("started");
    expect((outcome.outputs as Record<string, unknown>).backgroundProcesses).toMatch(/kept running after the script exited, with its output still open/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/processes started by the script kept running after it exited, with its output still open/);
  });

  test("a failure says so in its message", async () => {
    const file = join(tmp, "outcome-fail.pid");
    const ctx = moduleContext();
    const result = await ctx.exec({ command: "sh", args: ["-c", `sleep 30 & echo $! > '${file}'; echo oops >&2; exit 4`] });
    await pidFrom(file, leftovers);
    expect(() => scriptOutcome("the script", result, ctx)).toThrow(/the script exited with code 4: oops \(processes it started kept running, with its output still open\)/);
  });

  test("without a background job the outputs are just stdout", async () => {
    const ctx = moduleContext();
    const outcome = scriptOutcome("the script", await ctx.exec({ command: "sh", args: ["-c", "echo hi"] }), ctx);
    expect(outcome.outputs).toEqual({ stdout: "hi" });
  });
});
