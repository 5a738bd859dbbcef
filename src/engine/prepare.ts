/**
 * @module engine/prepare: from document sources to documents ready to run — loaded, validated
 * for this platform, with every parameter and constant given a value. Nothing runs unless every
 * document passes (docs/cli.md §6).
 */
import { isAbsolute, resolve } from "node:path";
import type { SourceMap } from "../document/source-map.ts";
import { validateText } from "../document/validate.ts";
import { formatPath, type Diagnostic } from "../errors.ts";
import type { EngineDeps } from "./deps.ts";
import { loadPatiently, type Patience } from "./document-sources.ts";
import { resolveVariables, type SuppliedParameters } from "./variables.ts";

export interface DocumentRequest {
  source: string;
  /** Parameters for this document only (config `documents[].parameters`, ExecuteDocument). */
  parameters: ReadonlyMap<string, string>;
  /** Expected owner of its S3 bucket, when it differs from the run's (ExecuteDocument's input). */
  bucketOwner?: string;
}

export interface ReadyDocument {
  source: string;
  /** Normalized identity for cycle detection (identityOf): absolute path, s3:// URI or ARN. */
  identity: string;
  text: string;
  doc: Record<string, unknown>;
  map: SourceMap;
  variables: ReadonlyMap<string, string>;
}

export interface Prepared {
  ready: ReadyDocument[];
  /** Texts as loaded, for the log folder's document copies (also of invalid documents). */
  texts: { source: string; text: string }[];
  failures: { source: string; diagnostics: Diagnostic[]; map?: SourceMap }[];
  /** What a ready document runs with but should be told (a parameter left empty), placed. */
  warnings: { source: string; diagnostics: Diagnostic[]; map: SourceMap }[];
}

export interface PrepareOptions {
  /**
   * For a run resumed after a reboot, which may start before the network is up: s3:// and ARN
   * documents that fail for a transient cause (no connection or answer, DNS, a time limit, HTTP
   * 5xx, throttling — not access denied, no such key or component) are tried again with
   * exponential backoff, one line on stderr per retry. `true` waits up to 5 minutes in all
   * (2 s, 4 s, 8 s … 30 s between tries: PATIENCE_DEFAULTS); a Patience object sets the budget,
   * the delays or where the lines go. The run's signal ends the waiting.
   */
  patient?: boolean | Patience;
  /**
   * Action modules no document may use (--blocked-action-modules): such a document fails
   * validation (E_ACTION_BLOCKED), as does one whose ExecuteDocument runs a readable local
   * document that uses one.
   */
  blockedModules?: readonly string[];
  /** A parameter without a value stops the run instead of being empty (--require-parameter-values). */
  requireParameterValues?: boolean;
}

export async function prepareDocuments(requests: readonly DocumentRequest[], global: ReadonlyMap<string, string>, deps: EngineDeps, options: PrepareOptions = {}): Promise<Prepared> {
  const prepared: Prepared = { ready: [], texts: [], failures: [], warnings: [] };
  const patience: Patience | undefined = options.patient === true ? {} : options.patient || undefined;
  const { ports } = deps;
  const say = (line: string) => deps.presentation.terminal.stderr(`awstoe: ${line}\n`);
  for (const request of requests) {
    // Relative paths are taken from the run's working directory (docs/cli.md §5), whatever the process's is.
    const location = /^(s3:\/\/|arn:)/i.test(request.source) ? request.source : resolve(ports.cwd, request.source);
    const load = () => ports.loadDocument(location, request.bucketOwner ? { bucketOwner: request.bucketOwner } : undefined);
    const raw = patience === undefined ? await load() : await loadPatiently(request.source, load, patience, say, ports.signal);
    const loaded = raw.ok ? raw : { ...raw, diagnostic: { ...raw.diagnostic, file: request.source, message: raw.diagnostic.message.replace(location, request.source) } };
    if (!loaded.ok) {
      prepared.failures.push({ source: request.source, diagnostics: [loaded.diagnostic] });
      continue;
    }
    prepared.texts.push({ source: request.source, text: loaded.text });
    const result = validateText(loaded.text, request.source, { platform: ports.platform, cwd: ports.cwd, ...(options.blockedModules ? { blockedModules: options.blockedModules } : {}) });
    if (!result.valid || result.map === undefined) {
      prepared.failures.push({ source: request.source, diagnostics: result.diagnostics, ...(result.map ? { map: result.map } : {}) });
      continue;
    }
    const doc = result.document as Record<string, unknown>;
    const supplied: SuppliedParameters = { global, document: request.parameters };
    const { values, issues } = resolveVariables(doc, supplied, result.map, { requireValues: options.requireParameterValues === true });
    const map = result.map;
    const diagnostics = issues.map((issue): Diagnostic => ({
      code: issue.code,
      severity: issue.severity ?? "error",
      message: issue.message,
      ...(issue.hint === undefined ? {} : { hint: issue.hint }),
      file: request.source,
      path: formatPath(issue.path),
      ...map.locate(issue.path, issue.at),
    }));
    if (diagnostics.some((d) => d.severity === "error")) {
      prepared.failures.push({ source: request.source, diagnostics, map });
      continue;
    }
    // What validate would warn about (an unknown {{ name }} …) is said by run too, before anything runs.
    // (Not "no default": run knows whether a value was given, and says so precisely itself.)
    const warnings = [...result.diagnostics.filter((d) => d.severity === "warning" && d.code !== "W_PARAMETER_NO_DEFAULT"), ...diagnostics];
    if (warnings.length > 0) prepared.warnings.push({ source: request.source, diagnostics: warnings, map });
    prepared.ready.push({ source: request.source, identity: identityOf(request.source, ports.cwd), text: loaded.text, doc, map: result.map, variables: values });
  }
  return prepared;
}

/**
 * Local paths compare as absolute paths; s3:// URIs as written with the scheme lower-cased (keys
 * are case-sensitive); ARNs as written (case-sensitive too; a version ARN and one of its builds
 * differ, so such a cycle is caught one turn later).
 */
export function identityOf(source: string, cwd: string): string {
  if (/^s3:\/\//i.test(source)) return `s3://${source.slice(5)}`;
  if (/^arn:/i.test(source)) return source;
  return isAbsolute(source) ? resolve(source) : resolve(cwd, source);
}
