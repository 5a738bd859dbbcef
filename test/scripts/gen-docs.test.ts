/**
 * @module test/scripts/gen-docs.test: docs/modules.md stays generated. The page is rendered in
 * memory from the module schemas (scripts/gen-docs.ts) and compared with the committed file, so a
 * schema change without `npm run docs` fails here; and the rendered page is checked to hold every
 * module and every input and output field, so the generator cannot silently leave one out.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { markdownText, MODULES_DOC, REPO, renderModulesDoc, schemaOf } from "../../scripts/gen-docs.ts";
import { modules } from "../../src/modules/index.ts";

const fieldsOf = (schema: unknown): string[] => Object.keys((schemaOf(schema).properties ?? {}) as Record<string, unknown>);

describe("docs/modules.md", () => {
  const rendered = renderModulesDoc();

  test("is what scripts/gen-docs.ts renders from the schemas now (run `npm run docs` after changing a module)", () => {
    expect(existsSync(MODULES_DOC)).toBe(true);
    const committed = readFileSync(MODULES_DOC, "utf8");
    if (committed !== rendered) {
      // The first differing line says what changed; the whole text would bury it.
      const a = committed.split("\n");
      const b = rendered.split("\n");
      const at = a.findIndex((line, i) => line !== b[i]);
      const line = at < 0 ? Math.min(a.length, b.length) : at;
      throw new Error(`docs/modules.md is out of date at line ${line + 1}:\n  file:     ${a[line] ?? "(end)"}\n  schemas:  ${b[line] ?? "(end)"}\nrun \`npm run docs\` and commit the result`);
    }
    expect(committed).toBe(rendered);
  });

  test("has a section for every module, with every input and output field", () => {
    for (const module of Object.values(modules)) {
      const start = rendered.indexOf(`\n### ${module.name}\n`);
      expect(start, `section of ${module.name}`).toBeGreaterThan(0);
      const end = rendered.indexOf("\n### ", start + 1);
      const section = rendered.slice(start, end < 0 ? undefined : end);
      expect(section).toContain(markdownText(module.summary));
      for (const field of [...fieldsOf(module.input), ...fieldsOf(module.output)]) {
        expect(section, `${module.name}.${field}`).toContain(`| \`${field}\` |`);
      }
    }
  });

  test("links only to files that exist", () => {
    for (const [, target] of rendered.matchAll(/\]\(\.\.\/([^)#]+)\)/g)) {
      expect(existsSync(join(REPO, target!)), target).toBe(true);
    }
  });
});
