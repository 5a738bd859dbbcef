/**
 * aws/ssm.ts and aws/account.ts with the real AWS SDK against a local Parameter Store / STS on
 * 127.0.0.1 that checks every signature (test/helpers/ssm-server.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createAccountPort } from "../../src/aws/account.ts";
import { createParameterPort } from "../../src/aws/ssm.ts";
import { ACCOUNT_ID, parameterStoreEnv, startLocalParameterStore, type LocalParameterStore } from "../helpers/ssm-server.ts";

let store: LocalParameterStore;
let saved: NodeJS.ProcessEnv;
beforeAll(async () => {
  store = await startLocalParameterStore({
    parameters: {
      "/app/url": { type: "String", value: "https://example.test/repo" },
      "/app/packages": { type: "StringList", value: "nginx,curl,jq" },
      "/app/password": { type: "SecureString", value: "hunter2-secret" },
      "/aws/reference/secretsmanager/db": { type: "SecureString", value: "{\"user\":\"db\",\"password\":\"pw\"}" },
      "/aws/reference/secretsmanager/plain": { type: "String", value: "not-marked-secure" },
    },
  });
});
afterAll(() => store.close());
const useStore = (env: Record<string, string | undefined> = {}) => {
  saved = { ...process.env };
  for (const key of Object.keys(process.env)) if (key.startsWith("AWS_")) delete process.env[key];
  Object.assign(process.env, { AWS_CONFIG_FILE: "/nonexistent/config", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials", AWS_EC2_METADATA_DISABLED: "true", AWS_MAX_ATTEMPTS: "2" }, parameterStoreEnv(store));
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
};
afterEach(() => {
  // Put the environment back key by key: later test files in this process read it.
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

describe("Parameter Store", () => {
  test("String, StringList and SecureString, decrypted; secrets are marked", async () => {
    useStore();
    const port = createParameterPort();
    expect(await port.get("/app/url")).toEqual({ value: "https://example.test/repo", type: "String", secret: false });
    expect(await port.get("/app/packages")).toEqual({ value: "nginx,curl,jq", type: "StringList", secret: false });
    expect(await port.get("/app/password")).toEqual({ value: "hunter2-secret", type: "SecureString", secret: true });
    expect((await port.get("/aws/reference/secretsmanager/plain")).secret).toBe(true);
    const gets = store.calls.filter((c) => c.operation === "GetParameter");
    expect(gets.every((c) => c.withDecryption === true)).toBe(true);
    expect(store.badSignatures).toBe(0);
  });

  test("a missing parameter, a secret that is not there, access denied, throttling: each one sentence", async () => {
    useStore();
    const port = createParameterPort();
    await expect(port.get("/app/nope")).rejects.toThrow("Parameter Store has no parameter '/app/nope' in us-east-1; check the name");
    await expect(port.get("/aws/reference/secretsmanager/gone")).rejects.toThrow("Secrets Manager has no secret 'gone' in us-east-1");
    store.failNext(1, "access-denied", "/app/url");
    await expect(port.get("/app/url")).rejects.toThrow(/access to parameter '\/app\/url' was denied: the credentials need ssm:GetParameter on it, and kms:Decrypt/);
    store.failNext(5, "throttle", "/app/url");
    await expect(port.get("/app/url")).rejects.toThrow(/Parameter Store throttled the request for parameter '\/app\/url' after 2 attempts/);
  });

  test("a wrong secret key is refused by the server's signature check", async () => {
    useStore({ AWS_SECRET_ACCESS_KEY: "wrong" });
    const before = store.badSignatures;
    await expect(createParameterPort().get("/app/url")).rejects.toThrow(/signature was refused|InvalidSignature/);
    expect(store.badSignatures).toBeGreaterThan(before);
  });

  test("no credentials and no region are worded", async () => {
    useStore({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    await expect(createParameterPort().get("/app/url")).rejects.toThrow(/parameter '\/app\/url' could not be read: no AWS credentials were found/);
    useStore({ AWS_REGION: undefined });
    await expect(createParameterPort().get("/app/url")).rejects.toThrow(/parameter '\/app\/url' could not be read: .*region/i);
  });
});

describe("account and region off EC2", () => {
  test("the configured region, and the credentials' account from STS", async () => {
    useStore({ AWS_REGION: "eu-central-1" });
    const account = createAccountPort();
    expect(await account.region()).toBe("eu-central-1");
    expect(await account.accountId()).toBe(ACCOUNT_ID);
  });

  test("no region configured: undefined, not an error", async () => {
    useStore({ AWS_REGION: undefined });
    expect(await createAccountPort().region()).toBeUndefined();
  });
});
