/**
 * End-to-end: the compiled awstoe, run as root, on a tree that `nobody` prepared with names that are
 * not UTF-8 (`d\xff`, `x\xff`) beside symlinks named with their lossy decoding (`d\uFFFD`,
 * `x\uFFFD`) that lead to root's files outside (the finding of hardening repros 03 and 03b).
 * Recursive SetFolderOwner and SetFolderPermissions must change the entries themselves, by their
 * bytes, and nothing outside the tree.
 *
 * POSIX only (setpriv, chown).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { awstoeBinary, runAwstoe } from "../helpers/binary.ts";
import { expectedTree, hostileTree, snapshot } from "../helpers/hostile-tree.ts";
import { lastJsonObject } from "../helpers/run-output.ts";

let tmp: string;
let count = 0;

beforeAll(async () => {
  await awstoeBinary();
  tmp = mkdtempSync(join(tmpdir(), "opentoe-hostile-trees-"));
  chmodSync(tmp, 0o755); // `nobody` builds its tree below it
}, 600_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh folder with the hostile tree, and a document of `steps` (YAML list items) run on it. */
function runOnHostileTree(steps: string): { tree: string; outside: string; before: Record<string, string>; code: number; summary: { status: string; failureMessage: string } } {
  const cwd = join(tmp, `t${++count}`);
  mkdirSync(cwd);
  chmodSync(cwd, 0o755);
  const { tree, outside } = hostileTree(cwd);
  const before = snapshot(outside);
  const document = join(cwd, "doc.yaml");
  writeFileSync(document, `name: hostile\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n${steps.replaceAll("TREE", tree)}`);
  const run = runAwstoe(["run", "-d", document, "-l", join(cwd, "logs")], { cwd });
  return { tree, outside, before, code: run.code, summary: lastJsonObject(run.stdout) };
}

describe("recursive owner and permission changes on a tree with non-UTF-8 names", () => {
  test("SetFolderOwner then SetFolderPermissions: the entries themselves change, root's files outside do not", () => {
    const { tree, outside, before, code, summary } = runOnHostileTree(
      [
        "      - name: owner",
        "        action: SetFolderOwner",
        "        inputs:",
        "          - path: TREE",
        "            owner: '4242'",
        "            group: '4343'",
        "            recursive: true",
        "      - name: perms",
        "        action: SetFolderPermissions",
        "        inputs:",
        "          - path: TREE",
        "            permissions: '0750'",
        "            recursive: true",
        "",
      ].join("\n"),
    );
    expect(summary.failureMessage).toBe("");
    expect(code).toBe(0);
    expect(snapshot(outside)).toEqual(before);
    expect(snapshot(tree)).toEqual(expectedTree(outside, "750 4242:4343", "750 4242:4343"));
  });

  test("SetFolderPermissions alone (repro 03: a file x\\xff beside x\\uFFFD -> root's secret)", () => {
    const { tree, outside, before, code } = runOnHostileTree(
      ["      - name: perms", "        action: SetFolderPermissions", "        inputs:", "          - path: TREE", "            permissions: '0666'", ""].join("\n"),
    );
    expect(code).toBe(0);
    expect(snapshot(outside)).toEqual(before);
    expect(snapshot(tree)["x\\xff"]).toStartWith("file 666 ");
    expect(snapshot(tree)["d\\xff/inner"]).toStartWith("file 666 ");
  });
});
