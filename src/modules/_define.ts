/**
 * @module modules/_define: how an action module declares itself.
 *
 * A module is data first: its name, the platforms it runs on, its input schema (TypeBox, so the
 * validator, the runtime input check and the editor schema share one definition) and the outputs
 * later steps may chain to. Rules that a schema cannot express (one field or the other, a value
 * that must suit another field) go in `check`. Execution arrives with the engine.
 */
import type { ExecRequest, ExecResult, S3Port } from "../model/ports.ts";
import type { Static, TSchema } from "@sinclair/typebox";
import type { Issue, Path } from "../errors.ts";
import type { ExecutionRecord, RunSummary } from "../model/record.ts";

import { TEMPLATE_PATTERN } from "../model/schema-kit.ts";
import { PLATFORMS, type PlatformName } from "../model/platform.ts";

/** What a module's `check` may know about the place the document will run. */
export interface CheckEnv {
  platform: PlatformName;
}

/** A problem found by a module's own rules; `path` is relative to the input element. */
export type InputIssue = Omit<Issue, "code" | "path"> & { path: Path; code?: Issue["code"] };

export interface ModuleDef<I extends TSchema = TSchema, O extends TSchema = TSchema> {
  /** The action name written in documents, e.g. `ExecuteBash`. */
  name: string;
  /** One sentence for editors and `--help`. */
  summary: string;
  platforms: readonly PlatformName[];
  /**
   * `map`: `inputs` is one mapping. `list`: `inputs` is a list of mappings, run in order (a single
   * mapping is taken as a one-element list). `condition`: `inputs` is a comparison expression.
   */
  shape: "map" | "list" | "condition";
  /** For `list` modules the schema of one element; for `map` modules of the whole mapping. */
  input: I;
  /** May `inputs` be left out entirely (Reboot, UpdateOS)? */
  inputsOptional?: boolean;
  /** Fields chaining may read as `{{ phase.step.outputs.<field> }}`. */
  output: O;
  /** Input fields that exist only off Windows (documents.md V15). */
  notOnWindows?: readonly string[];
  /** Step fields this module fixes (ExecuteDocument: no timeout, one attempt). */
  fixedStepFields?: { timeoutSeconds?: number; maxAttempts?: number };
  /** The step's timeoutSeconds is accepted but does not apply (Reboot: its delay is not a hang). */
  ignoresTimeout?: boolean;
  /** Cross-field rules for one input element, after it matched the schema. */
  check?: (input: Record<string, unknown>, env: CheckEnv) => InputIssue[];
  /**
   * Runs the step. `input` is resolved, defaulted and type-checked (a list for `list` modules).
   * Returns the outputs (one object), or throws StepError with a message for failureMessage.
   */
  execute: (input: unknown, ctx: ModuleContext) => Promise<ModuleResult<Static<O>>>;
}

export interface ModuleResult<O> {
  outputs: O;
  /** The step asks for a reboot (exit 194/3010, the Reboot module, a nested document's step). */
  reboot?: RebootRequest;
  /** ExecuteDocument: the child execution, recorded under the step as `detailedOutput`. */
  detailedOutput?: ExecutionRecord[];
  /** A failure that still has outputs to record (a nested document that failed). */
  failed?: string;
}

/**
 * A step's request to restart the machine. `rerunStep`: run the asking step again after the
 * restart (exit 194/3010) rather than going on with the next one (the Reboot module). Modules
 * leave `from` out; the engine fills in the asking step (its journal key and `phase/step`), and
 * ExecuteDocument hands on its nested document's request as it is, `from` included.
 */
export interface RebootRequest {
  rerunStep: boolean;
  exitCode?: number;
  from?: { key: string; step: string };
}

/** A nested document run on behalf of ExecuteDocument. */
export interface NestedRunRequest {
  document: string;
  phases: string[];
  parameters: ReadonlyMap<string, string>;
  bucketOwner?: string;
}

/**
 * Everything a module may touch. Side effects arrive here, injected by the engine, so modules
 * import nothing above the model (ARCHITECTURE.md §2.5) and tests can hand in fakes.
 */
export interface ModuleContext {
  platform: PlatformName;
  /** The run's working directory: relative paths in inputs are taken from here. */
  cwd: string;
  /** Fires on step timeout or when awstoe is interrupted; pass it on to everything long-running. */
  signal: AbortSignal;
  /**
   * Path of a file of this step's own (a generated script, a log), inside the log folder:
   * `steps/<phase>/<step>.<name>`. The folder exists; the file is the module's to write.
   */
  workFile(name: string): string;
  /** Runs a program; its output streams to the console and logs as it arrives. */
  exec(request: Omit<ExecRequest, "signal" | "onOutput">): Promise<ExecResult>;
  /** Amazon S3 (or a compatible store), with the SDK's credential chain. */
  s3: S3Port;
  /** How this platform runs scripts (platform/shell.ts). */
  shell: ShellKit;
  log: { debug(message: string): void; info(message: string): void; warn(message: string): void };
  /** Shows text to the person watching, like program output: terminal and console.log. */
  print(text: string): void;
  /** Evaluates a comparison/logical expression whose references are already resolved. */
  evaluate(expression: Record<string, unknown>): { value: boolean; explain: string };
  /** Runs another document as a nested execution (ExecuteDocument). */
  runDocument(request: NestedRunRequest): Promise<{ record: ExecutionRecord; summary: RunSummary; reboot?: RebootRequest }>;
}

/** The script-building half of platform/shell.ts, handed to modules through the context. */
export interface ShellKit {
  bashScript(commands: readonly string[]): string;
  bashInvocation(scriptPath: string): { command: string; args: string[] };
  powershellScript(commands: readonly string[]): string;
  powershellInvocation(scriptPath: string): { command: string; args: string[] };
  rebootExitCode(platform: PlatformName): number;
  trimTrailingNewlines(text: string): string;
}

/** Identity function that keeps the literal types of a module definition (citty's defineCommand idea). */
export function defineModule<I extends TSchema, O extends TSchema>(def: ModuleDef<I, O>): ModuleDef<I, O> {
  return def;
}

const templateRegex = new RegExp(TEMPLATE_PATTERN);

/** True for a value whose meaning is only known once its `{{ references }}` are resolved. */
export function hasTemplate(value: unknown): boolean {
  return typeof value === "string" && templateRegex.test(value);
}

/** A literal string, or undefined for anything else (missing, a number, a reference). */
export function literalText(value: unknown): string | undefined {
  if (typeof value !== "string" || hasTemplate(value)) return undefined;
  return value;
}
