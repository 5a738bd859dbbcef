/**
 * @module lsp/diagnostics: the validator's diagnostics as LSP diagnostics — same code, message and
 * position as `awstoe validate` prints (its 1-based line/column become 0-based), the hint on a
 * second line, warnings as warnings, and the did-you-mean replacement kept in `data` for the quick
 * fix (lsp/code-actions.ts).
 */
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic } from "vscode-languageserver";
import type { Diagnostic } from "../errors.ts";

export const SOURCE = "awstoe";

/** What a diagnostic carries for its quick fix. */
export interface FixData {
  suggestion: string;
}

export function toLspDiagnostic(d: Diagnostic): LspDiagnostic {
  const line = Math.max(0, (d.line ?? 1) - 1);
  const character = Math.max(0, (d.column ?? 1) - 1);
  const endLine = d.endLine === undefined ? line : d.endLine - 1;
  const endCharacter = d.endColumn === undefined ? character + 1 : d.endColumn - 1;
  return {
    range: { start: { line, character }, end: { line: endLine, character: endCharacter } },
    severity: d.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: d.code,
    source: SOURCE,
    message: d.hint === undefined || d.hint === "" ? d.message : `${d.message}\n${d.hint}`,
    ...(d.suggestion === undefined ? {} : { data: { suggestion: d.suggestion } satisfies FixData }),
  };
}
