/**
 * Patient loading for a run resumed at boot (prepareDocuments(..., { patient })): remote documents
 * whose endpoint is not reachable yet or answers 503 are tried again with backoff until they load
 * or the patience runs out; a permanent failure (no such key) fails at once, and so does every
 * failure without patience. Real SDK, real servers on 127.0.0.1; short delays so the file runs in
 * seconds.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ImageBuilderPort } from "../../src/aws/imagebuilder.ts";
import { documentLoader, PATIENCE_DEFAULTS, type Patience } from "../../src/engine/document-sources.ts";
import { hostDeps } from "../../src/engine/host-deps.ts";
import { prepareDocuments, type DocumentRequest } from "../../src/engine/prepare.ts";
import { plainPalette } from "../../src/logs/terminal.ts";
import { isolatedAwsEnv } from "../helpers/aws-env.ts";

const DOC = "schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Hello\n        action: ExecuteBash\n        inputs:\n          commands: [\"echo hello\"]\n";
const ARN = "arn:aws:imagebuilder:eu-west-3:123456789012:component/hello/1.0.0/1";
const SOURCE = "s3://docs/doc.yaml";

let dir: string;
let savedEnv: NodeJS.ProcessEnv;

/**
 * An S3 stand-in that answers `failures` requests with 503 ServiceUnavailable, then serves DOC at
 * /docs/doc.yaml (404 NoSuchKey for anything else). `port` 0 picks a free one.
 */
function flakyS3(failures: number, port = 0) {
  const state = { failuresLeft: failures, requests: 0 };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    fetch(request) {
      state.requests++;
      const xml = (code: string, message: string, status: number) =>
        new Response(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`, { status, headers: { "content-type": "application/xml" } });
      if (state.failuresLeft > 0) {
        state.failuresLeft--;
        return xml("ServiceUnavailable", "Service is unable to handle request.", 503);
      }
      if (new URL(request.url).pathname !== "/docs/doc.yaml") return xml("NoSuchKey", "The specified key does not exist.", 404);
      return new Response(DOC, { headers: { "content-type": "application/yaml" } });
    },
  });
  return { state, endpoint: `http://127.0.0.1:${server.port}`, port: server.port!, stop: () => server.stop(true) };
}

/** A port nobody listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The engine's real dependencies, with S3 at `endpoint` and stderr captured. */
function depsFor(endpoint: string, options: { signal?: AbortSignal; imageBuilder?: ImageBuilderPort } = {}) {
  process.env = isolatedAwsEnv(dir, { AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: "AKIDPATIENT", AWS_SECRET_ACCESS_KEY: "patient-secret", AWS_REGION: "us-east-1" });
  const stderr: string[] = [];
  const signal = options.signal ?? new AbortController().signal;
  const deps = hostDeps({ signal, palette: plainPalette, renderDiagnostics: () => "", cwd: dir, interactive: false, terminal: { stdout: () => {}, stderr: (text) => stderr.push(text) } });
  if (options.imageBuilder) deps.ports.loadDocument = documentLoader(deps.ports.s3, undefined, { imageBuilder: options.imageBuilder, signal });
  return { deps, stderr };
}

const requests = (source = SOURCE): DocumentRequest[] => [{ source, parameters: new Map() }];
/** Short waits for the tests; the lines each retry tells are collected in `lines`. */
const quick = (lines: string[], more: Patience = {}): Patience => ({ firstDelayMs: 20, maxDelayMs: 80, budgetMs: 20_000, onRetry: (line) => lines.push(line), ...more });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "opentoe-patient-"));
  savedEnv = process.env;
});
afterAll(() => {
  process.env = savedEnv;
  rmSync(dir, { recursive: true, force: true });
});

describe("an s3:// document whose endpoint answers 503 for a while", () => {
  // The SDK itself makes 3 attempts per load: 7 failures fail two loads and the first attempt of the third.
  test("patient: retried with backoff, one line per retry, until it loads", async () => {
    const s3 = flakyS3(7);
    try {
      const { deps } = depsFor(s3.endpoint);
      const lines: string[] = [];
      const prepared = await prepareDocuments(requests(), new Map(), deps, { patient: quick(lines) });
      expect(prepared.failures).toEqual([]);
      expect(prepared.ready.map((d) => d.text)).toEqual([DOC]);
      expect(lines).toHaveLength(2);
      expect(lines[0]).toStartWith(`cannot load document '${SOURCE}' yet (try 1): failed to load document '${SOURCE}': cannot download ${SOURCE}: ServiceUnavailable (HTTP 503) after 3 attempts`);
      expect(lines[0]).toEndWith("; trying again in 20 ms (a resumed run waits up to 20 s for the network)");
      expect(lines[1]).toContain("(try 2)");
      expect(lines[1]).toContain("trying again in 40 ms");
      expect(s3.state.requests).toBe(8);
    } finally {
      s3.stop();
    }
  });

  test("not patient: the same failure fails at once", async () => {
    const s3 = flakyS3(7);
    try {
      const { deps, stderr } = depsFor(s3.endpoint);
      const prepared = await prepareDocuments(requests(), new Map(), deps);
      expect(prepared.ready).toEqual([]);
      expect(prepared.failures[0]!.diagnostics[0]!.message).toBe(`failed to load document '${SOURCE}': cannot download ${SOURCE}: ServiceUnavailable (HTTP 503) after 3 attempts: Service is unable to handle request.`);
      expect(s3.state.requests).toBe(3); // only the SDK's own attempts
      expect(stderr).toEqual([]);
      const explicit = await prepareDocuments(requests(), new Map(), depsFor(s3.endpoint).deps, { patient: false });
      expect(explicit.failures).toHaveLength(1);
      expect(s3.state.requests).toBe(6);
    } finally {
      s3.stop();
    }
  });

  test("the patience runs out: the last failure says how long it was tried", async () => {
    const s3 = flakyS3(1_000_000);
    try {
      const { deps } = depsFor(s3.endpoint);
      const lines: string[] = [];
      const started = performance.now();
      const prepared = await prepareDocuments(requests(), new Map(), deps, { patient: quick(lines, { budgetMs: 1_000 }) });
      expect(performance.now() - started).toBeLessThan(10_000);
      const message = prepared.failures[0]!.diagnostics[0]!.message;
      expect(message).toMatch(/^failed to load document 's3:\/\/docs\/doc\.yaml': cannot download s3:\/\/docs\/doc\.yaml: ServiceUnavailable \(HTTP 503\) after 3 attempts: Service is unable to handle request\. \(still failing after \d+ tries over [\d.]+ m?s\)$/);
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(message).toContain(`still failing after ${lines.length + 1} tries`);
    } finally {
      s3.stop();
    }
  });
});

describe("an s3:// document whose endpoint is not listening yet", () => {
  test("patient: connection refused is retried until the server is up", async () => {
    const port = await freePort();
    const { deps } = depsFor(`http://127.0.0.1:${port}`);
    const lines: string[] = [];
    let s3: ReturnType<typeof flakyS3> | undefined;
    try {
      // The server comes up while the second wait runs.
      const patience = quick(lines, { onRetry: (line) => (lines.push(line), lines.length === 2 ? (s3 = flakyS3(0, port)) : undefined) });
      const prepared = await prepareDocuments(requests(), new Map(), deps, { patient: patience });
      expect(prepared.failures).toEqual([]);
      expect(prepared.ready).toHaveLength(1);
      expect(lines).toHaveLength(2);
      expect(lines[0]).toContain("the S3 endpoint could not be reached (ECONNREFUSED) after 3 attempts");
    } finally {
      s3?.stop();
    }
  });

  test("not patient: connection refused fails at once", async () => {
    const port = await freePort();
    const started = performance.now();
    const prepared = await prepareDocuments(requests(), new Map(), depsFor(`http://127.0.0.1:${port}`).deps);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(prepared.failures[0]!.diagnostics[0]!.message).toStartWith(`failed to load document '${SOURCE}': cannot download ${SOURCE}: the S3 endpoint could not be reached (ECONNREFUSED) after 3 attempts; check the network`);
  });
});

describe("what patience does not wait for", () => {
  test("a missing object fails at once", async () => {
    const s3 = flakyS3(0);
    try {
      const lines: string[] = [];
      const prepared = await prepareDocuments(requests("s3://docs/missing.yaml"), new Map(), depsFor(s3.endpoint).deps, { patient: quick(lines) });
      expect(prepared.failures[0]!.diagnostics[0]!.message).toBe("failed to load document 's3://docs/missing.yaml': cannot download s3://docs/missing.yaml: no such key");
      expect(lines).toEqual([]);
      expect(s3.state.requests).toBe(1);
    } finally {
      s3.stop();
    }
  });

  test("a local file that is not there fails at once", async () => {
    const lines: string[] = [];
    const prepared = await prepareDocuments(requests("missing.yaml"), new Map(), depsFor("http://127.0.0.1:9").deps, { patient: quick(lines) });
    expect(prepared.failures).toHaveLength(1);
    expect(lines).toEqual([]);
  });

  test("an interrupt ends the waiting at once", async () => {
    const s3 = flakyS3(1_000_000);
    try {
      const run = new AbortController();
      const { deps } = depsFor(s3.endpoint, { signal: run.signal });
      const lines: string[] = [];
      const patience = quick(lines, { firstDelayMs: 60_000, maxDelayMs: 60_000, onRetry: (line) => (lines.push(line), setTimeout(() => run.abort(new Error("SIGTERM")), 50)) });
      const started = performance.now();
      const prepared = await prepareDocuments(requests(), new Map(), deps, { patient: patience });
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(prepared.failures).toHaveLength(1);
      expect(lines).toHaveLength(1);
    } finally {
      s3.stop();
    }
  });
});

describe("component ARNs", () => {
  /** GetComponent that fails `transient` times for a transient cause, then serves DOC. */
  function flakyImageBuilder(transientFailures: number, permanent = false): ImageBuilderPort & { calls: number } {
    const port = {
      calls: 0,
      async getComponentData() {
        port.calls++;
        if (permanent) return { ok: false as const, reason: "Image Builder in eu-west-3 has no such component (check …)" };
        if (port.calls <= transientFailures) return { ok: false as const, reason: "the Image Builder endpoint for eu-west-3 could not be reached (ENOTFOUND) after 3 attempts", transient: true };
        return { ok: true as const, data: DOC, resolvedArn: ARN };
      },
    };
    return port;
  }

  test("patient: a transient failure (DNS not up yet) is retried until the component loads", async () => {
    const imageBuilder = flakyImageBuilder(3);
    const lines: string[] = [];
    const prepared = await prepareDocuments(requests(ARN), new Map(), depsFor("http://127.0.0.1:9", { imageBuilder }).deps, { patient: quick(lines) });
    expect(prepared.failures).toEqual([]);
    expect(prepared.ready.map((d) => d.text)).toEqual([DOC]);
    expect(imageBuilder.calls).toBe(4);
    expect(lines[0]).toBe(
      `cannot load document '${ARN}' yet (try 1): failed to load document '${ARN}': the Image Builder endpoint for eu-west-3 could not be reached (ENOTFOUND) after 3 attempts; trying again in 20 ms (a resumed run waits up to 20 s for the network)`,
    );
  });

  test("not patient, or a permanent failure: fails at once", async () => {
    const flaky = flakyImageBuilder(3);
    expect((await prepareDocuments(requests(ARN), new Map(), depsFor("http://127.0.0.1:9", { imageBuilder: flaky }).deps)).failures).toHaveLength(1);
    expect(flaky.calls).toBe(1);
    const missing = flakyImageBuilder(0, true);
    const lines: string[] = [];
    expect((await prepareDocuments(requests(ARN), new Map(), depsFor("http://127.0.0.1:9", { imageBuilder: missing }).deps, { patient: quick(lines) })).failures).toHaveLength(1);
    expect(missing.calls).toBe(1);
    expect(lines).toEqual([]);
  });
});

describe("patient: true", () => {
  test("uses the documented defaults — up to 5 minutes, 2 s doubling to 30 s — and tells stderr", async () => {
    expect(PATIENCE_DEFAULTS).toEqual({ budgetMs: 5 * 60_000, firstDelayMs: 2_000, maxDelayMs: 30_000 });
    const s3 = flakyS3(3); // one failed load, then the document
    try {
      const { deps, stderr } = depsFor(s3.endpoint);
      const prepared = await prepareDocuments(requests(), new Map(), deps, { patient: true });
      expect(prepared.ready).toHaveLength(1);
      expect(stderr).toHaveLength(1);
      expect(stderr[0]).toStartWith(`awstoe: cannot load document '${SOURCE}' yet (try 1): `);
      expect(stderr[0]).toEndWith("; trying again in 2 s (a resumed run waits up to 5 min for the network)\n");
    } finally {
      s3.stop();
    }
  });
});
