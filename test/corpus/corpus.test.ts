/**
 * Every real-world document in ../shared/corpus is validated on the platform(s) its MANIFEST row
 * names and must match the row's validity label — except the reviewed disagreements listed in
 * label-review.md, which must match our verdict there (and must still disagree).
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { validateSource } from "../../src/document/validate.ts";
import type { PlatformName } from "../../src/model/platform.ts";
import { describeWithShared, manifestRows } from "../helpers/corpus.ts";

interface Review {
  verdict: "valid" | "invalid";
  why: string;
}

function reviews(): Map<string, Review> {
  const text = readFileSync(join(import.meta.dir, "label-review.md"), "utf8");
  const map = new Map<string, Review>();
  for (const line of text.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 6 || !cells[1]!.endsWith(".yaml")) continue;
    map.set(`${cells[1]}@${cells[2]}`, { verdict: cells[3] as Review["verdict"], why: cells[4]! });
  }
  return map;
}

const reviewed = reviews();

describeWithShared("corpus", "corpus documents match their MANIFEST label", (corpus) => {
  const rows = manifestRows(corpus);

  test("the corpus is there and sizeable", () => {
    expect(rows.length).toBeGreaterThan(100);
  });

  for (const row of rows) {
    const platforms: PlatformName[] = row.platform === "both" ? ["linux", "windows"] : [row.platform as PlatformName];
    for (const platform of platforms) {
      const review = reviewed.get(`${row.file}@${platform}`);
      const labelled = row.validity.startsWith("valid");
      test(`${platform}: ${row.file}`, () => {
        const result = validateSource(join(corpus, "docs", row.file), { platform });
        const errors = result.diagnostics.filter((d) => d.severity === "error");
        const report = errors.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`).join("\n");
        if (review !== undefined) {
          expect(labelled, "label-review.md lists a document whose label we now agree with").not.toBe(result.valid);
          expect(result.valid ? "valid" : "invalid", report).toBe(review.verdict);
        } else {
          expect(result.valid, `label ${row.validity}, our diagnostics:\n${report}`).toBe(labelled);
        }
        // An invalid verdict always comes with placed diagnostics.
        if (!result.valid) {
          expect(errors.length).toBeGreaterThan(0);
          for (const d of errors) expect(d.line === undefined || d.line >= 1).toBe(true);
        }
      });
    }
  }

  test("every reviewed entry names a corpus document and platform", () => {
    const known = new Set(rows.flatMap((r) => (r.platform === "both" ? ["linux", "windows"] : [r.platform]).map((p) => `${r.file}@${p}`)));
    for (const key of reviewed.keys()) expect(known.has(key), key).toBe(true);
    expect(reviewed.size).toBeGreaterThan(0);
  });
});
