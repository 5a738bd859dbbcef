/**
 * @module modules/_define: how an action module declares itself.
 *
 * A module is data first: its name, the platforms it runs on, its input schema (TypeBox, so the
 * validator, the runtime input check and the editor schema share one definition) and the outputs
 * later steps may chain to. Rules that a schema cannot express (one field or the other, a value
 * that must suit another field) go in `check`.
 *
 * `execute` is typed by the schemas: its input is what the engine hands over once references are
 * resolved, values converted and defaults filled in ({@link ModuleInput}), and its outputs are the
 * output schema's type. A module declares its schemas as functions; each is built the first time
 * something reads `module.input` or `module.output`, so a command that needs two modules' schemas
 * does not pay for thirty at start-up.
 */
import type { ExecRequest, ExecResult, S3Port } from "../model/ports.ts";
import type { Static, TSchema } from "@sinclair/typebox";
import type { Issue, Path } from "../errors.ts";
import type { ExecutionRecord, RunSummary } from "../model/record.ts";

import { TEMPLATE_PATTERN, type Filled } from "../model/schema-kit.ts";
import type { PlatformName } from "../model/platform.ts";

/** What a module's `check` may know about the place the document will run. */
export interface CheckEnv {
  platform: PlatformName;
}

/** A problem found by a module's own rules; `path` is relative to the input element. */
export type InputIssue = Omit<Issue, "code" | "path"> & { path: Path; code?: Issue["code"] };

/**
 * How `inputs` is written. `map`: one mapping. `list`: a list of mappings, run in order (a single
 * mapping is taken as a one-element list). `condition`: a comparison expression.
 */
export type InputShape = "map" | "list" | "condition";

/**
 * What `execute` receives for a module with input schema `I`: the filled-in mapping (optional
 * fields with a default are present; flags are booleans, whole numbers numbers, choices their
 * canonical word), a list of them for `list` modules, or the resolved expression for `condition`.
 */
export type ModuleInput<S extends InputShape, I extends TSchema> = S extends "list"
  ? Filled<I>[]
  : S extends "condition"
    ? Record<string, unknown>
    : Filled<I>;

/**
 * What `execute` receives for the schema a function builds, for a module file's own helpers:
 * `InputOf<typeof inputSchema>` is one element of a `list` module's input, or a `map` module's.
 */
export type InputOf<F extends (...args: never[]) => TSchema> = Filled<ReturnType<F>>;

/** What every module declares, whether written in a module file or read from the registry. */
interface ModuleCommon<I extends TSchema, O extends TSchema, S extends InputShape> {
  /** The action name written in documents, e.g. `ExecuteBash`. */
  name: string;
  /** One sentence for editors and `--help`. */
  summary: string;
  platforms: readonly PlatformName[];
  shape: S;
  /** May `inputs` be left out entirely (Reboot, UpdateOS)? */
  inputsOptional?: boolean;
  /** Input fields that exist only off Windows (docs/component-documents.md §12, E_FIELD_UNSUPPORTED_ON_PLATFORM). */
  notOnWindows?: readonly string[];
  /** Step fields this module fixes (ExecuteDocument: no timeout, one attempt). */
  fixedStepFields?: { timeoutSeconds?: number; maxAttempts?: number };
  /** The step's timeoutSeconds is accepted but does not apply (Reboot: its delay is not a hang). */
  ignoresTimeout?: boolean;
  /** Cross-field rules for one input element as written (references unresolved), after it matched the schema. */
  check?: (input: Record<string, unknown>, env: CheckEnv) => InputIssue[];
  /**
   * Runs the step. `input` is resolved, converted, defaulted and checked again (a list for `list`
   * modules). Returns the outputs (one object), or throws StepError with a message for failureMessage.
   */
  execute(input: ModuleInput<S, I>, ctx: ModuleContext): Promise<ModuleResult<Static<O>>>;
}

/** A module as its file writes it: the schemas as functions that build them. */
export interface ModuleSpec<I extends TSchema, O extends TSchema, S extends InputShape> extends ModuleCommon<I, O, S> {
  /** Builds the input schema: for `list` modules of one element, for `map` modules of the whole mapping. */
  input: () => I;
  /** Builds the schema of the fields chaining may read as `{{ phase.step.outputs.<field> }}`. */
  output: () => O;
}

/** A module as the registry holds it: `input` and `output` are built on first use, then kept. */
export interface ModuleDef<I extends TSchema = TSchema, O extends TSchema = TSchema, S extends InputShape = InputShape> extends ModuleCommon<I, O, S> {
  /** For `list` modules the schema of one element; for `map` modules of the whole mapping. */
  readonly input: I;
  /** Fields chaining may read as `{{ phase.step.outputs.<field> }}`. */
  readonly output: O;
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

/**
 * Declares a module, keeping the literal types of its definition (citty's defineCommand idea) so
 * `execute` is typed by the schemas. The schemas are built on first read.
 */
export function defineModule<I extends TSchema, O extends TSchema, S extends InputShape>(spec: ModuleSpec<I, O, S>): ModuleDef<I, O, S> {
  const { input, output, ...rest } = spec;
  defineLazily(rest, "input", input);
  defineLazily(rest, "output", output);
  return rest as ModuleDef<I, O, S>;
}

/** Gives `target` an enumerable property `key` whose value `build` makes on first read, once. */
export function defineLazily(target: object, key: PropertyKey, build: () => unknown): void {
  let made: { value: unknown } | undefined;
  Object.defineProperty(target, key, { enumerable: true, get: () => (made ??= { value: build() }).value });
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
