/**
 * @module document/parse: YAML (or JSON) text → plain data plus a source map.
 *
 * We walk the `yaml` package's node tree ourselves rather than calling toJS(), so that every value
 * keeps its position, numbers keep the text the author wrote, aliases are expanded under a budget
 * (no "billion laughs"), and nesting is bounded (no stack exhaustion).
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, type Document, type Node as YamlNode } from "yaml";
import type { Diagnostic, DiagnosticCode, Path } from "../errors.ts";
import { SourceMap } from "./source-map.ts";

/** Deepest nesting of mappings and lists we accept. Real components use fewer than 12 levels. */
export const MAX_NESTING = 64;
/** Most values one document may expand to through aliases. */
export const MAX_EXPANDED_NODES = 200_000;

export interface ParsedText {
  value: unknown;
  map: SourceMap;
  diagnostics: Diagnostic[];
}

class ParseLimit extends Error {
  constructor(
    readonly code: DiagnosticCode,
    message: string,
    readonly range: [number, number] | undefined,
  ) {
    super(message);
  }
}

export function parseYamlText(text: string, file: string): ParsedText {
  const map = new SourceMap(text);
  const diagnostics: Diagnostic[] = [];
  const report = (code: DiagnosticCode, message: string, range: [number, number] | undefined, hint?: string) => {
    const position = range === undefined ? undefined : map.position(range[0], Math.max(range[1], range[0] + 1));
    diagnostics.push({ code, severity: "error", message, file, path: "", ...(hint === undefined ? {} : { hint }), ...position });
  };

  const tooDeep = flowNestingBeyond(text, MAX_NESTING);
  if (tooDeep !== undefined) {
    report("E_YAML_TOO_DEEP", `nesting is deeper than ${MAX_NESTING} levels`, [tooDeep, tooDeep + 1], "component documents never nest this deep; check the brackets");
    return { value: undefined, map, diagnostics };
  }

  let documents: Document.Parsed[];
  try {
    documents = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false, strict: true }) as Document.Parsed[];
    if (!Array.isArray(documents)) documents = [documents];
  } catch (error) {
    report("E_YAML_TOO_DEEP", `document could not be parsed: ${(error as Error).message}`, undefined);
    return { value: undefined, map, diagnostics };
  }
  const contentful = documents.filter((d) => d.contents !== null || d.errors.length > 0);
  if (contentful.length > 1) {
    const second = contentful[1]!;
    report("E_YAML_MULTI_DOCUMENT", "file holds more than one YAML document; a component is exactly one", second.range ? [second.range[0], second.range[0] + 3] : undefined, "remove the second '---' section or move it to its own file");
  }
  const doc = contentful[0] ?? documents[0];
  if (doc === undefined) return { value: undefined, map, diagnostics };
  for (const error of doc.errors) {
    const code: DiagnosticCode = error.code === "DUPLICATE_KEY" ? "E_YAML_DUPLICATE_KEY" : error.message.includes("call stack") ? "E_YAML_TOO_DEEP" : "E_YAML_SYNTAX";
    const message = code === "E_YAML_DUPLICATE_KEY" ? "this key appears twice in the same mapping" : `document is not valid YAML: ${cleanYamlMessage(error.message)}`;
    const line = map.lineText(map.lineColumn(error.pos[0]).line);
    report(code, message, error.pos, code === "E_YAML_DUPLICATE_KEY" ? "remove or rename one of the two" : yamlHint(error.code, line));
  }
  if (doc.errors.length > 0) return { value: undefined, map, diagnostics };

  const walk: Walk = { nodes: 0, aliases: 0, anchors: new Map(), resolving: new Set() };
  try {
    const value = convert(doc.contents as YamlNode | null, [], undefined, map, walk, 0);
    return { value, map, diagnostics };
  } catch (error) {
    if (!(error instanceof ParseLimit)) throw error;
    report(error.code, error.message, error.range, error.code === "E_YAML_ALIAS_LIMIT" ? "expand the aliases by hand, or use fewer of them" : undefined);
    return { value: undefined, map, diagnostics };
  }
}

/** State of one conversion: the value budget, anchors seen so far, aliases being expanded. */
interface Walk {
  nodes: number;
  aliases: number;
  /** Anchors in document order; a later anchor of the same name wins, as in YAML. */
  anchors: Map<string, YamlNode>;
  resolving: Set<YamlNode>;
}

function convert(node: YamlNode | null, path: Path, keyRange: [number, number] | undefined, map: SourceMap, walk: Walk, depth: number): unknown {
  if (++walk.nodes > MAX_EXPANDED_NODES) {
    throw walk.aliases > 0
      ? new ParseLimit("E_YAML_ALIAS_LIMIT", `document expands to more than ${MAX_EXPANDED_NODES} values through aliases`, rangeOf(node))
      : new ParseLimit("E_SOURCE_TOO_LARGE", `document holds more than ${MAX_EXPANDED_NODES} values`, rangeOf(node));
  }
  if (depth > MAX_NESTING) throw new ParseLimit("E_YAML_TOO_DEEP", `nesting is deeper than ${MAX_NESTING} levels`, rangeOf(node));
  if (node === null) {
    map.set(path, { ...(keyRange ? { key: keyRange } : {}), value: keyRange ?? [0, 0] });
    return null;
  }
  if (isAlias(node)) {
    // Looked up in our own map: the yaml package's resolve() searches the whole document per alias.
    const target = walk.anchors.get(node.source);
    if (target === undefined) throw new ParseLimit("E_YAML_SYNTAX", `alias *${node.source} refers to no anchor`, rangeOf(node));
    if (walk.resolving.has(target)) throw new ParseLimit("E_YAML_ALIAS_LIMIT", `alias *${node.source} refers to itself`, rangeOf(node));
    walk.aliases++;
    walk.resolving.add(target);
    try {
      const value = convert(target, path, keyRange, map, walk, depth);
      map.set(path, { ...(keyRange ? { key: keyRange } : {}), value: rangeOf(node) ?? [0, 0] });
      return value;
    } finally {
      walk.resolving.delete(target);
    }
  }
  const anchor = (node as { anchor?: string }).anchor;
  if (anchor !== undefined) walk.anchors.set(anchor, node);
  const range = rangeOf(node) ?? keyRange ?? [0, 0];
  if (isScalar(node)) {
    const value = node.value;
    const keepSource = typeof value === "number" || typeof value === "boolean" || typeof value === "bigint";
    const source = keepSource && node.source !== undefined ? String(node.source) : undefined;
    map.set(path, { ...(keyRange ? { key: keyRange } : {}), value: range, ...(source === undefined ? {} : { source }) });
    if (typeof value === "bigint") return Number(value);
    if (value instanceof Date) return node.source;
    return value;
  }
  map.set(path, { ...(keyRange ? { key: keyRange } : {}), value: range });
  if (isSeq(node)) {
    return node.items.map((item, index) =>
      convert(item as YamlNode | null, [...path, index], undefined, map, walk, depth + 1),
    );
  }
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      if (keyNode !== null && !isScalar(keyNode)) {
        throw new ParseLimit("E_YAML_SYNTAX", "mapping keys must be plain words, not lists or mappings", rangeOf(keyNode));
      }
      const key = keyNode === null ? "" : String(keyNode.source ?? keyNode.value);
      const childRange = keyNode === null ? undefined : rangeOf(keyNode);
      Object.defineProperty(out, key, {
        value: convert(pair.value as YamlNode | null, [...path, key], childRange, map, walk, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  throw new ParseLimit("E_YAML_SYNTAX", "this YAML construct is not supported in component documents", range);
}

function rangeOf(node: YamlNode | null | undefined): [number, number] | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range ? [range[0], range[1]] : undefined;
}

/**
 * Offset where bracket nesting first exceeds `limit`, ignoring quoted text and comments. Checked
 * before parsing because the YAML parser recurses once per bracket.
 */
function flowNestingBeyond(text: string, limit: number): number | undefined {
  if (countOpeningBrackets(text, limit) <= limit) return undefined;
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote !== undefined) {
      if (ch === "\\" && quote === '"') i++;
      else if (ch === quote) quote = undefined;
      else if (ch === "\n" && depth === 0) quote = undefined;
      continue;
    }
    if (ch === "\n" && depth === 0) continue;
    if (ch === "#" && (i === 0 || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end - 1;
      continue;
    }
    if ((ch === '"' || ch === "'") && depth > 0) quote = ch;
    else if (ch === "[" || ch === "{") {
      if (++depth > limit) return i;
    } else if ((ch === "]" || ch === "}") && depth > 0) depth--;
    else if (ch === "\n") {
      // A bracket inside a plain scalar (`if [ -f x ]`) never spans lines in block context.
      const next = text.slice(i + 1, i + 2);
      if (next !== " " && next !== "\t" && next !== "]" && next !== "}") depth = 0;
    }
  }
  return undefined;
}

/** Number of `[` and `{` in the text, counting no further than just past `limit`. */
function countOpeningBrackets(text: string, limit: number): number {
  let count = 0;
  for (const bracket of ["[", "{"]) {
    for (let at = text.indexOf(bracket); at !== -1 && count <= limit; at = text.indexOf(bracket, at + 1)) count++;
  }
  return count;
}

function cleanYamlMessage(message: string): string {
  return message.replace(/\s+at line \d+, column \d+:?[\s\S]*$/, "").replace(/\.$/, "");
}

function yamlHint(code: string, line: string): string | undefined {
  if (line.includes("{{")) return "quote values that contain {{ … }}, e.g. '{{ Name }}' or \"echo {{ Name }}\"";
  if (code === "BAD_INDENT" || code === "MISSING_CHAR") return "check the indentation of this line against the lines above";
  if (code === "TAB_AS_INDENT") return "indent with spaces; YAML does not allow tabs for indentation";
  if (code === "BLOCK_AS_IMPLICIT_KEY" || code === "MULTILINE_IMPLICIT_KEY") return "a value that starts with { or contains ': ' must be quoted";
  return undefined;
}
