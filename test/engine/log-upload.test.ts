/**
 * uploadLogFolder with a stand-in S3 port: one refused object does not cost the rest, but an
 * endpoint that failed for a transient cause (after the port's own retries) or an interrupt stops
 * the files not yet started, so a stalled endpoint costs one request's limits, not one per file.
 * awstoe's own working files are not sent.
 */
import type { S3Port } from "../../src/model/ports.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { uploadLogFolder } from "../../src/engine/log-upload.ts";

let dir: string;
let folder: string;
const FILES = ["application.log", "chaining.json", "console.log", "detailedoutput.json", "document.yaml", "steps/build/Say.input.sh"];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "opentoe-logupload-"));
  folder = join(dir, "TOE_2026-01-01_00-00-00_UTC-0_id");
  mkdirSync(join(folder, "steps/build"), { recursive: true });
  for (const name of FILES) writeFileSync(join(folder, name), name);
  writeFileSync(join(folder, ".opentoe-space-reserve"), "reserve");
  writeFileSync(join(folder, ".detailedoutput.json.opentoe-0123456789abcdef.tmp"), "half written");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A port whose putFile answers with `outcome(key)`: undefined uploads, an Error fails. */
function port(outcome: (key: string) => Error | undefined): S3Port & { tried: string[] } {
  const tried: string[] = [];
  return {
    tried,
    async putFile(_bucket, key) {
      tried.push(key);
      await Bun.sleep(5);
      const error = outcome(key);
      if (error) throw error;
    },
    getObject: () => Promise.reject(new Error("unused")),
    listKeys: () => Promise.reject(new Error("unused")),
  };
}

const target = { bucket: "logs", keyPrefix: "runs/" };
const base = "runs/TOE_2026-01-01_00-00-00_UTC-0_id";

test("every log file is sent, awstoe's working files are not", async () => {
  const s3 = port(() => undefined);
  const result = await uploadLogFolder(folder, target, s3);
  expect(result).toEqual({ url: `s3://logs/${base}`, uploaded: FILES.length, failures: [] });
  expect(s3.tried.sort()).toEqual(FILES.map((f) => `${base}/${f}`));
});

test("one refused object does not cost the rest", async () => {
  const s3 = port((key) => (key.endsWith("application.log") ? new Error(`cannot upload to s3://logs/${key}: access denied`) : undefined));
  const result = await uploadLogFolder(folder, target, s3);
  expect(result.uploaded).toBe(FILES.length - 1);
  expect(result.failures).toEqual([`cannot upload to s3://logs/${base}/application.log: access denied`]);
});

test("a transient failure stops the files not yet started; every file is accounted for, the real failure first", async () => {
  const s3 = port((key) => Object.assign(new Error(`cannot upload to s3://logs/${key}: the S3 endpoint did not answer`), { transient: true }));
  const result = await uploadLogFolder(folder, target, s3);
  expect(result.uploaded).toBe(0);
  expect(s3.tried).toHaveLength(4); // the four parallel uploads under way when the first one failed
  expect(result.failures).toHaveLength(FILES.length);
  expect(result.failures[0]).toEndWith("the S3 endpoint did not answer");
  expect(result.failures.slice(4)).toEqual([`s3://logs/${base}/document.yaml was not tried: the endpoint failed for an earlier file`, `s3://logs/${base}/steps/build/Say.input.sh was not tried: the endpoint failed for an earlier file`]);
});

test("an interrupt stops the files not yet started", async () => {
  const run = new AbortController();
  run.abort(new Error("SIGTERM"));
  const s3 = port(() => undefined);
  const result = await uploadLogFolder(folder, target, s3, run.signal);
  expect(s3.tried).toEqual([]);
  expect(result.uploaded).toBe(0);
  expect(result.failures).toHaveLength(FILES.length);
  expect(result.failures[0]).toBe(`s3://logs/${base}/application.log was not tried: awstoe was interrupted`);
});
