/**
 * End-to-end: the compiled `awstoe run` downloads one object with S3Download from a local
 * S3-compatible server (s3rver behind a SigV4-verifying proxy, test/helpers/s3-server.ts), with
 * credentials taken each time from a different link of the AWS SDK's default chain: environment
 * variables, a shared-credentials profile, and a fake EC2 instance metadata service (IMDSv2). Also
 * checked: no credentials anywhere, and a wrong secret — both fail the step with one sentence.
 *
 * The servers live in this process, so the binary is spawned asynchronously (Bun.spawn, same env
 * merging as runAwstoe): runAwstoe's spawnSync would block the event loop the servers answer on.
 * Every run gets a child environment with no AWS_* variable except the ones the case sets.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isolatedAwsEnv } from "../helpers/aws-env.ts";
import { awstoeBinary, type AwstoeRun } from "../helpers/binary.ts";
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, startLocalS3, type LocalS3 } from "../helpers/s3-server.ts";
import { lastJsonObject } from "../helpers/run-output.ts";

const BODY = "credential chain payload\n";
const SOURCE = "s3://bucket/key";

let binary: string;
let s3: LocalS3;
let tmp: string;
let closedPort: number;

beforeAll(async () => {
  binary = await awstoeBinary();
  s3 = await startLocalS3(["bucket"]);
  tmp = mkdtempSync(join(tmpdir(), "opentoe-creds-e2e-"));
  const client = new S3Client({ endpoint: s3.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY } });
  await client.send(new PutObjectCommand({ Bucket: "bucket", Key: "key", Body: BODY }));
  client.destroy();
  // A loopback port with nothing listening: bind one, note it, close it.
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  closedPort = probe.port!;
  probe.stop(true);
}, 120_000);

afterAll(async () => {
  if (s3 !== undefined) await s3.close();
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

interface Summary {
  status: string;
  failureMessage: string;
  executedStepCount: number;
  failedStepCount: number;
}

let count = 0;
interface Case {
  dir: string;
  destination: string;
  document: string;
  logDir: string;
}
/** A fresh folder with a one-step S3Download document writing to `<dir>/out.txt`. */
function newCase(label: string): Case {
  const dir = join(tmp, `${String(++count).padStart(2, "0")}-${label}`);
  mkdirSync(dir, { recursive: true });
  const destination = join(dir, "out.txt");
  const document = join(dir, "download.yaml");
  writeFileSync(
    document,
    [
      "name: credentials-e2e",
      "schemaVersion: 1.0",
      "phases:",
      "  - name: build",
      "    steps:",
      "      - name: Download",
      "        action: S3Download",
      "        inputs:",
      `          - source: ${SOURCE}`,
      `            destination: ${JSON.stringify(destination)}`,
      "",
    ].join("\n"),
  );
  return { dir, destination, document, logDir: join(dir, "logs") };
}

/**
 * The child's environment: none of this process's AWS set-up (test/helpers/aws-env), this
 * server's endpoint and region, IMDS also aimed at a closed port, then `extra` merged over it
 * (`undefined` removes a variable).
 */
function childEnv(dir: string, extra: Record<string, string | undefined>): Record<string, string> {
  return isolatedAwsEnv(dir, { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: "us-east-1", AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${closedPort}`, ...extra });
}

/** Runs `awstoe run` of the case's document without blocking this process's event loop. */
async function runCase(c: Case, extra: Record<string, string | undefined>): Promise<AwstoeRun> {
  const started = performance.now();
  const proc = Bun.spawn([binary, "run", "--documents", c.document, "--log-directory", c.logDir], {
    cwd: c.dir,
    env: childEnv(c.dir, extra),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 25_000,
    killSignal: "SIGKILL",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, ms: performance.now() - started, timedOut: proc.signalCode === "SIGKILL" };
}

function expectSuccess(c: Case, run: AwstoeRun): void {
  const detail = `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
  expect(run.code, detail).toBe(0);
  const summary = lastJsonObject<Summary>(run.stdout);
  expect(summary.status, detail).toBe("success");
  expect(summary.failedStepCount).toBe(0);
  expect(readFileSync(c.destination, "utf8")).toBe(BODY);
}

function expectFailure(c: Case, run: AwstoeRun, cause: RegExp): Summary {
  const detail = `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
  expect(run.timedOut, detail).toBe(false);
  expect(run.code, detail).toBe(1);
  const summary = lastJsonObject<Summary>(run.stdout);
  expect(summary.status).toBe("failed");
  expect(summary.failureMessage).toContain(SOURCE);
  expect(summary.failureMessage).toMatch(cause);
  expect(run.stderr).not.toContain("    at ");
  expect(run.stderr.toLowerCase()).not.toContain("internal error");
  expect(existsSync(c.destination)).toBe(false);
  return summary;
}

describe("awstoe run: S3Download credentials from each link of the SDK chain", () => {
  test("environment variables", async () => {
    const c = newCase("env");
    expectSuccess(c, await runCase(c, { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY }));
  }, 30_000);

  test("a profile in a shared-credentials file, chosen with AWS_PROFILE", async () => {
    const c = newCase("profile");
    const credentials = join(c.dir, "credentials");
    writeFileSync(
      credentials,
      ["[default]", "aws_access_key_id = NOT-THIS-ONE", "aws_secret_access_key = wrong", "", "[opentoe-e2e]", `aws_access_key_id = ${ACCESS_KEY_ID}`, `aws_secret_access_key = ${SECRET_ACCESS_KEY}`, ""].join("\n"),
    );
    expectSuccess(c, await runCase(c, { AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_PROFILE: "opentoe-e2e" }));
  }, 30_000);

  test("endpoint, region and keys all from a profile in the shared config file (no AWS_ENDPOINT_URL*)", async () => {
    const c = newCase("profile-endpoint");
    const config = join(c.dir, "config");
    writeFileSync(
      config,
      ["[profile local-store]", "region = us-east-1", `endpoint_url = ${s3.endpoint}`, `aws_access_key_id = ${ACCESS_KEY_ID}`, `aws_secret_access_key = ${SECRET_ACCESS_KEY}`, ""].join("\n"),
    );
    // Path-style addressing must follow the profile's endpoint too: `bucket.127.0.0.1` would not resolve.
    expectSuccess(c, await runCase(c, { AWS_CONFIG_FILE: config, AWS_PROFILE: "local-store", AWS_ENDPOINT_URL_S3: undefined, AWS_REGION: undefined }));
  }, 30_000);

  test("an instance role from IMDSv2", async () => {
    const c = newCase("imds");
    const TOKEN = "imds-token-0123456789";
    const ROLE = "opentoe-e2e-role";
    const seen: string[] = [];
    const credentialsBody = () =>
      JSON.stringify({
        Code: "Success",
        Type: "AWS-HMAC",
        AccessKeyId: ACCESS_KEY_ID,
        SecretAccessKey: SECRET_ACCESS_KEY,
        Token: "session-token",
        Expiration: new Date(Date.now() + 3_600_000).toISOString(),
        LastUpdated: new Date().toISOString(),
      });
    const imds = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        const { pathname } = new URL(request.url);
        seen.push(`${request.method} ${pathname}`);
        if (request.method === "PUT" && pathname === "/latest/api/token") {
          if (!request.headers.get("x-aws-ec2-metadata-token-ttl-seconds")) return new Response("", { status: 400 });
          return new Response(TOKEN, { headers: { "x-aws-ec2-metadata-token-ttl-seconds": "21600" } });
        }
        if (request.method !== "GET") return new Response("", { status: 405 });
        if (request.headers.get("x-aws-ec2-metadata-token") !== TOKEN) return new Response("", { status: 401 });
        const match = /^\/latest\/meta-data\/iam\/security-credentials(?:-extended)?\/(.*)$/.exec(pathname);
        if (match === null) return new Response("", { status: 404 });
        if (match[1] === "") return new Response(ROLE);
        if (match[1] === ROLE) return new Response(credentialsBody(), { headers: { "content-type": "application/json" } });
        return new Response("", { status: 404 });
      },
    });
    try {
      const run = await runCase(c, { AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${imds.port}`, AWS_EC2_METADATA_DISABLED: undefined });
      expectSuccess(c, run);
      expect(seen).toContain("PUT /latest/api/token");
      expect(seen.some((s) => /^GET \/latest\/meta-data\/iam\/security-credentials(-extended)?\/$/.test(s)), seen.join("\n")).toBe(true);
      expect(seen.some((s) => s.startsWith("GET /latest/meta-data/iam/security-credentials") && s.endsWith(`/${ROLE}`)), seen.join("\n")).toBe(true);
    } finally {
      imds.stop(true);
    }
  }, 30_000);

  test("no credentials anywhere: exit 1, one sentence naming the object, no stack trace", async () => {
    const c = newCase("none");
    const run = await runCase(c, {});
    expectFailure(c, run, /no AWS credentials were found/);
  }, 30_000);

  test("a wrong secret in the environment: exit 1, the signature was refused", async () => {
    const c = newCase("wrong-secret");
    const rejectedBefore = s3.rejected;
    const run = await runCase(c, { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: "not-the-secret" });
    expectFailure(c, run, /the request signature was refused/);
    expect(s3.rejected).toBeGreaterThan(rejectedBefore);
  }, 30_000);
});
