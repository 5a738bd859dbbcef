/**
 * The JSON Schema printed by `awstoe schema` (document/json-schema.ts), checked with a standard
 * validator (Ajv): it compiles, it accepts every real document our validator accepts and the
 * examples, it rejects plain mistakes — and our own schema checker (document/check-schema.ts)
 * gives the same verdict as Ajv on the published schema of every action module's inputs.
 */
import { describe, expect, test } from "bun:test";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import fc from "fast-check";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { checkSchema, matchesSchema } from "../../src/document/check-schema.ts";
import { componentJsonSchema } from "../../src/document/json-schema.ts";
import { validateText } from "../../src/document/validate.ts";
import type { Issue } from "../../src/errors.ts";
import { modules, type ModuleDef } from "../../src/modules/index.ts";
import { type PlatformName } from "../../src/model/platform.ts";
import { missingShared, sharedDir } from "../helpers/corpus.ts";

const ROOT = join(import.meta.dir, "..", "..");
const CORPUS = sharedDir("corpus");

type Json = Record<string, unknown>;

const schema = componentJsonSchema("test");

function newAjv(options: { strictNumbers?: boolean } = {}): Ajv {
  return new Ajv({ allErrors: true, strict: false, ...options });
}

function showErrors(errors: ErrorObject[] | null | undefined): string {
  return JSON.stringify((errors ?? []).slice(0, 8).map((e) => ({ at: e.instancePath, keyword: e.keyword, message: e.message, params: e.params })));
}

let compiled: ValidateFunction | undefined;
function componentValidator(): ValidateFunction {
  compiled ??= newAjv().compile(schema);
  return compiled;
}

describe("awstoe schema (published JSON Schema)", () => {
  test("compiles with Ajv and is a valid draft-07 schema", () => {
    const ajv = newAjv();
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(ajv.validateSchema(schema), showErrors(ajv.errors)).toBe(true);
    expect(() => componentValidator()).not.toThrow();
  });

  test("describes every reference form, host ones included, and knows disableLogging", () => {
    const description = String(schema.description);
    for (const form of ["{{ env:NAME }}", "{{ context:KEY }}", "{{ aws:imds:PATH }}", "{{ aws:ssm:NAME }}", "resolve(Parameter)", "osVersion"]) expect(description).toContain(form);
    const step = (((schema.properties as Record<string, any>).phases.items.properties.steps.items) as Record<string, any>).properties;
    expect(step.disableLogging.type).toBe("boolean");
    expect(JSON.stringify(step.if)).toContain("#/definitions/Condition");
  });

  test("publishes none of our private x- keys", () => {
    const leaks: string[] = [];
    const visit = (node: unknown, path: string): void => {
      if (Array.isArray(node)) node.forEach((item, i) => visit(item, `${path}[${i}]`));
      else if (node !== null && typeof node === "object") {
        for (const [key, value] of Object.entries(node)) {
          if (key.startsWith("x-")) leaks.push(`${path}.${key}`);
          visit(value, `${path}.${key}`);
        }
      }
    };
    visit(schema, "$");
    expect(leaks).toEqual([]);
  });

  if (CORPUS === undefined) missingShared("corpus");
  else test("accepts every corpus document that looks valid and that our validator accepts", () => {
    const validate = componentValidator();
    const [header, ...rows] = readFileSync(join(CORPUS, "MANIFEST.tsv"), "utf8").trimEnd().split("\n").map((line) => line.split("\t"));
    const column = (name: string) => header!.indexOf(name);
    const [fileCol, platformCol, validityCol] = [column("file"), column("platform"), column("validity")];
    expect(Math.min(fileCol, platformCol, validityCol)).toBeGreaterThanOrEqual(0);
    const failures: string[] = [];
    let checked = 0;
    for (const row of rows) {
      if (!row[validityCol]!.startsWith("valid")) continue;
      const file = row[fileCol]!;
      const text = readFileSync(join(CORPUS, "docs", file), "utf8");
      const platform: PlatformName = row[platformCol] === "windows" ? "windows" : "linux";
      if (!validateText(text, file, { platform }).valid) continue;
      checked++;
      if (!validate(parseYaml(text))) failures.push(`${file}: ${showErrors(validate.errors)}`);
    }
    // The corpus holds about a hundred such documents; far fewer means the filter went wrong.
    expect(checked).toBeGreaterThanOrEqual(50);
    expect(failures, `rejected by the published schema:\n${failures.join("\n")}`).toEqual([]);
  });

  test("accepts every example in examples/", () => {
    const validate = componentValidator();
    const files = readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".yaml"));
    expect(files.length).toBeGreaterThan(0);
    const failures = files.filter((f) => !validate(parseYaml(readFileSync(join(ROOT, "examples", f), "utf8")))).map((f) => `${f}: ${showErrors(validate.errors)}`);
    expect(failures, failures.join("\n")).toEqual([]);
  });

  describe("rejects plain mistakes", () => {
    const good = () => ({
      schemaVersion: 1.0,
      phases: [{ name: "build", steps: [{ name: "Hello", action: "ExecuteBash", onFailure: "Abort", inputs: { commands: ["echo hello"] } }] }],
    });
    const step = (doc: ReturnType<typeof good>) => doc.phases[0]!.steps[0]! as Record<string, unknown>;

    test("the unmutated document is accepted (by Ajv and by our validator)", () => {
      const validate = componentValidator();
      expect(validate(good()), showErrors(validate.errors)).toBe(true);
      expect(validateText(JSON.stringify(good()), "good.json", { platform: "linux" }).valid).toBe(true);
    });

    const mistakes: [string, (doc: ReturnType<typeof good>) => unknown, string][] = [
      ["unknown top-level key", (doc) => ({ ...doc, phase: [] }), "additionalProperties"],
      ["unknown action", (doc) => (step(doc).action = "ExecuteBashh", doc), "anyOf"],
      ["ExecuteBash inputs without commands", (doc) => (step(doc).inputs = {}, doc), "required"],
      ["ExecuteBash inputs with an unknown field", (doc) => (step(doc).inputs = { commands: ["x"], command: "y" }, doc), "additionalProperties"],
      ["onFailure: Maybe", (doc) => (step(doc).onFailure = "Maybe", doc), "enum"],
      ["schemaVersion 2.0", (doc) => ({ ...doc, schemaVersion: 2 }), "enum"],
      ["no phases", (doc) => ({ schemaVersion: doc.schemaVersion }), "required"],
    ];
    test.each(mistakes)("%s", (_name, mutate, keyword) => {
      const validate = componentValidator();
      const doc = mutate(good());
      expect(validate(doc)).toBe(false);
      expect(validate.errors!.map((e) => e.keyword), showErrors(validate.errors)).toContain(keyword);
      // Our validator rejects it too.
      expect(validateText(JSON.stringify(doc), "mistake.json", { platform: "linux" }).valid).toBe(false);
    });
  });
});

// --- differential: check-schema.ts vs Ajv on each module's published input schema -------------

/** The published schema of one input mapping (one list element for list modules). */
function publishedInput(module: ModuleDef): Json {
  const step = ((((schema.properties as Json).phases as Json).items as Json).properties as Json).steps as Json;
  const branches = ((step.items as Json).allOf as Json[]).filter((b) => ((((b.if as Json).properties as Json).action as Json).const) === module.name);
  expect(branches).toHaveLength(1);
  const inputs = ((branches[0]!.then as Json).properties as Json).inputs as Json;
  // list modules: [one mapping, list of mappings]; optional inputs: [mapping, null]. The mapping comes first.
  return Array.isArray(inputs.anyOf) ? (inputs.anyOf as Json[])[0]! : inputs;
}

/** The same schema with our x- keys stripped by hand: the published one must not differ from it. */
function stripPrivate(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), function (this: unknown, key, v) {
    return key.startsWith("x-") ? undefined : v;
  });
}

/** The keywords that only inform a reader (hover text, titles), not what is valid. */
const ANNOTATIONS = new Set(["title", "description", "markdownDescription", "doNotSuggest"]);

/** A schema without its annotations, at every depth (the names inside `properties` are kept). */
function withoutAnnotations(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutAnnotations);
  if (node === null || typeof node !== "object") return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (ANNOTATIONS.has(key)) continue;
    out[key] = key === "properties" || key === "patternProperties" || key === "definitions"
      ? Object.fromEntries(Object.entries(value as Json).map(([name, sub]) => [name, withoutAnnotations(sub)]))
      : withoutAnnotations(value);
  }
  return out;
}

/** Words that satisfy some pattern or enum in a module schema, so that accepted values are common. */
function wordsOf(schemaNode: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schemaNode)) schemaNode.forEach((s) => wordsOf(s, out));
  else if (schemaNode !== null && typeof schemaNode === "object") {
    const node = schemaNode as Json;
    for (const key of ["enum", "x-choices"]) {
      if (Array.isArray(node[key])) for (const w of node[key] as unknown[]) if (typeof w === "string") out.add(w).add(w.toUpperCase()).add(w.toLowerCase());
    }
    for (const v of Object.values(node)) wordsOf(v, out);
  }
  return out;
}

const TRICKY = ["{{ X }}", "{{ build.step.outputs.stdout }}", "a{{ x }}b", "{{", "true", "False", "TRUE", "0755", "644", "9999", "0", "-3", " 12 ", "1.5", "", " ", "utf-8", "UTF16-le", "HKLM:\\SOFTWARE\\x", "s3://bucket/key"];
/** Keys no module declares, including names every plain object inherits. */
const EXTRA_KEYS = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "Path", "commnds", "x-expected"];

function valueArb(words: string[]): fc.Arbitrary<unknown> {
  const scalar = fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.integer(),
    fc.double(), // includes NaN, ±Infinity and -0 (YAML has .nan and .inf)
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(...TRICKY, ...words),
  );
  return fc.oneof(
    { arbitrary: scalar, weight: 6 },
    { arbitrary: fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...TRICKY)), { maxLength: 3 }), weight: 2 },
    { arbitrary: fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.double()), { maxLength: 3 }), weight: 1 },
    { arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 2 }), weight: 1 },
    {
      arbitrary: fc.array(fc.record({ name: fc.constantFrom("a", "", 1), value: fc.constantFrom("x", 2, true) }, { requiredKeys: [] }), { maxLength: 2 }),
      weight: 1,
    },
  );
}

/**
 * Values the schema probably accepts (drawn from its own types, enums, bounds and words), so that
 * both verdicts are common; mixed with the noise of valueArb they land on every boundary.
 */
function fittingArb(node: Json | undefined, words: string[]): fc.Arbitrary<unknown> {
  if (node === undefined) return valueArb(words);
  if (Array.isArray(node.anyOf)) return fc.oneof(...(node.anyOf as Json[]).map((b) => fittingArb(b, words)));
  if (Array.isArray(node.enum)) return fc.constantFrom(...(node.enum as unknown[]));
  if ("const" in node) return fc.constant(node.const);
  const types = Array.isArray(node.type) ? (node.type as string[]) : typeof node.type === "string" ? [node.type] : [];
  if (types.length === 0) return valueArb(words);
  return fc.oneof(...types.map((type): fc.Arbitrary<unknown> => {
    switch (type) {
      case "string": {
        if (typeof node.pattern !== "string") return fc.string({ minLength: typeof node.minLength === "number" ? node.minLength : 0, maxLength: 10 });
        const regex = new RegExp(node.pattern, "u");
        const fits = [...new Set([...TRICKY, ...words])].filter((w) => regex.test(w));
        return fits.length > 0 ? fc.constantFrom(...fits) : fc.string({ maxLength: 10 });
      }
      case "integer":
        return fc.integer({ min: typeof node.minimum === "number" ? node.minimum : -1000, max: typeof node.maximum === "number" ? node.maximum : 100_000 });
      case "number":
        return fc.double({ noNaN: true, noDefaultInfinity: true });
      case "boolean":
        return fc.boolean();
      case "null":
        return fc.constant(null);
      case "array":
        return fc.array(fittingArb(node.items as Json | undefined, words), { minLength: typeof node.minItems === "number" ? node.minItems : 0, maxLength: 3 });
      case "object":
        return objectArb(node, words, false);
      default:
        return valueArb(words);
    }
  }));
}

/**
 * Mappings as the parser builds them (own properties defined one by one, so `__proto__` is a plain
 * key): usually the required fields, some optional ones, sometimes keys nobody declares.
 */
function objectArb(node: Json, words: string[], noise = true): fc.Arbitrary<unknown> {
  const properties = (node.properties ?? {}) as Record<string, Json>;
  const required = new Set((node.required ?? []) as string[]);
  const names = Object.keys(properties);
  const keys = fc.tuple(
    fc.tuple(...names.map((name) => fc.double({ min: 0, max: 1, noNaN: true }).map((r) => (r < (required.has(name) ? 0.9 : 0.4) ? name : undefined)))),
    fc.oneof({ arbitrary: fc.constant([] as string[]), weight: 3 }, { arbitrary: fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...EXTRA_KEYS)), { minLength: 1, maxLength: 2 }), weight: 1 }),
  );
  const object = keys.chain(([declared, extra]) => {
    const chosen = [...new Set([...declared.filter((n): n is string => n !== undefined), ...extra])];
    const valueFor = (name: string) =>
      Object.hasOwn(properties, name)
        ? fc.oneof({ arbitrary: fittingArb(properties[name], words), weight: 3 }, { arbitrary: valueArb(words), weight: noise ? 1 : 0 })
        : valueArb(words);
    return fc.tuple(...chosen.map(valueFor)).map((values) => {
      const out: Record<string, unknown> = {};
      chosen.forEach((name, i) => Object.defineProperty(out, name, { value: values[i], enumerable: true, writable: true, configurable: true }));
      return out;
    });
  });
  return noise ? fc.oneof({ arbitrary: object, weight: 12 }, { arbitrary: valueArb(words), weight: 1 }) : object;
}

/** The value at `path`, and the schema that describes it (following properties and items only). */
function at(schemaNode: Json, value: unknown, path: readonly (string | number)[]): { schema: Json | undefined; value: unknown } {
  let s: Json | undefined = schemaNode;
  let v = value;
  for (const part of path) {
    v = (v as Record<string | number, unknown> | undefined)?.[part];
    s = typeof part === "number" ? (s?.items as Json | undefined) : ((s?.properties as Json | undefined)?.[part] as Json | undefined);
  }
  return { schema: s, value: v };
}

/**
 * The one inherent difference: our checker reads a YAML number or boolean in a text field as the
 * text the author wrote, and checks that text against the field's pattern (`permissions: 1.5` is
 * wrong), while JSON Schema applies `pattern` to strings only. With no source text available (as
 * here) the text is String(value). So when we alone reject, and every one of our complaints is a
 * pattern complaint about a number or boolean in such a field, the verdicts differ by design.
 */
function patternOnNonString(module: ModuleDef, value: unknown, issues: Issue[]): boolean {
  return issues.length > 0 && issues.every((issue) => {
    const found = at(module.input as unknown as Json, value, issue.path);
    const types = found.schema?.type;
    return (typeof found.value === "number" || typeof found.value === "boolean") &&
      typeof found.schema?.pattern === "string" && Array.isArray(types) && types.includes("string");
  });
}

function show(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? `<${v}>` : Object.is(v, -0) ? "<-0>" : v));
}

const mappedModules = Object.values(modules as Record<string, ModuleDef>).filter((m) => m.shape === "map" || m.shape === "list");

describe("check-schema.ts agrees with Ajv on each module's published input schema", () => {
  test("every map and list module is covered", () => {
    expect(mappedModules.length).toBeGreaterThanOrEqual(25);
  });

  // Names every plain object inherits are keys like any other: unknown to every module.
  test.each(["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"])("an inherited name as a key: %s", (key) => {
    const module = modules.ExecuteBash as ModuleDef;
    const value: Record<string, unknown> = { commands: ["echo hi"] };
    Object.defineProperty(value, key, { value: "x", enumerable: true, writable: true, configurable: true });
    const theirs = newAjv().compile(publishedInput(module))(value);
    expect(theirs).toBe(false);
    expect(matchesSchema(module.input, value, [], () => undefined), `check-schema accepts ${show(value)}`).toBe(theirs);
  });

  test.each(mappedModules.map((m) => [m.name, m] as const))("%s", (_name, module) => {
    const published = publishedInput(module);
    // The same checks as the module's own schema; only the text for editors may differ.
    expect(withoutAnnotations(published)).toEqual(withoutAnnotations(stripPrivate(module.input)));
    // JSON has no NaN or Infinity, so the editor schema never sees them; our checker refuses them
    // as numbers (YAML's .nan/.inf), and strictNumbers makes Ajv do the same.
    const validate = newAjv({ strictNumbers: true }).compile(published);
    const words = [...wordsOf(module.input)];
    const verdicts = { accepted: 0, rejected: 0, inherent: 0 };
    fc.assert(
      fc.property(objectArb(module.input as unknown as Json, words), (value) => {
        const ours = matchesSchema(module.input, value, [], () => undefined);
        const theirs = validate(value);
        if (ours === theirs) {
          verdicts[ours ? "accepted" : "rejected"]++;
          return;
        }
        const issues: Issue[] = [];
        checkSchema(module.input, value, [], () => undefined, issues);
        if (!ours && theirs && patternOnNonString(module, value, issues)) {
          verdicts.inherent++;
          return;
        }
        throw new Error(
          `${module.name}: check-schema says ${ours ? "valid" : "invalid"}, Ajv says ${theirs ? "valid" : "invalid"}\n` +
            `value: ${show(value)}\nour issues: ${JSON.stringify(issues.map((i) => ({ path: i.path, message: i.message })))}\n` +
            `ajv errors: ${showErrors(validate.errors)}`,
        );
      }),
      { seed: 42, numRuns: 100, includeErrorInReport: true },
    );
    // Both verdicts must occur, or the comparison says little.
    expect(verdicts.accepted, JSON.stringify(verdicts)).toBeGreaterThan(0);
    expect(verdicts.rejected, JSON.stringify(verdicts)).toBeGreaterThan(0);
  });
});
