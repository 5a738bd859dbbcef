/**
 * End-to-end with the compiled binary and a real S3-compatible server on 127.0.0.1 (s3rver behind
 * a SigV4-verifying proxy that also enforces bucket owners): the log folder is uploaded to S3 when
 * a run ends — succeeded or failed — and `--config` can live in S3 (cli.md §4, §8).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { awstoeBinary, spawnAwstoe } from "../helpers/binary.ts";
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, startLocalS3, testClient, type LocalS3 } from "../helpers/s3-server.ts";

const OWNER = "111122223333";
const OTHER = "444455556666";
let s3: LocalS3;
let client: S3Client;
let tmp: string;
let env: Record<string, string | undefined>;

const doc = (command: string) =>
  ["name: logs-e2e", "schemaVersion: 1.0", "phases:", "  - name: build", "    steps:", "      - name: Say", "        action: ExecuteBash", "        inputs:", "          commands:", `            - ${command}`, ""].join("\n");

beforeAll(async () => {
  await awstoeBinary();
  s3 = await startLocalS3(["logs", "cfg"], { owners: { logs: OWNER, cfg: OWNER } });
  client = await testClient(s3);
  tmp = mkdtempSync(join(tmpdir(), "opentoe-s3logs-"));
  writeFileSync(join(tmp, "ok.yaml"), doc("echo hello from the run"));
  writeFileSync(join(tmp, "fail.yaml"), doc("exit 3"));
  env = { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_REGION: "us-east-1", AWS_PROFILE: undefined, AWS_EC2_METADATA_DISABLED: "true" };
  await client.send(new PutObjectCommand({ Bucket: "cfg", Key: "doc.yaml", Body: doc("echo from an s3 document") }));
}, 120_000);
afterAll(async () => {
  await s3?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}
const bodyOf = async (bucket: string, key: string) => (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
const summaryOf = (stdout: string) => JSON.parse(stdout.slice(stdout.indexOf("{"))) as { status: string; logUrl: string; failureMessage: string };
const run = (args: string[]) => spawnAwstoe(["run", "--log-directory", join(tmp, "logs"), ...args], { cwd: tmp, env });

describe("--log-s3-bucket-name", () => {
  test("a finished run's log folder lands under <prefix>/<TOE folder>/, byte for byte, and logUrl points there", async () => {
    const result = await run(["--documents", "ok.yaml", "--log-s3-bucket-name", "logs", "--log-s3-key-prefix", "runs/ci/", "--log-s3-bucket-owner", OWNER]);
    expect(result.stderr).not.toContain("log upload");
    expect(result.code).toBe(0);
    const summary = summaryOf(result.stdout);
    const local = join(tmp, "logs", basename(summary.logUrl));
    expect(summary.logUrl).toMatch(/^s3:\/\/logs\/runs\/ci\/TOE_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_UTC-0_[0-9a-f-]{36}$/);
    const prefix = summary.logUrl.slice("s3://logs/".length);
    expect(await keysUnder("logs", prefix)).toEqual(["application.log", "chaining.json", "console.log", "detailedoutput.json", "document.yaml", "steps/build/Say.input.sh", "steps/build/Say.log"].map((k) => `${prefix}/${k}`));
    expect(await bodyOf("logs", `${prefix}/detailedoutput.json`)).toBe(readFileSync(join(local, "detailedoutput.json"), "utf8"));
    expect(await bodyOf("logs", `${prefix}/console.log`)).toContain("hello from the run");
    expect(readFileSync(join(local, "application.log"), "utf8")).toContain(`log folder uploaded to ${summary.logUrl}/ (7 files)`);
  });

  test("a failed run is uploaded too, without a prefix, and still fails", async () => {
    const result = await run(["--documents", "fail.yaml", "--log-s3-bucket-name", "logs"]);
    expect(result.code).toBe(1);
    const summary = summaryOf(result.stdout);
    expect(summary.status).toBe("failed");
    expect(summary.logUrl).toMatch(/^s3:\/\/logs\/TOE_[^/]+$/);
    const record = JSON.parse(await bodyOf("logs", `${summary.logUrl.slice("s3://logs/".length)}/detailedoutput.json`)) as { status: string };
    expect(record.status).toBe("failed");
  });

  test("another owner's bucket: every file refused, the error says so, the status and local logs stay", async () => {
    const result = await run(["--documents", "ok.yaml", "--log-s3-bucket-name", "logs", "--log-s3-key-prefix", "foreign", "--log-s3-bucket-owner", OTHER]);
    expect(result.code).toBe(0);
    const summary = summaryOf(result.stdout);
    expect(summary.status).toBe("success");
    expect(summary.logUrl.startsWith(join(tmp, "logs"))).toBe(true);
    expect(result.stderr).toMatch(/log upload to s3:\/\/logs\/foreign\/TOE_[^ ]+\/ incomplete: 7 of 7 files failed; first: cannot upload to s3:\/\/logs\/foreign\/TOE_[^ ]+: access denied/);
    expect(await keysUnder("logs", "foreign/")).toEqual([]);
    expect(readFileSync(join(summary.logUrl, "application.log"), "utf8")).toContain("log upload to s3://logs/foreign/");
  });

  test("a bucket that does not exist is named, and the run's own result is kept", async () => {
    const result = await run(["--documents", "ok.yaml", "--log-s3-bucket-name", "no-such-bucket"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("cannot upload to s3://no-such-bucket/TOE_");
    expect(result.stderr).toContain("bucket 'no-such-bucket' does not exist");
  });
});

describe("--config from S3", () => {
  test("config and document both in S3, with the document bucket owner checked for both", async () => {
    const config = { documents: [{ path: "s3://cfg/doc.yaml" }], logDirectory: join(tmp, "cfg-logs") };
    await client.send(new PutObjectCommand({ Bucket: "cfg", Key: "run.json", Body: JSON.stringify(config) }));
    const result = await spawnAwstoe(["run", "--config", "s3://cfg/run.json", "--document-s3-bucket-owner", OWNER], { cwd: tmp, env });
    expect(result.stderr).toContain("from an s3 document");
    expect(result.code).toBe(0);
    expect(summaryOf(result.stdout).logUrl.startsWith(join(tmp, "cfg-logs"))).toBe(true);
  });

  test("a config in another owner's bucket, a missing one, an invalid one and an ARN are refused before anything runs", async () => {
    await client.send(new PutObjectCommand({ Bucket: "cfg", Key: "bad.json", Body: '{ "documents": [] }' }));
    const cases: [string[], RegExp][] = [
      [["--config", "s3://cfg/run.json", "--document-s3-bucket-owner", OTHER], /failed to load config file 's3:\/\/cfg\/run.json': cannot download s3:\/\/cfg\/run.json: access denied/],
      [["--config", "s3://cfg/missing.json"], /failed to load config file 's3:\/\/cfg\/missing.json': cannot download s3:\/\/cfg\/missing.json: no such key/],
      [["--config", "s3://cfg/bad.json"], /s3:\/\/cfg\/bad.json.*config: .*documents/s],
      [["--config", "arn:aws:imagebuilder:us-east-1:aws:component/x/1.0.0/1"], /config file 'arn:aws:imagebuilder:[^']+' is an ARN; a config file is a local path or an s3:\/\/bucket\/key URI/],
    ];
    for (const [args, message] of cases) {
      const result = await spawnAwstoe(["run", ...args], { cwd: tmp, env });
      expect(result.stderr).toMatch(message);
      expect(result.code).toBe(1);
      expect(result.stderr).not.toContain("    at ");
    }
  });
});
