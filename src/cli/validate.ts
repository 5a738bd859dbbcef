/**
 * @module cli/validate: `awstoe validate` — check documents without running anything. Documents
 * may be local paths, s3:// URIs or Image Builder component ARNs (read as `run` reads them).
 */
import { defineCommand } from "citty";
import { createS3Port } from "../aws/s3.ts";
import { readRunConfig } from "../document/config.ts";
import type { SourceMap } from "../document/source-map.ts";
import { ExitCode, UsageError, type Diagnostic } from "../errors.ts";
import { documentLoader } from "../engine/document-sources.ts";
import { createLogger } from "../logs/logger.ts";
import { colorEnabled, paletteFor } from "../logs/terminal.ts";
import type { PlatformName } from "../modules/index.ts";
import { hostPlatform } from "../platform/host.ts";
import { documentsArgs, outputArgs, platformArgs, splitList, traceArgs } from "./_args.ts";
import { checkDocuments, type CheckedDocument } from "./_check-documents.ts";
import { renderDiagnostic } from "./_render.ts";

export const validateArgs = { ...documentsArgs, ...platformArgs, ...outputArgs, ...traceArgs } as const;

export default defineCommand({
  meta: { name: "validate", description: "Check component documents for every problem, without running them" },
  args: validateArgs,
  async run({ args }): Promise<number> {
    const log = createLogger({ trace: args.trace === true });
    const platform = (args.platform as PlatformName | undefined) ?? hostPlatform();
    const json = args.output === "json";
    const sources = documentSources(args.documents, args.config);
    if (!Array.isArray(sources)) return reportConfigFailure(json, platform, sources);
    const started = performance.now();
    const owner = args["document-s3-bucket-owner"];
    // The ports load the AWS SDK on first use only: local documents are validated without it.
    const load = documentLoader(createS3Port(), owner === undefined || owner === "" ? undefined : owner);
    const results = await checkDocuments({ sources, platform, color: !json && colorEnabled(process.stderr), load });
    log.debug(`${results.length} document(s) validated for ${platform} in ${(performance.now() - started).toFixed(1)} ms`);
    return report(json, platform, results);
  },
});

interface ConfigFailure {
  source: string;
  diagnostics: Diagnostic[];
  map?: SourceMap;
}

/** The documents to check, or the diagnostics of a config file that could not be used. */
function documentSources(documents: string | undefined, config: string | undefined): string[] | ConfigFailure {
  if ((documents === undefined) === (config === undefined)) {
    throw new UsageError("specify exactly one of --config or --documents", { hint: "e.g. awstoe validate --documents component.yaml" });
  }
  if (documents !== undefined) {
    const list = splitList(documents);
    if (list.some((item) => item === "")) {
      throw new UsageError(`--documents has an empty item: '${documents}'`, { hint: "separate paths with single commas, e.g. --documents a.yaml,b.yaml" });
    }
    return list;
  }
  const read = readRunConfig(config!);
  if (!read.ok) return { source: config!, diagnostics: read.diagnostics, ...(read.map ? { map: read.map } : {}) };
  return read.config.documents.map((d) => d.path);
}

function report(json: boolean, platform: PlatformName, results: CheckedDocument[]): number {
  const valid = results.every((r) => r.valid);
  if (json) writeJson(platform, valid, results);
  else process.stderr.write(`${results.map((r) => r.report).join("\n\n")}\n`);
  return valid ? ExitCode.ok : ExitCode.failed;
}

/** A config file that cannot be used is reported like a document: placed diagnostics, exit 1. */
function reportConfigFailure(json: boolean, platform: PlatformName, failure: ConfigFailure): number {
  const palette = paletteFor(process.stderr);
  const report = failure.diagnostics.map((d) => renderDiagnostic(d, failure.map, palette)).join("\n\n");
  if (json) writeJson(platform, false, [{ source: failure.source, valid: false, diagnostics: failure.diagnostics, report }]);
  else process.stderr.write(`${report}\n`);
  return ExitCode.failed;
}

function writeJson(platform: PlatformName, valid: boolean, results: CheckedDocument[]): void {
  const body = {
    validationStatus: valid ? "success" : "failed",
    platform,
    documents: results.map((r) => ({
      document: r.source,
      validationStatus: r.valid ? "success" : "failed",
      errors: messages(r.diagnostics, "error"),
      warnings: messages(r.diagnostics, "warning"),
      diagnostics: r.diagnostics,
    })),
  };
  process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
}

function messages(diagnostics: Diagnostic[], severity: Diagnostic["severity"]): string[] {
  return diagnostics
    .filter((d) => d.severity === severity)
    .map((d) => `${d.file}${d.line === undefined ? "" : `:${d.line}:${d.column}`}: ${d.message}`);
}
