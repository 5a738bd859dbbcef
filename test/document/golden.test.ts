/**
 * Golden files: the rendered diagnostics of each document in test/fixtures/invalid, so a message,
 * position or hint cannot change unnoticed. `UPDATE_GOLDEN=1 bun test test/document/golden` rewrites
 * them; review the diff before committing.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { renderResult } from "../../src/cli/_render.ts";
import { validateSource } from "../../src/document/validate.ts";
import { plainPalette } from "../../src/logs/terminal.ts";

const DIR = join(import.meta.dir, "../fixtures/invalid");
const ROOT = join(import.meta.dir, "../..");

describe("diagnostic goldens", () => {
  const cases = readdirSync(DIR).filter((f) => f.endsWith(".yaml")).sort();

  test("there are cases", () => expect(cases.length).toBeGreaterThanOrEqual(12));

  for (const file of cases) {
    test(file, () => {
      const platform = file.startsWith("windows-") ? "windows" : "linux";
      const source = relative(ROOT, join(DIR, file));
      const cwd = process.cwd();
      process.chdir(ROOT);
      let result;
      try {
        result = validateSource(source, { platform });
      } finally {
        process.chdir(cwd);
      }
      // warn-* cases hold only warnings: valid, but still worth pinning their words.
      expect(result.valid).toBe(file.startsWith("warn-"));
      const rendered = `${renderResult(result, plainPalette)}\n`;
      const golden = join(DIR, file.replace(/\.yaml$/, ".diagnostics.txt"));
      if (process.env.UPDATE_GOLDEN === "1" || !existsSync(golden)) writeFileSync(golden, rendered);
      expect(rendered).toBe(readFileSync(golden, "utf8"));
    });
  }
});
