#!/usr/bin/env bun
/**
 * @module scripts/release-tree: turns the build outputs in dist/ into the release tree that is
 * published (scripts/publish.ts) and installed from (scripts/install.sh), in AWSTOE's download
 * layout — dist/release/<version>/<os>/<arch>/awstoe[.exe] — with signatures (scripts/_release-layout.ts
 * has the whole shape; dist/README.md explains it to release managers).
 *
 *   bun run scripts/release-tree.ts                       after the builds (npm run build runs it)
 *   bun run scripts/release-tree.ts --require-signatures  refuse to write an unsigned tree
 *   bun run scripts/release-tree.ts --out DIR             write DIR/<version>/ instead of dist/release/<version>/
 *
 * Signing keys come from the environment (scripts/_sign.ts lists the variables). Without them the
 * tree is written unsigned — good for trying a build, refused by publish.ts.
 *
 * Order matters: Authenticode changes the .exe, so it is signed first; SHA256SUMS is computed over
 * the final files; then every binary, install.sh and SHA256SUMS get a detached OpenPGP signature,
 * and each signature is checked again against nothing but the exported public key. The tree is
 * assembled in a private staging folder beside its final place and renamed into place whole, so
 * neither a failed build nor a reader ever sees half a release.
 *
 * Before copying, every binary must carry this checkout's version and commit (the one `--version`
 * prints): binaries this machine can run are run; the others are searched for the text. A binary
 * left in dist/ by a build of another commit stops the tree.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import packageJson from "../package.json" with { type: "json" };
import { DIST, gitCommit, REPO, sha256File } from "./build.ts";
import { binaryPath, checkReleaseFolder, FINGERPRINT, formatSums, INSTALLER, isSigned, isSummed, isVersionName, listFiles, PLATFORMS, PUBLIC_KEY, type ReleasePlatform, signaturePath, SUMS } from "./_release-layout.ts";
import { type AuthenticodeSigner, authenticodeSignerFromEnv, type GpgSigner, gpgSignerFromEnv, verifyWithKeyOnly } from "./_sign.ts";

export const RELEASE_DIR = join(DIST, "release");
const INSTALLER_SOURCE = join(REPO, "scripts/install.sh");
/** The one line of install.sh a release rewrites to pin its key (install.sh keeps it exactly so). */
const PIN_LINE = 'PINNED_KEY_FINGERPRINT=""';

export interface TreeOptions {
  /** Parent folder of the version folder; default dist/release. */
  out?: string;
  version?: string;
  commit?: string;
  /** `<os>/<arch>` → the file to release there, instead of the platform's dist/ file (tests). */
  sources?: Record<string, string>;
  gpg?: GpgSigner;
  authenticode?: AuthenticodeSigner;
  log?: (line: string) => void;
}

export interface Tree {
  /** The version folder. */
  dir: string;
  files: string[];
  signed: boolean;
  /** What checkReleaseFolder says is missing before it can be published (empty for a signed tree). */
  problems: string[];
}

/** The file a platform is made from, or undefined for an optional one that was not built. */
function sourceOf(p: ReleasePlatform, sources: Record<string, string>): string | undefined {
  const path = sources[`${p.os}/${p.arch}`] ?? join(REPO, p.source);
  if (existsSync(path)) return path;
  if (p.optional) return undefined;
  throw new Error(`${relative(REPO, path)} is missing, and the release needs it for ${binaryPath(p)}; run \`npm run build\` first`);
}

/** The `--version` line every build of this checkout prints. */
function versionLine(version: string, commit: string): string {
  return `awstoe ${version} (opentoe, commit ${commit})`;
}

/** This machine as `<os>/<arch>` in the release's names. */
const HOST = `${process.platform === "win32" ? "windows" : process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`;

/** How to run a binary's `--version` here: the Node bundle with a `node`, and this machine's own build. */
function runnable(p: ReleasePlatform, path: string): string[] | undefined {
  if (p.needsNode) return Bun.which("node") === null ? undefined : ["node", path];
  return `${p.os}/${p.arch}` === HOST ? [path] : undefined;
}

/** Throws unless the binary at `path` is this version and commit. */
export function checkEmbeddedVersion(p: ReleasePlatform, path: string, version: string, commit: string): void {
  const want = versionLine(version, commit);
  const argv = runnable(p, path);
  if (argv !== undefined) {
    const ran = Bun.spawnSync([...argv, "--version"], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
    const line = `${ran.stdout.toString()}${ran.stderr.toString()}`.trim();
    if (ran.exitCode !== 0 || line !== want) throw new Error(`${relative(REPO, path)} --version says '${line}', not '${want}'; rebuild it (npm run build)`);
    return;
  }
  const bytes = readFileSync(path);
  if (bytes.indexOf("(opentoe, commit ") < 0 || bytes.indexOf(commit) < 0) {
    throw new Error(`${relative(REPO, path)} was not built from commit ${commit}; rebuild it (npm run build)`);
  }
}

/** install.sh with the release key's fingerprint pinned in it (when the release is signed). */
function installerText(fingerprint: string | undefined): string {
  const text = readFileSync(INSTALLER_SOURCE, "utf8");
  const lines = text.split("\n").filter((line) => line === PIN_LINE);
  if (lines.length !== 1) throw new Error(`scripts/install.sh must hold the line ${PIN_LINE} exactly once (found ${lines.length}); the release pins its key there`);
  return fingerprint === undefined ? text : text.replace(`\n${PIN_LINE}\n`, `\nPINNED_KEY_FINGERPRINT="${fingerprint}"\n`);
}

/** Writes `<out>/<version>/` whole; see the module comment. */
export async function writeReleaseTree(options: TreeOptions = {}): Promise<Tree> {
  const version = options.version ?? packageJson.version;
  const commit = options.commit ?? gitCommit();
  const out = options.out ?? RELEASE_DIR;
  const log = options.log ?? (() => {});
  if (!isVersionName(version)) throw new Error(`'${version}' is not a release version (like 0.1.0); fix "version" in package.json`);
  const chosen = PLATFORMS.flatMap((p) => {
    const source = sourceOf(p, options.sources ?? {});
    return source === undefined ? [] : [{ p, source }];
  });
  for (const { p, source } of chosen) checkEmbeddedVersion(p, source, version, commit);

  mkdirSync(out, { recursive: true });
  const staging = mkdtempSync(join(out, `.staging-${version}-`));
  const dir = join(staging, version);
  try {
    for (const { p, source } of chosen) {
      const dest = join(dir, binaryPath(p));
      mkdirSync(dirname(dest), { recursive: true });
      if (p.authenticode && options.authenticode !== undefined) {
        options.authenticode.sign(source, dest);
        log(`  signed ${binaryPath(p)} (Authenticode, ${options.authenticode.describe})`);
      } else copyFileSync(source, dest);
      chmodSync(dest, 0o755);
    }
    const fingerprint = options.gpg?.fingerprint;
    writeFileSync(join(dir, INSTALLER), installerText(fingerprint), { mode: 0o755 });
    const publicKey = options.gpg?.publicKey();
    if (publicKey !== undefined) {
      writeFileSync(join(dir, PUBLIC_KEY), publicKey, { mode: 0o644 });
      writeFileSync(join(dir, FINGERPRINT), `${fingerprint}\n`, { mode: 0o644 });
    }
    const summed = listFiles(dir).filter(isSummed);
    const sums = await Promise.all(summed.map(async (path) => ({ path, sha256: await sha256File(join(dir, path)) })));
    writeFileSync(join(dir, SUMS), formatSums(sums), { mode: 0o644 });
    if (options.gpg !== undefined && publicKey !== undefined) {
      for (const path of listFiles(dir).filter(isSigned)) options.gpg.sign(join(dir, path), join(dir, signaturePath(path)));
      // Once more, the way a user checks: a keyring holding nothing but the published key.
      for (const path of listFiles(dir).filter(isSigned)) {
        const checked = verifyWithKeyOnly(publicKey, join(dir, signaturePath(path)), join(dir, path));
        if (!checked.ok || checked.signer !== fingerprint) throw new Error(`${signaturePath(path)} does not verify with the published ${PUBLIC_KEY}: ${checked.detail}`);
      }
      log(`  signed ${listFiles(dir).filter(isSigned).length} files (OpenPGP, key ${fingerprint})`);
    }
    const { problems } = await checkReleaseFolder(dir, sha256File);
    // Into place whole: an older tree of the same version is moved aside first, then removed.
    const final = join(out, version);
    if (existsSync(final)) renameSync(final, join(staging, `${version}.replaced`));
    renameSync(dir, final);
    return { dir: final, files: listFiles(final), signed: options.gpg !== undefined, problems };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

const USAGE = "usage: bun run scripts/release-tree.ts [--out DIR] [--require-signatures]";

async function main(argv: readonly string[]): Promise<number> {
  let out: string | undefined;
  let requireSignatures = process.env.OPENTOE_REQUIRE_SIGNATURES === "1";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      return 0;
    } else if (arg === "--require-signatures") requireSignatures = true;
    else if (arg === "--out" && argv[i + 1] !== undefined) out = argv[++i];
    else if (arg.startsWith("--out=")) out = arg.slice("--out=".length);
    else {
      console.error(`release-tree: unknown argument '${arg}'\n${USAGE}`);
      return 2;
    }
  }
  const gpg = gpgSignerFromEnv();
  try {
    const authenticode = authenticodeSignerFromEnv();
    if (requireSignatures && (gpg === undefined || authenticode === undefined)) {
      console.error("release-tree: --require-signatures: set OPENTOE_GPG_KEY_FILE (or OPENTOE_GPG_KEY) and the OPENTOE_AUTHENTICODE_* variables (dist/README.md)");
      return 1;
    }
    const started = performance.now();
    const tree = await writeReleaseTree({ out, gpg, authenticode, log: (line) => console.log(line) });
    const bytes = tree.files.reduce((sum, path) => sum + statSync(join(tree.dir, path)).size, 0);
    console.log(`release tree ${relative(REPO, tree.dir)}: ${tree.files.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MB, in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    if (!tree.signed) console.log("  unsigned: publish.ts will refuse it; set OPENTOE_GPG_KEY_FILE or OPENTOE_GPG_KEY to sign (dist/README.md)");
    else if (authenticode === undefined && tree.files.some((path) => path.endsWith(".exe"))) {
      console.log("  note: the Windows executables are not Authenticode-signed; set OPENTOE_AUTHENTICODE_CERT and _KEY (or _PKCS12) to sign them (dist/README.md)");
    }
    if (tree.signed && tree.problems.length > 0) {
      for (const problem of tree.problems) console.error(`  problem: ${problem}`);
      return 1;
    }
    return 0;
  } finally {
    gpg?.dispose();
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`release-tree: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
