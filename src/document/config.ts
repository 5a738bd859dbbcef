/**
 * @module document/config: read a `--config` JSON file, with every problem placed at its line and
 * column like a document's. JSON is parsed by the same YAML reader (JSON is YAML), which is what
 * gives us positions.
 */
import type { Diagnostic, Issue } from "../errors.ts";
import { formatPath } from "../errors.ts";
import { RunConfig } from "../model/config.ts";
import { checkSchema } from "./check-schema.ts";
import { loadLocalDocument, type LoadResult } from "./load.ts";
import { parseYamlText } from "./parse.ts";
import type { SourceMap } from "./source-map.ts";

/** A config file that cannot be used: what is wrong, placed in the file where it could be read. */
export interface ConfigProblem {
  /** The config file as the user named it. */
  source: string;
  diagnostics: Diagnostic[];
  map?: SourceMap;
}

export type ConfigResult = { ok: true; config: RunConfig } | { ok: false; problem: ConfigProblem };

/** A local config file. */
export function readRunConfig(source: string): ConfigResult {
  return parseRunConfig(source, loadLocalDocument(source));
}

/** A config file already read from wherever it lives (local, s3://), checked against the schema. */
export function parseRunConfig(source: string, loaded: LoadResult): ConfigResult {
  if (!loaded.ok) return refused(source, [{ ...loaded.diagnostic, message: loaded.diagnostic.message.replace(/\bdocument\b/, "config file") }]);
  let strictJson: unknown;
  try {
    strictJson = JSON.parse(loaded.text);
  } catch (error) {
    const parsed = parseYamlText(loaded.text, source);
    const diagnostics = parsed.diagnostics.length > 0 ? parsed.diagnostics : [jsonSyntax(source, (error as Error).message)];
    return refused(source, diagnostics.map((d) => ({ ...d, code: "E_JSON_SYNTAX", message: d.message.replace(/^document is not valid YAML/, "config file is not valid JSON") })), parsed.map);
  }
  const parsed = parseYamlText(loaded.text, source);
  const issues: Issue[] = [];
  checkSchema(RunConfig, strictJson, [], (path) => parsed.map.sourceText(path), issues);
  if (issues.length === 0) return { ok: true, config: strictJson as RunConfig };
  const diagnostics: Diagnostic[] = issues.map((issue) => ({
    code: issue.code,
    severity: "error",
    message: `config: ${issue.message}`,
    ...(issue.hint === undefined ? {} : { hint: issue.hint }),
    file: source,
    path: formatPath(issue.path),
    ...parsed.map.locate(issue.path, issue.at),
  }));
  return refused(source, diagnostics, parsed.map);
}

function refused(source: string, diagnostics: Diagnostic[], map?: SourceMap): ConfigResult {
  return { ok: false, problem: { source, diagnostics, ...(map === undefined ? {} : { map }) } };
}

function jsonSyntax(file: string, message: string): Diagnostic {
  return { code: "E_JSON_SYNTAX", severity: "error", message: `config file is not valid JSON: ${message}`, file, path: "" };
}
