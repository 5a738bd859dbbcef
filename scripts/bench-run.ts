#!/usr/bin/env bun
/**
 * @module scripts/bench-run: the per-step overhead of `awstoe run`.
 *
 *   bun run scripts/bench-run.ts          (or: bun run bench:run)
 *
 * Generates a document of 200 trivial ExecuteBash steps (`true`) and measures, on this machine:
 *   (a) `awstoe run` of it with the compiled binary — median wall time of 5 runs;
 *   (b) the same 200 commands run by a plain loop in this process: per step, write the script
 *       file as awstoe does (a step folder, input.sh, mode 0700) and spawnSync('bash', [script])
 *       — median of 5 loops;
 *   (c) ansible-playbook, connection: local, 200 `command: "true"` tasks — only when
 *       ansible-playbook is on PATH (nothing is installed); one run;
 *   (d) (a) inside a pseudo-terminal (util-linux script), with the live view and with stderr sent to
 *       a file: what the terminal view costs per step (target ≤ 1% of a step's time).
 *
 * Prints the per-step overhead ((a) − (b)) / 200 and the ratios. Targets: under 1 ms per step
 * above the raw spawn, and ≥ 100× faster than ansible per task. Prints PASS/MISS and exits 0
 * unless it could not measure at all.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { hostBinary, runBench, median } from "./_bench.ts";
import { REPO } from "./build.ts";

const STEPS = 200;
const RUNS = 5;
const STEP_OVERHEAD_TARGET_MS = 1;
const ANSIBLE_RATIO_TARGET = 100;
const LIVE_VIEW_TARGET_PERCENT = 1;



function documentText(): string {
  const steps = Array.from(
    { length: STEPS },
    (_, i) => `      - name: Step${String(i + 1).padStart(3, "0")}
        action: ExecuteBash
        inputs:
          commands:
            - "true"
`,
  ).join("");
  return `name: Bench${STEPS}
description: ${STEPS} trivial ExecuteBash steps (scripts/bench-run.ts)
schemaVersion: 1.0
phases:
  - name: build
    steps:
${steps}`;
}

function playbookText(): string {
  const tasks = Array.from({ length: STEPS }, (_, i) => `    - name: step ${i + 1}\n      command: "true"\n`).join("");
  return `- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
${tasks}`;
}

/** (a) One `awstoe run`; returns wall ms. Throws unless it succeeded with every step run. */
function awstoeOnce(binary: string, doc: string, logDir: string): number {
  const started = performance.now();
  const run = Bun.spawnSync([binary, "run", "--documents", doc, "--log-directory", logDir], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "ignore",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 120_000,
  });
  const ms = performance.now() - started;
  if (run.exitCode !== 0) throw new Error(`awstoe run exited ${run.exitCode}`);
  const stdout = run.stdout.toString();
  const summary = JSON.parse(stdout.slice(stdout.lastIndexOf("\n{") + 1)) as { status: string; executedStepCount: number };
  if (summary.status !== "success" || summary.executedStepCount !== STEPS) {
    throw new Error(`awstoe run: status ${summary.status}, ${summary.executedStepCount} steps (expected success, ${STEPS})`);
  }
  return ms;
}

/**
 * (d) One `awstoe run` inside a pseudo-terminal (util-linux `script`), with stderr on the terminal
 * (live line, headers: `live`) or sent to a file (no live view), so both pay the same pty.
 */
function underTerminalOnce(script: string, binary: string, doc: string, logDir: string, live: boolean): number {
  const command = `'${binary}' run --documents '${doc}' --log-directory '${logDir}' > /dev/null${live ? "" : ` 2> '${logDir}.stderr'`}`;
  const started = performance.now();
  const run = Bun.spawnSync([script, "-qec", command, "/dev/null"], { stdin: "ignore", stdout: "ignore", stderr: "ignore", env: { ...process.env, NO_COLOR: "1" }, timeout: 120_000 });
  const ms = performance.now() - started;
  if (run.exitCode !== 0) throw new Error(`awstoe run under script exited ${run.exitCode}`);
  return ms;
}

/** (b) The same commands by a plain loop in this process, with a script file per step. */
function plainLoopOnce(folder: string): number {
  const started = performance.now();
  for (let i = 0; i < STEPS; i++) {
    const stepFolder = join(folder, "steps", "build", `Step${String(i + 1).padStart(3, "0")}`);
    mkdirSync(stepFolder, { recursive: true });
    const script = join(stepFolder, "input.sh");
    writeFileSync(script, "true\n", { mode: 0o700 });
    const run = spawnSync("bash", [script], { stdio: ["ignore", "pipe", "pipe"] });
    if (run.status !== 0) throw new Error(`bash ${script} exited ${run.status}`);
  }
  return performance.now() - started;
}

/** (c) One ansible-playbook run; returns wall ms. */
function ansibleOnce(ansible: string, playbook: string, scratch: string): number {
  const started = performance.now();
  const run = Bun.spawnSync([ansible, "-i", "localhost,", playbook], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    cwd: scratch,
    env: { ...process.env, ANSIBLE_NOCOLOR: "1", ANSIBLE_LOCALHOST_WARNING: "false", ANSIBLE_RETRY_FILES_ENABLED: "false" },
    timeout: 1_800_000,
  });
  const ms = performance.now() - started;
  if (run.exitCode !== 0) throw new Error(`ansible-playbook exited ${run.exitCode}: ${run.stderr.toString().slice(-2000)}`);
  return ms;
}

function verdict(ok: boolean): string {
  return ok ? "PASS" : "MISS";
}

async function main(): Promise<number> {
  const scratch = mkdtempSync(join(tmpdir(), "opentoe-bench-run-"));
  try {
    const binary = await hostBinary();
    const doc = join(scratch, `bench-${STEPS}.yaml`);
    writeFileSync(doc, documentText());

    // Warm-up (file cache, binary pages), then the timed runs, each in a fresh log directory.
    awstoeOnce(binary, doc, join(scratch, "warmup-a"));
    plainLoopOnce(join(scratch, "warmup-b"));
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      a.push(awstoeOnce(binary, doc, join(scratch, `a${i}`)));
      b.push(plainLoopOnce(join(scratch, `b${i}`)));
    }
    const aMs = median(a);
    const bMs = median(b);

    // For reading the numbers: one awstoe start-up, which (a) pays once.
    const startup = median(
      Array.from({ length: RUNS }, () => {
        const t = performance.now();
        Bun.spawnSync([binary, "--version"], { stdout: "ignore", stderr: "ignore" });
        return performance.now() - t;
      }),
    );

    console.log(`\n${STEPS} steps of \`true\`; medians of ${RUNS} runs`);
    const row = (label: string, ms: number, samples?: number[]) =>
      console.log(`${label.padEnd(52)} ${ms.toFixed(1).padStart(9)} ms  ${(ms / STEPS).toFixed(3).padStart(7)} ms/step${samples ? `   [${samples.map((s) => s.toFixed(0)).join(", ")}]` : ""}`);
    row("(a) awstoe run (compiled)", aMs, a);
    row("(b) plain loop: write script + spawnSync bash", bMs, b);
    console.log(`    (awstoe --version start-up, paid once by (a): ${startup.toFixed(1)} ms)`);

    let ansibleMs: number | undefined;
    const ansible = Bun.which("ansible-playbook");
    if (ansible === null) {
      console.log("(c) ansible not installed — skipped");
    } else {
      const playbook = join(scratch, "bench.yml");
      writeFileSync(playbook, playbookText());
      ansibleMs = ansibleOnce(ansible, playbook, scratch);
      row("(c) ansible-playbook, connection: local (1 run)", ansibleMs);
    }

    // (d) The live view's cost: the same run on a terminal with and without it.
    const script = Bun.which("script");
    let liveShare: number | undefined;
    if (script === null) {
      console.log("(d) util-linux script not found — live view not measured");
    } else {
      const withLive: number[] = [];
      const without: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        withLive.push(underTerminalOnce(script, binary, doc, join(scratch, `d-live${i}`), true));
        without.push(underTerminalOnce(script, binary, doc, join(scratch, `d-plain${i}`), false));
      }
      row("(d) on a terminal, live view on", median(withLive), withLive);
      row("(d) on a terminal, stderr to a file (no live view)", median(without), without);
      liveShare = (median(withLive) - median(without)) / median(without);
    }

    const overhead = (aMs - bMs) / STEPS;
    console.log("");
    console.log(`awstoe / plain loop            = ${(aMs / bMs).toFixed(2)}×`);
    console.log(`per-step overhead ((a)-(b))/${STEPS} = ${overhead.toFixed(3)} ms  (target < ${STEP_OVERHEAD_TARGET_MS} ms)  ${verdict(overhead < STEP_OVERHEAD_TARGET_MS)}`);
    if (liveShare !== undefined) {
      console.log(`live view cost per step        = ${(liveShare * 100).toFixed(2)}% of a step's time  (target ≤ ${LIVE_VIEW_TARGET_PERCENT}%)  ${verdict(liveShare * 100 <= LIVE_VIEW_TARGET_PERCENT)}`);
    }
    if (ansibleMs === undefined) {
      console.log(`ansible / awstoe per task      = n/a  (target ≥ ${ANSIBLE_RATIO_TARGET}×)  SKIPPED (ansible not installed)`);
    } else {
      const ratio = ansibleMs / aMs;
      console.log(`ansible / awstoe per task      = ${ratio.toFixed(1)}×  (target ≥ ${ANSIBLE_RATIO_TARGET}×)  ${verdict(ratio >= ANSIBLE_RATIO_TARGET)}`);
    }
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) runBench("bench-run", main);
