/** @module cli/validate: `awstoe validate` — check documents without running anything. */
import { defineCommand } from "citty";
import { readRunConfig } from "../document/config.ts";
import { validateSource, type ValidationResult } from "../document/validate.ts";
import { ExitCode, UsageError, type Diagnostic } from "../errors.ts";
import { createLogger } from "../logs/logger.ts";
import { paletteFor } from "../logs/terminal.ts";
import type { PlatformName } from "../modules/index.ts";
import { hostPlatform } from "../platform/host.ts";
import { documentsArgs, outputArgs, platformArgs, splitList, traceArgs } from "./_args.ts";
import { renderDiagnostic, renderResult } from "./_render.ts";

export const validateArgs = { ...documentsArgs, ...platformArgs, ...outputArgs, ...traceArgs } as const;

export default defineCommand({
  meta: { name: "validate", description: "Check component documents for every problem, without running them" },
  args: validateArgs,
  run({ args }): number {
    const log = createLogger({ trace: args.trace === true });
    const platform = (args.platform as PlatformName | undefined) ?? hostPlatform();
    const json = args.output === "json";
    const sources = documentSources(args.documents, args.config);
    if (!Array.isArray(sources)) return report(json, platform, [], sources);
    const started = performance.now();
    const results = sources.map((source) => {
      const t = performance.now();
      const result = validateSource(source, { platform });
      log.debug(`validated ${source} for ${platform} in ${(performance.now() - t).toFixed(1)} ms: ${result.diagnostics.length} diagnostics`);
      return result;
    });
    log.debug(`${results.length} document(s) in ${(performance.now() - started).toFixed(1)} ms`);
    return report(json, platform, results);
  },
});

/** The documents to check, or the diagnostics of a config file that could not be used. */
function documentSources(documents: string | undefined, config: string | undefined): string[] | ValidationResult {
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
  if (!read.ok) return { source: config!, valid: false, diagnostics: read.diagnostics, ...(read.map ? { map: read.map } : {}) };
  return read.config.documents.map((d) => d.path);
}

function report(json: boolean, platform: PlatformName, results: ValidationResult[], configFailure?: ValidationResult): number {
  const all = configFailure === undefined ? results : [configFailure];
  const valid = all.every((r) => r.valid);
  if (json) {
    const body = {
      validationStatus: valid ? "success" : "failed",
      platform,
      documents: all.map((r) => ({
        document: r.source,
        validationStatus: r.valid ? "success" : "failed",
        errors: messages(r.diagnostics, "error"),
        warnings: messages(r.diagnostics, "warning"),
        diagnostics: r.diagnostics,
      })),
    };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else {
    const palette = paletteFor(process.stderr);
    const text = configFailure !== undefined
      ? configFailure.diagnostics.map((d) => renderDiagnostic(d, configFailure.map, palette)).join("\n\n")
      : all.map((r) => renderResult(r, palette)).join("\n\n");
    process.stderr.write(`${text}\n`);
  }
  return valid ? ExitCode.ok : ExitCode.failed;
}

function messages(diagnostics: Diagnostic[], severity: Diagnostic["severity"]): string[] {
  return diagnostics
    .filter((d) => d.severity === severity)
    .map((d) => `${d.file}${d.line === undefined ? "" : `:${d.line}:${d.column}`}: ${d.message}`);
}
