/**
 * @module cli/_check-documents: validate a batch of documents and render each one's report.
 * Documents are read through the same loader as `run` (local paths, s3://, component ARNs); the
 * AWS SDK is only loaded when a remote source is actually read.
 *
 * Measured and rejected: sharing a batch across worker threads. Inside the compiled binary a
 * worker costs more to start and stop (~100 ms) than it saves on the 121-document corpus, whose
 * validation is dominated by the YAML parser running cold (see scripts/bench-validate.ts).
 */
import type { LoadResult } from "../document/load.ts";
import { validateText, type ValidationResult } from "../document/validate.ts";
import type { Diagnostic } from "../errors.ts";
import { ansiPalette, plainPalette } from "../logs/terminal.ts";
import type { PlatformName } from "../model/platform.ts";
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
  /** Action modules the documents may not use (--blocked-action-modules). */
  blockedModules?: readonly string[];
  /** Reads one source: engine/document-sources' loader, as `run` uses it. */
  load(source: string): LoadResult | Promise<LoadResult>;
}

/** Results in the order of `request.sources`; sources are read one after another. */
export async function checkDocuments(request: CheckRequest): Promise<CheckedDocument[]> {
  const palette = request.color ? ansiPalette : plainPalette;
  const checked: CheckedDocument[] = [];
  for (const source of request.sources) {
    const loaded = await request.load(source);
    let result: ValidationResult;
    if (loaded.ok) {
      const blocked = request.blockedModules ? { blockedModules: request.blockedModules } : {};
      result = validateText(loaded.text, source, { platform: request.platform, ...blocked });
    } else {
      result = { source, valid: false, diagnostics: [loaded.diagnostic] };
    }
    checked.push({ source, valid: result.valid, diagnostics: result.diagnostics, report: renderResult(result, palette) });
  }
  return checked;
}
