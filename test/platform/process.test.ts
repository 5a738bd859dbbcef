/** Real child processes through runProcess (bash, no mocks): exit codes, streaming, tails, tree kills. */
import type { ExecRequest } from "../../src/model/ports.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CAPTURE_LIMIT_BYTES, KILL_GRACE_MS, killAllRunning, runProcess } from "../../src/platform/process.ts";
import { diesWithin, isAlive, pidFrom } from "../helpers/processes.ts";

const posix = process.platform !== "win32";
const tmp = mkdtempSync(join(tmpdir(), "opentoe-process-"));
/** Every grandchild pid a test saw: killed at the end, so a failing test leaves no sleeps behind. */
const seenPids: number[] = [];
afterAll(() => {
  for (const pid of seenPids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  rmSync(tmp, { recursive: true, force: true });
});

const bash = (script: string, extra: Partial<ExecRequest> = {}) => runProcess({ command: "bash", args: ["-c", script], ...extra });

/** Runs and records every onOutput call, joined per stream. */
async function streamed(script: string, extra: Partial<ExecRequest> = {}) {
  const seen = { stdout: "", stderr: "" };
  const calls: Array<"stdout" | "stderr"> = [];
  const result = await bash(script, {
    ...extra,
    onOutput: (stream, text) => {
      seen[stream] += text;
      calls.push(stream);
    },
  });
  return { result, seen, calls };
}

/** A script that starts two background sleeps, writes one pid to `file`, and waits forever. */
const treeScript = (file: string) => `sleep 300 & sleep 300 & echo $! > '${file}'; wait`;

describe.skipIf(!posix)("runProcess", () => {
  test("reports exit codes 0, 1 and 194", async () => {
    for (const code of [0, 1, 194]) {
      const result = await bash(`exit ${code}`);
      expect(result).toMatchObject({ exitCode: code, signal: null, timedOut: false, aborted: false });
      expect(result.spawnError).toBeUndefined();
      expect(result.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  test("captures stdout and stderr and streams each in order", async () => {
    const { result, seen } = await streamed("for i in 1 2 3; do echo out$i; echo err$i >&2; done");
    expect(result.stdout).toBe("out1\nout2\nout3\n");
    expect(result.stderr).toBe("err1\nerr2\nerr3\n");
    expect(seen).toEqual({ stdout: result.stdout, stderr: result.stderr });
    expect(result.stdoutTruncated || result.stderrTruncated).toBe(false);
  });

  test("streams chunks as they arrive, before the process ends", async () => {
    let firstAt = 0;
    const started = Date.now();
    const result = await bash("echo early; sleep 0.5; echo late", {
      onOutput: () => {
        firstAt ||= Date.now() - started;
      },
    });
    expect(result.stdout).toBe("early\nlate\n");
    expect(firstAt).toBeLessThan(400);
  });

  test("delivers 200 lines, a 100,000-character line and a final line without newline (TOOLCHAIN §7)", async () => {
    const { result, seen } = await streamed(
      "for i in $(seq 1 200); do echo line$i; echo errline$i >&2; done; head -c 100000 /dev/zero | tr '\\0' x; echo; printf 'last'",
    );
    const expected = Array.from({ length: 200 }, (_, i) => `line${i + 1}\n`).join("") + "x".repeat(100_000) + "\nlast";
    expect(seen.stdout).toBe(expected);
    expect(result.stdout).toBe(expected);
    expect(seen.stderr.split("\n").filter(Boolean)).toHaveLength(200);
    expect(result.stderr).toBe(seen.stderr);
  });

  test("decodes multi-byte UTF-8 split across chunks", async () => {
    // "€" is e2 82 ac: its bytes are written in two separate writes with a pause between them,
    // so they certainly arrive in different chunks.
    const split = await streamed("printf '\\xe2'; sleep 0.2; printf '\\x82\\xac'; printf '\\xc3'; sleep 0.2; printf '\\xa9\\n'");
    expect(split.seen.stdout).toBe("€é\n");
    expect(split.result.stdout).toBe("€é\n");
    expect(split.calls.length).toBeGreaterThanOrEqual(2);

    // Large mixed text: 64 KiB pipe chunks fall at arbitrary byte offsets; head -c cuts pieces at odd sizes.
    const unit = "é€a";
    const text = unit.repeat(50_000);
    const file = join(tmp, "utf8.txt");
    writeFileSync(file, text);
    const sizes = [1, 7, 65537, 3, 100001];
    let start = 0;
    const pieces = sizes.map((n) => {
      const piece = `tail -c +${start + 1} '${file}' | head -c ${n}; sleep 0.02`;
      start += n;
      return piece;
    });
    const big = await streamed(`${pieces.join("; ")}; tail -c +${start + 1} '${file}'`);
    expect(big.seen.stdout).toBe(text);
    expect(big.result.stdout).toBe(text);
  });

  test("a cut tail drops a leading partial character", async () => {
    // "€€€" is 9 bytes; the last 5 start with the 2 trailing bytes of the middle "€".
    const result = await bash("printf '€€€'", { captureLimit: 5 });
    expect(result.stdout).toBe("€");
    expect(result.stdoutTruncated).toBe(true);
    const exact = await bash("printf '€€€'", { captureLimit: 9 });
    expect(exact).toMatchObject({ stdout: "€€€", stdoutTruncated: false });
  });

  test("keeps only the tail of each stream, with the limit respected across many small writes", async () => {
    const result = await bash("for i in $(seq 1 3000); do echo $i; echo e$i >&2; done", { captureLimit: 100 });
    expect(Buffer.byteLength(result.stdout)).toBeLessThanOrEqual(100);
    expect(result.stdout.endsWith("2999\n3000\n")).toBe(true);
    expect(result.stderr.endsWith("e2999\ne3000\n")).toBe(true);
    expect(result).toMatchObject({ stdoutTruncated: true, stderrTruncated: true, exitCode: 0 });
    const none = await bash("echo hi", { captureLimit: 0 });
    expect(none).toMatchObject({ stdout: "", stdoutTruncated: true, exitCode: 0 });
  });

  test("64 MiB of output keeps memory bounded", async () => {
    Bun.gc(true);
    const before = process.memoryUsage().rss;
    const result = await bash("yes | head -c 67108864");
    Bun.gc(true);
    const after = process.memoryUsage().rss;
    expect(result.exitCode).toBe(0);
    expect(result.stdout.length).toBeLessThanOrEqual(CAPTURE_LIMIT_BYTES);
    expect(result.stdout.length).toBeGreaterThan(CAPTURE_LIMIT_BYTES - 4);
    expect(result.stdoutTruncated).toBe(true);
    expect(result.stdout.endsWith("y\ny\n")).toBe(true);
    // A guard, not a measurement: keeping all 64 MiB (as bytes plus a decoded string) would add well
    // over 100 MB; the tail needs about 4 MiB plus allocator noise.
    expect(after - before).toBeLessThan(100 * 1024 * 1024);
  });

  test("a timeout kills the whole process tree", async () => {
    const file = join(tmp, "timeout.pid");
    const started = Date.now();
    const result = await bash(treeScript(file), { timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(result).toMatchObject({ timedOut: true, aborted: false, exitCode: null, signal: "SIGTERM" });
    expect(await diesWithin(await pidFrom(file, seenPids), 1000)).toBe(true);
  });

  // A child that exits ON ITS OWN while a background job holds the pipes is not a timeout: it ends
  // after the drain and the job is left running (process-background.test.ts).
  test("a timeout kills grandchildren too, and reports the exit code of a child that exits on the signal", async () => {
    const file = join(tmp, "orphan.pid");
    const started = Date.now();
    const result = await bash(`trap 'echo bye; exit 3' TERM; sleep 300 & echo $! > '${file}'; wait`, { timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(result).toMatchObject({ timedOut: true, exitCode: 3, stdout: "bye\n", leftRunning: false });
    expect(await diesWithin(await pidFrom(file, seenPids), 1000)).toBe(true);
  });

  test("a child ignoring SIGTERM gets SIGKILL after the grace period", async () => {
    const started = Date.now();
    const result = await bash("trap '' TERM; while :; do sleep 0.05; done", { timeoutMs: 200 });
    const took = Date.now() - started;
    expect(result).toMatchObject({ timedOut: true, signal: "SIGKILL" });
    expect(took).toBeGreaterThanOrEqual(200 + KILL_GRACE_MS - 50);
    expect(took).toBeLessThan(200 + KILL_GRACE_MS + 2000);
  });

  test("resolves after a kill even when an escaped process (setsid) keeps the pipes open", async () => {
    const file = join(tmp, "escaped.pid");
    const started = Date.now();
    const result = await bash(`setsid sleep 300 & echo $! > '${file}'; wait`, { timeoutMs: 200 });
    await pidFrom(file, seenPids); // killed in afterAll: it is outside the group on purpose
    expect(result.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(200 + KILL_GRACE_MS + 2000);
  });

  test("aborting kills the whole process tree", async () => {
    const file = join(tmp, "abort.pid");
    const controller = new AbortController();
    const started = Date.now();
    const running = bash(treeScript(file), { signal: controller.signal });
    const grandchild = await pidFrom(file, seenPids);
    controller.abort();
    const result = await running;
    expect(Date.now() - started).toBeLessThan(4000);
    expect(result).toMatchObject({ aborted: true, timedOut: false, exitCode: null, signal: "SIGTERM" });
    expect(await diesWithin(grandchild, 1000)).toBe(true);
  });

  test("an already aborted signal runs nothing", async () => {
    const file = join(tmp, "never.txt");
    const result = await bash(`touch '${file}'`, { signal: AbortSignal.abort() });
    expect(result).toMatchObject({ aborted: true, exitCode: null, stdout: "", stderr: "" });
    await Bun.sleep(100);
    expect(existsSync(file)).toBe(false);
  });

  test("killAllRunning kills every running tree", async () => {
    const files = [join(tmp, "all1.pid"), join(tmp, "all2.pid")];
    const runs = files.map((file) => bash(treeScript(file)));
    const grandchildren = await Promise.all(files.map((file) => pidFrom(file, seenPids)));
    expect(killAllRunning("SIGTERM")).toBe(2);
    const results = await Promise.all(runs);
    for (const result of results) expect(result).toMatchObject({ signal: "SIGTERM", exitCode: null });
    for (const pid of grandchildren) expect(await diesWithin(pid, 1000)).toBe(true);
    expect(killAllRunning()).toBe(0);
  });

  test("a missing program gives a readable spawnError", async () => {
    const result = await runProcess({ command: join(tmp, "no-such-program"), args: [] });
    expect(result.exitCode).toBeNull();
    expect(result.spawnError).toBe(`cannot run '${join(tmp, "no-such-program")}': no such file`);
    const bare = await runProcess({ command: "opentoe-no-such-command-xyz", args: [] });
    expect(bare.spawnError).toBe("cannot run 'opentoe-no-such-command-xyz': no such file");
  });

  test("a missing working directory is named as such", async () => {
    const result = await runProcess({ command: "bash", args: ["-c", "true"], cwd: join(tmp, "no-such-dir") });
    expect(result.spawnError).toBe(`cannot run 'bash': working directory '${join(tmp, "no-such-dir")}' does not exist`);
  });

  test("a non-executable file gives a readable spawnError", async () => {
    const file = join(tmp, "not-executable.sh");
    writeFileSync(file, "#!/bin/sh\necho hi\n");
    chmodSync(file, 0o644);
    const result = await runProcess({ command: file, args: [] });
    expect(result.exitCode).toBeNull();
    expect(result.spawnError).toBe(`cannot run '${file}': permission denied (is it executable?)`);
    const folder = await runProcess({ command: tmp, args: [] });
    expect(folder.spawnError).toBe(`cannot run '${tmp}': is a directory`);
  });

  test("input is delivered to stdin; without input stdin is empty", async () => {
    const result = await bash("cat; echo done", { input: "héllo\nworld" });
    expect(result.stdout).toBe("héllo\nworlddone\n");
    const empty = await bash("cat; echo done");
    expect(empty.stdout).toBe("done\n");
    // A child that never reads its input must not break the run (EPIPE is ignored).
    const ignored = await bash("exit 0", { input: "x".repeat(1024 * 1024) });
    expect(ignored.exitCode).toBe(0);
  });

  test("env and cwd are honoured", async () => {
    const result = await bash('echo "$OPENTOE_TEST_VAR"; pwd', { env: { PATH: process.env.PATH, OPENTOE_TEST_VAR: "value 1" }, cwd: tmp });
    expect(result.stdout).toBe(`value 1\n${realpathSync(tmp)}\n`);
  });

  test("passes arguments verbatim, without a shell", async () => {
    const result = await runProcess({ command: "printf", args: ["[%s]", "a b", "$HOME", "*", ""] });
    expect(result.stdout).toBe("[a b][$HOME][*][]");
  });
});
