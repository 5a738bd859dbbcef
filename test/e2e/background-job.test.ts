/**
 * End-to-end (compiled binary): an ExecuteBash step that starts a background job without
 * redirecting its output finishes when its script does — not at its time limit — and the job is
 * left running, which the record, application.log, console.log and the terminal all say.
 *
 * POSIX only: the document uses ExecuteBash, and the process check reads /proc.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { awstoeBinary, runAwstoe } from "../helpers/binary.ts";
import { lastJsonObject } from "../helpers/run-output.ts";

const posix = process.platform !== "win32";
let tmp: string;
/** Background jobs the runs left behind on purpose: killed here, whatever the test's outcome. */
const leftovers: number[] = [];

beforeAll(async () => {
  if (!posix) return;
  await awstoeBinary();
  tmp = mkdtempSync(join(tmpdir(), "opentoe-bg-e2e-"));
});

afterAll(() => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

/** Alive = exists and is not a zombie (PID 1 in a container may never reap orphans). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  if (existsSync(stat)) return !/^\d+ \(.*\) Z/.test(readFileSync(stat, "utf8"));
  return true;
}

interface StepRecord {
  name: string;
  status: string;
  failureMessage: string;
  outputs: string;
}
interface ExecutionRecord {
  status: string;
  documents: { phases: { steps: StepRecord[] }[] }[];
}

describe.skipIf(!posix)("a step that leaves a background job running", () => {
  test("ends with its script, succeeds, and the record and logs say the job kept running", () => {
    const pidFile = join(tmp, "sleep.pid");
    const document = join(tmp, "background.yaml");
    writeFileSync(
      document,
      [
        "name: BackgroundJob",
        "schemaVersion: 1.0",
        "phases:",
        "  - name: build",
        "    steps:",
        "      - name: StartJob",
        "        action: ExecuteBash",
        "        timeoutSeconds: 20",
        "        inputs:",
        "          commands:",
        `            - "sleep 30 &"`,
        `            - "echo $! > '${pidFile}'"`,
        "            - echo started",
        "      - name: After",
        "        action: ExecuteBash",
        "        inputs:",
        "          commands:",
        "            - echo 'got {{ build.StartJob.outputs.stdout }}'",
        "",
      ].join("\n"),
    );
    const logDir = join(tmp, "logs");
    const run = runAwstoe(["run", "--documents", document, "--log-directory", logDir], { timeoutMs: 60_000 });
    if (existsSync(pidFile)) leftovers.push(Number(readFileSync(pidFile, "utf8").trim()));

    // Ends in a few seconds (the drain is half a second), far below the 20-second limit.
    expect(run.timedOut).toBe(false);
    expect(run.ms).toBeLessThan(10_000);
    expect(run.code).toBe(0);
    const summary = lastJsonObject<{ status: string; logUrl: string; failedStepCount: number }>(run.stdout);
    expect(summary).toMatchObject({ status: "success", failedStepCount: 0 });

    // The job was left running.
    expect(leftovers).toHaveLength(1);
    expect(isAlive(leftovers[0]!)).toBe(true);

    // The record: success, real stdout (chained on), and a note about what kept running.
    const record = JSON.parse(readFileSync(join(summary.logUrl, "detailedoutput.json"), "utf8")) as ExecutionRecord;
    expect(record.status).toBe("success");
    const [startJob, after] = record.documents[0]!.phases[0]!.steps;
    expect(startJob!.status).toBe("success");
    expect(startJob!.failureMessage).toBe("");
    expect(JSON.parse(startJob!.outputs)).toEqual([{ stdout: "started", backgroundProcesses: "kept running after the script exited, with its output still open" }]);
    expect(JSON.parse(after!.outputs)).toEqual([{ stdout: "got started" }]);

    // application.log (a warning), console.log and the terminal say it too.
    const said = /build\/StartJob: processes started by the script kept running after it exited, with its output still open/;
    const appLog = readFileSync(join(summary.logUrl, "application.log"), "utf8");
    expect(appLog).toMatch(new RegExp(` WARN ${said.source}`));
    expect(readFileSync(join(summary.logUrl, "console.log"), "utf8")).toMatch(said);
    expect(run.stderr).toMatch(said);
    expect(run.stderr).not.toMatch(/timed out/);
  });
});
