/** @module errors: every error code, the error classes, diagnostics and the exit-code table. */

/**
 * Exit codes of the process (docs/cli.md §11). Only src/main.ts turns these into an exit. A run that
 * stops for a reboot exits with the reboot code instead: 194, or 3010 on Windows
 * (platform/shell.ts rebootExitCode).
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
} as const;

/** Codes of problems found in a document or config file. Stable: they appear in `--output json`. */
export type DiagnosticCode =
  | "E_SOURCE_MISSING"
  | "E_SOURCE_UNREADABLE"
  | "E_SOURCE_UNSUPPORTED"
  | "E_SOURCE_TOO_LARGE"
  | "E_SOURCE_EMPTY"
  | "E_SOURCE_BINARY"
  | "E_SOURCE_ENCODING"
  | "E_YAML_SYNTAX"
  | "E_YAML_DUPLICATE_KEY"
  | "E_YAML_ALIAS_LIMIT"
  | "E_YAML_TOO_DEEP"
  | "E_YAML_MULTI_DOCUMENT"
  | "E_JSON_SYNTAX"
  | "E_NOT_A_MAPPING"
  | "E_TYPE"
  | "E_VALUE"
  | "E_UNKNOWN_FIELD"
  | "E_MISSING_FIELD"
  | "E_SCHEMA_VERSION"
  | "E_NO_PHASES"
  | "E_NO_KNOWN_PHASE"
  | "E_DUPLICATE_PHASE"
  | "E_NO_STEPS"
  | "E_DUPLICATE_STEP"
  | "E_UNKNOWN_ACTION"
  | "E_ACTION_UNSUPPORTED_ON_PLATFORM"
  | "E_ACTION_BLOCKED"
  | "E_FIELD_UNSUPPORTED_ON_PLATFORM"
  | "E_TIMEOUT"
  | "E_ON_FAILURE"
  | "E_MAX_ATTEMPTS"
  | "E_EXECUTE_DOCUMENT_FIELDS"
  | "E_INPUT"
  | "E_VARIABLE"
  | "E_PARAMETER_NO_VALUE"
  | "E_LOOP"
  | "E_CONDITION"
  | "E_CHAINING"
  | "E_REFERENCE"
  | "W_UNKNOWN_VARIABLE"
  | "W_PARAMETER_NO_VALUE"
  | "W_PARAMETER_NO_DEFAULT"
  | "W_LOOP_VARIABLE_OUTSIDE_LOOP"
  | "W_TEMPLATE_SYNTAX"
  | "W_YAML11_BOOLEAN";

export type Severity = "error" | "warning";

/** A path into a parsed document: keys and list indexes, outermost first. */
export type Path = readonly (string | number)[];

/**
 * A problem before it has a position: rules and schema checks produce these, the validator
 * attaches file, line and column from the source map.
 */
export interface Issue {
  code: DiagnosticCode;
  path: Path;
  message: string;
  /** What would be right, when we can tell. */
  hint?: string;
  /**
   * The did-you-mean as text that can replace the diagnostic's range (a key, a value, one
   * `{{ ref }}`): what an editor's quick fix writes there. Only set when the message names it.
   */
  suggestion?: string;
  severity?: Severity;
  /** Point at the mapping key rather than its value (unknown or duplicate names). */
  at?: "key" | "value";
  /** A substring of the value's source to point at precisely (e.g. one `{{ ref }}`). */
  needle?: string;
  /** This explains the problem better than the generic schema messages at or below `path`: drop those. */
  supersedes?: boolean;
}

/** A problem in a document, placed in its file: what `validate` reports. */
export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  hint?: string;
  /** Replacement text for the range, from Issue.suggestion (`awstoe lsp`'s quick fixes; not printed by validate). */
  suggestion?: string;
  /** The document source as the user gave it. */
  file: string;
  /** Location inside the document, e.g. `phases[1].steps[2].inputs`; "" for the whole file. */
  path: string;
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
}

/**
 * A diagnostic as `--output json` prints it: the quick-fix text (suggestion) is for editors
 * (`awstoe lsp`), and the message already says it, so the printed form stays what it was.
 */
export function printedDiagnostic(diagnostic: Diagnostic): Omit<Diagnostic, "suggestion"> {
  const { suggestion: _editorsOnly, ...printed } = diagnostic;
  return printed;
}

export type ErrorCode = "E_USAGE" | "E_RESOLVE" | "E_STEP" | "E_LOG_DIRECTORY" | "E_STATE" | "E_SANDBOX";

/** Base of every error awstoe raises on purpose. `main.ts` maps it to an exit code. */
export abstract class ToeError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly exitCode: number;
  /** A line telling the user what to do instead, printed under the message. */
  readonly hint?: string;
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.hint !== undefined) this.hint = options.hint;
  }
}

/** Bad command line: unknown command or option, missing or conflicting options. */
export class UsageError extends ToeError {
  readonly code = "E_USAGE" as const;
  readonly exitCode = ExitCode.usage;
}

/** The first line of an error's message (or of any other value as text), trimmed. */
export function firstLine(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  return (typeof message === "string" ? message : String(error)).split("\n")[0]!.trim();
}

export function isToeError(value: unknown): value is ToeError {
  return value instanceof ToeError;
}

/** Render a path array the way users read it: `phases[1].steps[0].inputs`. */
export function formatPath(path: Path): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(part)) out += out === "" ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** A `{{ … }}` reference that cannot be resolved when a step runs; the step fails with it. */
export class ResolveError extends ToeError {
  readonly code = "E_RESOLVE" as const;
  readonly exitCode = ExitCode.failed;
  constructor(
    message: string,
    readonly expression: string,
  ) {
    super(message);
  }
}

/** A module's failure: becomes the step's failureMessage (prefixed with the module name). */
export class StepError extends ToeError {
  readonly code = "E_STEP" as const;
  readonly exitCode = ExitCode.failed;
  constructor(
    message: string,
    readonly details: { exitCode?: number; stdoutTail?: string; stderrTail?: string } = {},
  ) {
    super(message);
  }
}

/** The log folder or one of its files cannot be created or written: the run cannot be recorded. */
export class LogDirectoryError extends ToeError {
  readonly code = "E_LOG_DIRECTORY" as const;
  readonly exitCode = ExitCode.failed;
}

/**
 * The resume state cannot be used: unreadable, corrupt, or left by another execution. Never a
 * silent fresh start, which would run finished steps again.
 */
export class StateError extends ToeError {
  readonly code = "E_STATE" as const;
  readonly exitCode = ExitCode.failed;
}

/** `run --sandbox` could not make, run or read its sandbox (the machine itself is left unchanged). */
export class SandboxError extends ToeError {
  readonly code = "E_SANDBOX" as const;
  readonly exitCode = ExitCode.failed;
}
