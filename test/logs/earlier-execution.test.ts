/**
 * @module test/logs/earlier-execution: `run --outputs-from` turns an earlier record's outputs into
 * chaining values of a run as root, so a record someone else could have written or swapped (a
 * log directory such as /tmp lets anyone make a folder with the right name) is refused, not read.
 * Needs root to hand files to another user (chown): skipped otherwise, saying so; with CI set,
 * not being root is a failure. POSIX only.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findLogFolder, readRecord } from "../../src/logs/earlier-execution.ts";

const isRoot = process.platform !== "win32" && process.geteuid?.() === 0;
if (!isRoot) {
  if (process.env.CI) throw new Error("earlier-execution.test.ts must run as root in CI");
  console.warn("skipped: earlier-execution trust tests need root (to hand files to another user)");
}

const NOBODY = 65534;
const RECORD = `${JSON.stringify({ status: "success", documents: [] })}\n`;
let directory: string;
let count = 0;

/** A fresh log folder of execution `id` in the log directory, holding a valid record. */
function logFolder(): string {
  const folder = join(directory, `TOE_2026-12-05_08-00-0${count % 10}_UTC-0_exec-${count++}`);
  mkdirSync(folder, { mode: 0o755 });
  writeFileSync(join(folder, "detailedoutput.json"), RECORD, { mode: 0o644 });
  return folder;
}

describe.skipIf(!isRoot)("readRecord trusts only records root could have written", () => {
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), "opentoe-earlier-"));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  test("root's own record is read, and found by its execution id", () => {
    const folder = logFolder();
    expect(findLogFolder(directory, folder.split("_UTC-0_")[1]!)).toBe(folder);
    const record = readRecord(folder);
    expect(typeof record).toBe("object");
  });

  test("a record that belongs to another user is refused, naming it", () => {
    const folder = logFolder();
    chownSync(join(folder, "detailedoutput.json"), NOBODY, NOBODY);
    expect(readRecord(folder)).toBe(`refusing '${join(folder, "detailedoutput.json")}': '${join(folder, "detailedoutput.json")}' belongs to user id ${NOBODY}, who could replace what awstoe runs as root`);
  });

  test("a log folder another user made (and could swap the record in) is refused", () => {
    const folder = logFolder();
    chownSync(folder, NOBODY, NOBODY);
    expect(readRecord(folder)).toMatch(/^refusing .* belongs to user id 65534/);
  });

  test("a record or folder anyone may write is refused", () => {
    const writable = logFolder();
    chmodSync(join(writable, "detailedoutput.json"), 0o666);
    expect(readRecord(writable)).toMatch(/can be changed by other users/);
    const open = logFolder();
    chmodSync(open, 0o777);
    expect(readRecord(open)).toMatch(/can be changed by other users/);
  });

  test("a record that is a link to another user's file is refused", () => {
    const theirs = join(directory, "theirs.json");
    writeFileSync(theirs, RECORD);
    chownSync(theirs, NOBODY, NOBODY);
    const folder = join(directory, "TOE_2026-12-05_09-00-00_UTC-0_linked");
    mkdirSync(folder);
    symlinkSync(theirs, join(folder, "detailedoutput.json"));
    expect(readRecord(folder)).toMatch(/belongs to user id 65534/);
  });

  test("a missing record is still worded as unreadable", () => {
    const folder = join(directory, "TOE_2026-12-05_10-00-00_UTC-0_empty");
    mkdirSync(folder);
    expect(readRecord(folder)).toMatch(/^'.*detailedoutput\.json' cannot be read: /);
  });
});
