#!/usr/bin/env bun
/**
 * @module scripts/build: compiles `awstoe` into single-file executables (TOOLCHAIN.md §2).
 *
 *   bun run scripts/build.ts                      every target in TARGETS
 *   bun run scripts/build.ts --host               only this machine's target
 *   bun run scripts/build.ts --target linux-arm64 one target (repeatable; also --target=name)
 *
 * Flags are the recommended release set: minify, bytecode (always with ESM: bytecode with the
 * default CJS format writes a binary that crashes at start-up), and a source map embedded in the
 * binary plus a linked `.map` beside it. The executables never load a `.env` or `bunfig.toml` from
 * the folder they run in. Cross-compiling downloads the target's bun runtime once into
 * `<repo>/.cache/bun` (git-ignored).
 *
 * Exits non-zero when any target fails to build or the host binary fails its `--version` smoke check.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "..");
export const ENTRY = join(REPO, "src/main.ts");
/** Where cross-compilation caches downloaded bun runtimes (`bun-<target>-v<version>`). */
export const CACHE_DIR = join(REPO, ".cache/bun");

export interface Target {
  /** Short name used on the command line and in file names. */
  name: string;
  /** Bun's compile target. */
  target: Bun.Build.CompileTarget;
  /** Output path relative to the repository. */
  outfile: string;
}

/** The release matrix. Add a row to add a target. */
export const TARGETS: readonly Target[] = [
  { name: "linux-x64", target: "bun-linux-x64", outfile: "dist/awstoe-linux-x64" },
  { name: "linux-arm64", target: "bun-linux-arm64", outfile: "dist/awstoe-linux-arm64" },
  { name: "windows-x64", target: "bun-windows-x64", outfile: "dist/awstoe-windows-x64.exe" },
];

export interface Built {
  target: Target;
  /** Absolute path of the executable. */
  path: string;
  bytes: number;
  ms: number;
}

/** This machine's row of TARGETS; throws when the host is not a build target. */
export function hostTarget(): Target {
  const name = `${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;
  const found = TARGETS.find((t) => t.name === name);
  if (found === undefined) {
    throw new Error(`this machine (${name}) is not one of the build targets: ${TARGETS.map((t) => t.name).join(", ")}`);
  }
  return found;
}

/** Absolute path of a target's executable. */
export function outputPath(target: Target): string {
  return join(REPO, target.outfile);
}

/** `git rev-parse --short HEAD`, or "unknown" outside a git checkout. */
export function gitCommit(): string {
  try {
    const git = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
    const commit = git.stdout.toString().trim();
    return git.exitCode === 0 && commit !== "" ? commit : "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * Compiles `entry` into a single-file executable with the release flags. Throws with bun's
 * messages when the build fails or logs an error. Also used by scripts/bench-validate.ts for its
 * hello-world baseline, so both are built the same way.
 */
export async function compileExecutable(
  entry: string,
  target: Bun.Build.CompileTarget,
  outfile: string,
  define: Record<string, string> = {},
): Promise<{ bytes: number; ms: number }> {
  mkdirSync(dirname(outfile), { recursive: true });
  const started = performance.now();
  const result = await Bun.build({
    entrypoints: [entry],
    compile: { target, outfile, autoloadDotenv: false, autoloadBunfig: false },
    minify: true,
    bytecode: true, // only ever with format "esm" (TOOLCHAIN.md §2)
    format: "esm",
    // Commands are dynamic imports; as separate chunks inside the executable they are loaded only
    // when used, which takes `--version` from about 19 ms to 13 ms on the 2-core CI machine.
    splitting: true,
    sourcemap: "linked",
    define,
    throw: false,
  });
  const ms = performance.now() - started;
  // A failed bytecode step can still leave a (broken) binary behind, so an error in the logs is fatal too.
  const errors = result.logs.filter((log) => log.level === "error");
  if (!result.success || errors.length > 0) {
    const detail = (errors.length > 0 ? errors : result.logs).map((log) => `  ${String(log)}`).join("\n");
    throw new Error(`compiling ${relative(REPO, entry)} for ${target} failed${detail === "" ? "" : `:\n${detail}`}`);
  }
  for (const log of result.logs) console.warn(`  ${target}: ${log.level}: ${String(log)}`);
  // The compiled binary embeds its source maps; the per-chunk copies written beside it only clutter dist/.
  for (const name of readdirSync(dirname(outfile))) if (/^chunk-.*\.js\.map$/.test(name)) rmSync(join(dirname(outfile), name), { force: true });
  try {
    return { bytes: statSync(outfile).size, ms };
  } catch {
    throw new Error(`compiling for ${target} reported success but wrote no ${outfile}`);
  }
}

/** Compiles one target of the matrix. */
export async function buildTarget(target: Target, commit: string = gitCommit()): Promise<Built> {
  const path = outputPath(target);
  const { bytes, ms } = await compileExecutable(ENTRY, target.target, path, { OPENTOE_COMMIT: JSON.stringify(commit) });
  return { target, path, bytes, ms };
}

/** Newest modification time (ms) of any file under `dir`, recursively. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.isFile()) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Why the executable at `binary` must be rebuilt ("missing", "older than its sources"), or
 * undefined when it is newer than every file under src/, package.json (the version) and this script.
 */
export function staleReason(binary: string): string | undefined {
  let built: number;
  try {
    built = statSync(binary).mtimeMs;
  } catch {
    return "missing";
  }
  const inputs = Math.max(newestMtime(join(REPO, "src")), statSync(join(REPO, "package.json")).mtimeMs, statSync(import.meta.path).mtimeMs);
  return inputs > built ? "older than its sources" : undefined;
}

/** Builds this machine's executable and returns its absolute path (used by the e2e tests). */
export async function buildHost(): Promise<string> {
  return (await buildTarget(hostTarget())).path;
}

/** Runs `<binary> --version` and checks the line names the commit it was built from. */
export function smokeCheck(path: string, commit: string): { ok: boolean; line: string } {
  const run = Bun.spawnSync([path, "--version"], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  const line = `${run.stdout.toString()}${run.stderr.toString()}`.trim();
  const ok = run.exitCode === 0 && /^awstoe \S+ \(opentoe, commit \S+\)$/.test(line) && line.includes(`commit ${commit})`);
  return { ok, line: line === "" ? `(no output, exit ${run.exitCode ?? run.signalCode})` : line };
}

function usage(message: string): never {
  console.error(`build: ${message}`);
  console.error(`usage: bun run scripts/build.ts [--host | --target <${TARGETS.map((t) => t.name).join("|")}>]...`);
  process.exit(2);
}

function selectTargets(argv: readonly string[]): Target[] {
  const chosen: Target[] = [];
  const add = (t: Target) => {
    if (!chosen.includes(t)) chosen.push(t);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      console.log(`usage: bun run scripts/build.ts [--host | --target <${TARGETS.map((t) => t.name).join("|")}>]...`);
      process.exit(0);
    } else if (arg === "--host") {
      try {
        add(hostTarget());
      } catch (error) {
        usage((error as Error).message);
      }
    } else if (arg === "--target" || arg.startsWith("--target=")) {
      const value = arg === "--target" ? argv[++i] : arg.slice("--target=".length);
      if (value === undefined || value === "") usage("--target needs a value");
      const found = TARGETS.find((t) => t.name === value || t.target === value);
      if (found === undefined) usage(`unknown target '${value}'; targets: ${TARGETS.map((t) => t.name).join(", ")}`);
      add(found);
    } else {
      usage(`unknown argument '${arg}'`);
    }
  }
  return chosen.length > 0 ? chosen : [...TARGETS];
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

async function main(argv: readonly string[]): Promise<number> {
  const targets = selectTargets(argv);
  // Bun reads BUN_INSTALL_CACHE_DIR when the process starts; setting process.env now is too late
  // for the runtime download, so run again with it set.
  if (process.env.BUN_INSTALL_CACHE_DIR !== CACHE_DIR) {
    mkdirSync(CACHE_DIR, { recursive: true });
    const child = Bun.spawnSync([process.execPath, import.meta.path, ...argv], {
      env: { ...process.env, BUN_INSTALL_CACHE_DIR: CACHE_DIR },
      stdio: ["inherit", "inherit", "inherit"],
    });
    return child.exitCode ?? 1;
  }
  const commit = gitCommit();
  console.log(`building awstoe (commit ${commit}) for ${targets.map((t) => t.name).join(", ")}`);
  let failures = 0;
  const built: Built[] = [];
  for (const target of targets) {
    try {
      const b = await buildTarget(target, commit);
      built.push(b);
      console.log(`  ok    ${target.name.padEnd(12)} ${relative(REPO, b.path).padEnd(30)} ${mb(b.bytes).padStart(9)} (${b.bytes} bytes) in ${(b.ms / 1000).toFixed(1)} s`);
    } catch (error) {
      failures++;
      console.error(`  FAIL  ${target.name}: ${(error as Error).message}`);
    }
  }
  let host: Target | undefined;
  try {
    host = hostTarget();
  } catch {
    host = undefined;
  }
  const hostBuilt = built.find((b) => b.target === host);
  if (hostBuilt !== undefined) {
    const smoke = smokeCheck(hostBuilt.path, commit);
    console.log(`  ${smoke.ok ? "ok  " : "FAIL"}  smoke: ${relative(REPO, hostBuilt.path)} --version → ${smoke.line}`);
    if (!smoke.ok) failures++;
  } else {
    console.log("  (host target not built; no smoke check)");
  }
  if (failures > 0) console.error(`build: ${failures} failure(s)`);
  return failures > 0 ? 1 : 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`build: ${(error as Error)?.stack ?? String(error)}`);
      process.exit(1);
    },
  );
}
