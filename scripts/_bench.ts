/** What the benchmark scripts share: the compiled binary they measure, medians, and a main runner. */
import { createHash, randomFillSync } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join, relative } from "node:path";
import { buildHost, compileExecutable, hostTarget, outputPath, REPO, staleReason } from "./build.ts";

/** The host's compiled awstoe, rebuilt first when older than its sources. */
export async function hostBinary(): Promise<string> {
  const binary = outputPath(hostTarget());
  const reason = staleReason(binary);
  if (reason === undefined) {
    console.log(`using ${relative(REPO, binary)} (up to date)`);
    return binary;
  }
  console.log(`building ${relative(REPO, binary)} (${reason})…`);
  return buildHost();
}

export function median(samples: number[]): number {
  const sorted = [...samples].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs a benchmark's main and exits with its code; an error is one line, not a trace. */
export function runBench(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`${name}: ${(error as Error)?.message ?? String(error)}`);
      process.exit(1);
    },
  );
}

export interface Timing {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/**
 * Wall time of `once()` (which runs one command and returns its exit code): `warmup` untimed
 * calls, then the median, min and max of `runs` timed ones. Throws when a call exits with a code
 * not in `okCodes`, so a broken command is never reported as fast.
 */
export function timeCalls(label: string, once: () => number, runs: number, warmup: number, okCodes: readonly number[] = [0]): Timing {
  const checked = () => {
    const code = once();
    if (!okCodes.includes(code)) throw new Error(`${label} exited ${code} (expected ${okCodes.join(" or ")})`);
  };
  for (let i = 0; i < warmup; i++) checked();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    checked();
    samples.push(performance.now() - started);
  }
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), runs };
}

/**
 * A one-line `console.log` program compiled with the release flags for `target` into `dir`: the
 * floor any Bun executable starts from, so start-up targets are ratios to it, measured in the same
 * run. Cross targets need BUN_INSTALL_CACHE_DIR set when bun started (build.ts rerunWithRuntimeCache).
 */
export async function compileHelloWorld(target: Bun.Build.CompileTarget, dir: string): Promise<string> {
  const source = join(dir, "hello.ts");
  if (!existsSync(source)) writeFileSync(source, 'console.log("hi");\n');
  const out = join(dir, `hello-${target}${target.includes("windows") ? ".exe" : ""}`);
  await compileExecutable(source, target, out);
  return out;
}

/** Writes `bytes` random bytes to `path` (fsync'd) and returns their sha256. */
export function randomFile(path: string, bytes: number): string {
  const hash = createHash("sha256");
  const chunk = Buffer.allocUnsafe(Math.max(1, Math.min(bytes, 8 * 1024 * 1024)));
  const fd = openSync(path, "w");
  try {
    for (let left = bytes; left > 0; left -= chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, left));
      randomFillSync(part);
      hash.update(part);
      for (let at = 0; at < part.length; ) at += writeSync(fd, part, at);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/** The sha256 of a file, streamed. */
export async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of Bun.file(path).stream()) hash.update(chunk);
  return hash.digest("hex");
}

/** The value after `name` on the command line (`--runs 5`), undefined when `name` is absent. */
export function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  if (at === -1) return undefined;
  const value = process.argv[at + 1];
  if (value === undefined) throw new Error(`${name} needs a value`);
  return value;
}
