#!/usr/bin/env bun
/**
 * @module scripts/bench-validate: start-up and corpus-validation timings of the compiled awstoe.
 *
 *   bun run scripts/bench-validate.ts [corpus-dir]     (or CORPUS_DIR=…; default ../shared/corpus/docs)
 *
 * Measures, in one run and on this machine:
 *   (a) a compiled hello-world (same compile flags) — the floor for any Bun executable
 *   (b) awstoe --version
 *   (c) awstoe validate --documents <every corpus *.yaml, comma-joined> --platform linux (one call)
 *   (d) 20 × awstoe --version, one after another
 * with `hyperfine -N` when it is installed, otherwise with medians of its own 30 spawns.
 *
 * Targets: (b)/(a) ≤ 3×, and (c)/(d) < 1 (validating the whole corpus costs less than 20 start-ups).
 * It prints PASS/MISS per target and always exits 0 unless it could not measure at all.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { hostBinary, runBench } from "./_bench.ts";
import { compileExecutable, hostTarget, REPO } from "./build.ts";

const RUNS = 30;
const WARMUP = 3;
const VERSION_REPEAT = 20;

interface Case {
  key: string;
  label: string;
  /** argv; for (d) a shell loop so hyperfine can time it as one command. */
  argv: string[];
  /** Exit codes that mean "ran normally" (the corpus has documents that are meant to fail). */
  okCodes: number[];
  /** Own-loop form: how many times to spawn argv per sample. */
  repeat: number;
}

interface Timing {
  median: number;
  min: number;
  max: number;
  runs: number;
}


function corpusDocuments(): { dir: string; docs: string[] } {
  const dir = resolve(REPO, process.argv[2] ?? process.env.CORPUS_DIR ?? "../shared/corpus/docs");
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`corpus folder ${dir} does not exist (pass a folder or set CORPUS_DIR)`);
  const docs = readdirSync(dir).filter((n) => n.endsWith(".yaml")).sort().map((n) => join(dir, n));
  if (docs.length === 0) throw new Error(`no *.yaml files in ${dir}`);
  return { dir, docs };
}

/** One run of argv with output discarded; returns exit code. */
function spawnOnce(argv: string[]): number {
  const run = Bun.spawnSync(argv, { stdin: "ignore", stdout: "ignore", stderr: "ignore", env: { ...process.env, NO_COLOR: "1" }, timeout: 60_000 });
  return run.exitCode ?? -1;
}

function ownLoop(c: Case): Timing {
  for (let i = 0; i < WARMUP; i++) for (let r = 0; r < c.repeat; r++) spawnOnce(c.argv);
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    for (let r = 0; r < c.repeat; r++) spawnOnce(c.argv);
    samples.push(performance.now() - t);
  }
  samples.sort((x, y) => x - y);
  const mid = samples.length >> 1;
  const median = samples.length % 2 === 1 ? samples[mid]! : (samples[mid - 1]! + samples[mid]!) / 2;
  return { median, min: samples[0]!, max: samples[samples.length - 1]!, runs: samples.length };
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function hyperfine(bin: string, cases: Case[], scratch: string): Map<string, Timing> {
  const out = join(scratch, "hyperfine.json");
  const args = [bin, "-N", "--warmup", String(WARMUP), "--runs", String(RUNS), "--export-json", out, "--style", "basic"];
  // (c) exits 1 when a corpus document is invalid. hyperfine's -i covers every command, but the
  // sanity run before timing has already checked each command's exit code.
  if (cases.some((c) => c.okCodes.some((code) => code !== 0))) args.push("-i");
  for (const c of cases) {
    // hyperfine -N splits the command like a shell would; (d) is a shell loop in argv already.
    const argv = c.repeat === 1 ? c.argv : ["sh", "-c", `i=0; while [ $i -lt ${c.repeat} ]; do "$0" --version >/dev/null || exit 1; i=$((i+1)); done`, c.argv[0]!];
    args.push("-n", c.key, argv.map(shellQuote).join(" "));
  }
  const run = Bun.spawnSync(args, { stdout: "inherit", stderr: "inherit", env: { ...process.env, NO_COLOR: "1" } });
  if (run.exitCode !== 0) throw new Error(`hyperfine exited ${run.exitCode}`);
  const json = JSON.parse(readFileSync(out, "utf8")) as { results: { command: string; median: number; min: number; max: number; times: number[] }[] };
  const timings = new Map<string, Timing>();
  for (const r of json.results) timings.set(r.command, { median: r.median * 1000, min: r.min * 1000, max: r.max * 1000, runs: r.times.length });
  return timings;
}

function verdict(ok: boolean): string {
  return ok ? "PASS" : "MISS";
}

async function main(): Promise<number> {
  const scratch = mkdtempSync(join(tmpdir(), "opentoe-bench-"));
  try {
    const binary = await hostBinary();
    const { dir, docs } = corpusDocuments();

    const helloSource = join(scratch, "hello.ts");
    writeFileSync(helloSource, 'console.log("hi");\n');
    const hello = join(scratch, "hello");
    await compileExecutable(helloSource, hostTarget().target, hello);

    const cases: Case[] = [
      { key: "hello", label: "(a) hello-world start-up", argv: [hello], okCodes: [0], repeat: 1 },
      { key: "version", label: "(b) awstoe --version", argv: [binary, "--version"], okCodes: [0], repeat: 1 },
      { key: "corpus", label: `(c) validate ${docs.length} corpus docs, one call`, argv: [binary, "validate", "--documents", docs.join(","), "--platform", "linux"], okCodes: [0, 1], repeat: 1 },
      { key: "version20", label: `(d) ${VERSION_REPEAT} × awstoe --version`, argv: [binary, "--version"], okCodes: [0], repeat: VERSION_REPEAT },
    ];

    // Sanity: each command runs normally before we time it.
    for (const c of cases) {
      const code = spawnOnce(c.argv);
      if (!c.okCodes.includes(code)) throw new Error(`${c.label}: '${c.argv.slice(0, 3).join(" ")}…' exited ${code} (expected ${c.okCodes.join(" or ")})`);
    }
    const corpusRun = Bun.spawnSync(cases[2]!.argv, { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    const valid = (corpusRun.stderr.toString().match(/^✔ /gm) ?? []).length;
    console.log(`corpus: ${docs.length} documents in ${relative(process.cwd(), dir) || dir}; ${valid} valid for linux (exit ${corpusRun.exitCode})`);

    const hf = Bun.which("hyperfine") ?? undefined;
    let timings: Map<string, Timing>;
    let method: string;
    if (hf !== undefined) {
      method = `hyperfine -N, ${RUNS} runs after ${WARMUP} warm-up`;
      timings = hyperfine(hf, cases, scratch);
    } else {
      method = `own loop: median of ${RUNS} samples after ${WARMUP} warm-up (hyperfine not installed)`;
      timings = new Map(cases.map((c) => [c.key, ownLoop(c)]));
    }

    const t = (key: string) => timings.get(key)!;
    console.log(`\nmethod: ${method}`);
    console.log(`${"case".padEnd(44)} ${"median ms".padStart(10)} ${"min".padStart(8)} ${"max".padStart(8)}`);
    for (const c of cases) {
      const x = t(c.key);
      console.log(`${c.label.padEnd(44)} ${x.median.toFixed(1).padStart(10)} ${x.min.toFixed(1).padStart(8)} ${x.max.toFixed(1).padStart(8)}`);
    }
    const startup = t("version").median / t("hello").median;
    const corpus = t("corpus").median / t("version20").median;
    console.log("");
    console.log(`version / hello          = ${startup.toFixed(2)}×  (target ≤ 3×)  ${verdict(startup <= 3)}`);
    console.log(`corpus / ${VERSION_REPEAT}×version     = ${corpus.toFixed(2)}   (target < 1)   ${verdict(corpus < 1)}`);
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) runBench("bench-validate", main);
