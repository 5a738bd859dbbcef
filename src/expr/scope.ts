/**
 * @module expr/scope: what `{{ … }}` references can see while one step is being prepared —
 * parameters and constants, the step's own loop iteration, and earlier steps' inputs/outputs.
 * Plain immutable data built by the engine; pure.
 */
import type { HostReference } from "./template.ts";

/** An earlier step as chaining sees it (docs/component-documents.md §6). */
export interface StepData {
  /** Resolved inputs, always a list of objects (a mapping input is a one-element list). */
  inputs: readonly Record<string, unknown>[];
  /**
   * Outputs, a list of objects; `undefined` when the step was skipped or failed, so that
   * output references fail with a clear message while input references still resolve.
   */
  outputs: readonly Record<string, unknown>[] | undefined;
}

export interface LoopIteration {
  /** The loop's `name`, when it has one; `loop` always refers to the current loop. */
  name?: string;
  index: number;
  value: string;
}

/**
 * Answers references to the world outside the document (env:, context:, aws:imds:, aws:ssm:)
 * while a step is prepared. Synchronous: whatever needs the network was fetched before the step
 * was compiled (engine/host-values.ts). Throws ResolveError for a reference that cannot be
 * answered (a missing environment variable, a parameter that could not be read).
 */
export interface HostLookup {
  /** `raw` is the reference as written, `{{ … }}` included: what a lookup that leaves it alone returns. */
  resolve(reference: HostReference, raw: string): string;
}

export interface Scope {
  /** Parameter and constant values by name. */
  variables: ReadonlyMap<string, string>;
  /** Earlier steps of this document by `<phase>.<step>`. */
  steps: ReadonlyMap<string, StepData>;
  /** The current iteration, only while resolving a looping step's inputs. */
  loop?: LoopIteration;
  /** Host references; without it (validate, a plan) they stay as written. */
  host?: HostLookup;
}

export function stepKey(phase: string, step: string): string {
  return `${phase}.${step}`;
}

export function emptyScope(variables: ReadonlyMap<string, string> = new Map()): Scope {
  return { variables, steps: new Map() };
}
