#!/usr/bin/env bun
/**
 * @module scripts/bench-startup: size and start-up time of every awstoe build that runs here.
 *
 *   bun run scripts/bench-startup.ts [--only linux-x64,linux-arm64,windows-x64,node]
 *
 * For each build, in one run and with the same runner (native, qemu-user, Wine, node):
 *   size       bytes of the executable (or bundle)
 *   hello      a compiled hello-world for the same target (for node: `node hello.cjs`): the floor
 *   --version  `awstoe --version`
 *   validate   `awstoe validate --documents <a small example document>`
 * Target: --version within 3× of hello (the same target as scripts/bench-validate.ts). The
 * validate ratio is printed for information. Times are medians of our own spawn loop (the spawn
 * cost is in both sides of each ratio). Under qemu every call costs seconds, so that row takes
 * fewer samples; emulated numbers say more about the emulator than about awstoe and carry no
 * verdict. A build whose runner is missing is listed as skipped.
 *
 * Always exits 0 unless it could not measure at all (a MISS is a report, not a failure).
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { missingWineTools, runUnderWine, runWine, stopWine, toWinePath, windowsBinary } from "../test/helpers/wine.ts";
import { compileHelloWorld, hostBinary, runBench, timeCalls, type Timing } from "./_bench.ts";
import { buildNodeBundle, NODE_BUNDLE, nodeBundleStaleReason } from "./build-node.ts";
import { buildTarget, outputPath, REPO, rerunWithRuntimeCache, staleReason, TARGETS } from "./build.ts";

const STARTUP_TARGET = 3;
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const LINUX_DOC = join(REPO, "examples/hello-linux.yaml");
const WINDOWS_DOC = join(REPO, "examples/hello-windows.yaml");

/** How one build is started, and how many samples its speed allows. */
interface Runner {
  name: string;
  /** Why it cannot run here, or undefined. */
  skip(): string | undefined;
  /** The file measured for size, built first when missing or stale. */
  prepare(scratch: string): Promise<{ artefact: string; hello: () => number; awstoe: (args: string[]) => number }>;
  /** Whether the ratio gets a PASS/MISS (not for emulated runs). */
  verdict: boolean;
  runs: number;
  warmup: number;
  doc: string;
  toProgram(path: string): string;
}

/** Exit code of argv with output discarded, in the bench environment. */
function spawnQuiet(argv: readonly string[]): number {
  const run = Bun.spawnSync([...argv], { stdin: "ignore", stdout: "ignore", stderr: "ignore", env: { ...process.env, NO_COLOR: "1" }, timeout: 120_000 });
  return run.exitCode ?? -1;
}

function targetNamed(name: string) {
  const target = TARGETS.find((t) => t.name === name);
  if (target === undefined) throw new Error(`scripts/build.ts has no ${name} target`);
  return target;
}

/** A cross target's executable, rebuilt in this process (it already has the runtime cache set). */
async function freshCrossBinary(name: string): Promise<string> {
  const target = targetNamed(name);
  const path = outputPath(target);
  const reason = staleReason(path);
  if (reason !== undefined) {
    console.log(`building ${relative(REPO, path)} (${reason})…`);
    await buildTarget(target);
  }
  return path;
}

const same = (path: string) => path;

const RUNNERS: Runner[] = [
  {
    name: "linux-x64",
    skip: () => (process.platform === "linux" && process.arch === "x64" ? undefined : `host is ${process.platform}-${process.arch}`),
    prepare: async (scratch) => {
      const binary = await hostBinary();
      const hello = await compileHelloWorld(targetNamed("linux-x64").target, scratch);
      return { artefact: binary, hello: () => spawnQuiet([hello]), awstoe: (args) => spawnQuiet([binary, ...args]) };
    },
    verdict: true,
    runs: 30,
    warmup: 3,
    doc: LINUX_DOC,
    toProgram: same,
  },
  {
    name: "linux-arm64 (qemu-user)",
    skip: () =>
      process.platform !== "linux" || process.arch !== "x64"
        ? "needs a linux-x64 host"
        : Bun.which("qemu-aarch64") === null || !existsSync(join(ARM64_SYSROOT, "lib/ld-linux-aarch64.so.1"))
          ? "qemu-user or libc6-arm64-cross not installed (scripts/ci-deps.sh)"
          : undefined,
    prepare: async (scratch) => {
      const binary = await freshCrossBinary("linux-arm64");
      const hello = await compileHelloWorld(targetNamed("linux-arm64").target, scratch);
      const qemu = ["qemu-aarch64", "-L", ARM64_SYSROOT];
      return { artefact: binary, hello: () => spawnQuiet([...qemu, hello]), awstoe: (args) => spawnQuiet([...qemu, binary, ...args]) };
    },
    verdict: false,
    runs: 5,
    warmup: 1,
    doc: LINUX_DOC,
    toProgram: same,
  },
  {
    name: "windows-x64 (Wine)",
    skip: () => {
      const missing = missingWineTools();
      return missing.length === 0 ? undefined : `${missing.join(", ")} not installed (scripts/ci-deps.sh)`;
    },
    prepare: async (scratch) => {
      const exe = await windowsBinary();
      const hello = await compileHelloWorld(targetNamed("windows-x64").target, scratch);
      return {
        artefact: exe,
        hello: () => runWine(hello, []).exitCode,
        awstoe: (args) => runUnderWine(args).exitCode,
      };
    },
    verdict: false,
    runs: 10,
    warmup: 2,
    doc: WINDOWS_DOC,
    toProgram: toWinePath,
  },
  {
    name: "node (awstoe-node.cjs)",
    skip: () => (Bun.which("node") === null ? "no node on PATH" : undefined),
    prepare: async (scratch) => {
      const reason = nodeBundleStaleReason();
      if (reason !== undefined) {
        console.log(`building ${relative(REPO, NODE_BUNDLE)} (${reason})…`);
        await buildNodeBundle();
      }
      const hello = join(scratch, "hello.cjs");
      writeFileSync(hello, 'console.log("hi");\n');
      return { artefact: NODE_BUNDLE, hello: () => spawnQuiet(["node", hello]), awstoe: (args) => spawnQuiet(["node", NODE_BUNDLE, ...args]) };
    },
    verdict: true,
    runs: 15,
    warmup: 2,
    doc: LINUX_DOC,
    toProgram: same,
  },
];

interface Row {
  name: string;
  bytes: number;
  hello: Timing;
  version: Timing;
  validate: Timing;
  verdict: boolean;
}

function selected(argv: readonly string[]): Runner[] {
  const only = argv.find((a) => a.startsWith("--only="))?.slice("--only=".length) ?? (argv[0] === "--only" ? argv[1] : undefined);
  if (argv.length > 0 && only === undefined) throw new Error(`unknown arguments '${argv.join(" ")}'; usage: bench-startup.ts [--only name,...]`);
  if (only === undefined) return RUNNERS;
  const names = only.split(",").map((n) => n.trim());
  const chosen = RUNNERS.filter((r) => names.some((n) => r.name.startsWith(n)));
  if (chosen.length === 0) throw new Error(`--only ${only} matches none of: ${RUNNERS.map((r) => r.name.split(" ")[0]).join(", ")}`);
  return chosen;
}

function ms(t: Timing): string {
  return t.median.toFixed(1).padStart(9);
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`.padStart(9);
}

async function measure(runner: Runner, scratch: string): Promise<Row> {
  const dir = mkdtempSync(join(scratch, "r-"));
  const { artefact, hello, awstoe } = await runner.prepare(dir);
  const doc = runner.toProgram(runner.doc);
  console.log(`measuring ${runner.name}: ${runner.runs} runs after ${runner.warmup} warm-up…`);
  return {
    name: runner.name,
    bytes: statSync(artefact).size,
    hello: timeCalls(`${runner.name} hello-world`, hello, runner.runs, runner.warmup),
    version: timeCalls(`${runner.name} --version`, () => awstoe(["--version"]), runner.runs, runner.warmup),
    validate: timeCalls(`${runner.name} validate ${relative(REPO, runner.doc)}`, () => awstoe(["validate", "--documents", doc]), runner.runs, runner.warmup),
    verdict: runner.verdict,
  };
}

function report(rows: readonly Row[], skipped: readonly string[]): void {
  console.log("");
  console.log(`${"build".padEnd(24)} ${"size".padStart(9)} ${"hello ms".padStart(9)} ${"--version".padStart(9)} ${"validate".padStart(9)}  ${"ver/hello".padStart(9)} ${"val/hello".padStart(9)}  target ≤ ${STARTUP_TARGET}×`);
  for (const row of rows) {
    const version = row.version.median / row.hello.median;
    const validate = row.validate.median / row.hello.median;
    const verdict = row.verdict ? (version <= STARTUP_TARGET ? "PASS" : "MISS") : "(qemu/Wine start-up dominates: no verdict)";
    console.log(
      `${row.name.padEnd(24)} ${mb(row.bytes)} ${ms(row.hello)} ${ms(row.version)} ${ms(row.validate)}  ${`${version.toFixed(2)}×`.padStart(9)} ${`${validate.toFixed(2)}×`.padStart(9)}  ${verdict}`,
    );
  }
  for (const line of skipped) console.log(`${line}`);
  console.log("\nmedians in ms of wall time per call, spawn included; hello = compiled hello-world for the same target and runner (node: `node hello.cjs`)");
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const runners = selected(argv);
  const rerun = rerunWithRuntimeCache(import.meta.path, argv);
  if (rerun !== undefined) return rerun;
  const scratch = mkdtempSync(join(tmpdir(), "opentoe-bench-startup-"));
  const rows: Row[] = [];
  const skipped: string[] = [];
  try {
    for (const runner of runners) {
      const why = runner.skip();
      if (why !== undefined) {
        skipped.push(`${runner.name.padEnd(24)} skipped: ${why}`);
        continue;
      }
      rows.push(await measure(runner, scratch));
    }
  } finally {
    stopWine();
    rmSync(scratch, { recursive: true, force: true });
  }
  if (rows.length === 0) throw new Error(`nothing could be measured here:\n${skipped.join("\n")}`);
  report(rows, skipped);
  return 0;
}

if (import.meta.main) runBench("bench-startup", main);
