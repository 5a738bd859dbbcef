/**
 * aws/account.ts with the real AWS SDK: the configured region, and the account from a local STS
 * on 127.0.0.1 that checks every signature (test/helpers/sts-server.ts). The SDK reads
 * process.env, so each test sets it whole.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccountPort } from "../../src/aws/account.ts";
import { isolatedAwsEnv } from "../helpers/aws-env.ts";
import { ACCOUNT_ID, startLocalSts, stsEnv, type LocalSts } from "../helpers/sts-server.ts";

let sts: LocalSts;
let dir: string;
/** An endpoint where nothing listens: a server's port, once it is closed. */
let closed: string;
const saved = { ...process.env };
beforeAll(() => {
  sts = startLocalSts();
  const gone = startLocalSts();
  closed = gone.endpoint;
  gone.close();
  dir = mkdtempSync(join(tmpdir(), "account-test-"));
});
afterAll(() => {
  sts.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => replaceEnv(saved));

/**
 * Makes process.env exactly `next`, key by key: the object itself stays, because later test files
 * in this process (and the children they start) read it.
 */
function replaceEnv(next: Record<string, string | undefined>): void {
  for (const key of Object.keys(process.env)) if (next[key] === undefined) delete process.env[key];
  for (const [key, value] of Object.entries(next)) if (value !== undefined) process.env[key] = value;
}

/** Only the local STS, two attempts per call; `extra` over it, undefined removes. */
const useSts = (extra: Record<string, string | undefined> = {}) => {
  replaceEnv(isolatedAwsEnv(dir, { ...stsEnv(sts), AWS_MAX_ATTEMPTS: "2", ...extra }));
};
const failureOf = (promise: Promise<unknown>) => promise.then(() => "no failure", (e: Error) => e.message);
const PREFIX = "the AWS account of the current credentials could not be found (STS GetCallerIdentity): ";

describe("region", () => {
  test("AWS_REGION, else AWS_DEFAULT_REGION", async () => {
    useSts({ AWS_REGION: "eu-central-1", AWS_DEFAULT_REGION: "us-west-2" });
    expect(await createAccountPort().region()).toBe("eu-central-1");
    useSts({ AWS_REGION: undefined, AWS_DEFAULT_REGION: "us-west-2" });
    expect(await createAccountPort().region()).toBe("us-west-2");
  });

  test("the profile's region in the shared config file", async () => {
    const config = join(dir, "config");
    writeFileSync(config, "[default]\nregion = sa-east-1\n\n[profile build]\nregion = ap-south-1\n");
    useSts({ AWS_REGION: undefined, AWS_CONFIG_FILE: config, AWS_PROFILE: "build" });
    expect(await createAccountPort().region()).toBe("ap-south-1");
    useSts({ AWS_REGION: undefined, AWS_CONFIG_FILE: config });
    expect(await createAccountPort().region()).toBe("sa-east-1");
  });

  test("none configured: undefined, not an error", async () => {
    useSts({ AWS_REGION: undefined });
    expect(await createAccountPort().region()).toBeUndefined();
  });
});

describe("account", () => {
  test("the credentials' account, asked in the configured region with a valid signature", async () => {
    useSts({ AWS_REGION: "eu-west-3" });
    const before = sts.calls.length;
    expect(await createAccountPort().accountId()).toBe(ACCOUNT_ID);
    expect(sts.calls.slice(before)).toEqual([{ action: "GetCallerIdentity", region: "eu-west-3", status: 200 }]);
  });

  test("a wrong secret key and an unknown key id are refused by the signature check, and worded", async () => {
    useSts({ AWS_SECRET_ACCESS_KEY: "wrong" });
    const before = sts.badSignatures;
    expect(await failureOf(createAccountPort().accountId())).toBe(`${PREFIX}the request signature was refused (check the secret access key)`);
    expect(sts.badSignatures).toBeGreaterThan(before);
    useSts({ AWS_ACCESS_KEY_ID: "AKIDSOMEONEELSE" });
    expect(await failureOf(createAccountPort().accountId())).toBe(`${PREFIX}STS does not know the access key id (check the credentials)`);
  });

  test("expired session, throttling after the SDK's retries", async () => {
    useSts({ AWS_SESSION_TOKEN: "session" });
    sts.failNext(1, "expired-token");
    expect(await failureOf(createAccountPort().accountId())).toBe(`${PREFIX}the AWS session token has expired; refresh the credentials`);
    sts.failNext(2, "throttle");
    const before = sts.calls.length;
    expect(await failureOf(createAccountPort().accountId())).toBe(`${PREFIX}STS throttled the request after 2 attempts; try again later`);
    expect(sts.calls.length - before).toBe(2);
  });

  test("no credentials, no region, no endpoint", async () => {
    useSts({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    expect(await failureOf(createAccountPort().accountId())).toBe(`${PREFIX}no AWS credentials were found (environment, shared files, or instance role)`);
    useSts({ AWS_REGION: undefined });
    expect(await failureOf(createAccountPort().accountId())).toBe(`${PREFIX}no AWS region is configured (set AWS_REGION or a profile's region)`);
    useSts({ AWS_ENDPOINT_URL_STS: closed });
    expect(await failureOf(createAccountPort().accountId())).toBe(
      `${PREFIX}the STS endpoint could not be reached (ECONNREFUSED) after 2 attempts; check the network, proxy settings and the endpoint (AWS_ENDPOINT_URL_STS, a profile's endpoint_url)`,
    );
  });

  test("a stop ends a call that waits", async () => {
    useSts();
    sts.failNext(1, "hang");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    expect(await failureOf(createAccountPort().accountId(controller.signal))).toBe(`${PREFIX}stopped before STS answered (awstoe was interrupted)`);
  });
});
