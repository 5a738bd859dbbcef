/**
 * @module cli/_render: diagnostics as text a person reads — `file:line:col: error: …`, the
 * line with a caret under the problem, where it is in the document, and what to do. Pure.
 */
import type { SourceMap } from "../document/source-map.ts";
import type { ValidationResult } from "../document/validate.ts";
import type { Diagnostic } from "../errors.ts";
import type { Palette } from "../logs/terminal.ts";

const MAX_SNIPPET_WIDTH = 120;

/**
 * Text that came from the user (a path, an option's value, a document's key) made safe to print on
 * one terminal line: control characters are shown as escapes (`\n`, `\t`, `\x00`, `\x1b`,
 * `\u0085`), so a NUL, a newline or a terminal escape sequence in a value cannot cut the message,
 * forge another line or recolour the terminal. Line/paragraph separators and the bidirectional
 * overrides (which can make text read backwards) are escaped too. Backslashes are left alone:
 * Windows paths stay readable.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (ch) => {
    const named = NAMED_ESCAPES[ch];
    if (named !== undefined) return named;
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

// C0, DEL, C1, U+2028/2029, and the bidi embeddings/overrides/isolates (U+202A–202E, U+2066–2069).
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

export function renderDiagnostic(d: Diagnostic, map: SourceMap | undefined, c: Palette): string {
  const file = printable(d.file);
  const where = d.line === undefined ? file : `${file}:${d.line}:${d.column}`;
  const label = d.severity === "error" ? c.red(c.bold("error")) : c.yellow(c.bold("warning"));
  const lines = [`${c.bold(where)}: ${label}: ${printable(d.message)} ${c.dim(`[${d.code}]`)}`];
  if (map !== undefined && d.line !== undefined && d.column !== undefined) lines.push(...snippet(d, map, c));
  if (d.path !== "") lines.push(`${gutter(d.line)} ${c.dim("=")} at ${printable(d.path)}`);
  if (d.hint !== undefined) lines.push(`${gutter(d.line)} ${c.dim("=")} ${c.cyan("hint")}: ${printable(d.hint)}`);
  return lines.join("\n");
}

function gutter(line: number | undefined): string {
  return " ".repeat(String(line ?? 0).length + 2);
}

function snippet(d: Diagnostic, map: SourceMap, c: Palette): string[] {
  const line = d.line!;
  const width = String(line).length + 2;
  const out: string[] = [];
  const previous = line > 1 ? map.lineText(line - 1) : undefined;
  if (previous !== undefined && previous.trim() !== "") out.push(`${String(line - 1).padStart(width)} ${c.dim("|")} ${clip(previous, 0).text}`);
  const { text, shift } = clip(map.lineText(line), d.column! - 1);
  out.push(`${String(line).padStart(width)} ${c.dim("|")} ${text}`);
  const start = Math.max(0, d.column! - 1 - shift);
  const span = d.endLine === line && d.endColumn !== undefined ? Math.max(1, d.endColumn - d.column!) : 1;
  const caret = "^".repeat(Math.min(span, Math.max(1, text.length - start)));
  const colour = d.severity === "error" ? c.red : c.yellow;
  out.push(`${" ".repeat(width)} ${c.dim("|")} ${" ".repeat(start)}${colour(caret)}`);
  return out;
}

/**
 * Keeps long lines readable: cut to the width around the column, tabs shown as one space and any
 * other control character as one replacement character (one column each, so the caret stays
 * under the problem).
 */
function clip(text: string, column: number): { text: string; shift: number } {
  const flat = text.replace(/\t/g, " ").replace(CONTROL, "\ufffd");
  if (flat.length <= MAX_SNIPPET_WIDTH) return { text: flat, shift: 0 };
  const shift = Math.max(0, Math.min(column - 20, flat.length - MAX_SNIPPET_WIDTH));
  return { text: `${shift > 0 ? "…" : ""}${flat.slice(shift, shift + MAX_SNIPPET_WIDTH)}…`, shift: shift > 0 ? shift - 1 : 0 };
}

/** The whole report for one document: its diagnostics, then a one-line verdict. */
export function renderResult(result: ValidationResult, c: Palette): string {
  const parts = result.diagnostics.map((d) => renderDiagnostic(d, result.map, c));
  parts.push(verdict(result, c));
  return parts.join("\n\n");
}

export function verdict(result: ValidationResult, c: Palette): string {
  const errors = result.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = result.diagnostics.length - errors;
  const count = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (errors > 0) {
    return `${c.red("✖")} ${printable(result.source)}: ${count(errors, "error")}${warnings > 0 ? `, ${count(warnings, "warning")}` : ""}`;
  }
  const shape = describeShape(result.document);
  return `${c.green("✔")} ${printable(result.source)}: valid${shape}${warnings > 0 ? `, ${count(warnings, "warning")}` : ""}`;
}

function describeShape(doc: unknown): string {
  const phases = (doc as { phases?: { steps?: unknown[] }[] } | undefined)?.phases;
  if (!Array.isArray(phases)) return "";
  const steps = phases.reduce((n, p) => n + (Array.isArray(p?.steps) ? p.steps.length : 0), 0);
  return ` (${phases.length} phase${phases.length === 1 ? "" : "s"}, ${steps} step${steps === 1 ? "" : "s"})`;
}
