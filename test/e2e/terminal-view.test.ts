/**
 * What a person sees in a real terminal (tmux; Debian package installed by scripts/ci-deps.sh)
 * and in a pipe, from the compiled binary: the live line of a quiet step, its header before its
 * output, status lines that never glue onto output without a newline, heartbeat lines off a
 * terminal, GitHub Actions groups.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
