/**
 * End-to-end: the compiled `awstoe run --cw-log-group/--cw-log-stream` copies console.log to
 * CloudWatch Logs — here a local server on 127.0.0.1 speaking the service's JSON protocol and
 * enforcing its limits (test/helpers/cloudwatch-server.ts); the SDK in the binary is the real one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { awstoeBinary, spawnAwstoe } from "../helpers/binary.ts";
import { cloudWatchEnv, startLocalCloudWatch, type LocalCloudWatch } from "../helpers/cloudwatch-server.ts";

let cw: LocalCloudWatch;
let tmp: string;

beforeAll(async () => {
  await awstoeBinary();
  cw = await startLocalCloudWatch({ groups: ["builds"] });
  tmp = mkdtempSync(join(tmpdir(), "opentoe-cw-e2e-"));
  const lines = Array.from({ length: 3 }, (_, i) => `            - echo "line ${i} ✓"`);
  writeFileSync(join(tmp, "doc.yaml"), ["name: cw-e2e", "schemaVersion: 1.0", "phases:", "  - name: build", "    steps:", "      - name: Say", "        action: ExecuteBash", "        inputs:", "          commands:", ...lines, "            - echo ran >> ledger", ""].join("\n"));
}, 120_000);
afterAll(() => {
  cw?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const run = (extra: string[], region?: string) =>
  spawnAwstoe(["run", "--documents", "doc.yaml", "--log-directory", "logs", ...extra], { cwd: tmp, env: { ...cloudWatchEnv(cw, region), AWS_PROFILE: undefined, AWS_EC2_METADATA_DISABLED: "true" } });
const summaryOf = (stdout: string) => JSON.parse(stdout.slice(stdout.indexOf("{"))) as { status: string; logUrl: string; failureMessage: string };
const ledgerLines = () => {
  try {
    return readFileSync(join(tmp, "ledger"), "utf8").split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
};

describe("--cw-log-group / --cw-log-stream", () => {
  test("every console.log line up to the end of the run arrives, in order, in the named stream", async () => {
    const result = await run(["--cw-log-group", "builds", "--cw-log-stream", "run-1"]);
    expect(result.code).toBe(0);
    const summary = summaryOf(result.stdout);
    const events = cw.events("builds", "run-1")!.map((e) => e.message);
    expect(events).toContain("line 1 ✓");
    // console.log ends with the summary, written after the copy is closed; everything before it arrived.
    const consoleLines = readFileSync(join(summary.logUrl, "console.log"), "utf8").split("\n").filter(Boolean);
    expect(consoleLines.slice(0, events.length)).toEqual(events);
    expect(consoleLines[events.length]).toBe("{");
    expect(readFileSync(join(summary.logUrl, "application.log"), "utf8")).toContain("console output is copied to CloudWatch Logs group 'builds', stream 'run-1' in us-east-1");
  });

  test("--cw-log-region signs every call for that region", async () => {
    cw.resetCalls();
    expect((await run(["--cw-log-group", "builds", "--cw-log-stream", "run-eu", "--cw-log-region", "eu-west-1"])).code).toBe(0);
    expect(cw.calls.length).toBeGreaterThanOrEqual(2);
    expect(new Set(cw.calls.map((c) => c.region))).toEqual(new Set(["eu-west-1"]));
  });

  test("a group that does not exist stops the run before any step, saying how to fix it", async () => {
    const before = ledgerLines();
    const result = await run(["--cw-log-group", "nope", "--cw-log-stream", "s"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cannot send the console output to CloudWatch Logs group 'nope', stream 's'");
    expect(result.stderr).toContain("create-log-group --log-group-name nope");
    expect(result.stderr).not.toContain("    at ");
    expect(summaryOf(result.stdout).status).toBe("failed");
    expect(ledgerLines()).toBe(before);
  });

  test("--cw-ignore-failures: the same missing group is a warning and the run goes on", async () => {
    const before = ledgerLines();
    const result = await run(["--cw-log-group", "nope", "--cw-log-stream", "s", "--cw-ignore-failures"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("(continuing without it: --cw-ignore-failures)");
    expect(ledgerLines()).toBe(before + 1);
  });

  test("lines lost after retries fail the run (unless ignored), and the steps still ran", async () => {
    cw.failNext(1000, "server-error", "PutLogEvents");
    try {
      const failed = await run(["--cw-log-group", "builds", "--cw-log-stream", "lossy"]);
      expect(failed.code).toBe(1);
      const summary = summaryOf(failed.stdout);
      expect(summary.status).toBe("failed");
      expect(summary.failureMessage).toMatch(/console lines did not reach CloudWatch Logs group 'builds', stream 'lossy'.*PutLogEvents failed after 5 attempts/);
      const ignored = await run(["--cw-log-group", "builds", "--cw-log-stream", "lossy", "--cw-ignore-failures"]);
      expect(ignored.code).toBe(0);
      expect(ignored.stderr).toContain("(ignored: --cw-ignore-failures)");
    } finally {
      cw.failAlways(undefined);
      cw.failNext(0, "server-error");
    }
  }, 60_000);
});
