/**
 * End-to-end with the compiled binary: an S3Upload of a folder of large files, stopped while its
 * multipart uploads are under way — by the step's time limit (timeoutSeconds) and by SIGTERM to
 * awstoe — fails the step with one sentence and leaves no multipart upload open in S3 (the local
 * S3, capped at THROTTLED_RATE per connection so the upload is still going when it is stopped).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { awstoeBinary } from "../helpers/binary.ts";
import { isolatedAwsEnv } from "../helpers/aws-env.ts";
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, startLocalS3, testClient, THROTTLED_RATE, type LocalS3 } from "../helpers/s3-server.ts";

const MiB = 1024 * 1024;
let s3: LocalS3;
let client: S3Client;
let tmp: string;
let binary: string;

beforeAll(async () => {
  binary = await awstoeBinary();
  s3 = await startLocalS3(["up"], { bytesPerSecondPerConnection: THROTTLED_RATE });
  client = await testClient(s3);
  tmp = mkdtempSync(join(tmpdir(), "opentoe-s3up-stop-"));
  mkdirSync(join(tmp, "large"));
  // Three files of 48 MiB: at 16 MB/s per connection and 10 in flight, several seconds of parts.
  for (const name of ["a.bin", "b.bin", "c.bin"]) writeFileSync(join(tmp, "large", name), Buffer.alloc(48 * MiB, name.charCodeAt(0)));
  const doc = (prefix: string, timeout: string) =>
    ["name: upload-stop", "schemaVersion: 1.0", "phases:", "  - name: build", "    steps:", "      - name: Up", "        action: S3Upload", timeout, "        inputs:", "          - source: large", `            destination: s3://up/${prefix}/`, "            recurse: true", ""].filter((l) => l !== "").join("\n");
  writeFileSync(join(tmp, "timeout.yaml"), doc("timeout", "        timeoutSeconds: 1"));
  writeFileSync(join(tmp, "term.yaml"), doc("term", ""));
}, 120_000);
afterAll(async () => {
  await s3?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a document; with `term`, SIGTERM once the server has seen the first part arrive. */
async function run(document: string, term = false): Promise<Finished> {
  const env = isolatedAwsEnv(tmp, { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_REGION: "us-east-1", OPENTOE_S3_PART_SIZE: "5MiB" });
  const from = s3.requests.length;
  const proc = Bun.spawn([binary, "run", "--log-directory", join(tmp, "logs"), "-d", document], { cwd: tmp, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const guard = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  if (term) {
    void (async () => {
      while (!s3.requests.slice(from).some((r) => r.method === "PUT" && r.query.includes("uploadId")) && proc.exitCode === null) await Bun.sleep(20);
      await Bun.sleep(300);
      proc.kill("SIGTERM");
    })();
  }
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(guard);
  return { code: proc.exitCode, stdout, stderr };
}

/**
 * Objects under `prefix` whose size is not `whole`, once every object has reached `whole` or has
 * stayed the same size for a second (at most 15 s): an empty list means nothing half-written.
 */
async function settledObjects(prefix: string, whole: number): Promise<string[]> {
  let last = "";
  let sameSince = Date.now();
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await Bun.sleep(200)) {
    const listed = await objects(prefix);
    const wrong = listed.filter((o) => o.size !== whole).map((o) => `${o.key} ${o.size}`);
    if (wrong.length === 0) return [];
    const now = wrong.join(",");
    if (now !== last) [last, sameSince] = [now, Date.now()];
    else if (Date.now() - sameSince >= 1000) return wrong;
  }
  return last.split(",");
}

const detail = (r: Finished) => `code ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

async function openUploads(): Promise<string[]> {
  const open = await client.send(new ListMultipartUploadsCommand({ Bucket: "up" }));
  return (open.Uploads ?? []).map((u) => u.Key!);
}

async function objects(prefix: string): Promise<{ key: string; size: number }[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: "up", Prefix: prefix }));
  return (page.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size! }));
}

describe("S3Upload stopped mid-upload (compiled binary)", () => {
  test("by the step's time limit: the step fails with one sentence, no multipart upload is left open", async () => {
    const from = s3.requests.length;
    const r = await run("timeout.yaml");
    expect(r.code, detail(r)).not.toBe(0);
    // Multipart uploads were under way and were aborted, not abandoned.
    expect(s3.requests.slice(from).some((q) => q.method === "DELETE" && q.query.includes("uploadId")), detail(r)).toBe(true);
    const summary = JSON.parse(r.stdout.slice(r.stdout.indexOf("{"))) as { status: string; logUrl: string; failureMessage: string };
    expect(summary.status, detail(r)).toBe("timedOut");
    expect(summary.failureMessage).toBe("step 'build/Up' failed: the step timed out after 1 second");
    expect(readFileSync(join(summary.logUrl, "detailedoutput.json"), "utf8")).toContain('"status": "timedOut"');
    expect(await openUploads()).toEqual([]);
    // Nothing half-written: an object there is whole. A CompleteMultipartUpload sent just before the
    // time limit may still be assembling the object in s3rver, which writes it in place (a listing
    // meanwhile shows it growing; S3 shows an object only once whole): wait until it settles.
    expect(await settledObjects("timeout/", 48 * MiB)).toEqual([]);
  }, 90_000);

  test("by SIGTERM: awstoe ends, the step fails, no multipart upload is left open", async () => {
    const from = s3.requests.length;
    const r = await run("term.yaml", true);
    expect(r.code, detail(r)).not.toBe(0);
    expect(s3.requests.slice(from).some((q) => q.method === "DELETE" && q.query.includes("uploadId")), detail(r)).toBe(true);
    expect(await openUploads()).toEqual([]);
    expect(await settledObjects("term/", 48 * MiB)).toEqual([]);
  }, 90_000);
});
