/**
 * The text `awstoe schema` gives editors (document/json-schema.ts): every field — each entry of
 * every `properties` at every depth, each object schema with fields, wherever it sits (anyOf and
 * oneOf members, list items, definitions, if/then) — has a title, a plain description and a
 * markdownDescription, and every link into docs/ lands on a heading that exists there.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { componentJsonSchema, DOC_SECTIONS, docUrl, moduleSection, REPOSITORY_URL } from "../../src/document/json-schema.ts";
import { modules } from "../../src/modules/index.ts";

const REPO = join(import.meta.dir, "..", "..");
const schema = componentJsonSchema("test");

type Json = Record<string, unknown>;

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading === null) continue;
    const slug = heading[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
    const seen = counts.get(slug) ?? 0;
    counts.set(slug, seen + 1);
    anchors.add(seen === 0 ? slug : `${slug}-${seen}`);
  }
  return anchors;
}

const anchorsByFile = new Map<string, Set<string>>();
function anchorExists(file: string, anchor: string): boolean {
  if (!anchorsByFile.has(file)) anchorsByFile.set(file, anchorsOf(readFileSync(join(REPO, file), "utf8")));
  return anchorsByFile.get(file)!.has(anchor);
}

interface Field {
  path: string;
  schema: Json;
}

/** Every field and every object schema with fields, with a JSON-pointer-like path. */
function fieldsOf(root: Json): Field[] {
  const found: Field[] = [];
  const visit = (node: unknown, path: string, isField: boolean): void => {
    if (Array.isArray(node)) return node.forEach((item, i) => visit(item, `${path}/${i}`, false));
    if (node === null || typeof node !== "object") return;
    const n = node as Json;
    const hasFields = n.properties !== undefined && typeof n.properties === "object";
    if (isField || hasFields) found.push({ path, schema: n });
    for (const [key, value] of Object.entries(n)) {
      if (key === "properties") {
        for (const [name, sub] of Object.entries(value as Json)) visit(sub, `${path}/properties/${name}`, true);
      } else if (key === "definitions" || key === "patternProperties") {
        for (const [name, sub] of Object.entries(value as Json)) visit(sub, `${path}/${key}/${name}`, false);
      } else if (typeof value === "object") {
        visit(value, `${path}/${key}`, false);
      }
    }
  };
  visit(root, "#", false);
  return found;
}

const LINK = new RegExp(`\\]\\(${REPOSITORY_URL.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}([^)#]+)#([^)]+)\\)`, "g");

function linksOf(markdown: string): { file: string; anchor: string }[] {
  return [...markdown.matchAll(LINK)].map((m) => ({ file: m[1]!, anchor: m[2]! }));
}

describe("awstoe schema: titles, hover text and docs links", () => {
  const fields = fieldsOf(schema);

  test("the walk reaches every part of the schema", () => {
    const paths = fields.map((f) => f.path);
    // Document, phase, step and its keys, loops, conditions (if and the shared definition),
    // parameters and constants, and every module's inputs.
    for (const part of [
      "#/properties/schemaVersion",
      "#/properties/phases/items/properties/steps/items/properties/timeoutSeconds",
      "#/properties/phases/items/properties/steps/items/properties/loop/properties/forEach",
      "#/properties/phases/items/properties/steps/items/properties/loop/properties/for/properties/updateBy",
      "#/properties/parameters/items/patternProperties/^[A-Za-z0-9_-]{3,128}$/properties/allowedValues",
      "#/properties/constants/items/patternProperties/^[A-Za-z0-9_-]{3,128}$/properties/value",
      "#/definitions/Condition/anyOf/0/properties/stringIsEmpty",
    ]) expect(paths).toContain(part);
    expect(paths.some((p) => /\/properties\/if\/anyOf\/0\/anyOf\/\d+\/properties\/then$/.test(p))).toBe(true);
    for (const module of Object.values(modules)) {
      if (module.shape === "condition") continue;
      for (const key of Object.keys((module.input as unknown as Json).properties as Json)) {
        expect(paths.some((p) => p.includes("/then/") && p.endsWith(`/properties/${key}`)), `${module.name}.${key}`).toBe(true);
      }
    }
    expect(fields.length).toBeGreaterThan(300);
  });

  test("every field has a title, a description and a markdownDescription", () => {
    const missing: string[] = [];
    for (const { path, schema: s } of fields) {
      for (const key of ["title", "description", "markdownDescription"]) {
        if (typeof s[key] !== "string" || (s[key] as string).trim() === "") missing.push(`${path}: ${key}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test("no field is titled after the document, and titles say which field they are", () => {
    const bad = fields.filter((f) => f.path !== "#" && String(f.schema.title).includes("AWSTOE component document")).map((f) => f.path);
    expect(bad).toEqual([]);
    const step = fields.find((f) => f.path.endsWith("/steps/items/properties/timeoutSeconds"))!;
    expect(step.schema.title).toBe("Step: timeoutSeconds");
    expect(String(step.schema.markdownDescription)).toContain("7200");
    const commands = fields.find((f) => f.path.includes("/then/") && f.path.endsWith("/properties/commands"))!;
    expect(commands.schema.title).toBe("ExecuteBash: commands");
  });

  test("every markdownDescription links into docs/, and every anchor is a heading there", () => {
    const broken: string[] = [];
    const unlinked: string[] = [];
    for (const { path, schema: s } of fields) {
      const links = linksOf(String(s.markdownDescription ?? ""));
      if (links.length === 0) unlinked.push(path);
      for (const { file, anchor } of links) if (!file.startsWith("docs/") || !anchorExists(file, anchor)) broken.push(`${path}: ${file}#${anchor}`);
    }
    expect(unlinked).toEqual([]);
    expect(broken).toEqual([]);
  });

  test("every section the schema can link to exists, modules included", () => {
    const sections = [...Object.values(DOC_SECTIONS), ...Object.values(modules).map(moduleSection)];
    const missing = sections.filter((s) => !anchorExists(s.file, s.anchor)).map(docUrl);
    expect(missing).toEqual([]);
  });

  test("the branches of every anyOf differ in their text (hover would list them all otherwise)", () => {
    const alike: string[] = [];
    const visit = (node: unknown, path: string): void => {
      if (Array.isArray(node)) return node.forEach((item, i) => visit(item, `${path}/${i}`));
      if (node === null || typeof node !== "object") return;
      const n = node as Json;
      if (Array.isArray(n.anyOf)) {
        const keys = (n.anyOf as Json[]).map((b) => JSON.stringify([b.title, b.description, b.properties === undefined ? null : Object.keys(b.properties as Json)]));
        if (new Set(keys).size !== keys.length) alike.push(path);
      }
      for (const [key, value] of Object.entries(n)) visit(value, `${path}/${key}`);
    };
    visit(schema, "#");
    expect(alike).toEqual([]);
  });
});

describe("anchors as GitHub makes them", () => {
  test("numbered, punctuated and repeated headings", () => {
    const anchors = anchorsOf("# Top\n## 8. Conditions (`if`)\n### 9.1 `onFailure`\n## Notes\n## Notes\n```\n# not a heading\n```\n");
    expect([...anchors]).toEqual(["top", "8-conditions-if", "91-onfailure", "notes", "notes-1"]);
  });
});
