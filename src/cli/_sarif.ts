/**
 * @module cli/_sarif: `validate --output sarif` — the diagnostics as one SARIF 2.1.0 log, the
 * format code-scanning services read (docs/cli.md §12). Pure: results in, a log object out.
 *
 * Positions need no conversion: lines and columns are 1-based, columns count UTF-16 code units
 * (SARIF's default `columnKind`) and a diagnostic's end column is the one after its last
 * character, as SARIF's `endColumn` is.
 */
import type { Diagnostic, DiagnosticCode } from "../errors.ts";
import { VERSION } from "../version.ts";
import type { CheckedDocument } from "./_check-documents.ts";
import { messageWithHint } from "./_github.ts";

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";
export const TOOL_NAME = "awstoe (opentoe)";
/** The documentation of the tool opentoe reimplements: what its documents and commands mean. */
export const TOOL_INFORMATION_URI = "https://docs.aws.amazon.com/imagebuilder/latest/userguide/toe-component-manager.html";

/** Each rule's short description (docs/component-documents.md §12); the type keeps it complete. */
const RULES: Record<DiagnosticCode, string> = {
  E_SOURCE_MISSING: "The document does not exist.",
  E_SOURCE_UNREADABLE: "The document cannot be read.",
  E_SOURCE_UNSUPPORTED: "The document source is not a local path, s3:// URI or component ARN that can be read.",
  E_SOURCE_TOO_LARGE: "The document is larger than the limit.",
  E_SOURCE_EMPTY: "The document is empty.",
  E_SOURCE_BINARY: "The document is not text.",
  E_SOURCE_ENCODING: "The document's text encoding cannot be read.",
  E_YAML_SYNTAX: "The YAML cannot be parsed.",
  E_YAML_DUPLICATE_KEY: "A mapping has the same key twice.",
  E_YAML_ALIAS_LIMIT: "YAML aliases expand to too many values.",
  E_YAML_TOO_DEEP: "The YAML is nested too deeply.",
  E_YAML_MULTI_DOCUMENT: "The file holds more than one YAML document.",
  E_JSON_SYNTAX: "The JSON cannot be parsed.",
  E_NOT_A_MAPPING: "The document is not a mapping.",
  E_TYPE: "A field has the wrong type.",
  E_VALUE: "A field has a value that is not allowed.",
  E_UNKNOWN_FIELD: "A key that is not part of the format.",
  E_MISSING_FIELD: "A required field is missing.",
  E_SCHEMA_VERSION: "schemaVersion is missing or not 1.0.",
  E_NO_PHASES: "The document has no phases.",
  E_NO_KNOWN_PHASE: "None of the phases is build, validate or test.",
  E_DUPLICATE_PHASE: "A phase name is used twice.",
  E_NO_STEPS: "A phase has no steps.",
  E_DUPLICATE_STEP: "A step name is used twice in a phase.",
  E_UNKNOWN_ACTION: "The action is not an action module.",
  E_ACTION_UNSUPPORTED_ON_PLATFORM: "The action module does not run on the target platform.",
  E_ACTION_BLOCKED: "The action module is blocked (--blocked-action-modules).",
  E_FIELD_UNSUPPORTED_ON_PLATFORM: "The input is not supported on the target platform.",
  E_TIMEOUT: "timeoutSeconds is not valid.",
  E_ON_FAILURE: "onFailure is not valid.",
  E_MAX_ATTEMPTS: "maxAttempts is not valid.",
  E_EXECUTE_DOCUMENT_FIELDS: "ExecuteDocument does not take another timeoutSeconds or maxAttempts.",
  E_INPUT: "The step's inputs are missing or do not fit the action module.",
  E_VARIABLE: "A parameter or constant is not valid.",
  E_PARAMETER_NO_VALUE: "A parameter has no value.",
  E_LOOP: "The loop is not valid.",
  E_CONDITION: "A condition (if, Assert) is not valid.",
  E_CHAINING: "Chaining refers to a step or output that cannot provide it.",
  E_REFERENCE: "A reference cannot be resolved.",
  W_UNKNOWN_VARIABLE: "A {{ name }} matches no parameter or constant.",
  W_PARAMETER_NO_VALUE: "A parameter has no value and runs as an empty string.",
  W_PARAMETER_NO_DEFAULT: "A parameter has no default.",
  W_LOOP_VARIABLE_OUTSIDE_LOOP: "A loop variable is used outside its own step's inputs.",
  W_TEMPLATE_SYNTAX: "A {{ is never closed, or holds no reference form.",
  W_YAML11_BOOLEAN: "A YAML 1.1 word (yes/no/on/off) is given to a true/false input.",
};

export interface SarifOptions {
  /** Read `\` as a path separator (the host is Windows). */
  windowsPaths?: boolean;
}

/** The whole log: one run, its rules (the codes that occur, sorted) and one result per diagnostic. */
export function sarifLog(results: readonly CheckedDocument[], options: SarifOptions = {}): object {
  const diagnostics = results.flatMap((r) => r.diagnostics);
  const codes = [...new Set(diagnostics.map((d) => d.code))].sort();
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: TOOL_NAME,
            informationUri: TOOL_INFORMATION_URI,
            version: VERSION,
            rules: codes.map((code) => ({
              id: code,
              shortDescription: { text: RULES[code] },
              defaultConfiguration: { level: code.startsWith("W_") ? "warning" : "error" },
            })),
          },
        },
        invocations: [{ executionSuccessful: true }],
        results: diagnostics.map((d) => ({
          ruleId: d.code,
          ruleIndex: codes.indexOf(d.code),
          level: d.severity,
          message: { text: messageWithHint(d) },
          locations: [{ physicalLocation: physicalLocation(d, options) }],
        })),
      },
    ],
  };
}

export function renderSarif(results: readonly CheckedDocument[], options: SarifOptions = {}): string {
  return `${JSON.stringify(sarifLog(results, options), null, 2)}\n`;
}

function physicalLocation(d: Diagnostic, options: SarifOptions): object {
  const artifactLocation = artifactUri(d.file, options);
  if (d.line === undefined) return { artifactLocation };
  const region: Record<string, number> = { startLine: d.line };
  if (d.column !== undefined) region.startColumn = d.column;
  if (d.endLine !== undefined) region.endLine = d.endLine;
  if (d.endColumn !== undefined) region.endColumn = d.endColumn;
  return { artifactLocation, region };
}

/**
 * A document source as a URI reference: a relative path stays relative (against `%SRCROOT%`, a
 * leading `./` dropped), an absolute path becomes a file: URI, an s3:// URI or an ARN is kept;
 * characters a URI cannot hold are percent-encoded.
 */
export function artifactUri(source: string, options: SarifOptions = {}): { uri: string; uriBaseId?: string } {
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(source)) {
    // s3://bucket/key, arn:aws:imagebuilder:…: already URIs; a ':' may stay, a '#' or ' ' may not.
    const colon = source.indexOf(":");
    return { uri: `${source.slice(0, colon + 1)}${source.slice(colon + 1).split("/").map(encodePathChars).join("/")}` };
  }
  const path = options.windowsPaths === true ? source.replaceAll("\\", "/") : source;
  const drive = /^([A-Za-z]:)\//.exec(path);
  if (drive !== null) return { uri: `file:///${drive[1]}/${encodeSegments(path.slice(3))}` };
  if (path.startsWith("//")) return { uri: `file:${encodeSegments(path)}` }; // \\server\share\…
  if (path.startsWith("/")) return { uri: `file://${encodeSegments(path)}` };
  return { uri: encodeSegments(path.replace(/^(\.\/+)+/, "")), uriBaseId: "%SRCROOT%" };
}

/** Each `/`-separated segment percent-encoded (':' too, so a relative path never reads as a scheme). */
function encodeSegments(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** A segment of a URI's path: RFC 3986 pchars (`:`, `@` and sub-delims) stay, the rest is encoded. */
function encodePathChars(segment: string): string {
  return encodeURIComponent(segment).replace(/%(?:3A|40|24|26|2B|2C|3B|3D)/g, (escape) => decodeURIComponent(escape));
}
