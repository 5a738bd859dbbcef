/**
 * @module cli/_check-documents: validate a batch of documents and render each one's report.
 *
 * Measured and rejected: sharing a batch across worker threads. Inside the compiled binary a
 * worker costs more to start and stop (~100 ms) than it saves on the 121-document corpus, whose
 * validation is dominated by the YAML parser running cold (see scripts/bench-validate.ts).
 */
import { validateSource } from "../document/validate.ts";
import type { Diagnostic } from "../errors.ts";
import { ansiPalette, plainPalette } from "../logs/terminal.ts";
import type { PlatformName } from "../modules/index.ts";
import { renderResult } from "./_render.ts";

export interface CheckedDocument {
  source: string;
  valid: boolean;
  diagnostics: Diagnostic[];
  /** The human report (diagnostics with snippets and the verdict line). */
  report: string;
}

export interface CheckRequest {
  sources: string[];
  platform: PlatformName;
  color: boolean;
}

/** Results in the order of `request.sources`. */
export function checkDocuments(request: CheckRequest): CheckedDocument[] {
  const palette = request.color ? ansiPalette : plainPalette;
  return request.sources.map((source) => {
    const result = validateSource(source, { platform: request.platform });
    return { source, valid: result.valid, diagnostics: result.diagnostics, report: renderResult(result, palette) };
  });
}
