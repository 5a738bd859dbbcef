/**
 * ReadFile of a file over its size limit, with the compiled binary (hardening repro 09: a 1.1 GB
 * file ran awstoe out of memory, left detailedoutput.json "running", and the rerun crashed the
 * same way). The file is sparse (no disk used); the step must fail as data and the run end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { awstoeBinary, runAwstoe } from "../helpers/binary.ts";
import { lastJsonObject } from "../helpers/run-output.ts";

let dir: string;

beforeAll(async () => {
  await awstoeBinary();
  dir = mkdtempSync(join(tmpdir(), "opentoe-readfile-limit-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Record_ {
  status: string;
  failureMessage: string;
  documents: { status: string; phases: { status: string; steps: { name: string; status: string; failureMessage: string }[] }[] }[];
}

describe("ReadFile over the limit (compiled awstoe)", () => {
  test("a 2 GiB sparse file fails the step with the limit; the run ends failed with exit 1, and so does a rerun", () => {
    const big = join(dir, "big.txt");
    writeFileSync(big, "");
    truncateSync(big, 2 * 1024 ** 3);
    const doc = join(dir, "rf.yaml");
    writeFileSync(doc, `name: x\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: rf\n        action: ReadFile\n        inputs:\n          - path: ${big}\n`);
    const logs = join(dir, "logs");
    const expected = `'${big}' is 2 GiB (2147483648 bytes); ReadFile reads at most 16 MiB (16777216 bytes)`;
    for (const attempt of [1, 2]) {
      const run = runAwstoe(["run", "--documents", doc, "--log-directory", logs], { cwd: dir, timeoutMs: 60_000 });
      expect(run.timedOut).toBe(false);
      expect(run.stderr).not.toContain("internal error");
      expect(run.stderr).toContain(expected);
      expect(run.code).toBe(1);
      const summary = lastJsonObject<{ status: string; logUrl: string; failedStepCount: number }>(run.stdout);
      expect(summary.status).toBe("failed");
      expect(summary.failedStepCount).toBe(1);
      const record = JSON.parse(readFileSync(join(summary.logUrl, "detailedoutput.json"), "utf8")) as Record_;
      expect(record.status).toBe("failed");
      const step = record.documents[0]!.phases[0]!.steps[0]!;
      expect(step.status).toBe("failed");
      expect(step.failureMessage).toContain(expected);
      expect(readdirSync(logs).filter((n) => n !== "TOE_state")).toHaveLength(attempt); // a fresh execution each time, not a resume (TOE_state keeps the failed one's journal for --retry)
    }
  }, 120_000);
});
