/**
 * @module cli/validate: `awstoe validate` — check documents without running anything. Documents
 * may be local paths, s3:// URIs or Image Builder component ARNs (read as `run` reads them).
 * --output picks what stdout gets: the result (text), every diagnostic (json), GitHub Actions
 * annotations (github) or a SARIF log (sarif); the human report goes to stderr except with json.
 */
import { defineCommand } from "citty";
import { createS3Port } from "../aws/s3.ts";
import { readRunConfig, type ConfigProblem } from "../document/config.ts";
import { ExitCode, printedDiagnostic, UsageError, type Diagnostic } from "../errors.ts";
import { documentLoader } from "../engine/document-sources.ts";
import { colorEnabled, paletteFor } from "../logs/terminal.ts";
import type { PlatformName } from "../model/platform.ts";
import { hostPlatform } from "../platform/host.ts";
import {
  blockedModulesArgs, blockedModulesFromConfig, blockedModulesFromFlag, documentsArgs, osPlatformsArgs, platformArgs, requireDocumentsOrConfig, splitList, traceArgs, validateOutputArgs,
} from "./_args.ts";
import { checkDocuments, type CheckedDocument } from "./_check-documents.ts";
import { renderGithub } from "./_github.ts";
import { stderrTerminal, writeErr, writeOut } from "./_out.ts";
import { renderDiagnostic } from "./_render.ts";
import { renderSarif } from "./_sarif.ts";

export const validateArgs = {
  ...documentsArgs,
  // `awstoe validate -d *.yaml`: the shell hands over one word per file; they are documents too.
  more: { type: "positional", required: false, valueHint: "document…", description: "More documents, as a shell pattern expands them (awstoe validate -d *.yaml)" },
  ...platformArgs,
  ...osPlatformsArgs,
  ...blockedModulesArgs,
  ...validateOutputArgs,
  ...traceArgs,
} as const;

export default defineCommand({
  meta: { name: "validate", description: "Check component documents for every problem, without running them" },
  args: validateArgs,
  async run({ args }): Promise<number> {
    const platform = platformOf(args.platform, args["os-platforms"]);
    const format: OutputFormat = args.output;
    const flagBlocked = blockedModulesFromFlag(args["blocked-action-modules"]);
    const sources = documentSources(withPlainDocuments(args.documents, args._, args.config), args.config, flagBlocked);
    if (!("sources" in sources)) return reportConfigFailure(format, platform, sources);
    const blockedModules = sources.blockedModules;
    const started = performance.now();
    const owner = args["document-s3-bucket-owner"];
    // The ports load the AWS SDK on first use only: local documents are validated without it.
    const load = documentLoader(createS3Port(), owner === undefined || owner === "" ? undefined : owner);
    const results = await checkDocuments({ sources: sources.sources, platform, color: format !== "json" && colorEnabled(stderrTerminal()), load, ...(blockedModules.length > 0 ? { blockedModules } : {}) });
    // consola is loaded only for --trace: building it costs a validate of a small document ~6 ms.
    if (args.trace === true) {
      const { createLogger } = await import("../logs/logger.ts");
      createLogger({ trace: true }).debug(`${results.length} document(s) validated for ${platform} in ${(performance.now() - started).toFixed(1)} ms`);
    }
    return report(format, platform, results);
  },
});

/**
 * Plain words after the options are more documents: `-d a.yaml b.yaml c.yaml` as a shell expands
 * `-d *.yaml`, or no -d at all. They join --documents' list (commas work as before).
 */
function withPlainDocuments(documents: string | undefined, plain: readonly string[], config: string | undefined): string | undefined {
  if (plain.length === 0) return documents;
  if (config !== undefined) throw new UsageError(`unexpected argument '${plain[0]}' with --config`, { hint: "documents come from the config file; give them with --documents instead" });
  return [documents, ...plain].filter((item): item is string => item !== undefined && item !== "").join(",");
}

/** --platform or its other spelling --os-platforms (darwin = macos); both given must agree. */
function platformOf(platform: string | undefined, osPlatforms: string | undefined): PlatformName {
  const other = osPlatforms === "darwin" ? "macos" : osPlatforms;
  if (platform !== undefined && other !== undefined && platform !== other) {
    throw new UsageError(`--platform ${platform} and --os-platforms ${osPlatforms} disagree`, { hint: "give one of them" });
  }
  return ((platform ?? other) as PlatformName | undefined) ?? hostPlatform();
}

/**
 * The documents to check and the modules they may not use (the command line's list, else the
 * config file's), or the diagnostics of a config file that could not be used.
 */
function documentSources(documents: string | undefined, config: string | undefined, blocked: string[] | undefined): { sources: string[]; blockedModules: string[] } | ConfigProblem {
  requireDocumentsOrConfig(documents, config, "validate");
  if (documents !== undefined) {
    const list = splitList(documents);
    if (list.some((item) => item === "")) {
      throw new UsageError(`--documents has an empty item: '${documents}'`, { hint: "separate paths with single commas, e.g. --documents a.yaml,b.yaml" });
    }
    return { sources: list, blockedModules: blocked ?? [] };
  }
  const read = readRunConfig(config!);
  if (!read.ok) return read.problem;
  const blockedModules = blocked ?? blockedModulesFromConfig(read.config.blockedActionModules, config!);
  if (!Array.isArray(blockedModules)) return blockedModules;
  return { sources: read.config.documents.map((d) => d.path), blockedModules };
}

type OutputFormat = (typeof validateOutputArgs)["output"]["options"][number];

/**
 * The human report goes to stderr (not with json, whose stdout says everything); stdout gets
 * what the format asks for (docs/cli.md §12). With github, stdout carries only the annotations:
 * the runner reads every line of it as a possible workflow command, and the verdict is the exit
 * code and the report's last line.
 */
function report(format: OutputFormat, platform: PlatformName, results: CheckedDocument[]): number {
  const valid = results.every((r) => r.valid);
  if (format !== "json") writeErr(`${results.map((r) => r.report).join("\n\n")}\n`);
  const out = stdoutText(format, platform, valid, results);
  if (out !== "") writeOut(out);
  return valid ? ExitCode.ok : ExitCode.failed;
}

/** A config file that cannot be used is reported like a document, in the chosen format: placed diagnostics, exit 1. */
function reportConfigFailure(format: OutputFormat, platform: PlatformName, failure: ConfigProblem): number {
  const palette = paletteFor(stderrTerminal());
  const text = failure.diagnostics.map((d) => renderDiagnostic(d, failure.map, palette)).join("\n\n");
  return report(format, platform, [{ source: failure.source, valid: false, diagnostics: failure.diagnostics, report: text }]);
}

function stdoutText(format: OutputFormat, platform: PlatformName, valid: boolean, results: CheckedDocument[]): string {
  switch (format) {
    case "github":
      return renderGithub(results);
    case "sarif":
      return renderSarif(results, { windowsPaths: process.platform === "win32" });
    case "text":
    case "json":
      return resultText(format === "json", platform, valid, results);
  }
}

/**
 * `{"validationStatus", "message"}` (docs/cli.md §12), pretty-printed like the run summary; with
 * --output json, the platform and every document's diagnostics follow.
 */
function resultText(json: boolean, platform: PlatformName, valid: boolean, results: CheckedDocument[]): string {
  const result = { validationStatus: valid ? "success" : "failed", message: valid ? "Validation successful." : failureMessage(results) };
  if (!json) return `${JSON.stringify(result, null, 4)}\n`;
  const body = {
    ...result,
    platform,
    documents: results.map((r) => ({
      document: r.source,
      validationStatus: r.valid ? "success" : "failed",
      errors: messages(r.diagnostics, "error"),
      warnings: messages(r.diagnostics, "warning"),
      diagnostics: r.diagnostics.map(printedDiagnostic),
    })),
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

function messages(diagnostics: Diagnostic[], severity: Diagnostic["severity"]): string[] {
  return diagnostics.filter((d) => d.severity === severity).map(placed);
}

function placed(d: Diagnostic): string {
  return `${d.file}${d.line === undefined ? "" : `:${d.line}:${d.column}`}: ${d.message}`;
}

/** The first error, placed, and how many more there are (in every document). */
function failureMessage(results: CheckedDocument[]): string {
  const errors = results.flatMap((r) => r.diagnostics.filter((d) => d.severity === "error"));
  if (errors.length === 0) return "Validation failed.";
  return `${placed(errors[0]!)}${andMore(errors.length - 1)}`;
}

function andMore(more: number): string {
  if (more === 0) return "";
  return ` (and ${more} more error${more === 1 ? "" : "s"})`;
}
