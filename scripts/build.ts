#!/usr/bin/env bun
/**
 * @module scripts/build: compiles `awstoe` into single-file executables (TOOLCHAIN.md §2) and
 * writes the release checksums.
 *
 *   bun run scripts/build.ts                      every target in TARGETS
 *   bun run scripts/build.ts --host               only this machine's target
 *   bun run scripts/build.ts --target linux-arm64 one target (repeatable; also --target=name)
 *   bun run scripts/build.ts --checksums          only rewrite dist/SHA256SUMS (e.g. after build-node.ts)
 *
 * Flags are the recommended release set: minify, bytecode (always with ESM: bytecode with the
 * default CJS format writes a binary that crashes at start-up), and a source map embedded in the
 * binary plus a linked `.map` beside it. The executables never load a `.env`, `bunfig.toml`,
 * `tsconfig.json` or `package.json` from the folder they run in: they run as root in arbitrary
 * folders (test/e2e/no-dotenv.test.ts). Cross-compiling downloads the target's bun runtime from
 * the npm registry once into `<repo>/.cache/bun` (git-ignored), so later builds and CI reuse it.
 *
 * After building, every run copies scripts/install.sh into dist/ and rewrites dist/SHA256SUMS
 * over every release artefact present there (isArtefact()): `sha256sum -c SHA256SUMS` in dist/
 * checks them all, including files an earlier run left there. The tests' in-process host builds
 * (buildHost) leave SHA256SUMS alone, their child builds of other targets rewrite it; run
 * `npm run build` before publishing.
 *
 * Exits non-zero when any target fails to build or the host binary fails its `--version` smoke check.
 */
import { chmodSync, closeSync, copyFileSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { esmPackages } from "./_esm-packages.ts";

export const REPO = resolve(import.meta.dir, "..");
export const ENTRY = join(REPO, "src/main.ts");
/** Where cross-compilation caches downloaded bun runtimes (`bun-<target>-v<version>`). */
export const CACHE_DIR = join(REPO, ".cache/bun");
/** The release folder: what is uploaded, as-is, to `<base-url>/<version>/` (dist/README.md). */
export const DIST = join(REPO, "dist");
/** `sha256sum -c` list of every artefact in DIST. */
export const CHECKSUMS = join(DIST, "SHA256SUMS");
/** The POSIX sh installer, published beside the binaries. */
export const INSTALLER = join(REPO, "scripts/install.sh");

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
  // Built and checked for the right Mach-O header, but never run here: there is no macOS to run
  // them on in CI. Bun signs them ad hoc (an LC_CODE_SIGNATURE command is present).
  { name: "darwin-x64", target: "bun-darwin-x64", outfile: "dist/awstoe-darwin-x64" },
  { name: "darwin-arm64", target: "bun-darwin-arm64", outfile: "dist/awstoe-darwin-arm64" },
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
    // A binary that runs as root in whatever folder it is started from must not take settings,
    // preloads or environment from files it finds there. tsconfig/package.json are off by default
    // today; they are spelled out so a change of default cannot turn them on.
    compile: { target, outfile, autoloadDotenv: false, autoloadBunfig: false, autoloadTsconfig: false, autoloadPackageJson: false },
    minify: true,
    bytecode: true, // only ever with format "esm" (TOOLCHAIN.md §2)
    format: "esm",
    // Commands are dynamic imports; as separate chunks inside the executable they are loaded only
    // when used, which takes `--version` from about 19 ms to 13 ms on the 2-core CI machine.
    splitting: true,
    sourcemap: "linked",
    define,
    plugins: [esmPackages],
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

/** Compiles one target of the matrix, and checks the file is an executable for that OS and CPU. */
export async function buildTarget(target: Target, commit: string = gitCommit()): Promise<Built> {
  const path = outputPath(target);
  const { bytes, ms } = await compileExecutable(ENTRY, target.target, path, { OPENTOE_COMMIT: JSON.stringify(commit) });
  const format = executableFormat(path);
  const wanted = expectedFormat(target.target);
  if (format !== wanted) throw new Error(`${relative(REPO, path)} is a ${format} file, but ${target.target} needs ${wanted}`);
  return { target, path, bytes, ms };
}

/**
 * Builds one target in a child bun running this script (`--target name`) and returns the
 * executable's path. Tests use it for targets other than the host: bun reads the runtime cache
 * folder (.cache/bun) when it starts, so an in-process build would download the target's runtime
 * into ~/.bun instead.
 */
export async function buildTargetInChild(name: string): Promise<string> {
  const target = TARGETS.find((t) => t.name === name);
  if (target === undefined) throw new Error(`scripts/build.ts has no target '${name}'; targets: ${TARGETS.map((t) => t.name).join(", ")}`);
  const child = Bun.spawn([process.execPath, import.meta.path, "--target", target.name], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`scripts/build.ts --target ${target.name} exited ${code}:\n${out}${err}`);
  return outputPath(target);
}

/** "ELF x86-64", "PE x86-64", "Mach-O arm64", … from the first bytes of `path`, or "unknown". */
export function executableFormat(path: string): string {
  const head = Buffer.alloc(4096);
  const fd = openSync(path, "r");
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (head.readUInt32BE(0) === 0x7f454c46) {
    const machine = head.readUInt16LE(18);
    return `ELF ${machine === 0x3e ? "x86-64" : machine === 0xb7 ? "arm64" : `machine 0x${machine.toString(16)}`}`;
  }
  if (head.toString("latin1", 0, 2) === "MZ") {
    const pe = head.readUInt32LE(0x3c);
    if (pe + 6 > head.length || head.toString("latin1", pe, pe + 4) !== "PE\0\0") return "unknown";
    const machine = head.readUInt16LE(pe + 4);
    return `PE ${machine === 0x8664 ? "x86-64" : machine === 0xaa64 ? "arm64" : `machine 0x${machine.toString(16)}`}`;
  }
  if (head.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = head.readUInt32LE(4);
    return `Mach-O ${cpu === 0x01000007 ? "x86-64" : cpu === 0x0100000c ? "arm64" : `cpu 0x${cpu.toString(16)}`}`;
  }
  return "unknown";
}

/** The executableFormat() a bun compile target must produce. */
export function expectedFormat(target: Bun.Build.CompileTarget): string {
  const [, os, arch] = target.split("-");
  const container = os === "windows" ? "PE" : os === "darwin" ? "Mach-O" : "ELF";
  return `${container} ${arch === "x64" ? "x86-64" : "arm64"}`;
}

/**
 * True for the files of dist/ that are released and listed in SHA256SUMS: everything named
 * `awstoe-*` (executables, their source maps, the Node bundle) and install.sh. Not README.md,
 * not SHA256SUMS itself, not hidden or `.tmp` scratch files, nor leftovers of older build layouts.
 */
export function isArtefact(name: string): boolean {
  return name === "install.sh" || (name.startsWith("awstoe-") && !name.endsWith(".tmp"));
}

export interface Checksum {
  name: string;
  sha256: string;
}

/** Hex SHA-256 of a file, streamed (the executables are over 100 MB). */
export async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/**
 * Rewrites `<dir>/SHA256SUMS` over every artefact in `dir`: `<hex>  <name>` lines (GNU text
 * mode, what `sha256sum -c` and busybox read), sorted by byte order of the name so the file only
 * changes when an artefact does. Written beside and renamed, so a reader never sees half a list.
 */
export async function writeChecksums(dir: string = DIST): Promise<Checksum[]> {
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && isArtefact(entry.name))
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const sums: Checksum[] = [];
  for (const name of names) sums.push({ name, sha256: await sha256File(join(dir, name)) });
  const file = join(dir, "SHA256SUMS");
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, sums.map((s) => `${s.sha256}  ${s.name}\n`).join(""));
  renameSync(partial, file);
  return sums;
}

/** Copies scripts/install.sh into dist/ (mode 755), so it is published and checksummed with the binaries. */
export function publishInstaller(dir: string = DIST): string {
  const dest = join(dir, "install.sh");
  const partial = `${dest}.${process.pid}.tmp`;
  copyFileSync(INSTALLER, partial);
  chmodSync(partial, 0o755);
  renameSync(partial, dest);
  return dest;
}

/**
 * Runs `script argv` again in a child bun with BUN_INSTALL_CACHE_DIR set to CACHE_DIR and returns
 * its exit code, or undefined when this process already has it. Bun reads the variable when it
 * starts; setting process.env afterwards is too late for the cross-compile runtime download.
 */
export function rerunWithRuntimeCache(script: string, argv: readonly string[]): number | undefined {
  if (process.env.BUN_INSTALL_CACHE_DIR === CACHE_DIR) return undefined;
  mkdirSync(CACHE_DIR, { recursive: true });
  const child = Bun.spawnSync([process.execPath, script, ...argv], {
    env: { ...process.env, BUN_INSTALL_CACHE_DIR: CACHE_DIR },
    stdio: ["inherit", "inherit", "inherit"],
  });
  return child.exitCode ?? 1;
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

const USAGE = `usage: bun run scripts/build.ts [--host | --target <${TARGETS.map((t) => t.name).join("|")}>]... | --checksums`;

function usage(message: string): never {
  console.error(`build: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

interface Request {
  targets: Target[];
  /** `--checksums`: build nothing, only rewrite dist/SHA256SUMS. */
  checksumsOnly: boolean;
}

function parseArgs(argv: readonly string[]): Request {
  const chosen: Target[] = [];
  let checksumsOnly = false;
  const add = (t: Target) => {
    if (!chosen.includes(t)) chosen.push(t);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else if (arg === "--checksums") {
      checksumsOnly = true;
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
  if (checksumsOnly && chosen.length > 0) usage("--checksums builds nothing; give it alone");
  return { targets: chosen.length > 0 ? chosen : [...TARGETS], checksumsOnly };
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Copies the installer and rewrites SHA256SUMS; prints what the list covers. */
async function writeRelease(): Promise<void> {
  publishInstaller();
  const sums = await writeChecksums();
  console.log(`  ok    ${relative(REPO, CHECKSUMS)} lists ${sums.length} artefact(s): ${sums.map((s) => s.name).join(", ")}`);
}

/**
 * Executables in dist/ that this run did not build and that are older than the sources: they
 * are still listed in SHA256SUMS, which is worth a warning before anything is published.
 */
function staleLeftovers(built: readonly Built[]): string[] {
  return TARGETS.filter((t) => !built.some((b) => b.target === t))
    .map(outputPath)
    .filter((path) => staleReason(path) === "older than its sources");
}

async function main(argv: readonly string[]): Promise<number> {
  const { targets, checksumsOnly } = parseArgs(argv);
  const rerun = rerunWithRuntimeCache(import.meta.path, argv);
  if (rerun !== undefined) return rerun;
  if (checksumsOnly) {
    await writeRelease();
    return 0;
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
  await writeRelease();
  for (const path of staleLeftovers(built)) console.warn(`  note  ${relative(REPO, path)} is older than its sources and was not rebuilt by this run; SHA256SUMS lists it as it is`);
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
