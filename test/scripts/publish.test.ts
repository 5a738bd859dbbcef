/**
 * @module test/scripts/publish: scripts/publish.ts run as a child process against a real
 * S3-compatible server on 127.0.0.1 (test/helpers/s3-server: s3rver behind a SigV4 check that
 * records every request). The releases are small stand-ins built here — one binary over the
 * multipart threshold, the rest a few bytes — signed with a throwaway OpenPGP key, and what was
 * published is checked the way a user would: anonymous HTTP downloads verified with `gpg` against
 * nothing but the throwaway public key.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { cacheControl, contentType, formatSums, isSigned, isSummed, LATEST, listFiles, PLATFORMS, binaryPath, signaturePath, SUMS, type ReleasePlatform } from "../../scripts/_release-layout.ts";
import { REPO, sha256File } from "../../scripts/build.ts";
import { MULTIPART_BYTES, uploadOrder } from "../../scripts/publish.ts";
import { isolatedAwsEnv } from "../helpers/aws-env.ts";
import { GPG, gpg, throwawayKey, type ThrowawayKey, verifyDetached } from "../helpers/gpg.ts";
import { ACCESS_KEY_ID, type LocalS3, type RecordedRequest, s3Error, SECRET_ACCESS_KEY, startLocalS3, testClient } from "../helpers/s3-server.ts";

if (GPG === null) {
  const line = "publish tests need gpg (run scripts/ci-deps.sh as root)";
  if (process.env.CI) throw new Error(line);
  console.warn(`skipped: ${line}`);
}

const BUN = join(REPO, "node_modules/.bin/bun");
const SCRIPT = join(REPO, "scripts/publish.ts");
const BUCKETS = ["rel-a", "rel-b", "rel-c", "rel-d", "rel-e", "rel-f"];

let scratch: string;
let key: ThrowawayKey;
let s3: LocalS3;
let client: S3Client;
/** What the server does with a request before passing it on (a test sets it, then clears it). */
let interceptor: ((request: RecordedRequest) => Response | undefined | Promise<Response | undefined>) | undefined;
/** Every stderr a run printed, checked for stack traces at the end. */
const stderrs: string[] = [];

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  /** The requests the proxy saw during this run. */
  requests: RecordedRequest[];
}

/** The environment a release manager would have, pointed at the local server. */
function s3Env(extra: Record<string, string | undefined> = {}): Record<string, string> {
  return isolatedAwsEnv(scratch, {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
    AWS_REGION: "us-east-1",
    ...extra,
  });
}

/** Runs the script (asynchronously: the server answers from this process's event loop). */
async function publish(args: readonly string[], env: Record<string, string> = s3Env()): Promise<Ran> {
  const from = s3.requests.length;
  const child = Bun.spawn([BUN, SCRIPT, ...args], { cwd: REPO, env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  stderrs.push(stderr);
  return { code, stdout, stderr, requests: s3.requests.slice(from) };
}

/** A stand-in binary: its platform and version as text, padded to `bytes` with a pattern. */
function standIn(version: string, p: ReleasePlatform, bytes: number): Buffer {
  const head = Buffer.from(`#!/bin/sh\necho "stand-in awstoe ${version} ${p.os}/${p.arch}"\n`);
  const out = Buffer.alloc(Math.max(bytes, head.length));
  head.copy(out);
  for (let i = head.length; i < out.length; i++) out[i] = (i * 31 + version.length) & 0xff;
  return out;
}

function sign(file: string, signature: string): void {
  const made = gpg(key.home, ["--pinentry-mode", "loopback", "--passphrase", "", "--detach-sign", "-o", signature, file]);
  if (made.code !== 0) throw new Error(`gpg --detach-sign ${file} failed: ${made.stderr}`);
}

/**
 * A release version folder under `parent`, laid out as scripts/_release-layout.ts says: every
 * platform in `platforms` (linux/amd64 big enough for a multipart upload), install.sh, the key
 * and its fingerprint, SHA256SUMS, and — when `signed` — a detached signature beside each signed file.
 */
async function makeRelease(parent: string, version: string, options: { platforms?: readonly ReleasePlatform[]; signed?: boolean } = {}): Promise<string> {
  const dir = join(parent, version);
  const platforms = options.platforms ?? PLATFORMS;
  for (const p of platforms) {
    const path = join(dir, binaryPath(p));
    mkdirSync(dirname(path), { recursive: true });
    const bytes = p.os === "linux" && p.arch === "amd64" ? MULTIPART_BYTES + 1024 * 1024 : 700;
    writeFileSync(path, standIn(version, p, bytes), { mode: 0o755 });
  }
  writeFileSync(join(dir, "install.sh"), `#!/bin/sh\necho "stand-in installer ${version}"\n`, { mode: 0o755 });
  writeFileSync(join(dir, "awstoe.gpg"), readFileSync(key.publicKeyFile));
  writeFileSync(join(dir, "awstoe.gpg.fingerprint"), `${key.fingerprint}\n`);
  const summed = listFiles(dir).filter(isSummed);
  writeFileSync(join(dir, SUMS), formatSums(await Promise.all(summed.map(async (path) => ({ path, sha256: await sha256File(join(dir, path)) })))));
  if (options.signed ?? true) for (const path of listFiles(dir).filter(isSigned)) sign(join(dir, path), join(dir, signaturePath(path)));
  return dir;
}

async function keys(bucket: string, prefix = ""): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

/** Every object of a bucket with its ETag and modification time: equal snapshots mean nothing changed. */
async function snapshot(bucket: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (page.Contents ?? []).map((o) => `${o.Key} ${o.ETag} ${o.Size} ${o.LastModified?.toISOString()}`).sort();
}

async function body(bucket: string, objectKey: string): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

/** Requests that create an object, in order: PutObject, and CompleteMultipartUpload for multipart ones. */
function writes(requests: readonly RecordedRequest[], bucket?: string): RecordedRequest[] {
  return requests.filter((r) => (bucket === undefined || r.bucket === bucket) && ((r.method === "PUT" && !/(^|&)uploadId=/.test(r.query)) || (r.method === "POST" && /(^|&)uploadId=/.test(r.query))));
}

/** Requests that change something (uploads of any kind, deletions). */
function changes(requests: readonly RecordedRequest[]): RecordedRequest[] {
  return requests.filter((r) => r.method !== "GET" && r.method !== "HEAD");
}

/** Files of the 0.1.0 release folder, in the order the script uploads them. */
let files010: string[];
let release010: string;
let release020: string;
let unsigned: string;
/** The first publish: 0.1.0 to rel-a and rel-b. */
let first: Ran;

describe.skipIf(GPG === null)("publish.ts", () => {
  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "opentoe-publish-"));
    key = throwawayKey();
    s3 = await startLocalS3(BUCKETS, { publicRead: BUCKETS, intercept: (request) => interceptor?.(request) });
    client = await testClient(s3);
    release010 = await makeRelease(join(scratch, "one"), "0.1.0");
    // 0.2.0 lacks the optional windows/386, which latest/ must then lose.
    release020 = await makeRelease(join(scratch, "two"), "0.2.0", { platforms: PLATFORMS.filter((p) => !p.optional) });
    unsigned = await makeRelease(join(scratch, "unsigned"), "0.9.0", { signed: false });
    files010 = uploadOrder(listFiles(release010));
  }, 120_000);

  afterAll(async () => {
    await s3?.close();
    key?.dispose();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    // Every failure above was one worded line: never a stack trace, never Bun's error dump.
    for (const stderr of stderrs) {
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(stderr).not.toMatch(/^error: |Error: |\bthrow\b/m);
    }
  });

  test("--help prints the usage; a bad command line is a usage error (exit 2) that contacts nothing", async () => {
    const help = await publish(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("usage: bun run scripts/publish.ts");
    expect(help.stdout).toContain("--resume");
    for (const args of [[release010], ["--bucket"], ["--bucket", "s3://rel-a", release010], ["--bucket", "Not_A_Bucket", release010], ["--bucket", "rel-a@moon", release010], ["--bucket", "rel-a", "--bucket", "rel-a", release010], ["--frobnicate", "--bucket", "rel-a"]]) {
      const ran = await publish(args);
      expect(ran.code).toBe(2);
      expect(ran.stderr.split("\n")[0]).toMatch(/^publish: /);
      expect(ran.stderr).toContain("usage:");
      expect(ran.requests).toEqual([]);
    }
  }, 60_000);

  test("--dry-run prints the plan in order and makes no request at all, without credentials", async () => {
    const env = isolatedAwsEnv(scratch, { AWS_ENDPOINT_URL_S3: s3.endpoint });
    const ran = await publish(["--dry-run", "--bucket", "rel-a", "--bucket", "rel-b@eu-west-1", release010], env);
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.requests).toEqual([]);
    expect(await keys("rel-a")).toEqual([]);
    const lines = ran.stdout.trim().split("\n");
    expect(lines[0]).toContain("dry run: 0.1.0");
    expect(lines[0]).toContain("s3://rel-b (eu-west-1)");
    expect(lines[0]).toContain("nothing is contacted");
    // Both buckets are checked before anything is put anywhere.
    expect(lines.slice(1, 3)).toEqual(["check s3://rel-a/0.1.0/ is empty (releases never change)", "check s3://rel-b/0.1.0/ is empty (releases never change)"]);
    const puts = lines.filter((l) => l.startsWith("put "));
    expect(puts).toHaveLength(files010.length * 2 * 2);
    const expected = (bucket: string) => [
      ...files010.map((path) => `s3://${bucket}/0.1.0/${path} (${contentType(path)}, ${cacheControl("version")}, `),
      ...files010.map((path) => `s3://${bucket}/latest/${path} (${contentType(path)}, ${cacheControl("latest")}, `),
    ];
    const planned = [...expected("rel-a"), ...expected("rel-b")];
    puts.forEach((line, i) => expect(line.startsWith(`put ${planned[i]}`)).toBe(true));
    expect(puts[0]).toBe("put s3://rel-a/0.1.0/linux/amd64/awstoe (application/octet-stream, public, max-age=31536000, immutable, 9.0 MB)");
    expect(ran.stdout).toContain("put s3://rel-a/latest/linux/amd64/awstoe.sig (application/pgp-signature, no-cache, ");
    const deletes = lines.flatMap((l, i) => (l.startsWith("then delete latest/ objects not in this release") ? [i] : []));
    expect(deletes).toHaveLength(2);
    // rel-a's deletions come after its last put and before rel-b's first.
    expect(lines[deletes[0]! - 1]).toStartWith("put s3://rel-a/latest/SHA256SUMS.sig ");
    expect(lines[deletes[0]! + 2]).toStartWith("put s3://rel-b/0.1.0/");
  }, 60_000);

  test("an unsigned release folder is refused before any request", async () => {
    const ran = await publish(["--bucket", "rel-a", unsigned]);
    expect(ran.code).toBe(1);
    expect(ran.requests).toEqual([]);
    const [headline, ...problems] = ran.stderr.trim().split("\n");
    expect(headline).toContain("cannot be published");
    expect(headline).toContain("sign it first");
    expect(headline).toContain("nothing was uploaded");
    expect(problems.some((p) => p.includes("linux/amd64/awstoe has no signature"))).toBe(true);
    expect(problems.some((p) => p.includes("SHA256SUMS.sig is missing"))).toBe(true);
    // --dry-run checks the folder too.
    const dry = await publish(["--dry-run", "--bucket", "rel-a", unsigned]);
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain("sign it first");
    // So does a missing one.
    const missing = await publish(["--bucket", "rel-a", join(scratch, "nowhere", "0.1.0")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toContain("does not exist");
    expect(missing.requests).toEqual([]);
  }, 60_000);

  test("publishes to two buckets: every file as <version>/ and latest/, read back", async () => {
    first = await publish(["--bucket", "rel-a", "--bucket", "rel-b", release010]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    for (const bucket of ["rel-a", "rel-b"]) {
      expect(first.stdout).toMatch(new RegExp(`^published 0\\.1\\.0 to s3://${bucket} \\(${files010.length} files, [0-9.]+ MB\\) in [0-9.]+ s$`, "m"));
      const want = [...files010.map((p) => `0.1.0/${p}`), ...files010.map((p) => `latest/${p}`)].sort();
      expect(await keys(bucket)).toEqual(want);
      for (const path of files010) {
        const local = readFileSync(join(release010, path));
        expect((await body(bucket, `0.1.0/${path}`)).equals(local)).toBe(true);
        expect((await body(bucket, `latest/${path}`)).equals(local)).toBe(true);
      }
    }
    expect(s3.rejected).toBe(0);
    // The big binary went up in parts, the others in one request each.
    expect(first.requests.some((r) => r.method === "PUT" && r.key === "0.1.0/linux/amd64/awstoe" && /partNumber=2/.test(r.query))).toBe(true);
    expect(first.requests.some((r) => r.method === "PUT" && r.key === "0.1.0/install.sh" && /uploadId/.test(r.query))).toBe(false);
  }, 120_000);

  test("content types and cache headers: a year for <version>/, revalidate for latest/", async () => {
    for (const bucket of ["rel-a", "rel-b"]) {
      for (const path of files010) {
        for (const [folder, prefix] of [["version", "0.1.0"], ["latest", LATEST]] as const) {
          const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}/${path}` }));
          expect(`${prefix}/${path} ${head.ContentType}`).toBe(`${prefix}/${path} ${contentType(path)}`);
          expect(`${prefix}/${path} ${head.CacheControl}`).toBe(`${prefix}/${path} ${cacheControl(folder)}`);
        }
      }
    }
    expect(contentType("linux/amd64/awstoe.sig")).toBe("application/pgp-signature");
    // What an anonymous reader's HTTP client gets.
    const got = await fetch(`${s3.endpoint}/rel-a/latest/SHA256SUMS`);
    expect(got.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(got.headers.get("cache-control")).toBe("no-cache");
    await got.arrayBuffer();
  }, 60_000);

  test("upload order: <version>/ before latest/, each binary followed at once by its signature, SHA256SUMS last", () => {
    for (const bucket of ["rel-a", "rel-b"]) {
      const order = writes(first.requests, bucket).map((r) => r.key);
      expect(order).toEqual([...files010.map((p) => `0.1.0/${p}`), ...files010.map((p) => `latest/${p}`)]);
      const lastVersioned = Math.max(...order.map((k, i) => (k.startsWith("0.1.0/") ? i : -1)));
      const firstLatest = order.findIndex((k) => k.startsWith("latest/"));
      expect(lastVersioned).toBeLessThan(firstLatest);
      for (const p of PLATFORMS) {
        for (const prefix of ["0.1.0", "latest"]) {
          const at = order.indexOf(`${prefix}/${binaryPath(p)}`);
          expect(at).toBeGreaterThanOrEqual(0);
          expect(order[at + 1]).toBe(`${prefix}/${signaturePath(binaryPath(p))}`);
        }
      }
      expect(order.slice(-2)).toEqual(["latest/SHA256SUMS", "latest/SHA256SUMS.sig"]);
      expect(order.slice(files010.length - 2, files010.length)).toEqual(["0.1.0/SHA256SUMS", "0.1.0/SHA256SUMS.sig"]);
    }
    // Bucket by bucket.
    const all = writes(first.requests);
    expect(all.findIndex((r) => r.bucket === "rel-b")).toBeGreaterThan(all.findLastIndex((r) => r.bucket === "rel-a"));
    // Versioned objects are created only if absent (S3 refuses an overwrite with 412); latest/ ones replace.
    for (const r of all) expect(`${r.key} ${r.headers["if-none-match"] ?? "-"}`).toBe(`${r.key} ${r.key.startsWith("0.1.0/") ? "*" : "-"}`);
    // Nothing is deleted from a bucket whose latest/ was empty.
    expect(first.requests.filter((r) => r.method === "DELETE")).toEqual([]);
  });

  test("a binary downloaded anonymously from latest/ verifies against the throwaway key; a tampered byte does not", async () => {
    const downloads = join(scratch, "downloads");
    mkdirSync(downloads, { recursive: true });
    for (const name of ["linux/amd64/awstoe", "linux/amd64/awstoe.sig", "awstoe.gpg"]) {
      const got = await fetch(`${s3.endpoint}/rel-b/latest/${name}`);
      expect(`${name} ${got.status}`).toBe(`${name} 200`);
      writeFileSync(join(downloads, name.replaceAll("/", "_")), Buffer.from(await got.arrayBuffer()));
    }
    expect(s3.requests.filter((r) => r.anonymous && r.method === "GET").length).toBeGreaterThanOrEqual(3);
    const binary = join(downloads, "linux_amd64_awstoe");
    const signature = join(downloads, "linux_amd64_awstoe.sig");
    const good = verifyDetached(key.publicKeyFile, signature, binary);
    expect(good.output).toContain("Good signature");
    expect(good.ok).toBe(true);
    expect(good.signer).toBe(key.fingerprint);
    // The published key is the throwaway key.
    expect(verifyDetached(join(downloads, "awstoe.gpg"), signature, binary).signer).toBe(key.fingerprint);

    const tampered = readFileSync(binary);
    const middle = tampered.length >> 1;
    tampered[middle] = tampered[middle]! ^ 0x01;
    writeFileSync(binary, tampered);
    const bad = verifyDetached(key.publicKeyFile, signature, binary);
    expect(bad.ok).toBe(false);
    expect(bad.output).toContain("BAD signature");
  }, 60_000);

  test("the same version again is refused and changes no bucket, wherever it already exists", async () => {
    // rel-c is empty, rel-a has 0.1.0: both orders refuse before the first upload.
    for (const order of [["rel-a", "rel-c"], ["rel-c", "rel-a"]]) {
      const before = await snapshot("rel-a");
      const ran = await publish(order.flatMap((b) => ["--bucket", b]).concat(release010));
      expect(ran.code).toBe(1);
      expect(ran.stdout).toBe("");
      const lines = ran.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain("s3://rel-a/0.1.0/ already exists");
      expect(lines[0]).toContain("bump");
      expect(lines[0]).toContain("nothing was uploaded to any bucket");
      expect(changes(ran.requests)).toEqual([]);
      expect(await snapshot("rel-a")).toEqual(before);
      expect(await keys("rel-c")).toEqual([]);
    }
  }, 60_000);

  test("a newer version replaces latest/, deletes what it lacks, and leaves the old version folder alone", async () => {
    const old = (await snapshot("rel-a")).filter((line) => line.startsWith("0.1.0/"));
    expect(await keys("rel-a", "latest/windows/386/")).toEqual(["latest/windows/386/awstoe.exe", "latest/windows/386/awstoe.sig"]);
    const ran = await publish(["--bucket", "rel-a", release020]);
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    const files020 = uploadOrder(listFiles(release020));
    expect(files020.some((p) => p.startsWith("windows/386/"))).toBe(false);
    expect(await keys("rel-a", "latest/")).toEqual(files020.map((p) => `latest/${p}`).sort());
    for (const path of files020) expect((await body("rel-a", `latest/${path}`)).equals(readFileSync(join(release020, path)))).toBe(true);
    expect((await snapshot("rel-a")).filter((line) => line.startsWith("0.1.0/"))).toEqual(old);
    expect(await keys("rel-a", "0.2.0/")).toEqual(files020.map((p) => `0.2.0/${p}`).sort());
    // The deletions come after every upload and touch only latest/.
    const deletes = ran.requests.filter((r) => r.method === "DELETE").map((r) => r.key).sort();
    expect(deletes).toEqual(["latest/windows/386/awstoe.exe", "latest/windows/386/awstoe.sig"]);
    const lastWrite = ran.requests.lastIndexOf(writes(ran.requests).at(-1)!);
    expect(ran.requests.findIndex((r) => r.method === "DELETE")).toBeGreaterThan(lastWrite);
    expect(ran.stdout).toContain("deleted s3://rel-a/latest/windows/386/awstoe.exe (not in 0.2.0)");
    expect((await body("rel-a", "latest/SHA256SUMS")).equals(readFileSync(join(release020, SUMS)))).toBe(true);
  }, 120_000);

  test("an upload refused part-way: one line saying how far it got; a rerun is refused, --resume finishes it", async () => {
    const denied = (key: string) => (request: RecordedRequest) =>
      request.key === key && request.method !== "GET" && request.method !== "HEAD" ? s3Error(403, "AccessDenied", "Access Denied") : undefined;
    const half = files010.length;
    // Refused in the latest/ half: the version folder is whole, latest/ is partly replaced.
    interceptor = denied("latest/linux/arm64/awstoe");
    const late = await publish(["--bucket", "rel-c", release010]);
    expect(late.code).toBe(1);
    const lateLines = late.stderr.trim().split("\n");
    expect(lateLines).toHaveLength(1);
    expect(lateLines[0]).toStartWith("publish: cannot upload s3://rel-c/latest/linux/arm64/awstoe: access denied (");
    expect(lateLines[0]).toContain("(AccessDenied, HTTP 403)");
    expect(lateLines[0]).toContain(`${half + 2} of ${half * 2} uploads to s3://rel-c were done, so s3://rel-c/0.1.0/ is complete but latest/ may mix two releases; fix the cause and run again with --resume`);

    // Refused in the version half, on the second bucket: the first one was published.
    interceptor = denied("0.1.0/install.sh");
    const early = await publish(["--bucket", "rel-f", "--bucket", "rel-d", release010]);
    expect(early.code).toBe(1);
    expect(early.stderr.trim().split("\n")).toHaveLength(1);
    expect(early.stderr).toContain("cannot upload s3://rel-f/0.1.0/install.sh: access denied");
    expect(early.stderr).toContain("so s3://rel-f/0.1.0/ is incomplete; fix the cause and run again with --resume");
    expect(await keys("rel-d")).toEqual([]);
    interceptor = undefined;

    const rerun = await publish(["--bucket", "rel-d", "--bucket", "rel-f", release010]);
    expect(rerun.code).toBe(1);
    expect(rerun.stderr).toContain("s3://rel-f/0.1.0/ already exists");
    expect(rerun.stderr).toContain("--resume");
    expect(changes(rerun.requests)).toEqual([]);

    const resumed = await publish(["--resume", "--bucket", "rel-c", "--bucket", "rel-f", release010]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    for (const bucket of ["rel-c", "rel-f"]) {
      expect(await keys(bucket)).toEqual([...files010.map((p) => `0.1.0/${p}`), ...files010.map((p) => `latest/${p}`)].sort());
      for (const path of files010) expect((await body(bucket, `0.1.0/${path}`)).equals(readFileSync(join(release010, path)))).toBe(true);
      expect(resumed.stdout).toContain(`published 0.1.0 to s3://${bucket} (${files010.length} files, `);
    }
    // Overwriting what the stopped run left is the point of --resume: no If-None-Match there.
    expect(writes(resumed.requests).some((r) => r.headers["if-none-match"] !== undefined)).toBe(false);

    // A version folder holding something that is not in the local release is another release.
    await client.send(new PutObjectCommand({ Bucket: "rel-e", Key: "0.1.0/linux/amd64/awstoe-old", Body: "x" }));
    const foreign = await publish(["--resume", "--bucket", "rel-e", release010]);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr.trim().split("\n")).toHaveLength(1);
    expect(foreign.stderr).toContain("cannot resume: s3://rel-e/0.1.0/linux/amd64/awstoe-old is not a file of the release");
    expect(changes(foreign.requests)).toEqual([]);
  }, 120_000);

  test("Ctrl-C part-way: one line saying what is left, exit 1", async () => {
    let held: () => void = () => {};
    const release = new Promise<void>((resolve) => (held = resolve));
    let reached: () => void = () => {};
    const atLatest = new Promise<void>((resolve) => (reached = resolve));
    // Hold the first latest/ upload until the signal has been sent.
    interceptor = async (request) => {
      if (request.bucket === "rel-d" && request.key === "latest/linux/amd64/awstoe") {
        reached();
        await release;
      }
      return undefined;
    };
    try {
      const child = Bun.spawn([BUN, SCRIPT, "--bucket", "rel-d", release010], { cwd: REPO, env: s3Env(), stdout: "pipe", stderr: "pipe" });
      const output = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
      await atLatest;
      child.kill("SIGINT");
      const code = await child.exited;
      held();
      const [, stderr] = await output;
      stderrs.push(stderr);
      expect(code).toBe(1);
      expect(stderr.trim().split("\n")).toEqual([
        `publish: interrupted (SIGINT); ${files010.length} of ${files010.length * 2} uploads to s3://rel-d were done, so s3://rel-d/0.1.0/ is complete but latest/ may mix two releases; fix the cause and run again with --resume`,
      ]);
    } finally {
      held();
      interceptor = undefined;
    }
  }, 60_000);

  test("a bucket that does not exist: one line naming it and S3's error code, nothing uploaded anywhere", async () => {
    const ran = await publish(["--bucket", "rel-e", "--bucket", "no-such-bucket", release020]);
    expect(ran.code).toBe(1);
    const lines = ran.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^publish: cannot list s3:\/\/no-such-bucket\/0\.2\.0\/: bucket 'no-such-bucket' does not exist \(NoSuchBucket, HTTP 404\); .*nothing was uploaded$/);
    expect(changes(ran.requests)).toEqual([]);
  }, 60_000);

  test("a wrong secret and an unreachable endpoint: one line each, naming the bucket and the cause", async () => {
    const denied = await publish(["--bucket", "rel-e", release020], s3Env({ AWS_SECRET_ACCESS_KEY: "not-the-secret" }));
    expect(denied.code).toBe(1);
    expect(denied.stderr.trim().split("\n")).toHaveLength(1);
    expect(denied.stderr).toContain("s3://rel-e/0.2.0/");
    expect(denied.stderr).toContain("SignatureDoesNotMatch, HTTP 403");

    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = closed.port;
    closed.stop(true);
    const unreachable = await publish(["--bucket", "rel-e", release020], s3Env({ AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_MAX_ATTEMPTS: "1" }));
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim().split("\n")).toHaveLength(1);
    expect(unreachable.stderr).toContain("s3://rel-e/0.2.0/");
    expect(unreachable.stderr).toContain("could not be reached");
  }, 60_000);
});
