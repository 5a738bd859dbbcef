/**
 * End-to-end, with the compiled binary: when a run fails, console.log ends with the first failed
 * step's details and then that step's whole standard error (current-awstoe.md §3, "Failure context
 * in console.log"), before the run summary; detailedoutput.json stays as it was (no stderr in it).
 * Cases: a plain failure, a failure inside ExecuteDocument (the outer document is named), steps
 * that wrote nothing on stderr (a timeout among them: the run is timedOut), component ARNs (the
 * local Image Builder stand-in), and a run that succeeds (no block).
 *
 * The Image Builder stand-in lives in this process, so the binary is spawned asynchronously.
 * POSIX only (ExecuteBash).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { awstoeBinary, type AwstoeRun } from "../helpers/binary.ts";
import { imageBuilderEnv, startImageBuilder, type LocalImageBuilder } from "../helpers/imagebuilder-server.ts";
import { scratchRoot } from "../helpers/hardening.ts";

const BASE = "arn:aws:imagebuilder:eu-west-3:111122223333:component";
/** The summary's fields in the order current AWSTOE prints them (current-awstoe.md §3). */
const SUMMARY_KEYS = ["executionId", "status", "failedStepCount", "executedStepCount", "ignoredFailedStepCount", "skippedStepCount", "failureMessage", "logUrl"];
/** A step record's keys (cli.md §7.1): the failure context adds none. */
const STEP_KEYS = ["name", "status", "failureMessage", "timeoutSeconds", "onFailure", "maxAttempts", "action", "startTime", "endTime", "durationMs", "inputs", "outputs", "loop", "detailedOutput"];

let binary: string;
let ib: LocalImageBuilder;
const scratch = scratchRoot("failure-context");

beforeAll(async () => {
  binary = await awstoeBinary();
  ib = startImageBuilder();
}, 120_000);

afterAll(() => {
  ib?.close();
  scratch.remove();
});

const newDir = (label: string) => scratch.newDir(label);

async function run(dir: string, documents: string): Promise<AwstoeRun & { consoleLog: string; record: Record<string, unknown> }> {
  const started = performance.now();
  const args = ["run", "--documents", documents, "--log-directory", join(dir, "logs")];
  const proc = Bun.spawn([binary, ...args], { cwd: dir, env: imageBuilderEnv(ib, dir, { NO_COLOR: "1" }), stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 60_000, killSignal: "SIGKILL" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const folders = readdirSync(join(dir, "logs")).filter((n) => n.startsWith("TOE_") && n !== "TOE_state"); // a failed run keeps its journal there for --retry
  expect(folders).toHaveLength(1);
  const folder = join(dir, "logs", folders[0]!);
  return {
    code, stdout, stderr, ms: performance.now() - started, timedOut: proc.signalCode === "SIGKILL",
    consoleLog: readFileSync(join(folder, "console.log"), "utf8"),
    record: JSON.parse(readFileSync(join(folder, "detailedoutput.json"), "utf8")) as Record<string, unknown>,
  };
}

const detail = (r: AwstoeRun) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

/** The failure-context block: from the `  Document:` line up to the summary's opening brace. */
function contextBlock(consoleLog: string): string {
  const start = consoleLog.lastIndexOf("\n  Document: ");
  expect(start, `no failure context in console.log:\n${consoleLog}`).toBeGreaterThan(-1);
  const end = consoleLog.indexOf("\n{\n", start);
  expect(end, "the summary follows the failure context").toBeGreaterThan(start);
  return consoleLog.slice(start + 1, end + 1);
}

/** The first step record (depth-first, nested documents included) with this name. */
function findStep(record: unknown, name: string): Record<string, unknown> | undefined {
  if (Array.isArray(record)) {
    for (const item of record) {
      const found = findStep(item, name);
      if (found) return found;
    }
    return undefined;
  }
  if (record === null || typeof record !== "object") return undefined;
  const object = record as Record<string, unknown>;
  if (typeof object.action === "string" && object.name === name) return object;
  for (const value of Object.values(object)) {
    const found = findStep(value, name);
    if (found) return found;
  }
  return undefined;
}

function summary(r: AwstoeRun): Record<string, unknown> {
  return JSON.parse(r.stdout.slice(r.stdout.indexOf("{"))) as Record<string, unknown>;
}

describe.skipIf(process.platform === "win32")("failure context in console.log", () => {
  test("a failed step: its document, phase, step, action, message and whole stderr, before the summary", async () => {
    const dir = newDir("plain");
    writeFileSync(
      join(dir, "doc.yaml"),
      `name: failing-build
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Prepare
        action: ExecuteBash
        inputs:
          commands:
            - echo prepared
      - name: Optional
        action: ExecuteBash
        onFailure: Ignore
        inputs:
          commands:
            - echo "ignored noise" >&2
            - exit 9
      - name: InstallPackages
        action: ExecuteBash
        inputs:
          commands:
            - echo "installing"
            - for n in 1 2 3 4 5; do echo "problem line $n" >&2; done
            - exit 1
      - name: NeverRuns
        action: ExecuteBash
        inputs:
          commands:
            - echo never
`,
    );
    const result = await run(dir, "doc.yaml");
    expect(result.code, detail(result)).toBe(1);
    const step = findStep(result.record, "InstallPackages")!;
    expect(step.status).toBe("failed");
    expect(contextBlock(result.consoleLog)).toBe(
      [
        "  Document: failing-build",
        "  Phase: build",
        "  Step: InstallPackages",
        "  Action: ExecuteBash",
        `  ErrorMessage: ${step.failureMessage as string}`,
        "  Stderr: problem line 1",
        "problem line 2",
        "problem line 3",
        "problem line 4",
        "problem line 5",
        "",
      ].join("\n"),
    );
    // The message quotes only the end of stderr; the block has all of it, and only that step's.
    expect(step.failureMessage as string).not.toContain("problem line 1");
    expect(contextBlock(result.consoleLog)).not.toContain("ignored noise");
    // Nothing new in detailedoutput.json.
    expect(Object.keys(step)).toEqual(STEP_KEYS);
    expect(JSON.stringify(result.record)).not.toContain("problem line 1");
    // The summary: documented order, 4-space indented (AWS's sample kit greps it), last in console.log.
    const printed = summary(result);
    expect(Object.keys(printed)).toEqual(SUMMARY_KEYS);
    expect(printed).toMatchObject({ status: "failed", failedStepCount: 1, executedStepCount: 3, ignoredFailedStepCount: 1, skippedStepCount: 0 });
    expect(result.stdout).toContain('\n    "executedStepCount": 3,\n');
    expect(result.consoleLog.endsWith(result.stdout)).toBe(true);
  }, 60_000);

  test("a failure inside ExecuteDocument names the outer document, then the inner step", async () => {
    const dir = newDir("nested");
    writeFileSync(
      join(dir, "outer.yaml"),
      `name: outer-component
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: RunInner
        action: ExecuteDocument
        inputs:
          document: inner.yaml
`,
    );
    writeFileSync(
      join(dir, "inner.yaml"),
      `name: inner-component
schemaVersion: 1.0
phases:
  - name: validate
    steps:
      - name: Breaks
        action: ExecuteBash
        inputs:
          commands:
            - echo "inner trouble" >&2
            - exit 3
`,
    );
    const result = await run(dir, "outer.yaml");
    expect(result.code, detail(result)).toBe(1);
    const inner = findStep(result.record, "Breaks")!;
    expect(contextBlock(result.consoleLog)).toBe(
      [
        "  Document: outer-component (nested: inner-component, via build/RunInner)",
        "  Phase: validate",
        "  Step: Breaks",
        "  Action: ExecuteBash",
        `  ErrorMessage: ${inner.failureMessage as string}`,
        "  Stderr: inner trouble",
        "",
      ].join("\n"),
    );
  }, 60_000);

  test("steps that wrote nothing on stderr get no Stderr line; a timed-out step makes the run timedOut", async () => {
    const dir = newDir("no-stderr");
    writeFileSync(
      join(dir, "quiet.yaml"),
      `name: quiet
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: QuietExit
        action: ExecuteBash
        inputs:
          commands:
            - echo "only stdout"
            - exit 4
`,
    );
    const quiet = await run(dir, "quiet.yaml");
    expect(quiet.code, detail(quiet)).toBe(1);
    expect(contextBlock(quiet.consoleLog)).toBe(
      ["  Document: quiet", "  Phase: build", "  Step: QuietExit", "  Action: ExecuteBash", "  ErrorMessage: ExecuteBash: the script exited with code 4", ""].join("\n"),
    );

    const slowDir = newDir("timeout");
    writeFileSync(
      join(slowDir, "slow.yaml"),
      `name: slow
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Hangs
        action: ExecuteBash
        timeoutSeconds: 1
        inputs:
          commands:
            - sleep 30
      - name: NeverRuns
        action: ExecuteBash
        inputs:
          commands:
            - echo never
`,
    );
    const slow = await run(slowDir, "slow.yaml");
    expect(slow.code, detail(slow)).toBe(1);
    expect(summary(slow)).toMatchObject({ status: "timedOut", failedStepCount: 1, executedStepCount: 1 });
    expect(findStep(slow.record, "Hangs")!.status).toBe("timedOut");
    expect(slow.record.status).toBe("timedOut");
    expect(contextBlock(slow.consoleLog)).toBe(
      ["  Document: slow", "  Phase: build", "  Step: Hangs", "  Action: ExecuteBash", "  ErrorMessage: the step timed out after 1 second", ""].join("\n"),
    );
  }, 60_000);

  test("a document from a component ARN is named by its ARN too, also when the failure is nested", async () => {
    const dir = newDir("arn");
    const outerArn = `${BASE}/outer/1.0.0/1`;
    const innerArn = `${BASE}/inner/1.0.0/1`;
    ib.addComponent(
      outerArn,
      `name: outer\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: RunInner\n        action: ExecuteDocument\n        inputs:\n          document: ${innerArn}\n`,
    );
    ib.addComponent(innerArn, `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Fails\n        action: ExecuteBash\n        inputs:\n          commands:\n            - echo "from the inner component" >&2\n            - exit 1\n`);
    const direct = await run(dir, innerArn);
    expect(direct.code, detail(direct)).toBe(1);
    const message = findStep(direct.record, "Fails")!.failureMessage as string;
    // A document without a name is named by its source.
    expect(contextBlock(direct.consoleLog)).toBe(
      [`  Document: ${innerArn}`, `  ComponentArn: ${innerArn}`, "  Phase: build", "  Step: Fails", "  Action: ExecuteBash", `  ErrorMessage: ${message}`, "  Stderr: from the inner component", ""].join("\n"),
    );

    const nestedDir = newDir("arn-nested");
    const nested = await run(nestedDir, outerArn);
    expect(nested.code, detail(nested)).toBe(1);
    expect(contextBlock(nested.consoleLog)).toBe(
      [
        `  Document: outer (nested: ${innerArn}, via build/RunInner)`,
        `  ComponentArn: ${outerArn}`,
        "  Phase: build",
        "  Step: Fails",
        "  Action: ExecuteBash",
        `  ErrorMessage: ${message}`,
        "  Stderr: from the inner component",
        "",
      ].join("\n"),
    );
  }, 60_000);

  test("a run that succeeds (an ignored failure included) writes no failure context", async () => {
    const dir = newDir("success");
    writeFileSync(
      join(dir, "ok.yaml"),
      `name: ok\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Ignored\n        action: ExecuteBash\n        onFailure: Ignore\n        inputs:\n          commands:\n            - echo "shrug" >&2\n            - exit 1\n`,
    );
    const result = await run(dir, "ok.yaml");
    expect(result.code, detail(result)).toBe(0);
    expect(summary(result)).toMatchObject({ status: "successWithIgnoredFailure", ignoredFailedStepCount: 1 });
    expect(findStep(result.record, "Ignored")!.status).toBe("ignoredFailure");
    expect(result.consoleLog).not.toContain("  Document:");
  }, 60_000);
});
