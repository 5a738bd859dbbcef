/** The --retry archive of failed executions' journals (state/archive.ts) and the fingerprint's facets. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StateError } from "../../src/errors.ts";
import { ARCHIVE_FOLDER, archivedJournalPath, archiveJournal, isSafeExecutionId, MAX_ARCHIVED, readArchived, removeArchived } from "../../src/state/archive.ts";
import { facetDifferences, facetsOf, type Invocation } from "../../src/state/fingerprint.ts";
import { JournalWriter, STATE_FILE } from "../../src/state/journal.ts";

const root = mkdtempSync(join(tmpdir(), "opentoe-archive-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const fresh = () => join(root, `s${++count}`, "state");

function journal(state: string, executionId: string): string {
  const writer = JournalWriter.create(state, { executionId, fingerprint: "f", documents: ["a.yaml"], logFolder: "/logs/TOE_x", startTime: "t" });
  writer.append({ kind: "step", key: "d0/build/0", executed: true, record: { name: "A", status: "success" }, data: { inputs: [], outputs: [] }, chaining: [], phaseStartTime: "p", documentStartTime: "d" });
  writer.close();
  return join(state, STATE_FILE);
}

describe("the --retry archive", () => {
  test("a journal moves in under its execution id, private, and reads back; removal empties the folder", () => {
    const state = fresh();
    const path = archiveJournal(state, journal(state, "exec-1"), "exec-1");
    expect(path).toBe(join(state, ARCHIVE_FOLDER, "exec-1.state"));
    expect(existsSync(join(state, STATE_FILE))).toBe(false);
    if (process.platform !== "win32") expect(statSync(join(state, ARCHIVE_FOLDER)).mode & 0o777).toBe(0o700);
    const read = readArchived(state, "exec-1")!;
    expect(read.header.executionId).toBe("exec-1");
    expect([...read.steps.keys()]).toEqual(["d0/build/0"]);
    expect(readArchived(state, "other")).toBeUndefined();
    removeArchived(state, "exec-1");
    expect(existsSync(join(state, ARCHIVE_FOLDER))).toBe(false);
  });

  test("the same execution failing again replaces its journal; only the newest MAX_ARCHIVED are kept", () => {
    const state = fresh();
    for (let i = 0; i < MAX_ARCHIVED + 2; i++) {
      const path = archiveJournal(state, journal(state, `e${i}`), `e${i}`);
      utimesSync(path, 1_000_000 + i, 1_000_000 + i); // a clear age order
    }
    archiveJournal(state, journal(state, "e5"), "e5");
    const kept = readdirSync(join(state, ARCHIVE_FOLDER)).sort();
    expect(kept).toHaveLength(MAX_ARCHIVED);
    expect(kept).not.toContain("e0.state");
    expect(kept).not.toContain("e1.state");
    expect(kept).toContain("e5.state");
  });

  test("an id can only name a file inside the archive", () => {
    for (const bad of ["../x", "..", ".", "a/b", "a\\b", "", ".hidden", "x".repeat(129), "a b"]) {
      expect(isSafeExecutionId(bad)).toBe(false);
      expect(() => archivedJournalPath("/state", bad)).toThrow(StateError);
    }
    for (const good of ["6f3c0a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b", "build.42", "a_b-c"]) expect(isSafeExecutionId(good)).toBe(true);
  });
});

describe("fingerprint facets: what differs", () => {
  const invocation = (over: Partial<Invocation> = {}): Invocation => ({
    documents: [{ source: "a.yaml", text: "one", parameters: new Map([["Tier", "web"]]) }],
    parameters: new Map([["Env", "dev"]]),
    phases: [],
    ...over,
  });
  const differences = (over: Partial<Invocation>) => facetDifferences(facetsOf(invocation()), invocation(over));

  test("the same invocation: no difference; values are stored hashed, with a salt of each execution's own", () => {
    expect(differences({})).toEqual([]);
    const [one, two] = [facetsOf(invocation()), facetsOf(invocation())];
    expect(JSON.stringify(one)).not.toContain("dev");
    expect(one.parameters.Env).not.toBe(two.parameters.Env);
    expect(facetsOf(invocation(), one.salt)).toEqual(one);
  });

  test("each part is named", () => {
    expect(differences({ documents: [{ source: "b.yaml", text: "one", parameters: new Map() }] })).toEqual(["the documents differ: it ran a.yaml, this run asks for b.yaml"]);
    expect(differences({ documents: [{ source: "a.yaml", text: "two", parameters: new Map([["Tier", "web"]]) }] })).toEqual(["document 'a.yaml' has changed since it ran"]);
    expect(differences({ parameters: new Map([["Env", "prod"], ["New", "x"]]) })).toEqual(["parameter 'Env' has another value", "parameter 'New' is given now and was not then"]);
    expect(differences({ parameters: new Map() })).toEqual(["parameter 'Env' was given then and is not now"]);
    expect(differences({ documents: [{ source: "a.yaml", text: "one", parameters: new Map() }] })).toEqual(["parameter 'Tier' of document 'a.yaml' was given then and is not now"]);
    expect(differences({ phases: ["build"] })).toEqual(["the phases differ: it ran all phases, this run asks for build"]);
  });
});
