/**
 * End-to-end with the compiled binary against a stalled endpoint on 127.0.0.1 (accepts
 * connections, never answers): AWS calls made outside steps — the log upload at the end of a run,
 * an s3:// document, an s3:// --config, a component ARN — end by themselves within their limits
 * with one clear sentence, and SIGTERM ends them within seconds. Either way the record is
 * complete and the summary printed. Where the run must end by itself, the idle limit is
 * shortened with AWSTOE_AWS_IDLE_TIMEOUT_MS (1 s: 3 attempts ≈ 3–4 s); the SIGTERM cases keep the
 * default (30 s), so only the signal can end them quickly.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { awstoeBinary } from "../helpers/binary.ts";
import { isolatedAwsEnv } from "../helpers/aws-env.ts";
import { startStallServer, type StallServer } from "../helpers/stall-server.ts";

/** With a 1 s idle limit a call ends after ≈ 3–4 s; this leaves room for a busy machine and stays far below the default limits. */
const BY_ITSELF_MS = 25_000;
const HINT = "check the network, proxy settings and the S3 endpoint (AWS_ENDPOINT_URL_S3, a profile's endpoint_url, the region)";

let binary: string;
let stall: StallServer;
let tmp: string;

const doc = ["name: stall", "schemaVersion: 1.0", "phases:", "  - name: build", "    steps:", "      - name: Say", "        action: ExecuteBash", "        inputs:", "          commands:", "            - echo hello from the run", ""].join("\n");

beforeAll(async () => {
  binary = await awstoeBinary();
  stall = await startStallServer();
  tmp = mkdtempSync(join(tmpdir(), "opentoe-s3stall-"));
  writeFileSync(join(tmp, "local.yaml"), doc);
}, 180_000);
afterAll(async () => {
  await stall?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Time from SIGTERM to exit, when one was sent. */
  afterTerm?: number;
  killed: boolean;
}

/**
 * Runs the binary against the stalled endpoint. With `term`, sends SIGTERM `term` ms after the
 * endpoint saw the run's first connection (so the signal lands while a call is waiting).
 */
async function run(args: string[], opts: { idleMs?: number; term?: number; env?: Record<string, string> } = {}): Promise<Finished> {
  const env = isolatedAwsEnv(tmp, {
    AWS_ENDPOINT_URL_S3: stall.endpoint,
    AWS_ENDPOINT_URL_IMAGEBUILDER: stall.endpoint,
    AWS_ACCESS_KEY_ID: "AKIDSTALLTEST",
    AWS_SECRET_ACCESS_KEY: "stall-secret",
    AWS_REGION: "us-east-1",
    AWSTOE_AWS_IDLE_TIMEOUT_MS: opts.idleMs === undefined ? undefined : String(opts.idleMs),
    ...opts.env,
  });
  const before = stall.connections;
  const started = performance.now();
  const proc = Bun.spawn([binary, "run", "--log-directory", join(tmp, "logs"), ...args], { cwd: tmp, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let killed = false;
  const killer = setTimeout(() => {
    killed = true;
    proc.kill("SIGKILL");
  }, 60_000);
  let termAt: number | undefined;
  if (opts.term !== undefined) {
    const delay = opts.term;
    void (async () => {
      while (stall.connections === before && proc.exitCode === null) await Bun.sleep(20);
      await Bun.sleep(delay);
      termAt = performance.now();
      proc.kill("SIGTERM");
    })();
  }
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(killer);
  const ended = performance.now();
  return { code: proc.exitCode, signal: proc.signalCode, stdout, stderr, ms: ended - started, killed, ...(termAt === undefined ? {} : { afterTerm: ended - termAt }) };
}

const detail = (r: Finished) => `code ${r.code} signal ${r.signal} after ${Math.round(r.ms)} ms\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

interface Summary {
  status: string;
  logUrl: string;
  failureMessage: string;
  executedStepCount: number;
}
const summaryOf = (r: Finished) => JSON.parse(r.stdout.slice(r.stdout.indexOf("{"))) as Summary;
/** detailedoutput.json of the run, which must be complete: a final status and an end time. */
function recordOf(summary: Summary): { status: string; endTime: string; failureMessage: string } {
  const path = join(summary.logUrl, "detailedoutput.json");
  expect(existsSync(path)).toBe(true);
  return JSON.parse(readFileSync(path, "utf8")) as { status: string; endTime: string; failureMessage: string };
}

describe("the log upload to a stalled endpoint", () => {
  test("ends by itself within the limits with a clear message; the summary is printed and the record complete", async () => {
    const r = await run(["-d", "local.yaml", "-b", "bucket"], { idleMs: 1_000 });
    expect(r.killed, detail(r)).toBe(false);
    expect(r.ms, detail(r)).toBeLessThan(BY_ITSELF_MS);
    expect(r.code, detail(r)).toBe(0); // upload problems leave the run's status alone (cli.md §8)
    expect(r.stderr).toContain("hello from the run");
    expect(r.stderr).toMatch(/error: log upload to s3:\/\/bucket\/TOE_[^/]+\/ incomplete: \d+ of \d+ files failed; first: cannot upload to s3:\/\/bucket\/TOE_[^:]+: the S3 endpoint did not answer \(nothing for 1 s\) after 3 attempts; check the network/);
    expect(r.stderr).toContain(HINT);
    expect(r.stderr).not.toContain("    at ");
    const summary = summaryOf(r);
    expect(summary.status).toBe("success");
    expect(summary.executedStepCount).toBe(1);
    expect(summary.logUrl.startsWith(join(tmp, "logs"))).toBe(true); // the local folder, since the upload failed
    const record = recordOf(summary);
    expect(record.status).toBe("success");
    expect(record.endTime).not.toBe("");
  }, 90_000);

  test("SIGTERM during the upload ends awstoe within seconds, with the record already written", async () => {
    const r = await run(["-d", "local.yaml", "-b", "bucket"], { term: 1_000 });
    expect(r.killed, detail(r)).toBe(false);
    expect(r.afterTerm, detail(r)).toBeLessThan(5_000);
    expect(r.signal, detail(r)).toBeNull(); // it exited on its own, not killed by the signal
    expect(r.stderr).toContain("SIGTERM received");
    expect(r.stderr).toContain("stopped before it finished: awstoe was interrupted (SIGTERM)");
    expect(r.stderr).not.toContain("    at ");
    const summary = summaryOf(r);
    expect(summary.executedStepCount).toBe(1);
    const record = recordOf(summary);
    expect(record.status).toBe("success");
    expect(record.endTime).not.toBe("");
  }, 90_000);
});

describe("documents from a stalled endpoint", () => {
  test("run -d s3://… fails by itself within the limits, naming the object and what to check; nothing runs", async () => {
    const r = await run(["-d", "s3://bucket/doc.yaml"], { idleMs: 1_000 });
    expect(r.killed, detail(r)).toBe(false);
    expect(r.ms, detail(r)).toBeLessThan(BY_ITSELF_MS);
    expect(r.code, detail(r)).toBe(1);
    const message = `failed to load document 's3://bucket/doc.yaml': cannot download s3://bucket/doc.yaml: the S3 endpoint did not answer (nothing for 1 s) after 3 attempts; ${HINT}`;
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain("    at ");
    const summary = summaryOf(r);
    expect(summary.status).toBe("failed");
    expect(summary.executedStepCount).toBe(0);
    expect(summary.failureMessage).toContain(message);
    expect(recordOf(summary).status).toBe("failed");
  }, 90_000);

  test("SIGTERM while an s3:// document is fetched ends awstoe within seconds", async () => {
    const r = await run(["-d", "s3://bucket/doc.yaml"], { term: 1_000 });
    expect(r.killed, detail(r)).toBe(false);
    expect(r.afterTerm, detail(r)).toBeLessThan(5_000);
    expect(r.stderr).toContain("cannot download s3://bucket/doc.yaml: stopped before it finished: awstoe was interrupted (SIGTERM)");
    expect(r.stderr).not.toContain("    at ");
    expect(summaryOf(r).executedStepCount).toBe(0);
  }, 90_000);

  test("--config s3://… fails by itself within the limits with a clear error", async () => {
    const r = await run(["--config", "s3://bucket/config.json"], { idleMs: 1_000 });
    expect(r.killed, detail(r)).toBe(false);
    expect(r.ms, detail(r)).toBeLessThan(BY_ITSELF_MS);
    expect(r.code, detail(r)).toBe(1);
    expect(r.stderr).toContain("cannot download s3://bucket/config.json: the S3 endpoint did not answer (nothing for 1 s) after 3 attempts; check the network");
    expect(r.stderr).not.toContain("    at ");
  }, 90_000);

  test("a component ARN fails by itself within the limits, naming the endpoint and what to check", async () => {
    const arn = "arn:aws:imagebuilder:us-east-1:123456789012:component/hello/1.0.0/1";
    const r = await run(["-d", arn], { idleMs: 1_000 });
    expect(r.killed, detail(r)).toBe(false);
    expect(r.ms, detail(r)).toBeLessThan(BY_ITSELF_MS);
    expect(r.code, detail(r)).toBe(1);
    expect(r.stderr).toContain(
      `failed to load document '${arn}': the Image Builder endpoint for us-east-1 did not answer (nothing for 1 s) after 3 attempts; check the network, proxy settings and the endpoint (AWS_ENDPOINT_URL_IMAGEBUILDER, a profile's endpoint_url)`,
    );
    expect(r.stderr).not.toContain("    at ");
    expect(summaryOf(r).status).toBe("failed");
  }, 90_000);
});
