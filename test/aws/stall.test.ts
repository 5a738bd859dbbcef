/**
 * The time limits and stops of the S3 and Image Builder ports (aws/_cause.ts) against a real
 * stalled endpoint on 127.0.0.1 (test/helpers/stall-server.ts): a call that gets no answer fails
 * by itself after the SDK's retries, with one sentence naming the object and what to check; an
 * abort stops it at once. Downloads (through fetch) also close their connection either way: a
 * fetch left running keeps the process from exiting. (Uploads, listings and Image Builder go
 * through node:http, whose requests do not hold the process; under Bun 1.4 a destroyed node:http
 * request leaves its TCP connection open, so only the downloads' connections are checked here —
 * test/e2e/s3-stall.test.ts shows the binary exits.) The idle limit is shortened with
 * AWSTOE_AWS_IDLE_TIMEOUT_MS so the file runs in seconds.
 */
import type { S3FailureFacts } from "../../src/model/ports.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONNECT_TIMEOUT_MS, IDLE_TIMEOUT_ENV, IDLE_TIMEOUT_MS, idleTimeoutMs, isTransient } from "../../src/aws/_cause.ts";
import { createImageBuilderPort } from "../../src/aws/imagebuilder.ts";
import { createS3Port } from "../../src/aws/s3.ts";

import { parseComponentArn, type ComponentArn } from "../../src/model/component-arn.ts";
import { isolatedAwsEnv } from "../helpers/aws-env.ts";
import { startStallServer, type StallServer } from "../helpers/stall-server.ts";

const IDLE = 300;
/** 3 attempts × IDLE plus the SDK's backoff, with room for a busy machine; far below a hang. */
const BOUND_MS = 10_000;
const HINT = "check the network, proxy settings and the S3 endpoint (AWS_ENDPOINT_URL_S3, a profile's endpoint_url, the region)";

let silent: StallServer;
let trickle: StallServer;
let dir: string;
let file: string;
let savedEnv: NodeJS.ProcessEnv;

function useEndpoint(endpoint: string, idle: number = IDLE): void {
  process.env = isolatedAwsEnv(dir, {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ENDPOINT_URL_IMAGEBUILDER: endpoint,
    AWS_ACCESS_KEY_ID: "AKIDSTALLTEST",
    AWS_SECRET_ACCESS_KEY: "stall-secret",
    AWS_REGION: "us-east-1",
    [IDLE_TIMEOUT_ENV]: String(idle),
  });
}

beforeAll(async () => {
  silent = await startStallServer();
  trickle = await startStallServer({ partialBody: "schemaVersion: 1.0\n" });
  dir = mkdtempSync(join(tmpdir(), "opentoe-stall-"));
  file = join(dir, "application.log");
  writeFileSync(file, "a log line\n");
  savedEnv = process.env;
  useEndpoint(silent.endpoint);
});
afterAll(async () => {
  process.env = savedEnv;
  await silent.close();
  await trickle.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `call`, which must fail; returns the error and how long it took. */
async function failure(call: () => Promise<unknown>): Promise<{ error: Error & S3FailureFacts; ms: number }> {
  const started = performance.now();
  try {
    await call();
  } catch (error) {
    return { error: error as Error & S3FailureFacts, ms: performance.now() - started };
  }
  throw new Error("the call succeeded");
}

/** Resolves when the connections the server accepted after the first `since` are closed, or rejects after `ms`. */
async function closedWithin(server: StallServer, since: number, ms: number): Promise<void> {
  await Promise.race([server.allClosed(since), Bun.sleep(ms).then(() => Promise.reject(new Error(`connection(s) still open after ${ms} ms`)))]);
}

describe("the limits", () => {
  test("are the documented ones: 10 s to connect, 30 s without a byte; AWSTOE_AWS_IDLE_TIMEOUT_MS changes the idle limit", () => {
    expect(CONNECT_TIMEOUT_MS).toBe(10_000);
    expect(IDLE_TIMEOUT_MS).toBe(30_000);
    expect(idleTimeoutMs()).toBe(IDLE);
    const saved = process.env[IDLE_TIMEOUT_ENV];
    try {
      for (const ignored of ["", "0", "abc", "-5", "1.5"]) {
        process.env[IDLE_TIMEOUT_ENV] = ignored;
        expect(idleTimeoutMs()).toBe(IDLE_TIMEOUT_MS);
      }
      delete process.env[IDLE_TIMEOUT_ENV];
      expect(idleTimeoutMs()).toBe(IDLE_TIMEOUT_MS);
    } finally {
      process.env[IDLE_TIMEOUT_ENV] = saved;
    }
  });
});

describe("an S3 endpoint that never answers", () => {
  test("a download fails by itself after 3 attempts, names the object and what to check, and closes its connections", async () => {
    const before = silent.connections;
    const { error, ms } = await failure(() => createS3Port().getObject("bucket", "doc.yaml", {}));
    expect(error.message).toBe(`cannot download s3://bucket/doc.yaml: the S3 endpoint did not answer (nothing for ${IDLE} ms) after 3 attempts; ${HINT}`);
    expect(error.transient).toBe(true);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(silent.connections - before).toBe(3);
    await closedWithin(silent, before, 2_000);
  });

  test("an upload fails the same way", async () => {
    const { error, ms } = await failure(() => createS3Port().putFile("bucket", "logs/application.log", file, {}));
    expect(error.message).toBe(`cannot upload to s3://bucket/logs/application.log: the S3 endpoint did not answer (nothing for ${IDLE} ms) after 3 attempts; ${HINT}`);
    expect(error.transient).toBe(true);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  test("a listing fails the same way", async () => {
    const { error, ms } = await failure(() => createS3Port().listKeys("bucket", "logs/", 100, {}));
    expect(error.message).toStartWith(`cannot list s3://bucket/logs/: the S3 endpoint did not answer (nothing for ${IDLE} ms) after 3 attempts`);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  test("a body that stops arriving fails while it is read, and the connection is closed", async () => {
    useEndpoint(trickle.endpoint);
    try {
      const body = await createS3Port().getObject("bucket", "doc.yaml", {});
      const chunks: string[] = [];
      const { error, ms } = await failure(async () => {
        for await (const chunk of body) chunks.push(Buffer.from(chunk).toString());
      });
      expect(chunks.join("")).toBe("schemaVersion: 1.0\n");
      expect(error.message).toBe(`cannot download s3://bucket/doc.yaml: the S3 endpoint stopped sending data (nothing for ${IDLE} ms); ${HINT}`);
      expect(error.transient).toBe(true);
      expect(ms).toBeLessThan(BOUND_MS);
      await closedWithin(trickle, 0, 2_000);
    } finally {
      useEndpoint(silent.endpoint);
    }
  });
});

describe("a stop", () => {
  // With the default limits (30 s), only the stop can end these calls quickly.
  for (const [label, call, closes] of [
    ["an upload", (port: ReturnType<typeof createS3Port>, signal?: AbortSignal) => port.putFile("bucket", "logs/application.log", file, signal ? { signal } : {}), false],
    ["a download", (port: ReturnType<typeof createS3Port>, signal?: AbortSignal) => port.getObject("bucket", "doc.yaml", signal ? { signal } : {}), true],
  ] as const) {
    test(`the port's signal (the run's SIGTERM) stops ${label} at once and says so`, async () => {
      useEndpoint(silent.endpoint, 30_000);
      try {
        const run = new AbortController();
        const port = createS3Port({ signal: run.signal });
        const before = silent.connections;
        const pending = failure(() => call(port));
        while (silent.connections === before) await Bun.sleep(10);
        const stoppedAt = performance.now();
        run.abort(new Error("SIGTERM"));
        const { error } = await pending;
        expect(performance.now() - stoppedAt).toBeLessThan(1_000);
        expect(error.message).toEndWith(": stopped before it finished: awstoe was interrupted (SIGTERM)");
        expect(error.transient).toBeUndefined();
        if (closes) await closedWithin(silent, before, 2_000);
        // Later calls of the stopped port fail at once, without a connection.
        const after = silent.connections;
        const again = await failure(() => call(port));
        expect(again.ms).toBeLessThan(1_000);
        expect(silent.connections).toBe(after);
      } finally {
        useEndpoint(silent.endpoint);
      }
    });

    test(`a call's own signal stops ${label} too`, async () => {
      useEndpoint(silent.endpoint, 30_000);
      try {
        const step = new AbortController();
        const before = silent.connections;
        const pending = failure(() => call(createS3Port(), step.signal));
        while (silent.connections === before) await Bun.sleep(10);
        step.abort();
        const { error, ms } = await pending;
        expect(ms).toBeLessThan(5_000);
        expect(error.message).toEndWith(": stopped before it finished");
        if (closes) await closedWithin(silent, before, 2_000);
      } finally {
        useEndpoint(silent.endpoint);
      }
    });
  }
});

describe("an Image Builder endpoint that never answers", () => {
  const arn = (text: string): ComponentArn => {
    const parsed = parseComponentArn(text);
    if (!parsed.ok) throw new Error(parsed.problem);
    return parsed.arn;
  };

  test("GetComponent fails by itself after 3 attempts, names what to check, and is marked transient", async () => {
    const started = performance.now();
    const got = await createImageBuilderPort().getComponentData(arn("arn:aws:imagebuilder:eu-west-3:123456789012:component/hello/1.0.0/1"), { maxResponseBytes: 1024 * 1024 });
    expect(performance.now() - started).toBeLessThan(BOUND_MS);
    expect(got).toEqual({
      ok: false,
      reason: `the Image Builder endpoint for eu-west-3 did not answer (nothing for ${IDLE} ms) after 3 attempts; check the network, proxy settings and the endpoint (AWS_ENDPOINT_URL_IMAGEBUILDER, a profile's endpoint_url)`,
      transient: true,
    });
  });

  test("its signal stops it at once", async () => {
    useEndpoint(silent.endpoint, 30_000);
    try {
      const run = new AbortController();
      const before = silent.connections;
      const pending = createImageBuilderPort().getComponentData(arn("arn:aws:imagebuilder:eu-west-3:123456789012:component/hello/1.0.0/1"), { maxResponseBytes: 1024, signal: run.signal });
      while (silent.connections === before) await Bun.sleep(10);
      const stoppedAt = performance.now();
      run.abort(new Error("SIGTERM"));
      expect(await pending).toEqual({ ok: false, reason: "stopped before the component was fetched" });
      expect(performance.now() - stoppedAt).toBeLessThan(1_000);
    } finally {
      useEndpoint(silent.endpoint);
    }
  });
});

describe("isTransient: what trying again later could cure", () => {
  const http = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
  const cases: [string, unknown, boolean][] = [
    ["no answer in time", Object.assign(new Error("socket timed out"), { name: "TimeoutError" }), true],
    ["connection refused", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }), true],
    ["connection reset (undici puts the code on the cause)", new TypeError("fetch failed", { cause: Object.assign(new Error("other side closed"), { code: "ECONNRESET" }) }), true],
    ["DNS", Object.assign(new Error("getaddrinfo ENOTFOUND s3.example"), { code: "ENOTFOUND" }), true],
    ["S3 SlowDown", http("SlowDown", 503), true],
    ["a 500", http("InternalError", 500), true],
    ["a 502 with no name of its own", http("Unknown", 502), true],
    ["throttling", http("ThrottlingException", 400), true],
    ["too many requests", http("TooManyRequestsException", 429), true],
    ["access denied", http("AccessDenied", 403), false],
    ["no such key", http("NoSuchKey", 404), false],
    ["not found", http("NotFound", 404), false],
    ["no such component", http("ResourceNotFoundException", 404), false],
    ["a stop", Object.assign(new Error("Request aborted"), { name: "AbortError" }), false],
    ["no credentials", Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }), false],
    ["no region", new Error("Region is missing"), false],
  ];
  for (const [label, error, expected] of cases) {
    test(`${label}: ${expected ? "transient" : "not transient"}`, () => expect(isTransient(error)).toBe(expected));
  }
});
