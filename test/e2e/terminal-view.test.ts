/**
 * What a person sees in a real terminal (tmux; Debian package installed by scripts/ci-deps.sh)
 * and in a pipe, from the compiled binary: the live line of a quiet step, its header before its
 * output, status lines that never glue onto output without a newline, heartbeat lines off a
 * terminal, GitHub Actions groups.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { awstoeBinary, spawnAwstoe } from "../helpers/binary.ts";

const TMUX = Bun.which("tmux");
let binary: string;
let dir: string;

const DOC = `name: view
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Partial
        action: ExecuteBash
        inputs:
          commands: ["printf '100%%'"]
      - name: Quiet
        action: ExecuteBash
        inputs:
          commands: ["sleep 4", "echo quiet-done"]
`;

beforeAll(async () => {
  binary = await awstoeBinary();
  dir = mkdtempSync(join(tmpdir(), "opentoe-view-"));
  writeFileSync(join(dir, "doc.yaml"), DOC);
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function tmux(socket: string, ...args: string[]): string {
  const run = Bun.spawnSync([TMUX!, "-S", socket, ...args], { stdout: "pipe", stderr: "pipe" });
  return run.stdout.toString();
}

describe.skipIf(TMUX === null)("on a terminal (tmux)", () => {
  test("a quiet step shows a live line with its name and elapsed time; nothing glues onto output without a newline", async () => {
    const socket = join(dir, "tmux.sock");
    const command = `cd ${dir} && ${binary} run -d doc.yaml -l logs > summary.json; echo EXIT=$?; sleep 60`;
    tmux(socket, "new-session", "-d", "-s", "view", "-x", "160", "-y", "40", "env", "-u", "NO_COLOR", "TERM=xterm-256color", "sh", "-c", command);
    try {
      // While the quiet step sleeps, its live line is on screen.
      let screen = "";
      for (let i = 0; i < 50 && !/▶ \[view\] build\/Quiet ExecuteBash [1-3] s/.test(screen); i++) {
        await Bun.sleep(100);
        screen = tmux(socket, "capture-pane", "-p", "-t", "view");
      }
      expect(screen).toMatch(/▶ \[view\] build\/Quiet ExecuteBash [1-3] s/);
      expect(screen).not.toContain("quiet-done");
      for (let i = 0; i < 100 && !screen.includes("EXIT="); i++) {
        await Bun.sleep(100);
        screen = tmux(socket, "capture-pane", "-p", "-t", "view");
      }
      const lines = screen.split("\n");
      expect(screen).toContain("EXIT=0");
      // The header comes before the output; "100%" keeps its own line, the status line its own.
      const header = lines.findIndex((l) => l.includes("[view] build/Partial (ExecuteBash):"));
      const output = lines.findIndex((l) => l.trim() === "100%");
      const status = lines.findIndex((l) => /✔ \[view\] build\/Partial: success/.test(l));
      expect([header >= 0, output > header, status > output]).toEqual([true, true, true]);
      // The live line is gone once the step ended.
      expect(screen).not.toContain("▶");
    } finally {
      tmux(socket, "kill-server");
    }
  }, 60_000);
});

const MANY_ENDINGS = `name: endings
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: FailOne
        action: ExecuteBash
        onFailure: Continue
        inputs:
          commands: ["exit 3"]
      - name: Skipped
        action: ExecuteBash
        if:
          binaryExists: no-such-binary-xyz
        inputs:
          commands: ["true"]
      - name: Ignored
        action: ExecuteBash
        onFailure: Ignore
        inputs:
          commands: ["exit 4"]
      - name: Each
        action: ExecuteBash
        loop:
          forEach: [fine, nginx-bogus]
        inputs:
          commands: ['[ "{{ loop.value }}" = fine ]']
      - name: NeverRuns
        action: ExecuteBash
        inputs:
          commands: ["true"]
`;

describe("the recap", () => {
  test("counts, every failed/ignored/skipped/never-run step with its reason, the time and the log folder; failureMessage names every failure", async () => {
    writeFileSync(join(dir, "endings.yaml"), MANY_ENDINGS);
    const result = await spawnAwstoe(["run", "-d", "endings.yaml", "-l", "logs"], { cwd: dir, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    const recap = result.stderr.slice(result.stderr.indexOf("recap: "));
    const summary = JSON.parse(result.stdout.slice(result.stdout.indexOf("{"))) as { failureMessage: string; logUrl: string };
    expect(recap.split("\n").slice(0, 7)).toEqual([
      expect.stringMatching(/^recap: failed in \d+\.\d\d s — 5 step\(s\): 0 succeeded, 2 failed, 1 failure ignored, 1 skipped, 1 not run$/),
      "  ✖ [endings] build/FailOne (ExecuteBash): failed — ExecuteBash: the script exited with code 3",
      "  ↷ [endings] build/Skipped (ExecuteBash): skipped — if binaryExists: 'no-such-binary-xyz' is false",
      "  ! [endings] build/Ignored (ExecuteBash): ignoredFailure — ExecuteBash: the script exited with code 4",
      "  ✖ [endings] build/Each (ExecuteBash): failed — ExecuteBash: iteration 2 of 2 (nginx-bogus): the script exited with code 1",
      "  · [endings] build/NeverRuns (ExecuteBash): not run — the execution stopped before it",
      `log folder: ${summary.logUrl}`,
    ]);
    expect(summary.failureMessage).toBe("step 'build/FailOne' failed: ExecuteBash: the script exited with code 3; step 'build/Each' failed: ExecuteBash: iteration 2 of 2 (nginx-bogus): the script exited with code 1");
  }, 60_000);
});

describe("off a terminal", () => {
  test("start and end lines, a heartbeat for a quiet step, and no status line glued to output", async () => {
    const result = await spawnAwstoe(["run", "-d", "doc.yaml", "-l", "logs"], { cwd: dir, env: { AWSTOE_HEARTBEAT_SECONDS: "1", GITHUB_ACTIONS: undefined }, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.split("\n");
    expect(lines).toContain("[view] build/Quiet: running ExecuteBash");
    expect(lines.filter((l) => /^\[view\] build\/Quiet: still running ExecuteBash after \d s \(no output for 1 s\)$/.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(lines).toContain("100%");
    expect(lines.some((l) => /^✔ \[view\] build\/Partial: success/.test(l))).toBe(true);
    expect(result.stderr).not.toContain("\u001b[2K"); // no live-line control codes in a pipe
  }, 60_000);

  test("AWSTOE_HEARTBEAT_SECONDS=0 turns heartbeats off; GITHUB_ACTIONS folds each step's output", async () => {
    const result = await spawnAwstoe(["run", "-d", "doc.yaml", "-l", "logs"], { cwd: dir, env: { AWSTOE_HEARTBEAT_SECONDS: "0", GITHUB_ACTIONS: "true" }, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain("still running");
    const lines = result.stderr.split("\n");
    const open = lines.indexOf("::group::[view] build/Quiet (ExecuteBash)");
    const close = lines.indexOf("::endgroup::", open);
    expect(open).toBeGreaterThan(0);
    expect(lines.indexOf("quiet-done")).toBeGreaterThan(open);
    expect(close).toBeGreaterThan(lines.indexOf("quiet-done"));
  }, 60_000);
});

describe("warnings before anything runs", () => {
  test("run says what validate would warn about, on stderr and in application.log", async () => {
    writeFileSync(join(dir, "typo.yaml"), "name: typo\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: A\n        action: ExecuteBash\n        inputs:\n          commands: ['echo {{ Nmae }}']\n");
    const result = await spawnAwstoe(["run", "-d", "typo.yaml", "-l", "typo-logs"], { cwd: dir, timeoutMs: 30_000 });
    expect(result.code).toBe(0);
    const warning = "typo.yaml:9:28: '{{ Nmae }}' matches no parameter or constant, so it is kept as written";
    expect(result.stderr.split("\n")[0]).toBe(`warning: ${warning}`);
    const logUrl = (JSON.parse(result.stdout.slice(result.stdout.indexOf("{"))) as { logUrl: string }).logUrl;
    expect(readFileSync(join(logUrl, "application.log"), "utf8")).toContain(`WARN ${warning}`);
  }, 30_000);
});
