/**
 * @module modules/_define: how an action module declares itself.
 *
 * A module is data first: its name, the platforms it runs on, its input schema (TypeBox, so the
 * validator, the runtime input check and the editor schema share one definition) and the outputs
 * later steps may chain to. Rules that a schema cannot express (one field or the other, a value
 * that must suit another field) go in `check`. Execution arrives with the engine.
 */
import type { TSchema } from "@sinclair/typebox";
import type { Issue, Path } from "../errors.ts";
import { TEMPLATE_PATTERN } from "../model/schema-kit.ts";

export const PLATFORMS = ["linux", "windows", "macos"] as const;
export type PlatformName = (typeof PLATFORMS)[number];

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
  /** Cross-field rules for one input element, after it matched the schema. */
  check?: (input: Record<string, unknown>, env: CheckEnv) => InputIssue[];
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
