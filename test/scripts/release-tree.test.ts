/**
 * @module test/scripts/release-tree: the release tree scripts/release-tree.ts writes from the real
 * builds — layout, the version and commit in every binary, SHA256SUMS, and both kinds of
 * signature — checked with the tools a user checks with: `gpg --verify` against nothing but the
 * published key, `sha256sum -c`, `osslsigncode verify`, and the signed Windows executable run
 * under Wine.
 *
 * The keys are throwaway ones made here: an Ed25519 OpenPGP key (test/helpers/gpg.ts) and a
 * self-signed code-signing certificate from openssl. They reach the script the way a release
 * manager's would: through the OPENTOE_GPG_* and OPENTOE_AUTHENTICODE_* variables.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { binaryPath, FINGERPRINT, PLATFORMS, PUBLIC_KEY, SUMS, SUMS_SIGNATURE } from "../../scripts/_release-layout.ts";
import { gpgSignerFromEnv } from "../../scripts/_sign.ts";
import { buildHost, buildTargetInChild, gitCommit, hostTarget, REPO, staleReason, TARGETS } from "../../scripts/build.ts";
import { buildNodeBundle, nodeBundleStaleReason } from "../../scripts/build-node.ts";
import { checkEmbeddedVersion, writeReleaseTree } from "../../scripts/release-tree.ts";
import { GPG, gpg, onlyFingerprint, removeHome, throwawayKey, type ThrowawayKey, verifyDetached } from "../helpers/gpg.ts";
import { isolatedAwsEnv } from "../helpers/aws-env.ts";
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, startLocalS3 } from "../helpers/s3-server.ts";
import { runWine, wineSkipReason } from "../helpers/wine.ts";

const OSSLSIGNCODE = Bun.which("osslsigncode");
const OPENSSL = Bun.which("openssl");
const missing = [GPG === null ? "gpg" : "", OSSLSIGNCODE === null ? "osslsigncode" : "", OPENSSL === null ? "openssl" : ""].filter(Boolean);
if (missing.length > 0) {
  const line = `release tree tests need ${missing.join(", ")} (run scripts/ci-deps.sh as root)`;
  if (process.env.CI) throw new Error(line);
  console.warn(`skipped: ${line}`);
}

const VERSION = packageJson.version;
const HOST_PLATFORM = `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`;
const COMMIT = gitCommit();

/**
 * Every non-optional release input in dist/, rebuilt when missing, older than its sources, or
 * built from another commit (the tree refuses those, which is what a test below checks).
 */
async function freshReleaseInputs(): Promise<void> {
  for (const p of PLATFORMS.filter((p) => !p.optional)) {
    const path = join(REPO, p.source);
    let current = existsSync(path) && (p.needsNode ? nodeBundleStaleReason() : staleReason(path)) === undefined;
    if (current) {
      try {
        checkEmbeddedVersion(p, path, VERSION, COMMIT);
      } catch {
        current = false;
      }
    }
    if (current) continue;
    process.stderr.write(`[release] building ${p.source}…\n`);
    if (p.needsNode) await buildNodeBundle();
    else {
      const target = TARGETS.find((t) => t.outfile === p.source)!;
      if (target === hostTarget()) await buildHost();
      else await buildTargetInChild(target.name);
    }
  }
}

/** A child that may talk to a server in this process, so the event loop must keep running. */
async function runAsync(argv: readonly string[], env: Record<string, string | undefined>, stdin?: Uint8Array) {
  const child = Bun.spawn([...argv], { cwd: REPO, env, stdin: stdin ?? "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

function run(argv: readonly string[], env: Record<string, string | undefined> = process.env, cwd = REPO) {
  const child = Bun.spawnSync([...argv], { cwd, env, stdout: "pipe", stderr: "pipe" });
  return { code: child.exitCode ?? 1, stdout: child.stdout.toString(), stderr: child.stderr.toString() };
}

let scratch: string;
let key: ThrowawayKey;
let other: ThrowawayKey;
let cert: string;
let certKey: string;
/** The version folder written by the script itself, signed both ways. */
let tree: string;
let scriptRun: { code: number; stdout: string; stderr: string };

describe.skipIf(missing.length > 0)("release tree", () => {
  beforeAll(async () => {
    await freshReleaseInputs();
    scratch = mkdtempSync(join(tmpdir(), "opentoe-release-"));
    key = throwawayKey();
    other = throwawayKey("someone else");
    cert = join(scratch, "cert.pem");
    certKey = join(scratch, "key.pem");
    const made = run([OPENSSL!, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", certKey, "-out", cert, "-days", "2", "-subj", "/CN=opentoe test code signing", "-addext", "extendedKeyUsage=codeSigning"]);
    if (made.code !== 0) throw new Error(`openssl could not make the test certificate: ${made.stderr}`);
    const out = join(scratch, "release");
    scriptRun = run(["node_modules/.bin/bun", "scripts/release-tree.ts", "--require-signatures", "--out", out], {
      ...process.env,
      OPENTOE_GPG_KEY_FILE: key.secretKeyFile,
      OPENTOE_AUTHENTICODE_CERT: cert,
      OPENTOE_AUTHENTICODE_KEY: certKey,
    });
    tree = join(out, VERSION);
  }, 600_000);

  afterAll(() => {
    key?.dispose();
    other?.dispose();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  test("the script writes <version>/<os>/<arch>/awstoe[.exe] with a signature beside each, and nothing else", () => {
    expect(scriptRun.stderr).toBe("");
    expect(scriptRun.code).toBe(0);
    expect(scriptRun.stdout).toContain(`signed 8 files (OpenPGP, key ${key.fingerprint})`);
    expect(scriptRun.stdout).toContain("signed windows/amd64/awstoe.exe (Authenticode");
    const files: string[] = [];
    const walk = (rel: string) => {
      for (const entry of readdirSync(join(tree, rel), { withFileTypes: true })) {
        const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
        if (entry.isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk("");
    expect(files.sort()).toEqual(
      [
        "SHA256SUMS",
        "SHA256SUMS.sig",
        "awstoe.gpg",
        "awstoe.gpg.fingerprint",
        "install.sh",
        "install.sh.sig",
        "darwin/amd64/awstoe",
        "darwin/amd64/awstoe.sig",
        "darwin/arm64/awstoe",
        "darwin/arm64/awstoe.sig",
        "linux/386/awstoe",
        "linux/386/awstoe.sig",
        "linux/amd64/awstoe",
        "linux/amd64/awstoe.sig",
        "linux/arm64/awstoe",
        "linux/arm64/awstoe.sig",
        "windows/amd64/awstoe.exe",
        "windows/amd64/awstoe.sig",
      ].sort(),
    );
    // Nothing of the staging folder is left beside the version folder.
    expect(readdirSync(join(tree, ".."))).toEqual([VERSION]);
    for (const p of PLATFORMS.filter((p) => !p.optional)) expect(statSync(join(tree, binaryPath(p))).mode & 0o777).toBe(0o755);
  });

  test("every signature verifies with gpg against only the published key, made by the pinned fingerprint", () => {
    expect(readFileSync(join(tree, FINGERPRINT), "utf8")).toBe(`${key.fingerprint}\n`);
    const published = join(tree, PUBLIC_KEY);
    const signed = ["SHA256SUMS", "install.sh", ...PLATFORMS.filter((p) => !p.optional).map(binaryPath)];
    for (const path of signed) {
      const sig = path.includes("/") ? `${path.slice(0, path.lastIndexOf("/"))}/awstoe.sig` : `${path}.sig`;
      const checked = verifyDetached(published, join(tree, sig), join(tree, path));
      expect({ path, ok: checked.ok, signer: checked.signer }).toEqual({ path, ok: true, signer: key.fingerprint });
    }
    // The published key is the signing key and nothing else.
    const home = mkdtempSync("/tmp/otgpg-");
    try {
      expect(gpg(home, ["--import", published]).code).toBe(0);
      expect(onlyFingerprint(home)).toBe(key.fingerprint);
      expect(gpg(home, ["--list-secret-keys", "--with-colons"]).stdout).not.toContain("sec:");
    } finally {
      removeHome(home);
    }
  });

  test("a changed byte fails gpg --verify; so does another key's public half", () => {
    const copy = join(scratch, "tampered-awstoe");
    copyFileSync(join(tree, "linux/amd64/awstoe"), copy);
    const bytes = readFileSync(copy);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0x01;
    writeFileSync(copy, bytes);
    expect(verifyDetached(join(tree, PUBLIC_KEY), join(tree, "linux/amd64/awstoe.sig"), copy).ok).toBe(false);
    const sums = join(scratch, "tampered-sums");
    writeFileSync(sums, readFileSync(join(tree, SUMS), "utf8").replace(/^./, (c) => (c === "0" ? "1" : "0")));
    expect(verifyDetached(join(tree, PUBLIC_KEY), join(tree, SUMS_SIGNATURE), sums).ok).toBe(false);
    expect(verifyDetached(other.publicKeyFile, join(tree, SUMS_SIGNATURE), join(tree, SUMS)).ok).toBe(false);
  });

  test("sha256sum -c accepts the tree's SHA256SUMS, which lists every file but the signatures", () => {
    const checked = run(["sha256sum", "-c", SUMS], process.env, tree);
    expect(checked.code).toBe(0);
    const listed = checked.stdout.trim().split("\n").map((line) => line.replace(/: OK$/, ""));
    expect(listed).toEqual(["awstoe.gpg", "awstoe.gpg.fingerprint", "darwin/amd64/awstoe", "darwin/arm64/awstoe", "install.sh", "linux/386/awstoe", "linux/amd64/awstoe", "linux/arm64/awstoe", "windows/amd64/awstoe.exe"]);
  });

  test("every binary names this version and commit; the Linux ones say so when run", () => {
    const line = `awstoe ${VERSION} (opentoe, commit ${COMMIT})`;
    expect(run([join(tree, "linux/amd64/awstoe"), "--version"]).stdout.trim()).toBe(line);
    // linux/386 is the Node bundle as an executable file: its shebang finds `node` on PATH.
    const bundle = join(tree, "linux/386/awstoe");
    expect(readFileSync(bundle, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
    expect(run([bundle, "--version"], process.env, scratch).stdout.trim()).toBe(line);
    for (const path of ["linux/arm64/awstoe", "darwin/amd64/awstoe", "darwin/arm64/awstoe", "windows/amd64/awstoe.exe"]) {
      expect({ path, hasCommit: readFileSync(join(tree, path)).indexOf(`(opentoe, commit `) > 0 && readFileSync(join(tree, path)).indexOf(COMMIT) > 0 }).toEqual({ path, hasCommit: true });
    }
  });

  test("the Windows executable carries an Authenticode signature osslsigncode verifies; a changed byte breaks it", () => {
    const exe = join(tree, "windows/amd64/awstoe.exe");
    const verified = run([OSSLSIGNCODE!, "verify", "-CAfile", cert, "-in", exe]);
    expect(verified.stdout).toContain("Signature verification: ok");
    expect(verified.code).toBe(0);
    const copy = join(scratch, "tampered.exe");
    const bytes = readFileSync(exe);
    bytes[5_000_000] = bytes[5_000_000]! ^ 0x01;
    writeFileSync(copy, bytes);
    const broken = run([OSSLSIGNCODE!, "verify", "-CAfile", cert, "-in", copy]);
    expect(broken.code).not.toBe(0);
    expect(broken.stdout).toContain("MISMATCH");
  });

  test.skipIf(wineSkipReason() !== undefined)("the signed Windows executable still runs (under Wine)", () => {
    const ran = runWine(join(tree, "windows/amd64/awstoe.exe"), ["--version"], { cwd: scratch });
    expect(ran.stdout.trim()).toBe(`awstoe ${VERSION} (opentoe, commit ${COMMIT})`);
    expect(ran.exitCode).toBe(0);
  }, 120_000);

  test("install.sh in the tree has the release key's fingerprint pinned; the repository's copy has none", () => {
    const released = readFileSync(join(tree, "install.sh"), "utf8");
    expect(released).toContain(`\nPINNED_KEY_FINGERPRINT="${key.fingerprint}"\n`);
    expect(readFileSync(join(REPO, "scripts/install.sh"), "utf8")).toContain('\nPINNED_KEY_FINGERPRINT=""\n');
    expect(released.replace(key.fingerprint, "")).toBe(readFileSync(join(REPO, "scripts/install.sh"), "utf8"));
  });

  test("a key from an existing keyring (OPENTOE_GPG_KEY) and a passphrase file work too", async () => {
    const protectedKey = throwawayKey("passphrase key", "correct horse");
    try {
      const passphrase = join(scratch, "passphrase");
      writeFileSync(passphrase, "correct horse\n", { mode: 0o600 });
      const signer = gpgSignerFromEnv({ ...process.env, GNUPGHOME: protectedKey.home, OPENTOE_GPG_KEY: protectedKey.fingerprint, OPENTOE_GPG_PASSPHRASE_FILE: passphrase });
      expect(signer?.fingerprint).toBe(protectedKey.fingerprint);
      const file = join(scratch, "note.txt");
      writeFileSync(file, "signed with a passphrase\n");
      signer!.sign(file, `${file}.sig`);
      signer!.dispose();
      expect(verifyDetached(protectedKey.publicKeyFile, `${file}.sig`, file).signer).toBe(protectedKey.fingerprint);
      writeFileSync(passphrase, "wrong\n");
      const wrong = gpgSignerFromEnv({ ...process.env, OPENTOE_GPG_KEY_FILE: protectedKey.secretKeyFile, OPENTOE_GPG_PASSPHRASE_FILE: passphrase });
      expect(() => wrong!.sign(file, `${file}.sig2`)).toThrow(/gpg could not sign .*note\.txt/);
      wrong!.dispose();
    } finally {
      protectedKey.dispose();
    }
  });

  test("bad signing settings are one clear sentence each", () => {
    expect(() => gpgSignerFromEnv({ ...process.env, OPENTOE_GPG_KEY_FILE: join(scratch, "nope.asc") })).toThrow(`OPENTOE_GPG_KEY_FILE names ${join(scratch, "nope.asc")}, which does not exist`);
    const notAKey = join(scratch, "not-a-key.asc");
    writeFileSync(notAKey, "hello\n");
    expect(() => gpgSignerFromEnv({ ...process.env, OPENTOE_GPG_KEY_FILE: notAKey })).toThrow(/holds no secret key|could not import/);
    // Without any variable: unsigned, and --require-signatures refuses before writing anything.
    const out = join(scratch, "refused");
    const refused = run(["node_modules/.bin/bun", "scripts/release-tree.ts", "--require-signatures", "--out", out], { ...process.env, OPENTOE_GPG_KEY_FILE: "", OPENTOE_GPG_KEY: "" });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("--require-signatures: set OPENTOE_GPG_KEY_FILE");
    expect(existsSync(out)).toBe(false);
  });

  test("an unsigned tree says what publishing needs; a stale binary stops the tree, and an older tree is replaced whole", async () => {
    const out = join(scratch, "unsigned");
    const first = await writeReleaseTree({ out });
    expect(first.signed).toBe(false);
    expect(first.problems).toContain("SHA256SUMS.sig is missing");
    expect(first.problems).toContain("linux/amd64/awstoe has no signature (linux/amd64/awstoe.sig); sign the release (dist/README.md)");
    expect(readFileSync(join(first.dir, "install.sh"), "utf8")).toContain('\nPINNED_KEY_FINGERPRINT=""\n');
    writeFileSync(join(first.dir, "leftover"), "from the first tree\n");
    const second = await writeReleaseTree({ out });
    expect(existsSync(join(second.dir, "leftover"))).toBe(false);
    expect(readdirSync(out)).toEqual([VERSION]);
    // A darwin/arm64 file from another commit: refused, and the tree already there stays.
    const stale = join(scratch, "stale-darwin");
    mkdirSync(stale);
    writeFileSync(join(stale, "awstoe"), "awstoe 0.0.1 (opentoe, commit 0000000)\n");
    await expect(writeReleaseTree({ out, sources: { "darwin/arm64": join(stale, "awstoe") } })).rejects.toThrow(`was not built from commit ${COMMIT}; rebuild it (npm run build)`);
    expect(readdirSync(out)).toEqual([VERSION]);
    expect(readdirSync(join(out, VERSION))).toContain("SHA256SUMS");
  }, 120_000);

  // End to end, the way a release reaches an instance: the signed tree published with publish.ts
  // to a local S3 bucket anyone may read, then `curl …/latest/install.sh | sh` on this machine,
  // which must find the real linux/amd64 build, check it with the fingerprint pinned in that
  // install.sh, and install something that runs.
  test.skipIf(HOST_PLATFORM !== "linux/amd64")("published to S3, install.sh from latest/ installs the real binary, signature checked, and it runs", async () => {
    expect(scriptRun.code).toBe(0);
    const s3 = await startLocalS3(["opentoe-releases"], { publicRead: ["opentoe-releases"] });
    try {
      const env = isolatedAwsEnv(scratch, { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_REGION: "us-east-1" });
      const published = await runAsync(["node_modules/.bin/bun", "scripts/publish.ts", "--bucket", "opentoe-releases", tree], env);
      expect(published.stderr).toBe("");
      expect(published.code).toBe(0);
      expect(published.stdout).toContain(`published ${VERSION} to s3://opentoe-releases`);

      const base = `${s3.endpoint}/opentoe-releases`;
      const installer = await fetch(`${base}/latest/install.sh`);
      expect(installer.status).toBe(200);
      const prefix = join(scratch, "installed-bin");
      const installed = await runAsync(["sh", "-s", "--", "--base-url", base, "--prefix", prefix, "--require-signature"], { PATH: process.env.PATH, HOME: scratch }, new Uint8Array(await installer.arrayBuffer()));
      expect(installed.stderr).toBe("");
      expect(installed.code).toBe(0);
      expect(installed.stdout).toContain(`OpenPGP signature by key ${key.fingerprint}`);
      const ran = run([join(prefix, "awstoe"), "--version"]);
      expect(ran.stdout.trim()).toBe(`awstoe ${VERSION} (opentoe, commit ${COMMIT})`);
      expect(readFileSync(join(prefix, "awstoe")).equals(readFileSync(join(tree, "linux/amd64/awstoe")))).toBe(true);

      // The same release by version number, and a pinned fingerprint that is not the release key's: refused, nothing replaced.
      const byVersion = await runAsync(["sh", join(tree, "install.sh"), "--base-url", base, "--prefix", prefix, "--version", VERSION], { PATH: process.env.PATH, HOME: scratch });
      expect(byVersion.code).toBe(0);
      const wrongKey = await runAsync(["sh", join(tree, "install.sh"), "--base-url", base, "--prefix", join(scratch, "not-installed"), "--key-fingerprint", other.fingerprint], { PATH: process.env.PATH, HOME: scratch });
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.stderr).toContain(other.fingerprint);
      expect(existsSync(join(scratch, "not-installed", "awstoe"))).toBe(false);
    } finally {
      await s3.close();
    }
  }, 120_000);
});
