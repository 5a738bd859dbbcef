/**
 * @module test/scripts/install.test: scripts/install.sh for real, under dash and under busybox sh,
 * against a local HTTP server on 127.0.0.1 that serves fake release folders in the release layout
 * (scripts/_release-layout.ts: `<version>/<os>/<arch>/awstoe`, SHA256SUMS, detached signatures,
 * awstoe.gpg).
 *
 * What is real: the shells, curl, GNU wget, busybox's own wget/sha256sum/mktemp/mv/… applets,
 * coreutils' sha256sum, perl's shasum, GnuPG (signing here with throwaway keys from
 * test/helpers/gpg.ts; verifying inside install.sh), the HTTP server, SHA256SUMS (written with the
 * layout's formatSums). What is fake, because the real thing cannot exist here: `uname` (a
 * stand-in on PATH reports the OS/CPU under test, so one machine can play x86_64, aarch64, i686
 * and unsupported hosts), `node` for linux/386 (a stand-in that answers --version and runs the
 * stand-in bundle), and the released binaries (small scripts that answer `--version` like awstoe
 * does; the real 120 MB ones would make every case slow).
 *
 * Each run gets a PATH holding only the tools its environment should have (symlinks), so "works
 * with curl", "works with wget", "works with busybox alone (no gpg)" and "no downloader" are each
 * proven.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { binaryPath, FINGERPRINT, isSigned, listFiles, PLATFORMS, PUBLIC_KEY, type ReleasePlatform, signaturePath, SUMS, SUMS_SIGNATURE } from "../../scripts/_release-layout.ts";
import { GPG, throwawayKey, type ThrowawayKey, verifyDetached } from "../helpers/gpg.ts";
import { serveFolder, signReleaseFile, writeSums } from "../helpers/release-folder.ts";

const REPO = join(import.meta.dir, "../..");
const INSTALL_SH = join(REPO, "scripts/install.sh");
/** The line a release rewrites to pin its key (scripts/release-tree.ts). */
const PIN_LINE = 'PINNED_KEY_FINGERPRINT=""';

if (GPG === null) {
  const line = "install.sh tests need gpg to sign their fake releases (run scripts/ci-deps.sh as root)";
  if (process.env.CI) throw new Error(line);
  console.warn(`skipped: ${line}`);
}

/** The platforms install.sh can install (Windows has its PowerShell lines instead). */
const UNIX_PLATFORMS = PLATFORMS.filter((p) => p.os !== "windows");

function platform(os: string, arch: string): ReleasePlatform {
  const found = UNIX_PLATFORMS.find((p) => p.os === os && p.arch === arch);
  if (found === undefined) throw new Error(`no ${os}/${arch} in the release layout`);
  return found;
}

const AMD64 = platform("linux", "amd64");
const ARM64 = platform("linux", "arm64");
const I386 = platform("linux", "386");

/** A stand-in release binary: answers `--version` the way awstoe does; linux/386 starts like the Node bundle. */
function standIn(version: string, flavour: string, needsNode = false): string {
  return `${needsNode ? "#!/usr/bin/env node" : "#!/bin/sh"}\necho 'awstoe ${version} (opentoe, commit fake-${flavour})'\n`;
}

function standInFor(p: ReleasePlatform, version: string): string {
  return standIn(version, `${p.os}-${p.arch}`, p.needsNode);
}

/** A stand-in `uname` that reports what the test asks for in FAKE_UNAME_S / FAKE_UNAME_M. */
const FAKE_UNAME = `#!/bin/sh
case "$1" in
  -s) echo "$FAKE_UNAME_S" ;;
  -m) echo "$FAKE_UNAME_M" ;;
  *) echo "fake uname: unexpected argument $1" >&2; exit 2 ;;
esac
`;

/** A stand-in `node`: answers --version, and runs a stand-in bundle (a shell script under its #! line). */
const FAKE_NODE = `#!/bin/sh
if [ "$1" = --version ]; then echo "\${FAKE_NODE_VERSION:-v20.11.1}"; exit 0; fi
exec /bin/sh "$@"
`;

/** The external tools install.sh may use, besides uname, a downloader, a hasher and gpg. */
const BASE_TOOLS = ["mktemp", "mkdir", "chmod", "mv", "rm"];
/** GnuPG as install.sh uses it: gpg (which finds its agent by absolute path), and gpgconf to stop one. */
const GPG_TOOLS = ["gpg", "gpgconf"];

interface Environment {
  name: string;
  /** argv prefix that runs a script with this shell. */
  shell: string[];
  /** Tool name → the file it is (a symlink is made to it). */
  tools: Record<string, string>;
  /** Whether gpg is among the tools. */
  gpg: boolean;
}

function which(tool: string): string {
  const path = Bun.which(tool);
  if (path === null) throw new Error(`${tool} is not installed (run scripts/ci-deps.sh as root)`);
  return path;
}

function realTools(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, which(name)]));
}

const BUSYBOX = Bun.which("busybox");
const DASH = Bun.which("dash");

/**
 * Shell and tool sets; busybox's applets are reached through symlinks named after them, as on a
 * busybox system. A set whose shell or tools are not installed is left out, with a warning.
 */
function environments(): Environment[] {
  const list: Environment[] = [];
  const withReal = (name: string, shell: string | null, tools: readonly string[]) => {
    const missing = [...(shell === null ? ["the shell"] : []), ...tools.filter((tool) => Bun.which(tool) === null)];
    if (missing.length > 0) console.warn(`install.sh tests under ${name} skipped: ${missing.join(", ")} not installed`);
    else list.push({ name, shell: [shell!], tools: realTools(tools), gpg: tools.includes("gpg") });
  };
  withReal("dash + curl + sha256sum + gpg", DASH, [...BASE_TOOLS, "curl", "sha256sum", ...GPG_TOOLS]);
  withReal("dash + GNU wget + sha256sum + gpg", DASH, [...BASE_TOOLS, "wget", "sha256sum", ...GPG_TOOLS]);
  if (BUSYBOX === null) console.warn("install.sh tests under busybox sh skipped: busybox not installed (run scripts/ci-deps.sh as root)");
  else {
    const applets = [...BASE_TOOLS, "wget", "sha256sum"];
    list.push({ name: "busybox sh + busybox applets only (no gpg)", shell: [BUSYBOX, "sh"], tools: Object.fromEntries(applets.map((a) => [a, BUSYBOX])), gpg: false });
  }
  return list;
}

const ENVIRONMENTS = GPG === null ? [] : environments();

let scratch: string;
let server: ReturnType<typeof Bun.serve>;
let base: string;
/** The release key every good release is signed with, and another one. */
let key: ThrowawayKey;
let otherKey: ThrowawayKey;
/** install.sh as a release ships it: the release key's fingerprint pinned in it. */
let pinnedInstaller: string;
/** The stand-in node. */
let fakeNode: string;
/** Paths the server was asked for, in order. */
const requests: string[] = [];
let counter = 0;

interface ReleaseOptions {
  /** The key that signs everything; default the release key. */
  signer?: ThrowawayKey;
  /** The keys published as awstoe.gpg; default the signer's. */
  published?: ThrowawayKey[];
  /** Platforms left out of the release. */
  without?: ReleasePlatform[];
}

/** Writes `<root>/<folder>/` in the release layout, with stand-in binaries reporting `version`, summed and signed. */
function release(root: string, folder: string, version: string, opts: ReleaseOptions = {}): string {
  const signer = opts.signer ?? key;
  const dir = join(root, folder);
  for (const p of UNIX_PLATFORMS) {
    if (opts.without?.includes(p)) continue;
    const path = join(dir, binaryPath(p));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, standInFor(p, version));
  }
  writeFileSync(join(dir, PUBLIC_KEY), (opts.published ?? [signer]).map((k) => readFileSync(k.publicKeyFile, "utf8")).join(""));
  writeFileSync(join(dir, FINGERPRINT), `${signer.fingerprint}\n`);
  writeSums(dir);
  for (const path of listFiles(dir)) if (isSigned(path)) signReleaseFile(dir, path, signer);
  return dir;
}

function makeReleases(root: string): void {
  // good: the normal case, "latest" plus a numbered release.
  release(root, "good/latest", "0.2.0");
  release(root, "good/0.1.0", "0.1.0");
  // A folder named 0.3.0 that holds 0.2.0 binaries: the installer must notice.
  release(root, "good/0.3.0", "0.2.0");
  const evil = standIn("0.2.0", "evil");
  // corrupt: the amd64 binary changed after SHA256SUMS was written (and signed).
  writeFileSync(join(release(root, "corrupt/latest", "0.2.0"), binaryPath(AMD64)), evil);
  // resummed: the binary changed and SHA256SUMS was rewritten to match, but not signed again.
  const resummed = release(root, "resummed/latest", "0.2.0");
  writeFileSync(join(resummed, binaryPath(AMD64)), evil);
  writeSums(resummed);
  // resigned-sums: as above, and SHA256SUMS signed again with the release key; the binary's own
  // signature is the old one.
  const resigned = release(root, "resigned-sums/latest", "0.2.0");
  writeFileSync(join(resigned, binaryPath(AMD64)), evil);
  writeSums(resigned);
  signReleaseFile(resigned, SUMS, key);
  // other-key: a whole release made and published with another key.
  release(root, "other-key/latest", "0.2.0", { signer: otherKey });
  // both-keys: awstoe.gpg holds the release key too, but the other key signed everything.
  release(root, "both-keys/latest", "0.2.0", { signer: otherKey, published: [key, otherKey] });
  // stranger: awstoe.gpg is the release key, but another key signed everything.
  release(root, "stranger/latest", "0.2.0", { signer: otherKey, published: [key] });
  // missing: SHA256SUMS lists a binary the server does not have.
  rmSync(join(release(root, "missing/latest", "0.2.0"), binaryPath(AMD64)));
  // partial: a release without an arm64 build.
  release(root, "partial/latest", "0.2.0", { without: [ARM64] });
}

interface Install {
  code: number;
  stdout: string;
  stderr: string;
  /** The prefix folder it installed into. */
  prefix: string;
  /** Files left in the run's TMPDIR (should be none). */
  tmpLeft: string[];
}

interface InstallOptions {
  uname?: { s: string; m: string };
  /** An existing prefix to install into; default a new, empty one. */
  prefix?: string;
  /** The script to run; default scripts/install.sh. */
  script?: string;
  /** More tools on PATH: name → file. */
  extraTools?: Record<string, string>;
  /** More environment variables. */
  env?: Record<string, string>;
}

/**
 * Runs install.sh in `env` (the shell, and a PATH of exactly its tools plus the fake uname).
 * Asynchronous, so the server in this process keeps answering while the script downloads.
 */
async function install(env: Environment, args: readonly string[], opts: InstallOptions = {}): Promise<Install> {
  const run = join(scratch, `run-${++counter}`);
  const bin = join(run, "bin");
  const tmp = join(run, "tmp");
  mkdirSync(bin, { recursive: true });
  mkdirSync(tmp);
  for (const [name, target] of Object.entries({ ...env.tools, ...opts.extraTools })) symlinkSync(target, join(bin, name));
  writeFileSync(join(bin, "uname"), FAKE_UNAME);
  chmodSync(join(bin, "uname"), 0o755);
  const prefix = opts.prefix ?? join(run, "prefix");
  const uname = opts.uname ?? { s: "Linux", m: "x86_64" };
  const proc = Bun.spawn([...env.shell, opts.script ?? INSTALL_SH, "--prefix", prefix, ...args], {
    cwd: run,
    env: { PATH: bin, HOME: run, TMPDIR: tmp, FAKE_UNAME_S: uname.s, FAKE_UNAME_M: uname.m, ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr, prefix, tmpLeft: readdirSync(tmp) };
}

/** The files in an install prefix (hidden ones included: a leftover partial download would show). */
function filesIn(prefix: string): string[] {
  try {
    return readdirSync(prefix).sort();
  } catch {
    return [];
  }
}

/** The line install.sh prints after a full check. */
function verifiedLine(asset: string, fingerprint = key.fingerprint): string {
  return `install.sh: verified ${asset}: OpenPGP signature by key ${fingerprint} and SHA-256 from SHA256SUMS\n`;
}

/** The line install.sh prints when it could check SHA256SUMS only. */
function sumsOnlyLine(asset: string, reason: string): string {
  return `install.sh: checked ${asset} against SHA256SUMS only (${reason}): this proves the download is whole, not who published it\n`;
}

const NO_GPG = "gpg is not installed";
const NO_PIN = "no key fingerprint pinned; pass --key-fingerprint with the release key's fingerprint to check the OpenPGP signature";
const NOT_VERIFIED = "does not verify with the pinned key";

describe.skipIf(GPG === null)("install.sh", () => {
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), "opentoe-install-"));
    key = throwawayKey("opentoe install test release key");
    otherKey = throwawayKey("someone else");
    makeReleases(join(scratch, "www"));
    server = serveFolder(join(scratch, "www"), requests);
    base = `http://127.0.0.1:${server.port}`;
    const text = readFileSync(INSTALL_SH, "utf8");
    pinnedInstaller = join(scratch, "install-pinned.sh");
    writeFileSync(pinnedInstaller, text.replace(`\n${PIN_LINE}\n`, `\nPINNED_KEY_FINGERPRINT="${key.fingerprint}"\n`));
    fakeNode = join(scratch, "fake-node");
    writeFileSync(fakeNode, FAKE_NODE);
    chmodSync(fakeNode, 0o755);
  }, 60_000);

  afterAll(async () => {
    await server?.stop(true);
    key?.dispose();
    otherKey?.dispose();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  for (const env of ENVIRONMENTS) {
    describe(`under ${env.name}`, () => {
      for (const [machine, p] of [
        ["x86_64", AMD64],
        ["aarch64", ARM64],
        ["i686", I386],
      ] as const) {
        const asset = binaryPath(p);
        test(`uname -m ${machine}: installs ${asset} as <prefix>/awstoe, mode 755, saying what it checked`, async () => {
          const run = await install(env, ["--base-url", `${base}/good`, "--key-fingerprint", key.fingerprint], {
            uname: { s: "Linux", m: machine },
            extraTools: p.needsNode ? { node: fakeNode } : {},
          });
          expect(run.stderr).toBe("");
          expect(run.code).toBe(0);
          expect(filesIn(run.prefix)).toEqual(["awstoe"]);
          const installed = join(run.prefix, "awstoe");
          expect(readFileSync(installed, "utf8")).toBe(standInFor(p, "0.2.0"));
          expect(statSync(installed).mode & 0o777).toBe(0o755);
          expect(run.stdout).toContain(`installing ${asset} from ${base}/good/latest/`);
          expect(run.stdout).toContain(env.gpg ? verifiedLine(asset) : sumsOnlyLine(asset, NO_GPG));
          expect(run.stdout).toContain(`installed ${installed}: awstoe 0.2.0`);
          expect(run.tmpLeft).toEqual([]);
        });
      }

      test("no fingerprint pinned: checks SHA256SUMS only, says so in one line, and installs", async () => {
        const run = await install(env, ["--base-url", `${base}/good`]);
        expect(run.code).toBe(0);
        expect(run.stdout).toContain(sumsOnlyLine("linux/amd64/awstoe", NO_PIN));
        expect(run.stdout.split("\n").filter((line) => line.includes("SHA256SUMS")).length).toBe(1);
        expect(requests.slice(-2)).toEqual(["/good/latest/SHA256SUMS", "/good/latest/linux/amd64/awstoe"]);
        expect(filesIn(run.prefix)).toEqual(["awstoe"]);
      });

      test("i686 without node: says linux/386 is a Node.js program, and downloads nothing", async () => {
        const before = requests.length;
        const run = await install(env, ["--base-url", `${base}/good`], { uname: { s: "Linux", m: "i686" } });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain("linux/386 awstoe is a Node.js program, and node is not installed; install Node.js 18.3 or later");
        expect(requests.length).toBe(before);
        expect(filesIn(run.prefix)).toEqual([]);
        expect(run.tmpLeft).toEqual([]);
      });

      test("checksum mismatch: refuses, and the installed awstoe stays as it was", async () => {
        const prefix = join(scratch, `existing-${++counter}`);
        mkdirSync(prefix);
        writeFileSync(join(prefix, "awstoe"), standIn("0.0.9", "old"));
        const run = await install(env, ["--base-url", `${base}/corrupt`, "--key-fingerprint", key.fingerprint], { prefix });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(`checksum mismatch for ${base}/corrupt/latest/linux/amd64/awstoe`);
        expect(run.stderr).toContain("nothing was installed");
        expect(filesIn(prefix)).toEqual(["awstoe"]);
        expect(readFileSync(join(prefix, "awstoe"), "utf8")).toBe(standIn("0.0.9", "old"));
        expect(run.tmpLeft).toEqual([]);
      });

      test("checksum mismatch into an empty prefix installs nothing", async () => {
        const run = await install(env, ["--base-url", `${base}/corrupt`]);
        expect(run.code).toBe(1);
        expect(filesIn(run.prefix)).toEqual([]);
      });

      test("a binary the server does not have: a clear message naming its URL", async () => {
        const run = await install(env, ["--base-url", `${base}/missing`, "--key-fingerprint", key.fingerprint]);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(`install.sh: error: downloading ${base}/missing/latest/linux/amd64/awstoe failed`);
        expect(run.stderr).toContain("check --base-url and --version");
        expect(filesIn(run.prefix)).toEqual([]);
        expect(run.tmpLeft).toEqual([]);
      });

      test("unsupported CPU: a clear message, and nothing is downloaded", async () => {
        const before = requests.length;
        const run = await install(env, ["--base-url", `${base}/good`], { uname: { s: "Linux", m: "riscv64" } });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain("no awstoe build for the CPU 'riscv64' on Linux");
        expect(requests.length).toBe(before);
        expect(filesIn(run.prefix)).toEqual([]);
      });

      test("re-install replaces the file in one rename: an old hard link keeps the old content", async () => {
        const first = await install(env, ["--base-url", `${base}/good`, "--version", "0.1.0", "--key-fingerprint", key.fingerprint]);
        expect(first.code).toBe(0);
        const installed = join(first.prefix, "awstoe");
        expect(readFileSync(installed, "utf8")).toBe(standInFor(AMD64, "0.1.0"));
        // Writing into the existing file would change what the link shows; a rename leaves it alone.
        const link = join(scratch, `old-link-${counter}`);
        linkSync(installed, link);
        const oldInode = statSync(installed).ino;
        const second = await install(env, ["--base-url", `${base}/good`, "--key-fingerprint", key.fingerprint], { prefix: first.prefix });
        expect(second.code).toBe(0);
        expect(readFileSync(installed, "utf8")).toBe(standInFor(AMD64, "0.2.0"));
        expect(readFileSync(link, "utf8")).toBe(standInFor(AMD64, "0.1.0"));
        expect(statSync(installed).ino).not.toBe(oldInode);
        expect(statSync(installed).mode & 0o777).toBe(0o755);
        expect(filesIn(first.prefix)).toEqual(["awstoe"]);
      });

      if (env.gpg) {
        test("SHA256SUMS rewritten for a changed binary but not signed again: refused, nothing installed", async () => {
          const prefix = join(scratch, `existing-${++counter}`);
          mkdirSync(prefix);
          writeFileSync(join(prefix, "awstoe"), standIn("0.0.9", "old"));
          const run = await install(env, ["--base-url", `${base}/resummed`, "--key-fingerprint", key.fingerprint], { prefix });
          expect(run.code).toBe(1);
          expect(run.stderr).toContain(`install.sh: error: ${base}/resummed/latest/SHA256SUMS: the signature ${base}/resummed/latest/SHA256SUMS.sig ${NOT_VERIFIED} ${key.fingerprint}`);
          expect(run.stderr).toContain("BAD signature");
          expect(run.stdout).not.toContain("verified");
          expect(readFileSync(join(prefix, "awstoe"), "utf8")).toBe(standIn("0.0.9", "old"));
          expect(filesIn(prefix)).toEqual(["awstoe"]);
          expect(run.tmpLeft).toEqual([]);
        });

        test("a changed binary whose SHA256SUMS was re-signed but whose own signature is the old one: refused", async () => {
          const run = await install(env, ["--base-url", `${base}/resigned-sums`, "--key-fingerprint", key.fingerprint]);
          expect(run.code).toBe(1);
          expect(run.stderr).toContain(`${base}/resigned-sums/latest/linux/amd64/awstoe: the signature ${base}/resigned-sums/latest/linux/amd64/awstoe.sig ${NOT_VERIFIED}`);
          expect(run.stderr).toContain("BAD signature");
          expect(filesIn(run.prefix)).toEqual([]);
          expect(run.tmpLeft).toEqual([]);
        });

        test("a release made with another key and publishing that key as awstoe.gpg: refused, the key is not the pinned one", async () => {
          const run = await install(env, ["--base-url", `${base}/other-key`, "--key-fingerprint", key.fingerprint]);
          expect(run.code).toBe(1);
          expect(run.stderr).toContain(`the published release key ${base}/other-key/latest/awstoe.gpg is not the pinned key: it holds ${otherKey.fingerprint}, the pinned fingerprint is ${key.fingerprint}`);
          expect(filesIn(run.prefix)).toEqual([]);
          expect(run.tmpLeft).toEqual([]);
          // Pinning that other key instead is what makes the same release install.
          const pinnedOther = await install(env, ["--base-url", `${base}/other-key`, "--key-fingerprint", otherKey.fingerprint]);
          expect(pinnedOther.code).toBe(0);
          expect(pinnedOther.stdout).toContain(verifiedLine("linux/amd64/awstoe", otherKey.fingerprint));
        });

        test("awstoe.gpg holding the pinned key beside the one that signed: refused, naming the signer", async () => {
          const run = await install(env, ["--base-url", `${base}/both-keys`, "--key-fingerprint", key.fingerprint]);
          expect(run.code).toBe(1);
          expect(run.stderr).toContain(`${base}/both-keys/latest/SHA256SUMS: the signature ${base}/both-keys/latest/SHA256SUMS.sig ${NOT_VERIFIED} ${key.fingerprint} (it was signed by key ${otherKey.fingerprint})`);
          expect(filesIn(run.prefix)).toEqual([]);
          expect(run.tmpLeft).toEqual([]);
        });

        test("signatures by a key that awstoe.gpg does not hold: refused", async () => {
          const run = await install(env, ["--base-url", `${base}/stranger`, "--key-fingerprint", key.fingerprint]);
          expect(run.code).toBe(1);
          expect(run.stderr).toContain(`${base}/stranger/latest/SHA256SUMS: the signature ${base}/stranger/latest/SHA256SUMS.sig ${NOT_VERIFIED} ${key.fingerprint} (it was made by a key that ${base}/stranger/latest/awstoe.gpg does not hold (`);
          expect(filesIn(run.prefix)).toEqual([]);
          expect(run.tmpLeft).toEqual([]);
        });

        test("the fingerprint baked into a released copy of the script: verified without --key-fingerprint", async () => {
          const run = await install(env, ["--base-url", `${base}/good`], { script: pinnedInstaller });
          expect(run.code).toBe(0);
          expect(run.stdout).toContain(verifiedLine("linux/amd64/awstoe"));
          const refused = await install(env, ["--base-url", `${base}/other-key`], { script: pinnedInstaller });
          expect(refused.code).toBe(1);
          expect(refused.stderr).toContain("is not the pinned key");
        });
      } else {
        test("--require-signature without gpg: refused before downloading anything", async () => {
          const before = requests.length;
          const run = await install(env, ["--base-url", `${base}/good`, "--key-fingerprint", key.fingerprint, "--require-signature"]);
          expect(run.code).toBe(1);
          expect(run.stderr).toContain(`install.sh: error: --require-signature: the OpenPGP signature cannot be checked (${NO_GPG}); nothing was installed`);
          expect(requests.length).toBe(before);
          expect(filesIn(run.prefix)).toEqual([]);
          expect(run.tmpLeft).toEqual([]);
        });

        test("the fingerprint baked into a released copy of the script, without gpg: says gpg is missing", async () => {
          const run = await install(env, ["--base-url", `${base}/good`], { script: pinnedInstaller });
          expect(run.code).toBe(0);
          expect(run.stdout).toContain(sumsOnlyLine("linux/amd64/awstoe", NO_GPG));
        });
      }
    });
  }

  const DASH_CURL = ENVIRONMENTS.find((e) => e.name.startsWith("dash + curl"));

  describe.skipIf(DASH_CURL === undefined)("the other paths (dash + curl + gpg)", () => {
    const env = DASH_CURL!;
    const withoutGpg = (): Environment => ({ ...env, name: "dash + curl, no gpg", tools: realTools([...BASE_TOOLS, "curl", "sha256sum"]), gpg: false });

    test("--version v0.1.0 installs from <base>/0.1.0/, fetching the key, both signatures and the binary", async () => {
      const run = await install(env, ["--base-url", `${base}/good/`, "--version", "v0.1.0", "--key-fingerprint", key.fingerprint]);
      expect(run.code).toBe(0);
      expect(readFileSync(join(run.prefix, "awstoe"), "utf8")).toBe(standInFor(AMD64, "0.1.0"));
      expect(requests.slice(-5)).toEqual(["/good/0.1.0/SHA256SUMS", "/good/0.1.0/awstoe.gpg", "/good/0.1.0/SHA256SUMS.sig", "/good/0.1.0/linux/amd64/awstoe", "/good/0.1.0/linux/amd64/awstoe.sig"]);
    });

    test("--version V whose binary reports another version is refused", async () => {
      const run = await install(env, ["--base-url", `${base}/good`, "--version", "0.3.0", "--key-fingerprint", key.fingerprint]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("asked for version 0.3.0 but");
      expect(run.stderr).toContain("awstoe 0.2.0");
      expect(filesIn(run.prefix)).toEqual([]);
    });

    test("a release without this CPU's build: names SHA256SUMS and the missing entry", async () => {
      const run = await install(env, ["--base-url", `${base}/partial`, "--key-fingerprint", key.fingerprint], { uname: { s: "Linux", m: "aarch64" } });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${base}/partial/latest/SHA256SUMS has no entry for linux/arm64/awstoe`);
    });

    test("macOS on Apple silicon installs darwin/arm64/awstoe", async () => {
      const run = await install(env, ["--base-url", `${base}/good`, "--key-fingerprint", key.fingerprint], { uname: { s: "Darwin", m: "arm64" } });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(verifiedLine("darwin/arm64/awstoe"));
      expect(readFileSync(join(run.prefix, "awstoe"), "utf8")).toBe(standInFor(platform("darwin", "arm64"), "0.2.0"));
    });

    test("a server that is down: names the URL it could not fetch", async () => {
      const down = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
      const port = down.port;
      await down.stop(true);
      const run = await install(env, ["--base-url", `http://127.0.0.1:${port}/rel`]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`install.sh: error: downloading http://127.0.0.1:${port}/rel/latest/SHA256SUMS failed (curl exit 7)`);
      expect(filesIn(run.prefix)).toEqual([]);
      expect(run.tmpLeft).toEqual([]);
    });

    test("i686 with a node older than 18.3: refused before downloading", async () => {
      const before = requests.length;
      const run = await install(env, ["--base-url", `${base}/good`], { uname: { s: "Linux", m: "i686" }, extraTools: { node: fakeNode }, env: { FAKE_NODE_VERSION: "v18.2.0" } });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("needs Node.js 18.3 or later, and the node on PATH is v18.2.0");
      expect(requests.length).toBe(before);
      const recent = await install(env, ["--base-url", `${base}/good`], { uname: { s: "Linux", m: "i686" }, extraTools: { node: fakeNode }, env: { FAKE_NODE_VERSION: "v18.3.0" } });
      expect(recent.code).toBe(0);
    });

    test("other operating systems and CPUs get a clear message", async () => {
      const bsd = await install(env, ["--base-url", `${base}/good`], { uname: { s: "FreeBSD", m: "amd64" } });
      expect(bsd.code).toBe(1);
      expect(bsd.stderr).toContain("no awstoe build for the operating system 'FreeBSD'");
      const windows = await install(env, ["--base-url", `${base}/good`], { uname: { s: "MINGW64_NT-10.0", m: "x86_64" } });
      expect(windows.code).toBe(1);
      expect(windows.stderr).toContain("download windows/amd64/awstoe.exe with the PowerShell lines");
      const mac386 = await install(env, ["--base-url", `${base}/good`], { uname: { s: "Darwin", m: "i386" }, extraTools: { node: fakeNode } });
      expect(mac386.code).toBe(1);
      expect(mac386.stderr).toContain("no awstoe build for the CPU 'i386' on Darwin");
    });

    test("no curl and no wget: says to install one", async () => {
      const bare: Environment = { ...env, name: "no downloader", tools: realTools([...BASE_TOOLS, "sha256sum", ...GPG_TOOLS]) };
      const run = await install(bare, ["--base-url", `${base}/good`]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("neither curl nor wget is installed");
    });

    test("only perl's shasum to hash with: still checks and installs", async () => {
      const shasum: Environment = { ...env, name: "shasum", tools: realTools([...BASE_TOOLS, "curl", "shasum", ...GPG_TOOLS]) };
      const good = await install(shasum, ["--base-url", `${base}/good`, "--key-fingerprint", key.fingerprint]);
      expect(good.code).toBe(0);
      expect(good.stdout).toContain(verifiedLine("linux/amd64/awstoe"));
      expect(readFileSync(join(good.prefix, "awstoe"), "utf8")).toBe(standInFor(AMD64, "0.2.0"));
      const bad = await install(shasum, ["--base-url", `${base}/corrupt`]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("checksum mismatch");
    });

    test("--require-signature: installs when the signature verifies; refused without gpg or without a fingerprint", async () => {
      const good = await install(env, ["--base-url", `${base}/good`, "--key-fingerprint", key.fingerprint, "--require-signature"]);
      expect(good.code).toBe(0);
      expect(good.stdout).toContain(verifiedLine("linux/amd64/awstoe"));
      const before = requests.length;
      const noPin = await install(env, ["--base-url", `${base}/good`, "--require-signature"]);
      expect(noPin.code).toBe(1);
      expect(noPin.stderr).toContain(`--require-signature: the OpenPGP signature cannot be checked (${NO_PIN}); nothing was installed`);
      const noGpg = await install(withoutGpg(), ["--base-url", `${base}/good`, "--key-fingerprint", key.fingerprint, "--require-signature"]);
      expect(noGpg.code).toBe(1);
      expect(noGpg.stderr).toContain(`--require-signature: the OpenPGP signature cannot be checked (${NO_GPG})`);
      expect(requests.length).toBe(before);
      expect(filesIn(noPin.prefix)).toEqual([]);
      expect(filesIn(noGpg.prefix)).toEqual([]);
    });

    test("--key-fingerprint accepts lower case and spaces; --key-fingerprint overrides the baked one", async () => {
      const spaced = key.fingerprint.toLowerCase().replace(/(.{4})/g, "$1 ").trim();
      const run = await install(env, [`--key-fingerprint=${spaced}`, "--base-url", `${base}/good`]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(verifiedLine("linux/amd64/awstoe"));
      const overridden = await install(env, ["--base-url", `${base}/good`, "--key-fingerprint", otherKey.fingerprint], { script: pinnedInstaller });
      expect(overridden.code).toBe(1);
      expect(overridden.stderr).toContain(`it holds ${key.fingerprint}, the pinned fingerprint is ${otherKey.fingerprint}`);
    });

    test("a --key-fingerprint that is not 40 hex digits: a usage error (exit 2), nothing downloaded", async () => {
      const before = requests.length;
      for (const bad of [key.fingerprint.slice(1), `${key.fingerprint}0`, `0x${key.fingerprint}`, key.fingerprint.replace(/.$/, "G"), "", key.fingerprint.slice(24)]) {
        const run = await install(env, ["--base-url", `${base}/good`, "--key-fingerprint", bad]);
        expect(run.code).toBe(2);
        expect(run.stderr).toContain(`install.sh: --key-fingerprint '${bad}' is not an OpenPGP fingerprint (40 hex digits, spaces allowed)`);
        expect(run.stderr).toContain("usage: sh install.sh");
      }
      const missingValue = await install(env, ["--base-url", `${base}/good`, "--key-fingerprint"]);
      expect(missingValue.code).toBe(2);
      expect(missingValue.stderr).toContain("--key-fingerprint needs a value");
      expect(requests.length).toBe(before);
    });

    test("without --base-url: a usage error (exit 2) saying there is no public release location yet", async () => {
      const run = await install(env, []);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("no public release location exists yet; pass --base-url");
      expect(filesIn(run.prefix)).toEqual([]);
    });

    test("--help lists every option", async () => {
      const run = await install(env, ["--help"]);
      expect(run.code).toBe(0);
      for (const option of ["--base-url URL", "--prefix DIR", "--version V", "--key-fingerprint FPR", "--require-signature", "--help"]) expect(run.stdout).toContain(option);
    });

    test("scripts/install.sh holds the line a release pins its key in exactly once, empty", () => {
      const lines = readFileSync(INSTALL_SH, "utf8").split("\n");
      expect(lines.filter((line) => line === PIN_LINE).length).toBe(1);
      expect(lines.filter((line) => line.includes("PINNED_KEY_FINGERPRINT=")).length).toBe(1);
    });

    test("the fake release is what a user can check by hand: sha256sum -c (coreutils, busybox) and gpg --verify", () => {
      const dir = join(scratch, "www/good/latest");
      const listed = ["awstoe.gpg", "awstoe.gpg.fingerprint", ...UNIX_PLATFORMS.map(binaryPath)].sort();
      for (const checker of [[which("sha256sum")], ...(BUSYBOX === null ? [] : [[BUSYBOX, "sha256sum"]])]) {
        const run = Bun.spawnSync([...checker, "-c", SUMS], { cwd: dir, stdout: "pipe", stderr: "pipe" });
        expect(run.stdout.toString()).toBe(listed.map((path) => `${path}: OK\n`).join(""));
        expect(run.exitCode).toBe(0);
      }
      for (const [file, signature] of [[SUMS, SUMS_SIGNATURE], [binaryPath(AMD64), signaturePath(binaryPath(AMD64))]] as const) {
        const checked = verifyDetached(join(dir, PUBLIC_KEY), join(dir, signature), join(dir, file));
        expect(checked.ok).toBe(true);
        expect(checked.signer).toBe(key.fingerprint);
      }
    });
  });
});
