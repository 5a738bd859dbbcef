#!/usr/bin/env bun
/**
 * @module scripts/publish: uploads a signed release folder (scripts/release-tree.ts writes it;
 * scripts/_release-layout.ts has its shape) to one or more S3 buckets, as `<version>/` and again
 * as `latest/` — AWSTOE's layout, one bucket per Region.
 *
 *   bun run scripts/publish.ts [--dry-run] [--resume] --bucket NAME[@REGION] [--bucket …] [RELEASE_FOLDER]
 *
 * RELEASE_FOLDER defaults to dist/release/<package.json version>. Credentials, Region and endpoint
 * come from the AWS SDK's usual chain (environment, profiles, roles; AWS_ENDPOINT_URL_S3 points it
 * at an S3-compatible store, addressed path-style); `@REGION` names a bucket's Region explicitly.
 *
 * What happens, in this order:
 * 1. The folder is checked without the network (checkReleaseFolder): every file hashed against
 *    SHA256SUMS, a signature beside every signed file. An unsigned or damaged tree stops here.
 * 2. Every bucket is asked whether `<version>/` holds anything. Releases never change: if one
 *    bucket has the version, nothing is uploaded to any bucket (bump the version). Versioned
 *    uploads also carry `If-None-Match: *`, so S3 itself refuses to overwrite an object should
 *    another publish of the same version race this one.
 * 3. Bucket by bucket: every file to `<version>/`, then every file to `latest/`, then the objects
 *    of `latest/` that belong to no file of this release (a platform the previous release had)
 *    are deleted, and `latest/SHA256SUMS` is read back and compared with the local one.
 *
 * Why this order. `<version>/` is complete before `latest/` changes at all, so a failure during
 * the first half leaves `latest/` as it was. Within each folder the binaries come first, each one
 * immediately followed by its signature, then install.sh and its signature, the key and its
 * fingerprint, and SHA256SUMS with its signature last: a binary and its signature change one
 * small upload apart (uploading the signature first would leave a mismatched pair for the whole
 * upload of a 100 MB binary), and a SHA256SUMS.sig in `<version>/` means the folder is whole.
 * Old files are deleted last, so a reader of `latest/` never meets a gap.
 *
 * What it cannot promise. S3 has no transaction over several objects. A reader fetching a binary
 * and its signature (or SHA256SUMS and a binary) from `latest/` during the seconds of a publish
 * may get one file of each release: `gpg --verify` or the checksum then fails, and trying again
 * a moment later succeeds (install.sh says so). `<version>/` folders are never affected: they are
 * written once and never change. `latest/` is served with `Cache-Control: no-cache`, so CDNs and
 * proxies revalidate on every request instead of stretching that window; `<version>/` may be
 * cached for a year.
 *
 * Failures. Each ends the run with one line naming the bucket, the object and S3's error code.
 * A publish stopped part-way (a failure, Ctrl-C) leaves `<version>/` incomplete in that bucket,
 * and a plain rerun then refuses, because the version exists: `--resume` skips that refusal (it
 * still refuses objects under `<version>/` that are not files of this release) and uploads every
 * file again, overwriting what the stopped run left; everything else is as above.
 *
 * `--dry-run` contacts nothing — no network, no credentials — and prints every action in order.
 * Exit status: 0 published (or planned), 1 failed or refused, 2 usage error.
 */
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import packageJson from "../package.json" with { type: "json" };
import { CONNECT_TIMEOUT_MS, commonCause, errorName, idleTimeoutMs, statusOf } from "../src/aws/_cause.ts";
import { firstLine } from "../src/errors.ts";
import { endpointOverridden } from "../src/aws/s3.ts";
import { REPO, sha256File } from "./build.ts";
import {
  binaryPath,
  cacheControl,
  checkReleaseFolder,
  contentType,
  FINGERPRINT,
  INSTALLER,
  LATEST,
  PLATFORMS,
  PUBLIC_KEY,
  signaturePath,
  SUMS,
  SUMS_SIGNATURE,
} from "./_release-layout.ts";

type Sdk = typeof import("@aws-sdk/client-s3");
type Client = InstanceType<Sdk["S3Client"]>;

const USAGE = "usage: bun run scripts/publish.ts [--dry-run] [--resume] --bucket NAME[@REGION] [--bucket NAME[@REGION] …] [RELEASE_FOLDER]";

const HELP = `${USAGE}

Uploads a signed release folder (default dist/release/${packageJson.version}) to each bucket as
<version>/ and then as latest/, and deletes latest/ objects the release does not have.

  --bucket NAME[@REGION]  a bucket to publish to (repeatable; one per Region, e.g.
                          opentoe-eu-west-1@eu-west-1). Without @REGION the SDK's Region is used
                          (AWS_REGION, the profile).
  --dry-run               print every action in order; contacts nothing, needs no credentials
  --resume                continue a publish that stopped part-way: allow a <version>/ folder that
                          already has objects of this release, and upload every file again
  --help                  this text

Credentials and endpoint come from the AWS SDK's usual chain (AWS_PROFILE, AWS_ACCESS_KEY_ID…,
AWS_ENDPOINT_URL_S3). A version any bucket already has is refused: releases never change.
Exit status: 0 published, 1 failed or refused, 2 usage error.`;

/** Files at least this large go up in 8 MiB parts (lib-storage's Upload); smaller ones in one PutObject. */
export const MULTIPART_BYTES = 8 * 1024 * 1024;

export interface Target {
  bucket: string;
  /** From `--bucket NAME@REGION`; otherwise the SDK's chain decides. */
  region?: string;
}

export interface Options {
  targets: Target[];
  folder?: string;
  dryRun: boolean;
  resume: boolean;
  help: boolean;
}

/** A command line that cannot be run: exit 2. */
export class UsageError extends Error {}

/** A failure or refusal worded for the release manager: exit 1, the message printed as it is. */
export class PublishError extends Error {}

/** S3's rules for new bucket names (3–63 of a–z, 0–9, "." and "-", a letter or digit at each end). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION_NAME = /^[a-z]{2}(?:-[a-z0-9]+)+-[0-9]+$/;

export function parseArgs(argv: readonly string[]): Options {
  const options: Options = { targets: [], dryRun: false, resume: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") options.help = true;
    else if (arg === "--dry-run") options.dryRun = true;
    else if (arg === "--resume") options.resume = true;
    else if (arg === "--bucket" || arg.startsWith("--bucket=")) {
      const value = arg === "--bucket" ? argv[++i] : arg.slice("--bucket=".length);
      if (value === undefined || value === "") throw new UsageError("--bucket needs a bucket name, e.g. --bucket opentoe-us-east-1@us-east-1");
      const target = parseTarget(value);
      if (options.targets.some((t) => t.bucket === target.bucket)) throw new UsageError(`--bucket ${target.bucket} is given twice`);
      options.targets.push(target);
    } else if (arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown option '${arg}'`);
    else if (options.folder !== undefined) throw new UsageError(`one release folder at a time: '${options.folder}' and '${arg}'`);
    else options.folder = arg;
  }
  if (!options.help && options.targets.length === 0) throw new UsageError("name at least one --bucket");
  return options;
}

function parseTarget(value: string): Target {
  if (value.startsWith("s3://")) throw new UsageError(`--bucket takes a bucket name, not a URL: '${value}' (e.g. --bucket ${value.slice(5).split("/")[0]})`);
  const at = value.lastIndexOf("@");
  const bucket = at < 0 ? value : value.slice(0, at);
  const region = at < 0 ? undefined : value.slice(at + 1);
  if (!BUCKET_NAME.test(bucket)) throw new UsageError(`'${bucket}' is not an S3 bucket name (3–63 characters: a–z, 0–9, '.', '-')`);
  if (region !== undefined && !REGION_NAME.test(region)) throw new UsageError(`'${region}' in --bucket ${value} is not an AWS Region name (like us-east-1)`);
  return region === undefined ? { bucket } : { bucket, region };
}

/** One file of the release, as it is uploaded. */
export interface ReleaseFile {
  /** Relative to the version folder, `/`-separated. */
  path: string;
  /** On this machine. */
  local: string;
  bytes: number;
}

/**
 * The release's files in upload order (see the module comment): each binary in PLATFORMS order
 * followed by its signature, install.sh and its signature, the key and its fingerprint, anything
 * else the folder holds, and SHA256SUMS with its signature last.
 */
export function uploadOrder(files: readonly string[]): string[] {
  const ordered: string[] = [];
  const take = (path: string) => {
    if (files.includes(path) && !ordered.includes(path)) ordered.push(path);
  };
  for (const p of PLATFORMS) {
    take(binaryPath(p));
    if (files.includes(binaryPath(p))) take(signaturePath(binaryPath(p)));
  }
  for (const path of [INSTALLER, signaturePath(INSTALLER), PUBLIC_KEY, FINGERPRINT]) take(path);
  for (const path of files) {
    if (path === SUMS || path === SUMS_SIGNATURE) continue;
    take(path);
    if (files.includes(signaturePath(path))) take(signaturePath(path));
  }
  take(SUMS);
  take(SUMS_SIGNATURE);
  return ordered;
}

/** One upload. */
export interface Put {
  file: ReleaseFile;
  key: string;
  folder: "version" | "latest";
  contentType: string;
  cacheControl: string;
}

/** Every upload to one bucket, in order: the version folder, then latest/. */
export function puts(version: string, files: readonly ReleaseFile[]): Put[] {
  return (["version", "latest"] as const).flatMap((folder) =>
    files.map((file) => ({
      file,
      key: `${folder === "version" ? version : LATEST}/${file.path}`,
      folder,
      contentType: contentType(file.path),
      cacheControl: cacheControl(folder),
    })),
  );
}

/** "12.3 MB", "4.0 KB", "310 B". */
export function size(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}

function where(target: Target): string {
  return `s3://${target.bucket}${target.region === undefined ? "" : ` (${target.region})`}`;
}

/** The folder as the user should read it: relative to the repository when inside it. */
function shown(dir: string): string {
  const rel = relative(REPO, dir);
  return rel !== "" && !rel.startsWith("..") ? rel : dir;
}

/** Reads and checks the release folder; throws a PublishError listing what is wrong with it. */
export async function readRelease(dir: string): Promise<{ version: string; files: ReleaseFile[] }> {
  if (!existsSync(dir)) throw new PublishError(`${shown(dir)} does not exist; build the release first (npm run build, dist/README.md) or name a release folder`);
  if (!statSync(dir).isDirectory()) throw new PublishError(`${shown(dir)} is not a folder; name a release version folder such as dist/release/${packageJson.version}`);
  const check = await checkReleaseFolder(dir, sha256File);
  if (check.problems.length > 0) {
    const unsigned = check.problems.some((p) => /signature/.test(p) || p.startsWith(`${SUMS_SIGNATURE} `));
    const advice = unsigned ? "sign it first (set OPENTOE_GPG_KEY_FILE or OPENTOE_GPG_KEY and run npm run build; dist/README.md)" : "rebuild it (npm run build)";
    throw new PublishError(
      `${shown(dir)} cannot be published (${check.problems.length} problem${check.problems.length === 1 ? "" : "s"}); nothing was uploaded; ${advice}:\n${check.problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
  const files = uploadOrder(check.files).map((path) => ({ path, local: join(dir, path), bytes: statSync(join(dir, path)).size }));
  return { version: check.version, files };
}

/** The plan, as --dry-run prints it. */
export function planLines(version: string, files: readonly ReleaseFile[], targets: readonly Target[], resume: boolean): string[] {
  const lines: string[] = [];
  for (const target of targets) {
    lines.push(resume ? `check s3://${target.bucket}/${version}/ holds only files of this release (--resume)` : `check s3://${target.bucket}/${version}/ is empty (releases never change)`);
  }
  for (const target of targets) {
    for (const put of puts(version, files)) {
      lines.push(`put s3://${target.bucket}/${put.key} (${put.contentType}, ${put.cacheControl}, ${size(put.file.bytes)})`);
    }
    lines.push(`then delete ${LATEST}/ objects not in this release (s3://${target.bucket}/${LATEST}/)`);
    lines.push(`read back s3://${target.bucket}/${LATEST}/${SUMS} and compare it with the local one`);
  }
  return lines;
}

/** An SDK failure as one clause naming S3's error code, with what to do. */
export function s3Cause(error: unknown, bucket: string): string {
  const name = errorName(error);
  const status = statusOf(error);
  const code = status === undefined ? "" : ` (${name || "error"}, HTTP ${status})`;
  const own: Record<string, string> = {
    NoSuchBucket: `bucket '${bucket}' does not exist${code}; create it, or fix the name or Region in --bucket`,
    PreconditionFailed: `the object already exists${code}: another publish of this version is under way or finished; nothing was overwritten`,
    ConditionalRequestConflict: `another request is writing the same object${code}; another publish of this version is under way`,
    PermanentRedirect: `the bucket is in another Region${code}; name it as --bucket ${bucket}@REGION`,
    AuthorizationHeaderMalformed: `the bucket is in another Region${code}; name it as --bucket ${bucket}@REGION`,
  };
  if (Object.hasOwn(own, name)) return own[name]!;
  const shared = commonCause(error, {
    endpoint: "the S3 endpoint",
    regionHint: "set AWS_REGION, a profile's region, or --bucket NAME@REGION",
    accessHint: "the credentials need s3:ListBucket, s3:PutObject, s3:GetObject and s3:DeleteObject on the bucket",
    unknownKey: "the access key id is not known to S3 (check the credentials)",
    stopped: "stopped before it finished",
    networkHint: "check the network and the endpoint (AWS_ENDPOINT_URL_S3, the Region)",
  });
  if (shared !== undefined) return `${shared}${code}`;
  return `${firstLine(error)}${code}`;
}

interface Connection {
  sdk: Sdk;
  client: Client;
}

async function connect(targets: readonly Target[]): Promise<Map<string, Connection>> {
  const sdk = await import("@aws-sdk/client-s3");
  const forcePathStyle = await endpointOverridden(sdk);
  const connections = new Map<string, Connection>();
  for (const target of targets) {
    const client = new sdk.S3Client({
      forcePathStyle,
      followRegionRedirects: true,
      ...(target.region === undefined ? {} : { region: target.region }),
      requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: idleTimeoutMs() },
    });
    connections.set(target.bucket, { sdk, client });
  }
  return connections;
}

/** Every key under `prefix`, all pages. */
async function listKeys({ sdk, client }: Connection, bucket: string, prefix: string, limit = Infinity): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, ...(limit < 1000 ? { MaxKeys: limit } : {}) }));
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated && keys.length < limit ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

async function upload({ sdk, client }: Connection, bucket: string, put: Put, ifNoneMatch: boolean): Promise<void> {
  const params = {
    Bucket: bucket,
    Key: put.key,
    ContentType: put.contentType,
    CacheControl: put.cacheControl,
    ...(ifNoneMatch ? { IfNoneMatch: "*" } : {}),
  };
  if (put.file.bytes < MULTIPART_BYTES) {
    await client.send(new sdk.PutObjectCommand({ ...params, Body: readFileSync(put.file.local) }));
    return;
  }
  const { Upload } = await import("@aws-sdk/lib-storage");
  const body = createReadStream(put.file.local);
  try {
    // CompleteMultipartUpload carries IfNoneMatch too (lib-storage passes the params on).
    await new Upload({ client, params: { ...params, Body: body }, partSize: MULTIPART_BYTES, queueSize: 4 }).done();
  } finally {
    body.destroy();
  }
}

/** What a Ctrl-C or a failure leaves behind, for the message. */
interface Progress {
  target?: Target;
  done: number;
  total: number;
  stage: "checking" | "uploading" | "cleaning";
}

function leftBehind(progress: Progress, version: string, published: readonly string[]): string {
  const before = published.length > 0 ? ` (already published to ${published.map((b) => `s3://${b}`).join(", ")})` : "";
  if (progress.stage === "checking" || progress.target === undefined) return `nothing was uploaded`;
  const bucket = progress.target.bucket;
  if (progress.done === 0 && progress.stage === "uploading" && published.length === 0) return "nothing was uploaded; fix the cause and run again";
  if (progress.stage === "cleaning") return `s3://${bucket}/${version}/ and ${LATEST}/ are complete${before}; run again with --resume to finish`;
  return `${progress.done} of ${progress.total} uploads to s3://${bucket} were done${before}, so s3://${bucket}/${version}/ ${progress.done >= progress.total / 2 ? `is complete but ${LATEST}/ may mix two releases` : "is incomplete"}; fix the cause and run again with --resume`;
}

export async function publish(options: Options, log: (line: string) => void = console.log): Promise<void> {
  const dir = resolve(options.folder ?? join(REPO, "dist/release", packageJson.version));
  const { version, files } = await readRelease(dir);
  const totalBytes = files.reduce((sum, f) => sum + f.bytes, 0);
  if (options.dryRun) {
    log(`dry run: ${version} from ${shown(dir)} (${files.length} files, ${size(totalBytes)}) to ${options.targets.map(where).join(", ")}; nothing is contacted`);
    for (const line of planLines(version, files, options.targets, options.resume)) log(line);
    return;
  }

  const connections = await connect(options.targets);
  const published: string[] = [];
  const progress: Progress = { done: 0, total: 0, stage: "checking" };
  const interrupted = (signal: string) => {
    console.error(`publish: interrupted (${signal}); ${leftBehind(progress, version, published)}`);
    process.exit(1);
  };
  const onInt = () => interrupted("SIGINT");
  const onTerm = () => interrupted("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    // Every bucket is checked before the first upload, so a refusal changes nothing anywhere.
    const wanted = new Set(files.map((f) => `${version}/${f.path}`));
    const fresh = new Map<string, boolean>();
    for (const target of options.targets) {
      const connection = connections.get(target.bucket)!;
      let existing: string[];
      try {
        existing = await listKeys(connection, target.bucket, `${version}/`, options.resume ? Infinity : 1);
      } catch (error) {
        throw new PublishError(`cannot list s3://${target.bucket}/${version}/: ${s3Cause(error, target.bucket)}; nothing was uploaded`);
      }
      if (existing.length > 0 && !options.resume) {
        throw new PublishError(
          `s3://${target.bucket}/${version}/ already exists (${existing[0]}); releases never change, so nothing was uploaded to any bucket: bump "version" in package.json and rebuild (a publish that stopped part-way: --resume)`,
        );
      }
      const foreign = existing.find((key) => !wanted.has(key));
      if (foreign !== undefined) {
        throw new PublishError(`cannot resume: s3://${target.bucket}/${foreign} is not a file of the release in ${shown(dir)}, so ${version}/ there holds another release; nothing was uploaded to any bucket`);
      }
      fresh.set(target.bucket, existing.length === 0);
    }

    for (const target of options.targets) {
      const connection = connections.get(target.bucket)!;
      const started = performance.now();
      const plan = puts(version, files);
      Object.assign(progress, { target, done: 0, total: plan.length, stage: "uploading" });
      for (const put of plan) {
        try {
          await upload(connection, target.bucket, put, put.folder === "version" && fresh.get(target.bucket)!);
        } catch (error) {
          throw new PublishError(`cannot upload s3://${target.bucket}/${put.key}: ${s3Cause(error, target.bucket)}; ${leftBehind(progress, version, published)}`);
        }
        progress.done++;
        log(`  put s3://${target.bucket}/${put.key} (${size(put.file.bytes)})`);
      }

      progress.stage = "cleaning";
      const keep = new Set(files.map((f) => `${LATEST}/${f.path}`));
      let stale: string[];
      try {
        stale = (await listKeys(connection, target.bucket, `${LATEST}/`)).filter((key) => !keep.has(key));
        for (const key of stale) {
          await connection.client.send(new connection.sdk.DeleteObjectCommand({ Bucket: target.bucket, Key: key }));
          log(`  deleted s3://${target.bucket}/${key} (not in ${version})`);
        }
      } catch (error) {
        throw new PublishError(`cannot delete old objects in s3://${target.bucket}/${LATEST}/: ${s3Cause(error, target.bucket)}; ${leftBehind(progress, version, published)}`);
      }

      const local = readFileSync(join(dir, SUMS));
      let remote: Uint8Array;
      try {
        const got = await connection.client.send(new connection.sdk.GetObjectCommand({ Bucket: target.bucket, Key: `${LATEST}/${SUMS}` }));
        remote = await got.Body!.transformToByteArray();
      } catch (error) {
        throw new PublishError(`cannot read back s3://${target.bucket}/${LATEST}/${SUMS}: ${s3Cause(error, target.bucket)}; the upload finished, check the bucket`);
      }
      if (!Buffer.from(remote).equals(local)) {
        throw new PublishError(`s3://${target.bucket}/${LATEST}/${SUMS} differs from ${shown(join(dir, SUMS))} after publishing; another publish may have run at the same time: check the bucket, then run again with --resume`);
      }
      published.push(target.bucket);
      log(`published ${version} to s3://${target.bucket} (${files.length} files, ${(totalBytes / 1024 / 1024).toFixed(1)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    for (const { client } of connections.values()) client.destroy();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let options: Options;
  try {
    options = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`publish: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(HELP);
    return 0;
  }
  try {
    await publish(options);
    return 0;
  } catch (error) {
    console.error(`publish: ${error instanceof PublishError ? error.message : firstLine(error)}`);
    return 1;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`publish: ${firstLine(error)}`);
      process.exit(1);
    },
  );
}
