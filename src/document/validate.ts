/**
 * @module document/validate: a document's text → every problem in it, each placed at its line and
 * column. Never throws for a user mistake; all problems are collected in one pass.
 */
import { isAbsolute, resolve } from "node:path";
import { formatPath, type Diagnostic, type Issue } from "../errors.ts";
import { ComponentDocument } from "../model/component.ts";
import type { PlatformName } from "../model/platform.ts";
import { checkSchema } from "./check-schema.ts";
import { isRecord } from "../model/platform.ts";
import { loadLocalDocument } from "./load.ts";
import { parseYamlText } from "./parse.ts";
import { checkBlockedModules } from "./rules/blocked.ts";
import { checkConditions } from "./rules/condition.ts";
import { checkInputs } from "./rules/inputs.ts";
import { checkLoops } from "./rules/loop.ts";
import { checkReferences } from "./rules/references.ts";
import { checkPhases, checkSteps } from "./rules/structure.ts";
import { checkVariables } from "./rules/variables.ts";
import type { RuleContext } from "./rules/_context.ts";
import type { SourceMap } from "./source-map.ts";

export interface ValidateOptions {
  /** The platform the document is meant for (default: this machine's). */
  platform: PlatformName;
  /**
   * Action modules the document may not use (--blocked-action-modules): each step using one is an
   * E_ACTION_BLOCKED error, and so is an ExecuteDocument step whose document uses one, when that
   * document is a literal local path that can be read now (others are checked when the step loads them).
   */
  blockedModules?: ReadonlySet<string> | readonly string[];
  /** The folder relative ExecuteDocument paths are taken from (default: the process's). */
  cwd?: string;
  /** Internal: the local documents that led here through ExecuteDocument, as absolute paths. */
  nestedFrom?: readonly string[];
}

/** Nested levels below the top document that are followed (ExecuteDocument's limit, docs/modules.md#executedocument). */
const MAX_NESTED_LEVELS = 3;

export interface ValidationResult {
  source: string;
  valid: boolean;
  diagnostics: Diagnostic[];
  /** The parsed document, when the text was YAML. */
  document?: unknown;
  /** Positions and lines of the text, for rendering snippets. */
  map?: SourceMap;
}

const RULES: readonly ((ctx: RuleContext) => void)[] = [
  checkVariables, checkPhases, checkSteps, checkLoops, checkConditions, checkInputs, checkReferences,
];

/** Loads and validates one local document. */
export function validateSource(source: string, options: ValidateOptions): ValidationResult {
  const loaded = loadLocalDocument(source);
  if (!loaded.ok) return { source, valid: false, diagnostics: [loaded.diagnostic] };
  return validateText(loaded.text, source, options);
}

export function validateText(text: string, source: string, options: ValidateOptions): ValidationResult {
  const parsed = parseYamlText(text, source);
  const result = (diagnostics: Diagnostic[]): ValidationResult => ({
    source,
    valid: !diagnostics.some((d) => d.severity === "error"),
    diagnostics,
    document: parsed.value,
    map: parsed.map,
  });
  if (parsed.diagnostics.length > 0) return result(parsed.diagnostics);
  const doc = parsed.value;
  if (!isRecord(doc)) {
    const found = doc === null || doc === undefined ? "nothing" : Array.isArray(doc) ? "a list" : "a single value";
    return result([
      place({ code: "E_NOT_A_MAPPING", path: [], message: `document must be a mapping with schemaVersion and phases, found ${found}`, hint: "start the file with `schemaVersion: 1.0` and a `phases:` list" }, source, parsed.map),
    ]);
  }
  const sourceText = (path: readonly (string | number)[]) => parsed.map.sourceText(path);
  const schemaIssues: Issue[] = [];
  checkSchema(ComponentDocument, doc, [], sourceText, schemaIssues);
  for (const issue of schemaIssues) issue.message = withFieldName(issue);
  const ctx: RuleContext = { doc, platform: options.platform, sourceText, issues: [] };
  for (const rule of RULES) rule(ctx);
  const blocked = new Set(options.blockedModules ?? []);
  if (blocked.size > 0) checkBlockedModules(ctx, blocked, (document) => blockedInNested(document, source, { ...options, blockedModules: blocked }));
  return result(finish([...schemaIssues, ...ctx.issues], source, parsed.map));
}

/**
 * The blocked-module errors of a document ExecuteDocument runs, when it is a local file that can be
 * read now; undefined otherwise (remote, missing — an earlier step may write it —, a cycle, too deep).
 */
function blockedInNested(document: string, parent: string, options: ValidateOptions): Diagnostic[] | undefined {
  if (/^(s3:\/\/|arn:)/i.test(document)) return undefined;
  const cwd = options.cwd ?? process.cwd();
  const local = (path: string) => (isAbsolute(path) ? resolve(path) : resolve(cwd, path));
  const chain = options.nestedFrom ?? (/^(s3:\/\/|arn:)/i.test(parent) ? [parent] : [local(parent)]);
  const path = local(document);
  if (chain.includes(path) || chain.length > MAX_NESTED_LEVELS) return undefined; // the run reports these
  const loaded = loadLocalDocument(path);
  if (!loaded.ok) return undefined;
  const child = validateText(loaded.text, document, { ...options, nestedFrom: [...chain, path] });
  return child.diagnostics.filter((d) => d.code === "E_ACTION_BLOCKED");
}

/** Drops repeats and issues a better one supersedes, places the rest and orders them by position. */
function finish(issues: Issue[], source: string, map: SourceMap): Diagnostic[] {
  const superseding = issues.filter((i) => i.supersedes).map((i) => i.path);
  const kept = issues.filter(
    (issue) => issue.supersedes || !superseding.some((p) => p.length <= issue.path.length && p.every((part, i) => issue.path[i] === part)),
  );
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const issue of kept) {
    const diagnostic = place(issue, source, map);
    const key = `${diagnostic.line}:${diagnostic.column}:${diagnostic.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push(diagnostic);
  }
  return diagnostics.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function place(issue: Issue, file: string, map: SourceMap): Diagnostic {
  const position = map.locate(issue.path, issue.at, issue.needle);
  return {
    code: issue.code,
    severity: issue.severity ?? (issue.code.startsWith("W_") ? "warning" : "error"),
    message: issue.message,
    ...(issue.hint === undefined ? {} : { hint: issue.hint }),
    ...(issue.suggestion === undefined ? {} : { suggestion: issue.suggestion }),
    file,
    path: formatPath(issue.path),
    ...position,
  };
}

/** "timeoutSeconds: expected …" — schema messages name the field they are about. */
function withFieldName(issue: Issue): string {
  if (issue.code === "E_UNKNOWN_FIELD" || issue.code === "E_MISSING_FIELD" || issue.at === "key") return issue.message;
  const key = [...issue.path].reverse().find((part): part is string => typeof part === "string");
  return key === undefined ? issue.message : `${key}: ${issue.message}`;
}
