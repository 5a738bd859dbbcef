/**
 * Robustness of `validateText`: real component documents, mutated at random (structurally through
 * the `yaml` package, and byte by byte), must never make validation throw or hang, and every
 * outcome must be a verdict with well-formed diagnostics. The CLI gets a sample of the same
 * mutations as files and must answer with exit 0 or 1 and no internal error. Hand-made hostile
 * inputs (alias bombs, deep nesting, odd roots, super-linear patterns) close the file.
 *
 * Seeds: the corpus of real documents (../shared/corpus beside the clone, or $OPENTOE_CORPUS)
 * plus examples/; without the corpus only examples/ (test/helpers/corpus.ts says so in one line).
 * Everything runs with fixed fast-check seeds, so a failure reproduces exactly.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { validateText, type ValidationResult } from "../../src/document/validate.ts";
import { PLATFORMS, type PlatformName } from "../../src/model/platform.ts";
import { missingShared, sharedDir } from "../helpers/corpus.ts";

const ROOT = join(import.meta.dir, "..", "..");
const BUN = join(ROOT, "node_modules", ".bin", "bun");
const CORPUS = sharedDir("corpus");
const SEED = 42;
/** Detects hangs, not slowness: a healthy call takes milliseconds, even for a 3 MB document. */
const HANG_BOUND_MS = 5_000;
const FILE = "fuzz.yaml";

// --- seeds --------------------------------------------------------------------------------------

interface Seed {
  name: string;
  text: string;
  /** The document as plain data, when the `yaml` package can read it (for structural mutations). */
  value: unknown;
}

function loadSeeds(): Seed[] {
  const files: string[] = [];
  const docs = CORPUS === undefined ? undefined : join(CORPUS, "docs");
  if (docs !== undefined && existsSync(docs)) for (const f of readdirSync(docs).sort()) if (f.endsWith(".yaml")) files.push(join(docs, f));
  const examples = join(ROOT, "examples");
  for (const f of readdirSync(examples).sort()) if (f.endsWith(".yaml")) files.push(join(examples, f));
  return files.map((path) => {
    const text = readFileSync(path, "utf8");
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch {
      value = undefined; // documents that are not YAML still get the byte-level mutations
    }
    return { name: path.slice(path.lastIndexOf("/") + 1), text, value };
  });
}

const SEEDS = loadSeeds();

// --- checking one result ------------------------------------------------------------------------

function lineCount(text: string): number {
  let n = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

function preview(text: string): string {
  const head = JSON.stringify(text.slice(0, 240));
  return text.length > 240 ? `${head}… (${text.length} chars)` : head;
}

/** The properties every validation outcome must have, whatever the input. */
function expectWellFormed(result: ValidationResult, text: string, what: string): void {
  const context = `${what}\ninput: ${preview(text)}\ndiagnostics: ${JSON.stringify(result.diagnostics?.slice(0, 5))}`;
  if (typeof result.valid !== "boolean") throw new Error(`valid is not a boolean (${String(result.valid)})\n${context}`);
  if (!Array.isArray(result.diagnostics)) throw new Error(`diagnostics is not a list\n${context}`);
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (!result.valid && errors.length === 0) throw new Error(`invalid verdict without an error diagnostic\n${context}`);
  if (result.valid && errors.length > 0) throw new Error(`valid verdict with error diagnostics\n${context}`);
  const lines = lineCount(text);
  for (const d of result.diagnostics) {
    const bad = (why: string) => new Error(`malformed diagnostic (${why}): ${JSON.stringify(d)}\n${context}`);
    if (typeof d.code !== "string" || !/^[EW]_[A-Z0-9_]+$/.test(d.code)) throw bad("code");
    if (d.severity !== "error" && d.severity !== "warning") throw bad("severity");
    if (typeof d.message !== "string" || d.message.trim() === "") throw bad("message");
    if (d.message.includes("[object Object]")) throw bad("message shows [object Object]");
    if (d.file !== FILE) throw bad("file");
    if (typeof d.path !== "string") throw bad("path");
    if (d.line !== undefined) {
      if (!Number.isInteger(d.line) || d.line < 1 || d.line > lines) throw bad(`line outside 1..${lines}`);
      if (!Number.isInteger(d.column) || d.column! < 1) throw bad("column");
    }
    if (d.endLine !== undefined && d.line !== undefined) {
      if (d.endLine < d.line || d.endLine > lines) throw bad("endLine");
      if (d.endLine === d.line && d.endColumn! < d.column!) throw bad("endColumn before column");
    }
  }
}

/** Validates in-process; an exception fails the property, and so does a call that takes too long. */
function validateChecked(text: string, platform: PlatformName, what: string): ValidationResult {
  const started = performance.now();
  let result: ValidationResult;
  try {
    result = validateText(text, FILE, { platform });
  } catch (error) {
    throw new Error(`validateText threw: ${(error as Error)?.stack ?? String(error)}\n${what}\ninput: ${preview(text)}`);
  }
  const elapsed = performance.now() - started;
  if (elapsed > HANG_BOUND_MS) {
    throw new Error(`validateText took ${elapsed.toFixed(0)} ms (bound ${HANG_BOUND_MS} ms)\n${what}\ninput: ${preview(text)}`);
  }
  expectWellFormed(result, text, what);
  return result;
}

// --- mutations ----------------------------------------------------------------------------------

type Container = Record<string, unknown> | unknown[];
interface Slot {
  parent: Container;
  key: string | number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every place in `root` that holds a value: (parent, key or index). */
function slotsOf(root: unknown): Slot[] {
  const out: Slot[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        out.push({ parent: node, key: i });
        visit(child);
      });
    } else if (isObject(node)) {
      for (const key of Object.keys(node)) {
        out.push({ parent: node, key });
        visit(node[key]);
      }
    }
  };
  visit(root);
  return out;
}

function setSlot(slot: Slot, value: unknown): void {
  (slot.parent as Record<string | number, unknown>)[slot.key] = value;
}

function nested(depth: number, shape: "list" | "map", leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = shape === "list" ? [value] : { [`n${i}`]: value };
  return value;
}

/** A replacement described compactly, so fast-check prints counterexamples readably. */
type Replacement =
  | { kind: "scalar"; value: string | number | boolean | null }
  | { kind: "list"; value: string[] }
  | { kind: "map"; value: [string, string | number][] }
  | { kind: "long"; unit: string; length: number };

function realize(r: Replacement): unknown {
  switch (r.kind) {
    case "scalar":
    case "list":
      return r.value;
    case "map": {
      const out: Record<string, unknown> = {};
      for (const [k, v] of r.value) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      return out;
    }
    case "long":
      return r.unit.repeat(Math.ceil(r.length / r.unit.length)).slice(0, r.length);
  }
}

/** Units that long strings repeat: plain text, spaces and line breaks, references, astral characters. */
const LONG_UNITS = ["x", "word ", "line\n", "1", "{{ build.step.outputs.stdout }} ", "é🙂", "\t", "'", "#"];

const TRICKY_WORDS = [
  "{{ X }}", "true", "false", "0755", "", " ", "{{", "}}", "{{ build.step.outputs.stdout }}", "{{ loop.value }}",
  "1.0", "-1", "0", "Abort", "Continue", "ExecuteBash", "build", "~", "null", "yes", ".inf", "NaN", "0x1F",
  "__proto__", "constructor", "toString", "schemaVersion", "phases", "steps", "inputs",
];

const replacementArb: fc.Arbitrary<Replacement> = fc.oneof(
  fc.integer().map((value) => ({ kind: "scalar" as const, value })),
  fc.double().map((value) => ({ kind: "scalar" as const, value })),
  fc.boolean().map((value) => ({ kind: "scalar" as const, value })),
  fc.constant({ kind: "scalar" as const, value: null }),
  fc.string({ maxLength: 12 }).map((value) => ({ kind: "scalar" as const, value })),
  fc.constantFrom(...TRICKY_WORDS).map((value) => ({ kind: "scalar" as const, value })),
  fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...TRICKY_WORDS)), { maxLength: 4 }).map((value) => ({ kind: "list" as const, value })),
  fc
    .array(fc.tuple(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...TRICKY_WORDS)), fc.oneof(fc.string({ maxLength: 8 }), fc.integer())), { maxLength: 3 })
    .map((value) => ({ kind: "map" as const, value })),
  fc.record({ kind: fc.constant("long" as const), unit: fc.constantFrom(...LONG_UNITS), length: fc.integer({ min: 200, max: 20_000 }) }),
);

/** Mutations of the parsed document, printed back with yaml's stringify. */
type StructuralOp =
  | { op: "deleteKey"; pick: number }
  | { op: "renameKey"; pick: number; to: string }
  | { op: "replace"; pick: number; with: Replacement }
  | { op: "nestValue"; pick: number; depth: number; shape: "list" | "map" }
  | { op: "wrapRoot"; depth: number; shape: "list" | "map" }
  | { op: "duplicateValue"; pick: number };

/** Edits of the text itself. */
type TextOp =
  | { op: "insert"; at: number; text: string }
  | { op: "truncate"; at: number }
  | { op: "deleteRange"; at: number; length: number }
  | { op: "tab"; pick: number; indent: boolean }
  | { op: "duplicateKey"; pick: number }
  | { op: "flowNest"; at: number; depth: number; open: "[" | "{" }
  | { op: "wrapText"; depth: number; open: "[" | "{" }
  | { op: "blockNest"; pick: number; depth: number };

const YAML_SNIPPETS = [
  ":", ": ", "- ", "-", "\t", "{", "}", "[", "]", ",", "&a ", "*a", "*a ", "&a [*a]", "!!binary ", "!!str ", "!!int ",
  "!!omap ", "!!set ", "!foo ", "%YAML 1.1\n---\n", "%TAG ! tag:x,2000:\n", "---\n", "...\n", "\"", "'", "|", ">-\n",
  "# ", "\u0000", "\uFEFF", "\r", "\r\n", "\n", "? ", "<<: *a\n", "{{", "}}", "{{ ", "\\", "\u2028", "\u0085", "@",
  "`", "%", "~", "null", ".inf", "1e999", "2001-12-14", "\ud800", "🙂", "é",
];

const depthArb = fc.integer({ min: 10, max: 500 });
const atArb = fc.oneof(fc.constant(0), fc.nat());

const structuralOpArb: fc.Arbitrary<StructuralOp> = fc.oneof(
  fc.record({ op: fc.constant("deleteKey" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("renameKey" as const), pick: fc.nat(), to: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(...TRICKY_WORDS)) }),
  fc.record({ op: fc.constant("replace" as const), pick: fc.nat(), with: replacementArb }),
  fc.record({ op: fc.constant("nestValue" as const), pick: fc.nat(), depth: depthArb, shape: fc.constantFrom("list" as const, "map" as const) }),
  fc.record({ op: fc.constant("wrapRoot" as const), depth: depthArb, shape: fc.constantFrom("list" as const, "map" as const) }),
  fc.record({ op: fc.constant("duplicateValue" as const), pick: fc.nat() }),
);

const textOpArb: fc.Arbitrary<TextOp> = fc.oneof(
  fc.record({ op: fc.constant("insert" as const), at: atArb, text: fc.oneof(fc.string({ unit: "binary", maxLength: 12 }), fc.constantFrom(...YAML_SNIPPETS)) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("deleteRange" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant("tab" as const), pick: fc.nat(), indent: fc.boolean() }),
  fc.record({ op: fc.constant("duplicateKey" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("flowNest" as const), at: fc.nat(), depth: depthArb, open: fc.constantFrom("[" as const, "{" as const) }),
  fc.record({ op: fc.constant("wrapText" as const), depth: depthArb, open: fc.constantFrom("[" as const, "{" as const) }),
  fc.record({ op: fc.constant("blockNest" as const), pick: fc.nat(), depth: depthArb }),
);

function applyStructural(value: unknown, op: StructuralOp): unknown {
  if (op.op === "wrapRoot") return nested(op.depth, op.shape, value);
  const slots = slotsOf(value);
  if (op.op === "deleteKey") {
    const keyed = slots.filter((s) => !Array.isArray(s.parent));
    if (keyed.length === 0) return value;
    const slot = keyed[op.pick % keyed.length]!;
    delete (slot.parent as Record<string, unknown>)[slot.key as string];
    return value;
  }
  if (op.op === "renameKey") {
    const keyed = slots.filter((s) => !Array.isArray(s.parent));
    if (keyed.length === 0) return value;
    const slot = keyed[op.pick % keyed.length]!;
    const parent = slot.parent as Record<string, unknown>;
    const moved = parent[slot.key as string];
    delete parent[slot.key as string];
    // defineProperty, so that a key such as __proto__ becomes an ordinary key, as the parser makes it.
    Object.defineProperty(parent, op.to, { value: moved, enumerable: true, writable: true, configurable: true });
    return value;
  }
  if (slots.length === 0) return value;
  const slot = slots[op.pick % slots.length]!;
  const current = (slot.parent as Record<string | number, unknown>)[slot.key];
  if (op.op === "replace") setSlot(slot, realize(op.with));
  else if (op.op === "nestValue") setSlot(slot, nested(op.depth, op.shape, current));
  else if (Array.isArray(slot.parent)) slot.parent.push(structuredClone(current)); // duplicateValue: a repeated list item
  else setSlot(slot, [current, structuredClone(current)]);
  return value;
}

const KEY_LINE = /^(\s*)(- )?([A-Za-z_][\w-]*)\s*:/;

function applyText(text: string, op: TextOp): string {
  const at = (n: number) => n % (text.length + 1);
  const lines = text.split("\n");
  switch (op.op) {
    case "insert":
      return text.slice(0, at(op.at)) + op.text + text.slice(at(op.at));
    case "truncate":
      return text.slice(0, at(op.at));
    case "deleteRange":
      return text.slice(0, at(op.at)) + text.slice(at(op.at) + op.length);
    case "tab": {
      const i = op.pick % lines.length;
      lines[i] = op.indent ? lines[i]!.replace(/^ +/, "\t") : `${lines[i]}\t`;
      return lines.join("\n");
    }
    case "duplicateKey": {
      // Repeat a `key:` line right below itself, as a sibling in the same mapping.
      const keyed = lines.map((line, i) => ({ line, i })).filter(({ line }) => KEY_LINE.test(line));
      if (keyed.length === 0) return text;
      const { line, i } = keyed[op.pick % keyed.length]!;
      lines.splice(i + 1, 0, line.replace(/^(\s*)- /, "$1  "));
      return lines.join("\n");
    }
    case "flowNest": {
      const close = op.open === "[" ? "]" : "}";
      const inner = op.open === "[" ? "x" : "k: x";
      return `${text.slice(0, at(op.at))}${op.open.repeat(op.depth)}${inner}${close.repeat(op.depth)}${text.slice(at(op.at))}`;
    }
    case "wrapText": {
      const close = op.open === "[" ? "]" : "}";
      return `${op.open.repeat(op.depth)}\n${text}\n${close.repeat(op.depth)}`;
    }
    case "blockNest": {
      // An indented mapping `depth` levels deep, inserted as a sibling of a key line.
      const keyed = lines.map((line, i) => ({ line, i })).filter(({ line }) => KEY_LINE.test(line));
      const { line, i } = keyed.length === 0 ? { line: "", i: lines.length - 1 } : keyed[op.pick % keyed.length]!;
      const match = KEY_LINE.exec(line);
      const indent = " ".repeat((match?.[1]?.length ?? 0) + (match?.[2]?.length ?? 0));
      const block: string[] = [];
      for (let d = 0; d < op.depth; d++) block.push(`${indent}${" ".repeat(d)}level${d}:${d === op.depth - 1 ? " leaf" : ""}`);
      lines.splice(i + 1, 0, ...block);
      return lines.join("\n");
    }
  }
}

interface Mutation {
  seed: number;
  structural: StructuralOp[];
  textual: TextOp[];
  platform: PlatformName;
}

const mutationArb: fc.Arbitrary<Mutation> = fc
  .record({
    seed: fc.nat({ max: SEEDS.length - 1 }),
    structural: fc.array(structuralOpArb, { maxLength: 2 }),
    textual: fc.array(textOpArb, { maxLength: 2 }),
    platform: fc.constantFrom(...PLATFORMS),
  })
  .filter((m) => m.structural.length + m.textual.length > 0);

function mutatedText(m: Mutation): string {
  const seed = SEEDS[m.seed]!;
  let text = seed.text;
  if (m.structural.length > 0 && seed.value !== undefined && seed.value !== null) {
    let value: unknown = structuredClone(seed.value);
    for (const op of m.structural) value = applyStructural(value, op);
    text = stringifyYaml(value, { aliasDuplicateObjects: false });
  }
  for (const op of m.textual) text = applyText(text, op);
  return text;
}

function describeMutation(m: Mutation): string {
  return `seed document ${SEEDS[m.seed]!.name}, platform ${m.platform}, mutations ${JSON.stringify([...m.structural, ...m.textual])}`;
}

// --- the properties -----------------------------------------------------------------------------

describe("validateText on mutated corpus documents", () => {
  if (CORPUS === undefined) missingShared("corpus");
  test("seeds are present", () => {
    expect(SEEDS.length).toBeGreaterThanOrEqual(3);
    // Every seed must itself validate cleanly in form (verdict + diagnostics), unmutated.
    for (const seed of SEEDS) validateChecked(seed.text, "linux", `unmutated ${seed.name}`);
  });

  test("never throws, never hangs, always a verdict with well-formed diagnostics", () => {
    let invalid = 0;
    let runs = 0;
    fc.assert(
      fc.property(mutationArb, (m) => {
        const text = mutatedText(m);
        const result = validateChecked(text, m.platform, describeMutation(m));
        runs++;
        if (!result.valid) invalid++;
      }),
      { seed: SEED, numRuns: 400, includeErrorInReport: true },
    );
    // Mutations that never break anything would test nothing.
    expect(invalid).toBeGreaterThan(runs / 4);
  }, 120_000);

  test("huge values (1–3 MB strings) are handled within the bound", () => {
    const hugeArb = fc.record({
      seed: fc.nat({ max: SEEDS.length - 1 }),
      pick: fc.nat(),
      unit: fc.constantFrom(...LONG_UNITS),
      megabytes: fc.double({ min: 1, max: 3, noNaN: true }),
      raw: fc.boolean(),
      platform: fc.constantFrom(...PLATFORMS),
    });
    fc.assert(
      fc.property(hugeArb, (h) => {
        const seed = SEEDS[h.seed]!;
        const length = Math.floor(h.megabytes * 1024 * 1024);
        const huge = realize({ kind: "long", unit: h.unit, length }) as string;
        let text: string;
        if (h.raw || seed.value === undefined || seed.value === null) {
          // Straight into the text: a plain scalar, a comment or a broken line, depending on the unit.
          const at = h.pick % (seed.text.length + 1);
          text = seed.text.slice(0, at) + huge + seed.text.slice(at);
        } else {
          const value = structuredClone(seed.value);
          const slots = slotsOf(value);
          if (slots.length > 0) setSlot(slots[h.pick % slots.length]!, huge);
          text = stringifyYaml(value, { aliasDuplicateObjects: false });
        }
        const what = `huge value: seed ${seed.name}, ${JSON.stringify({ ...h, length })}`;
        validateChecked(text, h.platform, what);
      }),
      { seed: SEED, numRuns: 8, endOnFailure: true, includeErrorInReport: true },
    );
  }, 120_000);
});

describe("awstoe validate on mutated documents (child process)", () => {
  test("exits 0 or 1 without an internal error or a stack trace", () => {
    const dir = mkdtempSync(join(tmpdir(), "opentoe-fuzz-"));
    try {
      const cases: { file: string; platform: PlatformName; what: string }[] = [];
      fc.sample(mutationArb, { seed: SEED, numRuns: 7 }).forEach((m, i) => {
        const file = join(dir, `mutated-${i}.yaml`);
        writeFileSync(file, mutatedText(m));
        cases.push({ file, platform: m.platform, what: describeMutation(m) });
      });
      // Raw bytes no string can hold: invalid UTF-8, NUL, a BOM in the middle.
      const byteArb = fc.record({ seed: fc.nat({ max: SEEDS.length - 1 }), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) });
      fc.sample(byteArb, { seed: SEED, numRuns: 3 }).forEach((b, i) => {
        const original = Buffer.from(SEEDS[b.seed]!.text, "utf8");
        const at = b.at % (original.length + 1);
        const file = join(dir, `bytes-${i}.yaml`);
        writeFileSync(file, Buffer.concat([original.subarray(0, at), Buffer.from(b.bytes), original.subarray(at)]));
        cases.push({ file, platform: "linux", what: `seed ${SEEDS[b.seed]!.name} with bytes [${[...b.bytes]}] at ${at}` });
      });
      const oversized = join(dir, "oversized.yaml");
      writeFileSync(oversized, `schemaVersion: 1.0\ndescription: ${"x".repeat(5 * 1024 * 1024)}\n`);
      cases.push({ file: oversized, platform: "linux", what: "a 5 MB document" });

      cases.forEach(({ file, platform, what }, i) => {
        const json = i % 2 === 1;
        const run = Bun.spawnSync([BUN, "src/main.ts", "validate", "--documents", file, "--platform", platform, ...(json ? ["--output", "json"] : [])], {
          cwd: ROOT,
          env: { ...process.env, NO_COLOR: "1" },
          stdout: "pipe",
          stderr: "pipe",
          timeout: 30_000,
        });
        const stdout = run.stdout.toString();
        const stderr = run.stderr.toString();
        const context = `${what}\nexit: ${run.exitCode} signal: ${run.signalCode}\nstderr: ${stderr.slice(0, 2000)}`;
        if (run.exitCode !== 0 && run.exitCode !== 1) throw new Error(`unexpected exit\n${context}`);
        if (/internal error/i.test(stderr)) throw new Error(`internal error reported\n${context}`);
        if (/^ {4}at \S/m.test(stderr)) throw new Error(`stack trace on stderr\n${context}`);
        if (json) {
          const body = JSON.parse(stdout) as { validationStatus: string };
          expect(body.validationStatus).toBe(run.exitCode === 0 ? "success" : "failed");
        } else {
          expect(stderr.trim()).not.toBe("");
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

// --- hostile inputs -----------------------------------------------------------------------------

function billionLaughs(): string {
  let text = `a0: &a0 [${Array(9).fill('"lol"').join(", ")}]\n`;
  for (let i = 1; i <= 9; i++) text += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(", ")}]\n`;
  return text;
}

function indentedMapping(levels: number): string {
  const lines: string[] = [];
  for (let i = 0; i < levels; i++) lines.push(`${" ".repeat(i)}k${i}:`);
  return `${lines.join("\n")} leaf\n`;
}

const STEP_PREFIX = "schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: s\n";

const hostile: { name: string; text: () => string; codes?: string[] }[] = [
  { name: "alias bomb (9 levels of 9 aliases)", text: billionLaughs, codes: ["E_YAML_ALIAS_LIMIT"] },
  { name: "100000 nested '['", text: () => "[".repeat(100_000), codes: ["E_YAML_TOO_DEEP"] },
  { name: "100000 nested '[' closed again", text: () => `a: ${"[".repeat(100_000)}${"]".repeat(100_000)}`, codes: ["E_YAML_TOO_DEEP"] },
  { name: "100000 nested '{'", text: () => "{a: ".repeat(100_000), codes: ["E_YAML_TOO_DEEP"] },
  { name: "5000-level indented mapping", text: () => indentedMapping(5000), codes: ["E_YAML_TOO_DEEP"] },
  { name: "5000-level block sequence on one line", text: () => `${"- ".repeat(5000)}x\n`, codes: ["E_YAML_TOO_DEEP"] },
  { name: "self-referencing alias in a list", text: () => "a: &a [*a]\n", codes: ["E_YAML_ALIAS_LIMIT"] },
  { name: "self-referencing alias in a mapping", text: () => "a: &a {b: *a}\n", codes: ["E_YAML_ALIAS_LIMIT"] },
  { name: "alias to no anchor", text: () => "a: *nowhere\n" },
  { name: "root is a list", text: () => "- schemaVersion: 1.0\n- phases: []\n", codes: ["E_NOT_A_MAPPING"] },
  { name: "root is a scalar", text: () => "hello\n", codes: ["E_NOT_A_MAPPING"] },
  { name: "root is a number", text: () => "1.0\n", codes: ["E_NOT_A_MAPPING"] },
  { name: "empty text", text: () => "", codes: ["E_NOT_A_MAPPING"] },
  { name: "only a comment", text: () => "# nothing here\n", codes: ["E_NOT_A_MAPPING"] },
  { name: "JSON document with an empty phase list", text: () => JSON.stringify({ schemaVersion: "1.0", phases: [] }, null, 2), codes: ["E_NO_PHASES"] },
  { name: "JSON text with a syntax error", text: () => '{"schemaVersion": "1.0", "phases": [ }', codes: ["E_YAML_SYNTAX"] },
  { name: "JSON array", text: () => '[{"schemaVersion": "1.0"}]', codes: ["E_NOT_A_MAPPING"] },
  { name: "two YAML documents", text: () => "schemaVersion: 1.0\n---\nschemaVersion: 1.0\n", codes: ["E_YAML_MULTI_DOCUMENT"] },
  { name: "201000 values without any alias", text: () => `schemaVersion: 1.0\nphases: [${Array(201_000).fill("1").join(",")}]\n` },
  // Super-linear corners: each is small (< 2 MB) and must still finish within the bound.
  // Alias expansion: one lookup per alias must not walk the whole document (parse.ts).
  { name: "12000 aliases of one anchor", text: () => `schemaVersion: 1.0\nx: &a v\nphases: [${Array(12_000).fill("*a").join(",")}]\n` },
  // The {{ reference }} scanner (expr/template.ts) must not backtrack over an unclosed '{{'.
  { name: "'{{' followed by 3500 spaces", text: () => `${STEP_PREFIX}        action: ExecuteBash\n        inputs:\n          commands: ["{{${" ".repeat(3500)}x"]\n` },
  // The number check of comparison operands (rules/condition.ts) must be linear in the operand.
  { name: "numberEquals operand of 60000 digits", text: () => `${STEP_PREFIX}        action: Assert\n        inputs:\n          numberEquals: "${"1".repeat(60_000)}x"\n          value: 1\n`, codes: ["E_CONDITION"] },
  // Duplicate phase names (rules/structure.ts) must be found without comparing every pair.
  {
    name: "45000 phases with distinct names",
    text: () => `schemaVersion: 1.0\nphases:\n${Array.from({ length: 45_000 }, (_, i) => `- {name: p${i}, steps: [x]}\n`).join("")}`,
  },
];

describe("validateText on hostile inputs", () => {
  test.each(hostile.map((h) => [h.name, h] as const))("%s: diagnostics within the bound", (_name, h) => {
    const text = h.text();
    const result = validateChecked(text, "linux", h.name);
    expect(result.diagnostics.length).toBeGreaterThan(0);
    if (h.codes !== undefined) {
      const codes = result.diagnostics.map((d) => d.code);
      expect(codes.some((c) => h.codes!.includes(c)), `codes ${JSON.stringify(codes.slice(0, 10))}`).toBe(true);
      expect(result.valid).toBe(false);
    }
  }, 120_000);

  test("a valid component written as JSON is accepted", () => {
    const doc = { schemaVersion: "1.0", phases: [{ name: "build", steps: [{ name: "s", action: "ExecuteBash", inputs: { commands: ["echo hi"] } }] }] };
    const result = validateChecked(JSON.stringify(doc), "linux", "JSON component");
    expect(result.diagnostics).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
