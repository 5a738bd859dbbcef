/**
 * @module document/source-map: where each value of a parsed document came from, so every
 * diagnostic can name its line and column and show the line with a caret.
 */
import type { Path } from "../errors.ts";

export interface Position {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

interface Entry {
  /** Offsets of the mapping key that introduced this value, when there is one. */
  key?: [number, number];
  /** Offsets of the value itself. */
  value: [number, number];
  /** The text the author wrote, for scalars whose parsed value lost it (1.0 → 1). */
  source?: string;
}

export function pathKey(path: Path): string {
  return path.join("\u0000");
}

export class SourceMap {
  private readonly entries = new Map<string, Entry>();
  private starts: number[] | undefined;

  constructor(readonly text: string) {}

  /** Offsets where lines begin; computed on first use (valid documents rarely need them). */
  private get lineStarts(): number[] {
    if (this.starts === undefined) {
      this.starts = [0];
      for (let at = this.text.indexOf("\n"); at !== -1; at = this.text.indexOf("\n", at + 1)) this.starts.push(at + 1);
    }
    return this.starts;
  }

  set(path: Path, entry: Entry): void {
    this.entries.set(pathKey(path), entry);
  }

  /** Offsets of the value at `path` and of the key that introduced it, when the path exists (editors: `awstoe lsp`). */
  range(path: Path): { key?: [number, number]; value: [number, number] } | undefined {
    const entry = this.entries.get(pathKey(path));
    return entry === undefined ? undefined : { ...(entry.key === undefined ? {} : { key: entry.key }), value: entry.value };
  }

  /** The author's text for a scalar at `path` (e.g. "1.0", "0755"), when it was a number or boolean. */
  sourceText(path: Path): string | undefined {
    return this.entries.get(pathKey(path))?.source;
  }

  /**
   * Position of the value at `path` (or its key). Walks up to the nearest known ancestor, so a
   * missing field is reported at the mapping that lacks it. `needle` narrows to a substring.
   */
  locate(path: Path, at: "key" | "value" = "value", needle?: string): Position | undefined {
    for (let depth = path.length; depth >= 0; depth--) {
      const entry = this.entries.get(pathKey(path.slice(0, depth)));
      if (entry === undefined) continue;
      let [start, end] = at === "key" && entry.key !== undefined && depth === path.length ? entry.key : entry.value;
      if (depth < path.length && entry.key !== undefined) [start, end] = entry.key;
      if (needle !== undefined && depth === path.length) {
        const found = this.text.slice(start, end).indexOf(needle);
        if (found >= 0) {
          start += found;
          end = start + needle.length;
        }
      }
      return this.position(start, end);
    }
    return undefined;
  }

  /** Offsets → 1-based line/column; a multi-line range is cut to its first line. */
  position(start: number, end: number): Position {
    const from = this.lineColumn(start);
    const lineEnd = this.text.indexOf("\n", start);
    const clippedEnd = lineEnd >= 0 && end > lineEnd ? Math.max(lineEnd, start + 1) : Math.max(end, start + 1);
    const to = this.lineColumn(clippedEnd);
    return { line: from.line, column: from.column, endLine: to.line, endColumn: to.column };
  }

  lineColumn(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
  }

  /** The text of a 1-based line, without its newline. */
  lineText(line: number): string {
    const start = this.lineStarts[line - 1];
    if (start === undefined) return "";
    const end = this.lineStarts[line] ?? this.text.length + 1;
    return this.text.slice(start, end - 1).replace(/\r$/, "");
  }
}
