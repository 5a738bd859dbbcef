/**
 * End-to-end, through the compiled binary: env:, context:, aws:imds: and aws:ssm: references
 * resolved against a stand-in IMDSv2 and a local Parameter Store that checks signatures (both on
 * 127.0.0.1), and the leak test of the secrets rule: a SecureString and a Secrets Manager value
 * with distinctive markers are printed by scripts whole, split across writes with pauses between
 * them, to stderr, in a failing step, and through chaining; then every byte awstoe wrote or sent —
 * the log folder, the state folder, its terminal output, the S3 copy, the CloudWatch Logs batches —
 * is searched for them. Out of scope: transformed secrets (base64, reversed), which no masker can
 * recognise.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isolatedAwsOverrides } from "../helpers/aws-env.ts";
import { awstoeBinary, spawnAwstoe } from "../helpers/binary.ts";
import { CW_ACCESS_KEY_ID, CW_SECRET_ACCESS_KEY, startLocalCloudWatch, type LocalCloudWatch } from "../helpers/cloudwatch-server.ts";
import { metadataEnv, startLocalMetadata, type LocalMetadata } from "../helpers/imds-server.ts";
import { lastJsonObject } from "../helpers/run-output.ts";
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, startLocalS3, testClient, type LocalS3 } from "../helpers/s3-server.ts";
import { parameterStoreEnv, startLocalParameterStore, type LocalParameterStore, type StoredParameter } from "../helpers/ssm-server.ts";

const SECRET = "LEAKMARK-7f3a9c-SECRET-VALUE";
const SM_SECRET = "SMMARK-42-db-password";
const MARKERS = [SECRET, SM_SECRET, "LEAKMARK", "SMMARK"];
const FIXTURES = join(import.meta.dir, "../fixtures/host-references");
const PARAMETERS: Record<string, StoredParameter> = {
  "/opentoe/plain": { type: "String", value: "plain-value" },
  "/opentoe/list": { type: "StringList", value: "nginx,curl,jq" },
  "/opentoe/secret": { type: "SecureString", value: SECRET },
  "/aws/reference/secretsmanager/db": { type: "SecureString", value: SM_SECRET },
};

let imds: LocalMetadata;
let s3: LocalS3;
let cw: LocalCloudWatch;
/** One Parameter Store per credential set: the S3 and CloudWatch stand-ins each know one key. */
let storeForS3: LocalParameterStore;
let storeForCw: LocalParameterStore;
let tmp: string;

beforeAll(async () => {
  await awstoeBinary();
  imds = await startLocalMetadata({ metadata: { "instance-id": "i-0abc123", "placement/availability-zone": "eu-west-1b" }, identity: { accountId: "111122223333", region: "eu-west-1" } });
  s3 = await startLocalS3(["logs"]);
  cw = await startLocalCloudWatch({ groups: ["builds"] });
  storeForS3 = await startLocalParameterStore({ parameters: PARAMETERS, key: { accessKeyId: ACCESS_KEY_ID, secret: SECRET_ACCESS_KEY } });
  storeForCw = await startLocalParameterStore({ parameters: PARAMETERS, key: { accessKeyId: CW_ACCESS_KEY_ID, secret: CW_SECRET_ACCESS_KEY } });
  tmp = mkdtempSync(join(tmpdir(), "opentoe-hostrefs-"));
}, 120_000);
afterAll(async () => {
  imds?.close();
  cw?.close();
  storeForS3?.close();
  storeForCw?.close();
  await s3?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A fresh working folder holding the fixture documents. */
function workdir(name: string): string {
  const dir = join(tmp, name);
  cpSync(FIXTURES, dir, { recursive: true });
  return dir;
}

function envFor(dir: string, store: LocalParameterStore, key: { accessKeyId: string; secret: string }, extra: Record<string, string | undefined> = {}) {
  return isolatedAwsOverrides(dir, { ...parameterStoreEnv(store, key), ...metadataEnv(imds), AWS_ENDPOINT_URL_S3: s3.endpoint, "OPENTOE_E2E.VALUE (x)": "from-the-environment", AWSTOE_REBOOT_MODE: "disabled", AWS_SSM_INSTANCE_ID: undefined, ...extra });
}

/** Every file below `dir` with its text. */
function filesBelow(dir: string): { path: string; text: string }[] {
  const found: { path: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...filesBelow(path));
    else found.push({ path, text: readFileSync(path, "latin1") });
  }
  return found;
}

function expectNoMarker(where: string, text: string): void {
  for (const marker of MARKERS) expect(`${where}: ${text.includes(marker) ? `contains ${marker}` : "clean"}`).toBe(`${where}: clean`);
}

const secretGets = (store: LocalParameterStore) => store.calls.filter((c) => c.operation === "GetParameter" && c.name === "/opentoe/secret").length;

describe("host references through the compiled binary", () => {
  test("values resolve, and no secret reaches the log folder, the state folder, the terminal or the S3 copy", async () => {
    const dir = workdir("leak-s3");
    const before = secretGets(storeForS3);
    const result = await spawnAwstoe(["run", "-d", "leak.yaml", "-l", "logs", "-s", "state", "--log-s3-bucket-name", "logs", "--log-s3-key-prefix", "leak"], { cwd: dir, env: envFor(dir, storeForS3, { accessKeyId: ACCESS_KEY_ID, secret: SECRET_ACCESS_KEY }), timeoutMs: 60_000 });
    const summary = lastJsonObject<{ status: string; executionId: string; logUrl: string; failedStepCount: number }>(result.stdout);
    expect(summary.status, result.stderr).toBe("failed"); // FailsLoudly exits 3 (onFailure: Continue)
    expect(summary.failedStepCount).toBe(1);
    const [folder] = readdirSync(join(dir, "logs")).filter((n) => n.startsWith("TOE_"));
    const logFolder = join(dir, "logs", folder!);
    const consoleLog = readFileSync(join(logFolder, "console.log"), "utf8");

    // Resolved as documented.
    expect(consoleLog).toContain("env=[from-the-environment]");
    expect(consoleLog).toContain(`exec=[${summary.executionId}] platform=[linux] where=[build/Info]`);
    expect(consoleLog).toContain("account=[111122223333] region=[eu-west-1]");
    expect(consoleLog).toContain("instance=[i-0abc123] az=[eu-west-1b]");
    expect(consoleLog).toContain("plain=[plain-value]");
    for (const item of ["nginx", "curl", "jq"]) expect(consoleLog).toContain(`package=[${item}]`);
    // Masked wherever it was printed: whole, split across three writes, to stderr, chained.
    expect(consoleLog).toContain("whole=[****]");
    expect(consoleLog).toContain("split=[****]");
    expect(consoleLog).toContain("db=[****]");
    expect(consoleLog).toContain("chained=[whole=[****]]");
    expect(consoleLog).toContain("stderr=[****]"); // the failure context quotes the failed step's stderr
    // disableLogging: nothing the step printed is in a log, and its output still chains.
    expect(consoleLog).toContain("quiet-chained-ok");
    for (const text of [consoleLog, readFileSync(join(logFolder, "application.log"), "utf8"), result.stderr]) expect(text).not.toContain("QUIETMARK");

    // Every byte written or sent.
    for (const file of filesBelow(dir)) expectNoMarker(file.path, file.text);
    expectNoMarker("stdout", result.stdout);
    expectNoMarker("stderr", result.stderr);
    const client = await testClient(s3);
    const keys = ((await client.send(new ListObjectsV2Command({ Bucket: "logs", Prefix: "leak/" }))).Contents ?? []).map((o) => o.Key!);
    expect(keys.some((k) => k.endsWith("/console.log"))).toBe(true);
    for (const key of keys) expectNoMarker(`s3://logs/${key}`, await (await client.send(new GetObjectCommand({ Bucket: "logs", Key: key }))).Body!.transformToString());

    // The scripts that had to hold a secret are gone; the others stay.
    const steps = readdirSync(join(logFolder, "steps", "build"));
    expect(steps).toContain("Info.input.sh");
    for (const name of ["Whole", "Split", "FailsLoudly"]) expect(steps).not.toContain(`${name}.input.sh`);
    // Fetched once for the whole execution, though three steps use it.
    expect(secretGets(storeForS3) - before).toBe(1);
  }, 90_000);

  test("the CloudWatch Logs copy carries the masks, never the secrets", async () => {
    const dir = workdir("leak-cw");
    const result = await spawnAwstoe(["run", "-d", "leak.yaml", "-l", "logs", "--cw-log-group", "builds", "--cw-log-stream", "leak"], { cwd: dir, env: envFor(dir, storeForCw, { accessKeyId: CW_ACCESS_KEY_ID, secret: CW_SECRET_ACCESS_KEY }, { AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: cw.endpoint }), timeoutMs: 60_000 });
    expect(lastJsonObject<{ status: string }>(result.stdout).status, result.stderr).toBe("failed");
    expect(result.stderr).not.toContain("CloudWatch");
    const events = (cw.events("builds", "leak") ?? []).map((e) => e.message).join("\n");
    expect(events).toContain("whole=[****]");
    expect(events).toContain("split=[****]");
    expectNoMarker("CloudWatch Logs", events);
  }, 90_000);

  test("a step that reboots after using a secret: nothing stores it, the resumed run fetches it again", async () => {
    const dir = workdir("resume");
    const env = envFor(dir, storeForS3, { accessKeyId: ACCESS_KEY_ID, secret: SECRET_ACCESS_KEY });
    const before = secretGets(storeForS3);
    const first = await spawnAwstoe(["run", "-d", "resume.yaml", "-l", "logs", "-s", "state"], { cwd: dir, env, timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(194);
    for (const file of filesBelow(dir)) expectNoMarker(file.path, file.text);
    const second = await spawnAwstoe(["run", "-d", "resume.yaml", "-l", "logs", "-s", "state"], { cwd: dir, env, timeoutMs: 60_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(secretGets(storeForS3) - before).toBe(2);
    const [folder] = readdirSync(join(dir, "logs")).filter((n) => n.startsWith("TOE_"));
    const consoleLog = readFileSync(join(dir, "logs", folder!, "console.log"), "utf8");
    expect(consoleLog).toContain("later=[****] chained=[before=[****]");
    for (const file of filesBelow(dir)) expectNoMarker(file.path, file.text);
    expectNoMarker("stderr", first.stderr + second.stderr);
  }, 120_000);

  test("--dry-run shows AWS references as written; --resolve-aws reads them, secrets masked", async () => {
    const dir = workdir("plan");
    const env = envFor(dir, storeForS3, { accessKeyId: ACCESS_KEY_ID, secret: SECRET_ACCESS_KEY });
    const calls = storeForS3.calls.length;
    const plain = await spawnAwstoe(["run", "-d", "leak.yaml", "--dry-run"], { cwd: dir, env });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain("{{ aws:ssm:/opentoe/plain }}");
    expect(plain.stdout).toContain("env=[from-the-environment]");
    expect(storeForS3.calls.length).toBe(calls);
    const resolved = await spawnAwstoe(["run", "-d", "leak.yaml", "--dry-run", "--resolve-aws"], { cwd: dir, env });
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(resolved.stdout).toContain("plain=[plain-value]");
    expect(resolved.stdout).toContain("whole=[****]");
    expectNoMarker("dry-run stdout", resolved.stdout);
    expect(existsSync(join(dir, "logs"))).toBe(false);
  }, 60_000);

  test("a missing environment variable and a missing parameter fail their step, naming them", async () => {
    const dir = workdir("missing");
    const env = envFor(dir, storeForS3, { accessKeyId: ACCESS_KEY_ID, secret: SECRET_ACCESS_KEY }, { "OPENTOE_E2E.VALUE (x)": undefined });
    const result = await spawnAwstoe(["run", "-d", "leak.yaml", "-l", "logs"], { cwd: dir, env, timeoutMs: 60_000 });
    const summary = lastJsonObject<{ status: string; failureMessage: string }>(result.stdout);
    expect(summary.status).toBe("failed");
    expect(summary.failureMessage).toContain("the environment variable 'OPENTOE_E2E.VALUE (x)' is not set");
  }, 60_000);
});
