/**
 * @module lsp/yaml-outline: where the cursor is in a block-style YAML document, read from the lines
 * and their indentation alone. While someone types, the text is often not valid YAML (a key
 * without a value yet, an open quote), so completion cannot wait for a parse: this answers "which
 * keys lead here, am I writing a key or a value, which keys does this mapping already have" from
 * the text as it is. Flow style (`{ a: b }`) is not followed; component documents rarely use it.
 */

export interface Level {
  /** How many keys of Outline.path lead to this mapping. */
  depth: number;
  /** Column of this mapping's keys. */
  column: number;
  /** A line of that mapping (for sibling lookups). */
  line: number;
}

export interface Outline {
  /** Keys from the top down to the mapping the cursor is in; a list item is "-". */
  path: string[];
  /** The mappings from the cursor's own outwards. */
  levels: Level[];
  /** Writing a key, or the value of `key`. */
  position: "key" | "value";
  key: string | undefined;
  /** The word being typed, and the character where it starts. */
  prefix: string;
  prefixStart: number;
}

/** Content of one line: its key column (after `- ` markers), dash column, key and inline value. */
interface LineShape {
  indent: number;
  /** Column where the first key starts (after any `- `). */
  keyColumn: number;
  /** Column of the last `- ` marker, when the line starts a list item. */
  dashColumn: number | undefined;
  key: string | undefined;
  value: string;
}

const KEY_LINE = /^([\w.$-]+|"[^"]*"|'[^']*')\s*:(?:\s+|$)(.*)$/;

function shape(line: string): LineShape | undefined {
  const indent = line.length - line.trimStart().length;
  let rest = line.slice(indent);
  if (rest === "" || rest.startsWith("#")) return undefined;
  let keyColumn = indent;
  let dashColumn: number | undefined;
  while (/^-(\s|$)/.test(rest)) {
    dashColumn = keyColumn;
    const after = rest.slice(1);
    const spaces = after.length - after.trimStart().length;
    keyColumn += 1 + spaces;
    rest = after.trimStart();
  }
  const match = KEY_LINE.exec(rest);
  return { indent, keyColumn, dashColumn, key: match === null ? undefined : unquote(match[1]!), value: match === null ? rest : match[2]!.replace(/\s+#.*$/, "") };
}

function unquote(key: string): string {
  return /^["'].*["']$/.test(key) ? key.slice(1, -1) : key;
}

/**
 * The place of (line, character): walking up from the cursor, each line that starts further left
 * with a key opens the mapping below it, and a `- ` at the mapping's column starts a list item.
 */
export function outline(lines: readonly string[], line: number, character: number): Outline {
  const before = (lines[line] ?? "").slice(0, character);
  const valueMatch = /^\s*(?:-\s+)*([\w.$-]+|"[^"]*"|'[^']*')\s*:(?:\s+(.*))?$/.exec(before);
  const position: "key" | "value" = valueMatch !== null ? "value" : "key";
  const key = valueMatch === null ? undefined : unquote(valueMatch[1]!);
  const word = /[\w.$-]*$/.exec(before)![0];
  const path: string[] = [];
  // Each mapping with how many keys of `path` lie below it (its depth is fixed once path is complete).
  const found: { inner: number; column: number; line: number }[] = [{ inner: 0, column: keyColumnOf(before), line }];
  let current = found[0]!.column;
  let inList = false;
  for (let at = line - 1; at >= 0 && (current > 0 || inList); at--) {
    const above = shape(lines[at]!);
    if (above === undefined) continue;
    if (!inList && above.keyColumn === current && above.dashColumn !== undefined) {
      // The list item holding the mapping starts here; the list's own key is further up.
      path.unshift("-");
      current = above.dashColumn;
      inList = true;
      continue;
    }
    const opens = above.key !== undefined && (above.keyColumn < current || (inList && above.keyColumn === current && above.dashColumn === undefined));
    if (!opens) continue;
    path.unshift(above.key!);
    inList = false;
    current = above.keyColumn;
    found.push({ inner: path.length, column: current, line: at });
    // This key may itself be the first of a list item (`- steps:`): look at the same line again.
    if (above.dashColumn !== undefined) at++;
  }
  const levels = found.map((f) => ({ depth: path.length - f.inner, column: f.column, line: f.line }));
  return { path, levels, position, key, prefix: word, prefixStart: character - word.length };
}

/** The column a key typed at the end of `before` starts at: after the indentation and any `- `. */
function keyColumnOf(before: string): number {
  const marker = /^(\s*(?:-\s+)*)/.exec(before)![1]!;
  return marker.length;
}

/**
 * The keys of the mapping whose keys sit at `column` and that includes line `line`, with their
 * inline values: what the mapping already has, and its `action:` or `name:`.
 */
export function siblings(lines: readonly string[], line: number, column: number): Map<string, { value: string; line: number }> {
  const found = new Map<string, { value: string; line: number }>();
  const take = (at: number): boolean => {
    const s = shape(lines[at]!);
    if (s === undefined) return true;
    if (s.keyColumn === column && s.key !== undefined && !found.has(s.key)) found.set(s.key, { value: s.value, line: at });
    return s.keyColumn >= column || (s.dashColumn !== undefined && s.keyColumn === column);
  };
  for (let at = line; at >= 0; at--) {
    const s = shape(lines[at]!);
    if (!take(at)) break;
    if (s !== undefined && s.dashColumn !== undefined && s.keyColumn === column) break; // the item's first line
  }
  for (let at = line + 1; at < lines.length; at++) {
    const s = shape(lines[at]!);
    if (s !== undefined && (s.indent < column || (s.dashColumn !== undefined && s.dashColumn < column))) break;
    take(at);
  }
  return found;
}

/** The mapping one level under `key` at line `line` (its first non-blank line below). */
export function childColumn(lines: readonly string[], line: number): { line: number; column: number } | undefined {
  for (let at = line + 1; at < lines.length; at++) {
    const s = shape(lines[at]!);
    if (s !== undefined) return { line: at, column: s.keyColumn };
  }
  return undefined;
}

/** A scalar written inline, without quotes or a trailing comment. */
export function inlineValue(value: string): string {
  const trimmed = value.trim();
  return /^["'].*["']$/.test(trimmed) ? trimmed.slice(1, -1) : trimmed;
}
