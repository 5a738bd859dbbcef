/**
 * @module cli/_github: `validate --output github` — one GitHub Actions workflow command per
 * diagnostic (`::error file=…,line=…,col=…,title=CODE::message — hint`), so a workflow step's
 * problems appear as annotations on the files and lines they are about (docs/cli.md §12).
 * Pure: results in, text out.
 */
import type { Diagnostic } from "../errors.ts";
import type { CheckedDocument } from "./_check-documents.ts";

/** The message a CI annotation or SARIF result shows: the message, then the hint when there is one. */
export function messageWithHint(d: Diagnostic): string {
  return d.hint === undefined || d.hint === "" ? d.message : `${d.message} — ${d.hint}`;
}

/** Escaping of a workflow command's message (the text after `::`), as GitHub's toolkit does it. */
export function escapeData(text: string): string {
  return text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

/** Escaping of a property value (`file=`, `title=`): the message's, plus `:` and `,`. */
export function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

/** One workflow command; a diagnostic without a line is annotated on the file alone. */
export function githubAnnotation(d: Diagnostic): string {
  const properties = [`file=${escapeProperty(d.file)}`];
  if (d.line !== undefined) {
    properties.push(`line=${d.line}`);
    if (d.column !== undefined) properties.push(`col=${d.column}`);
  }
  properties.push(`title=${escapeProperty(d.code)}`);
  return `::${d.severity} ${properties.join(",")}::${escapeData(messageWithHint(d))}`;
}

/** Every document's diagnostics, in order, one command a line; "" when there are none. */
export function renderGithub(results: readonly CheckedDocument[]): string {
  const lines = results.flatMap((r) => r.diagnostics.map(githubAnnotation));
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
