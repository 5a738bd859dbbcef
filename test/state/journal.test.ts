/** The resume journal on real files: round trip, torn tails, damage, foreign formats, removal. */
import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StateError } from "../../src/errors.ts";
import { JournalWriter, readJournal, STATE_FILE, type StepEntry } from "../../src/state/journal.ts";

const root = mkdtempSync(join(tmpdir(), "opentoe-journal-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const fresh = () => join(root, `s${++count}`, "state");

const header = { executionId: "e-1", fingerprint: "f".repeat(64), documents: ["a.yaml"], logFolder: "/logs/TOE_x", startTime: "2026-11-25 10:00:00" };
const step = (key: string, stdout = "out"): Omit<StepEntry, "kind"> => ({
  key,
  executed: true,
  record: { name: key, status: "success" },
  data: { inputs: [{ commands: ["echo ✓ ünïcode\ttab\nnewline"] }], outputs: [{ stdout }] },
  chaining: [{ expression: "{{ x }}", usedBy: "build/a", resolved: true }],
  phaseStartTime: "p",
  documentStartTime: "d",
});

describe("state journal", () => {
  test("no folder or no file: nothing to resume", () => {
    expect(readJournal(join(root, "missing"))).toBeUndefined();
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    expect(readJournal(dir)).toBeUndefined();
  });

  test("header, steps and reboots round-trip, unicode and control characters included", () => {
    const dir = fresh();
    const writer = JournalWriter.create(dir, header);
    writer.append({ kind: "step", ...step("d0/build/0") });
    writer.append({ kind: "step", ...step("d0/build/1>d0/main/0", "nested") });
    writer.append({ kind: "reboot", key: "d0/build/1>d0/main/1", rerun: true, exitCode: 194, at: "t" }, true);
    writer.close();
    const journal = readJournal(dir)!;
    expect(journal.header).toMatchObject({ ...header, format: "opentoe-state", version: 1 });
    expect([...journal.steps.keys()]).toEqual(["d0/build/0", "d0/build/1>d0/main/0"]);
    expect(journal.steps.get("d0/build/0")!.data.inputs[0]!.commands).toEqual(["echo ✓ ünïcode\ttab\nnewline"]);
    expect(journal.reboots).toEqual([{ kind: "reboot", key: "d0/build/1>d0/main/1", rerun: true, exitCode: 194, at: "t" }]);
    expect(journal.tornTail).toBe(false);
    // one line per record: a newline inside a value never splits a line
    expect(readFileSync(join(dir, STATE_FILE), "utf8").split("\n")).toHaveLength(5);
  });

  test("a torn last line (power loss mid-write) is dropped, then cut off before appending again", () => {
    const dir = fresh();
    const writer = JournalWriter.create(dir, header);
    writer.append({ kind: "step", ...step("d0/build/0") });
    writer.close();
    const file = join(dir, STATE_FILE);
    const whole = readFileSync(file, "utf8");
    appendFileSync(file, '{"kind":"step","key":"d0/bu'); // no newline, no checksum
    const torn = readJournal(dir)!;
    expect(torn.tornTail).toBe(true);
    expect([...torn.steps.keys()]).toEqual(["d0/build/0"]);
    expect(torn.validLength).toBe(Buffer.byteLength(whole));
    const again = JournalWriter.resume(torn);
    again.append({ kind: "step", ...step("d0/build/1") });
    again.close();
    const healed = readJournal(dir)!;
    expect(healed.tornTail).toBe(false);
    expect([...healed.steps.keys()]).toEqual(["d0/build/0", "d0/build/1"]);
  });

  test("a whole last line with a wrong checksum counts as torn too", () => {
    const dir = fresh();
    const writer = JournalWriter.create(dir, header);
    writer.append({ kind: "step", ...step("d0/build/0") });
    writer.close();
    const file = join(dir, STATE_FILE);
    writeFileSync(file, readFileSync(file, "utf8").replace('"stdout":"out"', '"stdout":"OUT"'));
    const journal = readJournal(dir)!;
    expect(journal.tornTail).toBe(true);
    expect(journal.steps.size).toBe(0);
  });

  const refused: [string, (file: string) => void, RegExp][] = [
    ["damage in the middle", (file) => writeFileSync(file, readFileSync(file, "utf8").replace('"key":"d0/build/0"', '"key":"d0/build/9"')), /line 2 is damaged/],
    ["a damaged header", (file) => writeFileSync(file, readFileSync(file, "utf8").replace('"executionId":"e-1"', '"executionId":"e-2"')), /its first line is damaged/],
    ["an empty file", (file) => writeFileSync(file, ""), /it is empty/],
    ["not a state file at all", (file) => writeFileSync(file, "hello\n"), /its first line is damaged/],
  ];
  for (const [label, damage, message] of refused) {
    test(`${label} is a StateError naming the file, with a way out`, () => {
      const dir = fresh();
      const writer = JournalWriter.create(dir, header);
      writer.append({ kind: "step", ...step("d0/build/0") });
      writer.append({ kind: "step", ...step("d0/build/1") });
      writer.close();
      const file = join(dir, STATE_FILE);
      damage(file);
      let error: unknown;
      try {
        readJournal(dir);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StateError);
      expect((error as StateError).message).toMatch(message);
      expect((error as StateError).message).toContain(file);
      expect((error as StateError).hint).toContain("delete the file");
    });
  }

  test("a later format version is refused, not misread", () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    const json = JSON.stringify({ ...header, format: "opentoe-state", version: 2 });
    const { createHash } = require("node:crypto") as typeof import("node:crypto");
    writeFileSync(join(dir, STATE_FILE), `${json}\t${createHash("sha256").update(json).digest("hex").slice(0, 16)}\n`);
    expect(() => readJournal(dir)).toThrow(/state format 2, and this awstoe reads format 1/);
  });

  test("an unreadable state path is an error, not a fresh start", () => {
    const dir = fresh();
    mkdirSync(join(dir, STATE_FILE), { recursive: true }); // a folder where the file should be
    expect(() => readJournal(dir)).toThrow(StateError);
  });

  test("remove() deletes the file and the folder when it is empty, but never other files", () => {
    const a = fresh();
    JournalWriter.create(a, header).remove();
    expect(existsSync(a)).toBe(false);
    const b = fresh();
    mkdirSync(b, { recursive: true });
    writeFileSync(join(b, "keep.txt"), "mine");
    JournalWriter.create(b, header).remove();
    expect(existsSync(join(b, STATE_FILE))).toBe(false);
    expect(readFileSync(join(b, "keep.txt"), "utf8")).toBe("mine");
  });

  test("a state directory that cannot be created is a StateError with the fix", () => {
    const blocker = join(root, "blocker");
    writeFileSync(blocker, "a file, not a folder");
    expect(() => JournalWriter.create(join(blocker, "state"), header)).toThrow(/cannot keep resume state in/);
  });
});

describe("state journal: process groups", () => {
  test("process lines are kept per unfinished step; a finished step's are dropped", () => {
    const dir = fresh();
    const writer = JournalWriter.create(dir, header);
    writer.append({ kind: "process", key: "d0/build/0", pgid: 4242, boot: "b", started: 7, at: "t" });
    writer.append({ kind: "step", ...step("d0/build/0") });
    writer.append({ kind: "process", key: "d0/build/1", pgid: 4343, boot: "b", started: 9, at: "t" });
    writer.close();
    const journal = readJournal(dir)!;
    expect([...journal.processes.keys()]).toEqual(["d0/build/1"]);
    expect(journal.processes.get("d0/build/1")![0]!.pgid).toBe(4343);
  });

  test("the journal and its folder are private; the journal is never opened through a link", () => {
    const dir = fresh();
    JournalWriter.create(dir, header).close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, STATE_FILE)).mode & 0o777).toBe(0o600);
    const victim = join(dir, "..", "victim");
    writeFileSync(victim, "precious");
    const journal = readJournal(dir)!;
    rmSync(journal.path);
    symlinkSync(victim, journal.path);
    expect(() => JournalWriter.resume({ ...journal, tornTail: false })).toThrow(StateError);
    expect(readFileSync(victim, "utf8")).toBe("precious");
  });
});
