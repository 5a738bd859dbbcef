/**
 * Material kept beside the repository rather than in it: `../shared/corpus` (real component
 * documents with a MANIFEST.tsv), and `../shared/kit`, `../shared/repros`, `../shared/spec`.
 *
 * A fresh clone has none of it. Tests that need it go through `describeWithShared`: without the
 * folder they become ONE skipped test whose name says what is missing — unless the environment
 * variable CI is set (non-empty), where that one test fails instead, so CI can never quietly lose
 * them.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, test } from "bun:test";

export type SharedName = "corpus" | "kit" | "repros" | "spec";

const REPO = resolve(import.meta.dir, "../..");

const WHAT: Record<SharedName, string> = {
  corpus: "the real-document corpus",
  kit: "the shared kit",
  repros: "the shared repros",
  spec: "the awstoe specification",
};

/** True when the environment variable CI is set to anything but the empty string. */
export const IN_CI = (process.env.CI ?? "") !== "";

/**
 * `../shared/<name>` beside this clone ($OPENTOE_CORPUS for the corpus, when set), or undefined
 * when it is not there.
 */
export function sharedDir(name: SharedName): string | undefined {
  const override = name === "corpus" ? process.env.OPENTOE_CORPUS : undefined;
  const dir = override !== undefined && override !== "" ? resolve(override) : resolve(REPO, "..", "shared", name);
  return existsSync(dir) ? dir : undefined;
}

/** The one line that stands for tests whose shared material is missing. */
export function missingSharedLine(name: SharedName): string {
  const where = name === "corpus" && process.env.OPENTOE_CORPUS ? `$OPENTOE_CORPUS (${process.env.OPENTOE_CORPUS})` : `../shared/${name}`;
  return IN_CI
    ? `missing: ${where} is not beside this clone (${WHAT[name]}); with CI set its tests fail instead of skipping`
    : `skipped: ${where} is not beside this clone (${WHAT[name]}); CI fails instead`;
}

/**
 * `describe(title, () => body(dir))` when ../shared/<name> is there. Otherwise the group is one
 * test named by missingSharedLine(): skipped, or failing when CI is set. Use `body`'s `dir`
 * argument for paths: nothing in the group runs, or is even collected, without the folder.
 */
export function describeWithShared(name: SharedName, title: string, body: (dir: string) => void): void {
  const dir = sharedDir(name);
  if (dir !== undefined) {
    describe(title, () => body(dir));
    return;
  }
  describe(title, () => missingShared(name));
}

/**
 * For a file that still runs without the material but covers less: the same one line, in the
 * current describe block (skipped, or failing when CI is set).
 */
export function missingShared(name: SharedName): void {
  const line = missingSharedLine(name);
  if (IN_CI) {
    test(line, () => {
      throw new Error(`CI is set and ../shared/${name} (${WHAT[name]}) is missing beside ${REPO}: put it there (or set OPENTOE_CORPUS for the corpus)`);
    });
  } else {
    test.skip(line, () => {});
  }
}

export interface ManifestRow {
  file: string;
  platform: "linux" | "windows" | "both";
  actions: string;
  constructs: string;
  validity: string;
}

/** The rows of `<corpus>/MANIFEST.tsv`. */
export function manifestRows(corpus: string): ManifestRow[] {
  const lines = readFileSync(join(corpus, "MANIFEST.tsv"), "utf8").trim().split("\n");
  const header = lines[0]!.split("\t");
  const col = (name: string) => header.indexOf(name);
  return lines.slice(1).map((line) => {
    const cells = line.split("\t");
    return {
      file: cells[col("file")]!,
      platform: cells[col("platform")] as ManifestRow["platform"],
      actions: cells[col("actions")] ?? "",
      constructs: cells[col("constructs")] ?? "",
      validity: cells[col("validity")]!,
    };
  });
}
