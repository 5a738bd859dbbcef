#!/usr/bin/env bun
/**
 * @module scripts/bench-fs: CopyFolder and DeleteFolder against cp -r and rm -r.
 *
 *   bun run scripts/bench-fs.ts                 (or: bun run bench:fs)
 *   bun run scripts/bench-fs.ts --in /dev/shm   the tree in another folder than os.tmpdir()
 *
 * Builds a tree of 10,000 small files (100 folders two levels deep, 1–8 KB each, ~45 MB) in a
 * temporary folder, then measures on this machine, median of 5 runs each:
 *   (a) `awstoe run` (the compiled binary) of a one-step CopyFolder document  vs  `cp -r`;
 *   (b) `awstoe run` of a one-step DeleteFolder (force: true) document       vs  `rm -r`.
 * Both sides are a process started on the same tree, which is how the modules are really used:
 * a document step in a fresh awstoe process. So the awstoe figure includes its start-up, document
 * validation and log writing, as a user's run does, and cp/rm include theirs. For reading the
 * numbers, the module's own time is also shown: execute() called in this process (not compared).
 *
 * Target: within 2× of cp -r / rm -r. Prints PASS/MISS per comparison and exits 0 unless it could
 * not measure at all. A module whose execute() is not written yet is reported and skipped.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { modules } from "../src/modules/index.ts";
import { hostBinary, runBench, median } from "./_bench.ts";
import { REPO } from "./build.ts";
import { moduleContext } from "../test/helpers/module-context.ts";

const FILES = 10_000;
const RUNS = 5;
const RATIO_TARGET = 2;



/** 10 × 10 folders of 100 files, sizes 1–8 KB, deterministic content. */
function buildTree(root: string): number {
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const folder = join(root, `d${i % 10}`, `e${Math.floor(i / 10) % 10}`);
    if (i < 100) mkdirSync(folder, { recursive: true });
    const size = 1024 + ((i * 7919) % 7168);
    writeFileSync(join(folder, `file-${i}.txt`), Buffer.alloc(size, `line ${i} of the bench tree\n`));
    bytes += size;
  }
  return bytes;
}

function countFiles(root: string): number {
  return readdirSync(root, { withFileTypes: true, recursive: true }).filter((entry) => entry.isFile()).length;
}

function documentText(action: "CopyFolder" | "DeleteFolder", inputs: Record<string, unknown>): string {
  const fields = Object.entries(inputs).map(([key, value]) => `            ${key}: ${JSON.stringify(value)}`).join("\n");
  return `name: Bench${action}
description: one ${action} step (scripts/bench-fs.ts)
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Step
        action: ${action}
        inputs:
          - ${fields.trimStart()}
`;
}

/** Wall ms of one process; throws unless it exited 0. */
function timed(command: string[]): number {
  const started = performance.now();
  const run = Bun.spawnSync(command, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" }, timeout: 600_000 });
  const ms = performance.now() - started;
  if (run.exitCode !== 0) {
    const out = `${run.stdout.toString()}${run.stderr.toString()}`.trim().split("\n").slice(-8).join("\n");
    throw new Error(`${command.map((c) => relative(process.cwd(), c) || c).join(" ")} exited ${run.exitCode}:\n${out}`);
  }
  return ms;
}

interface Paired {
  ours: { ms: number; samples: number[] };
  theirs: { ms: number; samples: number[] };
}

/**
 * Median of RUNS timed runs of each command, interleaved (theirs, ours, theirs, ours…) so that
 * both see the same machine: on a shared VM one run of the same `cp -r` can take 0.6 s or 8 s.
 * `prepare` runs untimed before every run; one warm-up pair is run first and its result checked.
 */
function compare(prepare: () => void, ours: string[], theirs: string[], check: () => void): Paired {
  for (const command of [theirs, ours]) {
    prepare();
    timed(command);
    check();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    prepare();
    b.push(timed(theirs));
    prepare();
    a.push(timed(ours));
  }
  return { ours: { ms: median(a), samples: a }, theirs: { ms: median(b), samples: b } };
}

async function measureInProcess(prepare: () => void, work: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    prepare();
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

const row = (label: string, ms: number, samples?: number[]) =>
  console.log(`${label.padEnd(50)} ${ms.toFixed(1).padStart(9)} ms${samples ? `   [${samples.map((s) => s.toFixed(0)).join(", ")}]` : ""}`);

function verdict(label: string, ours: number, theirs: number): void {
  const ratio = ours / theirs;
  console.log(`${label.padEnd(50)} ${ratio.toFixed(2).padStart(9)}×   (target ≤ ${RATIO_TARGET}×)  ${ratio <= RATIO_TARGET ? "PASS" : "MISS"}`);
}

async function main(): Promise<number> {
  const at = process.argv.indexOf("--in");
  const base = at === -1 ? tmpdir() : process.argv[at + 1];
  if (base === undefined) throw new Error("--in needs a folder");
  const scratch = mkdtempSync(join(base, "opentoe-bench-fs-"));
  try {
    const tree = join(scratch, "tree");
    const started = performance.now();
    const bytes = buildTree(tree);
    console.log(`tree: ${FILES} files in 100 folders, ${(bytes / 1e6).toFixed(1)} MB, built in ${(performance.now() - started).toFixed(0)} ms (${scratch})`);
    let binary: string | undefined;
    try {
      binary = await hostBinary();
    } catch (error) {
      console.log(`could not build the binary, only in-process figures follow: ${(error as Error).message}`);
    }
    const copy = join(scratch, "copy");
    const removeCopy = () => rmSync(copy, { recursive: true, force: true });
    const victim = join(scratch, "victim");
    const makeVictim = () => {
      rmSync(victim, { recursive: true, force: true });
      if (Bun.spawnSync(["cp", "-r", tree, victim]).exitCode !== 0) throw new Error("cp -r failed while preparing a tree to delete");
    };
    const checkCopy = () => {
      const count = countFiles(copy);
      if (count !== FILES) throw new Error(`the copy holds ${count} files, not ${FILES}`);
    };
    const checkDeleted = () => {
      if (readdirSync(scratch).includes("victim")) throw new Error("the folder to delete is still there");
    };
    const logs = join(scratch, "logs");
    const awstoe = (action: "CopyFolder" | "DeleteFolder", inputs: Record<string, unknown>) => {
      const doc = join(scratch, `${action}.yaml`);
      writeFileSync(doc, documentText(action, inputs));
      return [binary!, "run", "--documents", doc, "--log-directory", logs];
    };

    console.log(`\nmedians of ${RUNS} runs each, interleaved with the reference command, after one warm-up run each`);
    let copyRatio: [number, number] | undefined;
    if (modules.CopyFolder.execute === undefined) console.log("CopyFolder: execute() is not written yet — skipped");
    else {
      if (binary !== undefined) {
        const copied = compare(removeCopy, awstoe("CopyFolder", { source: tree, destination: copy, overwrite: false }), ["cp", "-r", tree, copy], checkCopy);
        row("cp -r", copied.theirs.ms, copied.theirs.samples);
        row("awstoe run: CopyFolder (compiled binary)", copied.ours.ms, copied.ours.samples);
        copyRatio = [copied.ours.ms, copied.theirs.ms];
      }
      const ctx = moduleContext({ cwd: scratch });
      const inProcess = await measureInProcess(removeCopy, () => modules.CopyFolder.execute!([{ source: tree, destination: copy, overwrite: false }], ctx));
      row("  (CopyFolder execute() in this process)", inProcess);
    }

    let deleteRatio: [number, number] | undefined;
    if (modules.DeleteFolder.execute === undefined) console.log("DeleteFolder: execute() is not written yet — skipped (rm -r not measured either)");
    else {
      if (binary !== undefined) {
        const deleted = compare(makeVictim, awstoe("DeleteFolder", { path: victim, force: true }), ["rm", "-r", victim], checkDeleted);
        row("rm -r", deleted.theirs.ms, deleted.theirs.samples);
        row("awstoe run: DeleteFolder force (compiled binary)", deleted.ours.ms, deleted.ours.samples);
        deleteRatio = [deleted.ours.ms, deleted.theirs.ms];
      }
      const ctx = moduleContext({ cwd: scratch });
      const inProcess = await measureInProcess(makeVictim, () => modules.DeleteFolder.execute!([{ path: victim, force: true }], ctx));
      row("  (DeleteFolder execute() in this process)", inProcess);
    }

    if (binary !== undefined) {
      const startup = median(Array.from({ length: RUNS }, () => timed([binary!, "--version"])));
      console.log(`    (awstoe --version start-up, included in each awstoe run: ${startup.toFixed(1)} ms)`);
    }
    console.log("");
    if (copyRatio !== undefined) verdict("CopyFolder / cp -r", ...copyRatio);
    else console.log("CopyFolder / cp -r: not measured");
    if (deleteRatio !== undefined) verdict("DeleteFolder / rm -r", ...deleteRatio);
    else console.log("DeleteFolder / rm -r: not measured");
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) runBench("bench-fs", main);
