/**
 * aws/ssm.ts with the real AWS SDK against a local Parameter Store on 127.0.0.1 that checks every
 * signature (test/helpers/ssm-server.ts). The SDK reads process.env, so each test sets it whole.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createParameterPort } from "../../src/aws/ssm.ts";
import { isolatedAwsEnv } from "../helpers/aws-env.ts";
import { parameterStoreEnv, startLocalParameterStore, type LocalParameterStore } from "../helpers/ssm-server.ts";

let store: LocalParameterStore;
/** An endpoint where nothing listens: a server's port, once it is closed. */
let closed: string;
const saved = { ...process.env };
beforeAll(async () => {
  store = await startLocalParameterStore({
    parameters: {
      "/app/url": { type: "String", value: "https://example.test/repo" },
      "/app/packages": { type: "StringList", value: "nginx,curl,jq" },
      "/app/password": { type: "SecureString", value: "hunter2-secret" },
      // Not how the service stores secrets: proves the name alone makes a value secret.
      "/aws/reference/secretsmanager/plain": { type: "String", value: "not-marked-secure" },
    },
    secrets: { db: '{"user":"db","password":"pw"}' },
  });
  const gone = await startLocalParameterStore();
  closed = gone.endpoint;
  gone.close();
});
afterAll(() => store.close());
afterEach(() => replaceEnv(saved));

/**
 * Makes process.env exactly `next`, key by key: the object itself stays, because later test files
 * in this process (and the children they start) read it.
 */
function replaceEnv(next: Record<string, string | undefined>): void {
  for (const key of Object.keys(process.env)) if (next[key] === undefined) delete process.env[key];
  for (const [key, value] of Object.entries(next)) if (value !== undefined) process.env[key] = value;
}

/** Only the store, two attempts per call (quick retries); `extra` over it, undefined removes. */
const useStore = (extra: Record<string, string | undefined> = {}) => {
  replaceEnv(isolatedAwsEnv("/nonexistent", { ...parameterStoreEnv(store), AWS_MAX_ATTEMPTS: "2", ...extra }));
};
const failureOf = (promise: Promise<unknown>) => promise.then(() => "no failure", (e: Error) => e.message);
const callsFor = (name: string) => store.calls.filter((c) => c.operation === "GetParameter" && c.name === name).length;

describe("values", () => {
  test("String, StringList and SecureString, decrypted; the region is the configured one", async () => {
    useStore({ AWS_REGION: "eu-central-1" });
    const port = createParameterPort();
    const before = store.calls.length;
    expect(await port.get("/app/url")).toEqual({ value: "https://example.test/repo", type: "String", secret: false });
    expect(await port.get("/app/packages")).toEqual({ value: "nginx,curl,jq", type: "StringList", secret: false });
    // The store only decrypts when asked: the clear value proves WithDecryption was sent.
    expect(await port.get("/app/password")).toEqual({ value: "hunter2-secret", type: "SecureString", secret: true });
    const calls = store.calls.slice(before);
    expect(calls.map((c) => [c.operation, c.name, c.withDecryption, c.region, c.status])).toEqual([
      ["GetParameter", "/app/url", true, "eu-central-1", 200],
      ["GetParameter", "/app/packages", true, "eu-central-1", 200],
      ["GetParameter", "/app/password", true, "eu-central-1", 200],
    ]);
  });

  test("a Secrets Manager secret through /aws/reference/secretsmanager/ is secret, whatever its type", async () => {
    useStore();
    const port = createParameterPort();
    expect(await port.get("/aws/reference/secretsmanager/db")).toEqual({ value: '{"user":"db","password":"pw"}', type: "SecureString", secret: true });
    expect(await port.get("/aws/reference/secretsmanager/plain")).toEqual({ value: "not-marked-secure", type: "String", secret: true });
  });

  test("every get() asks again (caching is the caller's)", async () => {
    useStore();
    const port = createParameterPort();
    const before = callsFor("/app/url");
    await port.get("/app/url");
    await port.get("/app/url");
    expect(callsFor("/app/url") - before).toBe(2);
  });

  test("a 500 is retried by the SDK", async () => {
    useStore();
    const before = callsFor("/app/packages");
    store.failNext(1, "server-error", "/app/packages");
    expect((await createParameterPort().get("/app/packages")).value).toBe("nginx,curl,jq");
    expect(callsFor("/app/packages") - before).toBe(2);
  });
});

describe("failures, each one sentence naming the parameter", () => {
  test("not found", async () => {
    useStore();
    const port = createParameterPort();
    expect(await failureOf(port.get("/app/nope"))).toBe("Parameter Store has no parameter '/app/nope' in region us-east-1; check the name and the region (names are case-sensitive)");
    expect(await failureOf(port.get("/aws/reference/secretsmanager/gone"))).toBe(
      "Secrets Manager has no secret 'gone' in region us-east-1 (read as parameter '/aws/reference/secretsmanager/gone'); check the secret's name and the region",
    );
  });

  test("access denied names the permissions: ssm:GetParameter, kms:Decrypt, secretsmanager:GetSecretValue", async () => {
    useStore();
    const port = createParameterPort();
    store.failNext(1, "access-denied", "/app/url");
    expect(await failureOf(port.get("/app/url"))).toStartWith(
      "access to parameter '/app/url' was denied: the credentials need ssm:GetParameter on it, and kms:Decrypt on its key when it is a SecureString with a customer managed key (the service said: User: arn:aws:iam::",
    );
    store.failNext(1, "access-denied", "/aws/reference/secretsmanager/db");
    expect(await failureOf(port.get("/aws/reference/secretsmanager/db"))).toStartWith(
      "access to parameter '/aws/reference/secretsmanager/db' was denied: the credentials need ssm:GetParameter on it and secretsmanager:GetSecretValue on the secret 'db' (the service said: ",
    );
    store.failNext(1, "kms-denied", "/app/password");
    expect(await failureOf(port.get("/app/password"))).toBe(
      "parameter '/app/password' could not be decrypted: the credentials need kms:Decrypt on the parameter's KMS key (the service said: The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.)",
    );
  });

  test("throttled on every attempt the SDK makes", async () => {
    useStore();
    const before = callsFor("/app/url");
    store.failNext(2, "throttle", "/app/url");
    expect(await failureOf(createParameterPort().get("/app/url"))).toBe(
      "Parameter Store throttled the request for parameter '/app/url' after 2 attempts; try again later, or raise the account's GetParameter throughput",
    );
    expect(callsFor("/app/url") - before).toBe(2);
  });

  test("the signature is checked: a wrong secret key or an unknown key id is refused", async () => {
    useStore({ AWS_SECRET_ACCESS_KEY: "wrong" });
    const before = store.badSignatures;
    expect(await failureOf(createParameterPort().get("/app/url"))).toBe("parameter '/app/url' could not be read: the request signature was refused (check the secret access key)");
    expect(store.badSignatures).toBeGreaterThan(before);
    useStore({ AWS_ACCESS_KEY_ID: "AKIDSOMEONEELSE" });
    expect(await failureOf(createParameterPort().get("/app/url"))).toBe("parameter '/app/url' could not be read: Systems Manager does not know the access key id (check the credentials)");
  });

  test("no credentials, no region", async () => {
    useStore({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    expect(await failureOf(createParameterPort().get("/app/url"))).toBe("parameter '/app/url' could not be read: no AWS credentials were found (environment, shared files, or instance role)");
    useStore({ AWS_REGION: undefined });
    expect(await failureOf(createParameterPort().get("/app/url"))).toBe("parameter '/app/url' could not be read: no AWS region is configured (set AWS_REGION or a profile's region)");
  });

  test("an endpoint out of reach", async () => {
    useStore({ AWS_ENDPOINT_URL_SSM: closed });
    expect(await failureOf(createParameterPort().get("/app/url"))).toMatch(
      /^parameter '\/app\/url' could not be read: the Systems Manager endpoint in region us-east-1 could not be reached \(ECONNREFUSED\) after 2 attempts; check the network, proxy settings and the endpoint \(AWS_ENDPOINT_URL_SSM, a profile's endpoint_url\)$/,
    );
  });

  test("a stop, from the call or from the port's own signal, ends a call that waits", async () => {
    useStore();
    store.failNext(1, "hang", "/app/url");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    expect(await failureOf(createParameterPort().get("/app/url", controller.signal))).toBe("parameter '/app/url' could not be read: the call was stopped (awstoe was interrupted)");
    store.failNext(1, "hang", "/app/url");
    const run = new AbortController();
    setTimeout(() => run.abort(), 50);
    expect(await failureOf(createParameterPort({ signal: run.signal }).get("/app/url", new AbortController().signal))).toMatch(/the call was stopped/);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
