/**
 * One run per state folder: a second run is refused naming the holder; a lock whose holder is gone
 * (a process that exited, another boot) is taken over. Holders are checked with the real
 * /proc-based check of platform/process-identity where the test is about real processes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StateError } from "../../src/errors.ts";
import { identityOf, stillRunning } from "../../src/platform/process-identity.ts";
import { LOCK_FILE, RunLock, type LockHolder } from "../../src/state/run-lock.ts";

const root = mkdtempSync(join(tmpdir(), "opentoe-lock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const folder = () => {
  const dir = join(root, `s${++count}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
};
const holder = (pid: number, extra: Partial<LockHolder> = {}): LockHolder => ({ ...identityOf(pid), since: "2026-12-04T10:00:00.000Z", executionId: "exec-1", command: "awstoe run --documents a.yaml", ...extra });

describe("run lock", () => {
  test("the second run on a folder is refused, naming the holder; after release it may run", () => {
    const dir = folder();
    const first = RunLock.acquire(dir, holder(process.pid), stillRunning);
    let error: unknown;
    try {
      RunLock.acquire(dir, holder(process.pid, { executionId: "exec-2" }), stillRunning);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateError);
    expect((error as Error).message).toContain(`another awstoe run is using the state folder '${dir}': process ${process.pid}`);
    expect((error as Error).message).toContain("execution exec-1");
    first.release();
    RunLock.acquire(dir, holder(process.pid), stillRunning).release();
  });

  test("a lock left by a process that has exited is taken over", () => {
    const dir = folder();
    const child = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
    const deadPid = Number(child.stdout.trim());
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(holder(deadPid, { started: 1 })));
    const lock = RunLock.acquire(dir, holder(process.pid), stillRunning);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  test("a lock from another boot is stale even when its pid is alive now", () => {
    const dir = folder();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(holder(process.pid, { boot: "another-boot" })));
    const lock = RunLock.acquire(dir, holder(process.pid), stillRunning);
    lock.release();
  });

  test("a live pid whose start time differs (a reused id) is stale", () => {
    const dir = folder();
    const me = identityOf(process.pid);
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(holder(process.pid, { started: (me.started ?? 0) + 12345 })));
    RunLock.acquire(dir, holder(process.pid), stillRunning).release();
  });

  test("an unreadable lock file is stale; a holder of unknown liveness is not", () => {
    const dir = folder();
    writeFileSync(join(dir, LOCK_FILE), "not json");
    RunLock.acquire(dir, holder(process.pid), stillRunning).release(); // and the emptied folder goes
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(holder(process.pid)));
    expect(() => RunLock.acquire(dir, holder(process.pid), () => "unknown")).toThrow(/may still be running/);
  });

  test("releasing removes an emptied state folder, and keeps one with a journal in it", () => {
    const empty = folder();
    RunLock.acquire(empty, holder(process.pid), stillRunning).release();
    expect(existsSync(empty)).toBe(false);
    const busy = folder();
    writeFileSync(join(busy, "opentoe-execution.state"), "x");
    RunLock.acquire(busy, holder(process.pid), stillRunning).release();
    expect(existsSync(join(busy, "opentoe-execution.state"))).toBe(true);
  });
});
