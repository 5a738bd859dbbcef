/**
 * @module test/scripts/install.test: scripts/install.sh for real, under dash and under busybox sh,
 * against a local HTTP server on 127.0.0.1 that serves fake release folders.
 *
 * What is real: the shells, curl, GNU wget, busybox's own wget/sha256sum/mktemp/mv/… applets,
 * coreutils' sha256sum, perl's shasum, the HTTP server, the checksums (written by scripts/build.ts
 * writeChecksums, the same code that writes dist/SHA256SUMS). What is fake, because the real thing
 * cannot exist here: `uname` (a stand-in on PATH reports the OS/CPU under test, so one machine can
 * play x86_64, aarch64 and unsupported hosts), and the released binaries (small shell scripts that
 * answer `--version` like awstoe does; the real 120 MB ones would make every case slow).
 *
 * Each run gets a PATH holding only the tools its environment should have (symlinks), so "works
 * with curl", "works with wget", "works with busybox alone" and "no downloader" are each proven.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, writeChecksums } from "../../scripts/build.ts";

const INSTALL_SH = join(REPO, "scripts/install.sh");

/** A stand-in release binary: answers `--version` the way awstoe does. */
function standIn(version: string, flavour: string): string {
  return `#!/bin/sh\necho 'awstoe ${version} (opentoe, commit fake-${flavour})'\n`;
}

/** A stand-in `uname` that reports what the test asks for in FAKE_UNAME_S / FAKE_UNAME_M. */
const FAKE_UNAME = `#!/bin/sh
case "$1" in
  -s) echo "$FAKE_UNAME_S" ;;
  -m) echo "$FAKE_UNAME_M" ;;
  *) echo "fake uname: unexpected argument $1" >&2; exit 2 ;;
esac
`;

/** The external tools install.sh may use, besides uname, a downloader and a hasher. */
const BASE_TOOLS = ["mktemp", "mkdir", "chmod", "mv", "rm"];

interface Environment {
  name: string;
  /** argv prefix that runs a script with this shell. */
  shell: string[];
  /** Tool name → the file it is (a symlink is made to it). */
  tools: Record<string, string>;
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
    else list.push({ name, shell: [shell!], tools: realTools(tools) });
  };
  withReal("dash + curl + sha256sum", DASH, [...BASE_TOOLS, "curl", "sha256sum"]);
  withReal("dash + GNU wget + sha256sum", DASH, [...BASE_TOOLS, "wget", "sha256sum"]);
  if (BUSYBOX === null) console.warn("install.sh tests under busybox sh skipped: busybox not installed (run scripts/ci-deps.sh as root)");
  else {
    const applets = [...BASE_TOOLS, "wget", "sha256sum"];
    list.push({ name: "busybox sh + busybox applets only", shell: [BUSYBOX, "sh"], tools: Object.fromEntries(applets.map((a) => [a, BUSYBOX])) });
  }
  return list;
}

const ENVIRONMENTS = environments();

let scratch: string;
let server: ReturnType<typeof Bun.serve>;
let base: string;
/** Paths the server was asked for, in order. */
const requests: string[] = [];
let counter = 0;

/** Writes `<root>/<folder>/` with stand-ins for x64 and arm64 and its SHA256SUMS. */
async function release(root: string, folder: string, version: string): Promise<string> {
  const dir = join(root, folder);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "awstoe-linux-x64"), standIn(version, "linux-x64"));
  writeFileSync(join(dir, "awstoe-linux-arm64"), standIn(version, "linux-arm64"));
  await writeChecksums(dir);
  return dir;
}

async function makeReleases(root: string): Promise<void> {
  // good: the normal case, "latest" plus a numbered release.
  await release(root, "good/latest", "0.2.0");
  await release(root, "good/0.1.0", "0.1.0");
  // A folder named 0.3.0 that holds 0.2.0 binaries: the installer must notice.
  await release(root, "good/0.3.0", "0.2.0");
  // tampered: the x64 binary changed after SHA256SUMS was written.
  const tampered = await release(root, "tampered/latest", "0.2.0");
  writeFileSync(join(tampered, "awstoe-linux-x64"), standIn("0.2.0", "evil"));
  // missing: SHA256SUMS lists binaries the server does not have.
  const missing = await release(root, "missing/latest", "0.2.0");
  rmSync(join(missing, "awstoe-linux-x64"));
  // partial: a release without an arm64 build.
  const partial = await release(root, "partial/latest", "0.2.0");
  rmSync(join(partial, "awstoe-linux-arm64"));
  await writeChecksums(partial);
}

/** Serves files under `root` at their relative paths; 404 for anything else. */
function serve(root: string): ReturnType<typeof Bun.serve> {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = decodeURIComponent(new URL(req.url).pathname);
      requests.push(path);
      if (path.split("/").includes("..")) return new Response("bad path\n", { status: 400 });
      const file = Bun.file(join(root, path));
      return (await file.exists()) ? new Response(file) : new Response("not found\n", { status: 404 });
    },
  });
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
  for (const [name, target] of Object.entries(env.tools)) symlinkSync(target, join(bin, name));
  writeFileSync(join(bin, "uname"), FAKE_UNAME);
  chmodSync(join(bin, "uname"), 0o755);
  const prefix = opts.prefix ?? join(run, "prefix");
  const uname = opts.uname ?? { s: "Linux", m: "x86_64" };
  const proc = Bun.spawn([...env.shell, INSTALL_SH, "--prefix", prefix, ...args], {
    cwd: run,
    env: { PATH: bin, HOME: run, TMPDIR: tmp, FAKE_UNAME_S: uname.s, FAKE_UNAME_M: uname.m },
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

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "opentoe-install-"));
  const root = join(scratch, "www");
  await makeReleases(root);
  server = serve(root);
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.stop(true);
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

for (const env of ENVIRONMENTS) {
  describe(`install.sh under ${env.name}`, () => {
    for (const [machine, asset] of [
      ["x86_64", "awstoe-linux-x64"],
      ["aarch64", "awstoe-linux-arm64"],
    ] as const) {
      test(`uname -m ${machine}: installs ${asset} as <prefix>/awstoe, mode 755`, async () => {
        const run = await install(env, ["--base-url", `${base}/good`], { uname: { s: "Linux", m: machine } });
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        expect(filesIn(run.prefix)).toEqual(["awstoe"]);
        const installed = join(run.prefix, "awstoe");
        expect(readFileSync(installed, "utf8")).toBe(standIn("0.2.0", asset.slice("awstoe-".length)));
        expect(statSync(installed).mode & 0o777).toBe(0o755);
        expect(run.stdout).toContain(`${base}/good/latest/`);
        expect(run.stdout).toContain(`installed ${installed}: awstoe 0.2.0`);
        expect(run.tmpLeft).toEqual([]);
      });
    }

    test("checksum mismatch: refuses, and the installed awstoe stays as it was", async () => {
      const prefix = join(scratch, `existing-${++counter}`);
      mkdirSync(prefix);
      writeFileSync(join(prefix, "awstoe"), standIn("0.0.9", "old"));
      const run = await install(env, ["--base-url", `${base}/tampered`], { prefix });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`checksum mismatch for ${base}/tampered/latest/awstoe-linux-x64`);
      expect(run.stderr).toContain("nothing was installed");
      expect(filesIn(prefix)).toEqual(["awstoe"]);
      expect(readFileSync(join(prefix, "awstoe"), "utf8")).toBe(standIn("0.0.9", "old"));
      expect(run.tmpLeft).toEqual([]);
    });

    test("checksum mismatch into an empty prefix installs nothing", async () => {
      const run = await install(env, ["--base-url", `${base}/tampered`]);
      expect(run.code).toBe(1);
      expect(filesIn(run.prefix)).toEqual([]);
    });

    test("a binary the server does not have: a clear message naming its URL", async () => {
      const run = await install(env, ["--base-url", `${base}/missing`]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`install.sh: error: downloading ${base}/missing/latest/awstoe-linux-x64 failed`);
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
      const first = await install(env, ["--base-url", `${base}/good`, "--version", "0.1.0"]);
      expect(first.code).toBe(0);
      const installed = join(first.prefix, "awstoe");
      expect(readFileSync(installed, "utf8")).toBe(standIn("0.1.0", "linux-x64"));
      // Writing into the existing file would change what the link shows; a rename leaves it alone.
      const link = join(scratch, `old-link-${counter}`);
      linkSync(installed, link);
      const oldInode = statSync(installed).ino;
      const second = await install(env, ["--base-url", `${base}/good`], { prefix: first.prefix });
      expect(second.code).toBe(0);
      expect(readFileSync(installed, "utf8")).toBe(standIn("0.2.0", "linux-x64"));
      expect(readFileSync(link, "utf8")).toBe(standIn("0.1.0", "linux-x64"));
      expect(statSync(installed).ino).not.toBe(oldInode);
      expect(statSync(installed).mode & 0o777).toBe(0o755);
      expect(filesIn(first.prefix)).toEqual(["awstoe"]);
    });
  });
}

const DASH_CURL = ENVIRONMENTS.find((e) => e.name.startsWith("dash + curl"));

describe.skipIf(DASH_CURL === undefined)("install.sh: the other paths (dash + curl)", () => {
  const env = DASH_CURL!;

  test("--version v0.1.0 installs from <base>/0.1.0/", async () => {
    const run = await install(env, ["--base-url", `${base}/good/`, "--version", "v0.1.0"]);
    expect(run.code).toBe(0);
    expect(readFileSync(join(run.prefix, "awstoe"), "utf8")).toBe(standIn("0.1.0", "linux-x64"));
    expect(requests.slice(-2)).toEqual(["/good/0.1.0/SHA256SUMS", "/good/0.1.0/awstoe-linux-x64"]);
  });

  test("--version V whose binary reports another version is refused", async () => {
    const run = await install(env, ["--base-url", `${base}/good`, "--version", "0.3.0"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("asked for version 0.3.0 but");
    expect(run.stderr).toContain("awstoe 0.2.0");
    expect(filesIn(run.prefix)).toEqual([]);
  });

  test("a release without this CPU's build: names SHA256SUMS and the missing entry", async () => {
    const run = await install(env, ["--base-url", `${base}/partial`], { uname: { s: "Linux", m: "aarch64" } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${base}/partial/latest/SHA256SUMS has no entry for awstoe-linux-arm64`);
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

  test("32-bit x86 and other operating systems get a clear message", async () => {
    const x86 = await install(env, ["--base-url", `${base}/good`], { uname: { s: "Linux", m: "i686" } });
    expect(x86.code).toBe(1);
    expect(x86.stderr).toContain("no single-file awstoe for 32-bit x86 (i686)");
    expect(x86.stderr).toContain("awstoe-node.cjs");
    const bsd = await install(env, ["--base-url", `${base}/good`], { uname: { s: "FreeBSD", m: "amd64" } });
    expect(bsd.code).toBe(1);
    expect(bsd.stderr).toContain("no awstoe build for the operating system 'FreeBSD'");
    const windows = await install(env, ["--base-url", `${base}/good`], { uname: { s: "MINGW64_NT-10.0", m: "x86_64" } });
    expect(windows.code).toBe(1);
    expect(windows.stderr).toContain("PowerShell");
  });

  test("no curl and no wget: says to install one", async () => {
    const bare: Environment = { ...env, name: "no downloader", tools: realTools([...BASE_TOOLS, "sha256sum"]) };
    const run = await install(bare, ["--base-url", `${base}/good`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("neither curl nor wget is installed");
  });

  test("only perl's shasum to hash with: still verifies and installs", async () => {
    const shasum: Environment = { ...env, name: "shasum", tools: realTools([...BASE_TOOLS, "curl", "shasum"]) };
    const good = await install(shasum, ["--base-url", `${base}/good`]);
    expect(good.code).toBe(0);
    expect(readFileSync(join(good.prefix, "awstoe"), "utf8")).toBe(standIn("0.2.0", "linux-x64"));
    const bad = await install(shasum, ["--base-url", `${base}/tampered`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("checksum mismatch");
  });

  test("without --base-url: a usage error (exit 2) saying there is no public release location yet", async () => {
    const run = await install(env, []);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("no public release location exists yet; pass --base-url");
    expect(filesIn(run.prefix)).toEqual([]);
  });

  test("dist/ layout: the SHA256SUMS format is what coreutils and busybox sha256sum -c accept", async () => {
    const dir = join(scratch, "www/good/latest");
    for (const checker of [[which("sha256sum")], ...(BUSYBOX === null ? [] : [[BUSYBOX, "sha256sum"]])]) {
      const run = Bun.spawnSync([...checker, "-c", "SHA256SUMS"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
      expect(run.stdout.toString()).toBe("awstoe-linux-arm64: OK\nawstoe-linux-x64: OK\n");
      expect(run.exitCode).toBe(0);
    }
  });
});
