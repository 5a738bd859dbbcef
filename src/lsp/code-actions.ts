/**
 * @module lsp/code-actions: quick fixes — a diagnostic whose message says "did you mean X" has its
 * range replaced by X (Diagnostic.suggestion, carried in the LSP diagnostic's `data`).
 */
import { CodeActionKind, type CodeAction, type Diagnostic } from "vscode-languageserver";
import { SOURCE, type FixData } from "./diagnostics.ts";

export function quickFixes(uri: string, diagnostics: readonly Diagnostic[]): CodeAction[] {
  return diagnostics.flatMap((diagnostic) => {
    const suggestion = (diagnostic.data as Partial<FixData> | undefined)?.suggestion;
    if (diagnostic.source !== SOURCE || typeof suggestion !== "string") return [];
    return [{
      title: `Change to '${suggestion}'`,
      kind: CodeActionKind.QuickFix,
      diagnostics: [diagnostic],
      isPreferred: true,
      edit: { changes: { [uri]: [{ range: diagnostic.range, newText: suggestion }] } },
    }];
  });
}
