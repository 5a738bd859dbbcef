/**
 * @module model/record: the result tree written to detailedoutput.json (docs/log-folder.md §7) as TypeBox
 * schemas, in the documented key order. The writer and the golden tests both check against it.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import type { Status } from "./status.ts";

const StatusSchema = Type.Union(
  ["success", "failed", "skipped", "ignoredFailure", "timedOut", "successWithIgnoredFailure", "running"].map((s) => Type.Literal(s)),
);

export const LoopRecord = Type.Object({
  name: Type.String(),
  type: Type.Union([Type.Literal("for"), Type.Literal("forEach")]),
  values: Type.Array(Type.String()),
  failedIterations: Type.Array(Type.Integer()),
});

/** Built lazily: a step of ExecuteDocument holds a whole child execution. */
export const ExecutionRecord = Type.Recursive(
  (Self: TSchema) => {
    const StepRecord = Type.Object({
      name: Type.String(),
      status: StatusSchema,
      failureMessage: Type.String(),
      timeoutSeconds: Type.Integer(),
      onFailure: Type.String(),
      maxAttempts: Type.Integer(),
      action: Type.String(),
      startTime: Type.String(),
      endTime: Type.String(),
      durationMs: Type.Optional(Type.Integer({ description: "how long the step took, all attempts, in milliseconds (absent in records of older runs)" })),
      inputs: Type.String({ description: "JSON text of the normalized, resolved inputs list" }),
      outputs: Type.String({ description: "JSON text of the outputs list" }),
      loop: Type.Union([Type.Null(), LoopRecord]),
      detailedOutput: Type.Union([Type.Null(), Type.Array(Self)]),
      restored: Type.Optional(Type.Literal(true, { description: "run --retry: finished in an earlier attempt of this execution and restored, not run again" })),
      notSelected: Type.Optional(Type.String({ description: "run --from/--only: why this skipped step did not run" })),
    });
    const PhaseRecord = Type.Object({
      name: Type.String(),
      status: StatusSchema,
      startTime: Type.String(),
      endTime: Type.String(),
      failureMessage: Type.String(),
      steps: Type.Array(StepRecord),
    });
    const DocumentRecord = Type.Object({
      name: Type.String(),
      filePath: Type.String(),
      status: StatusSchema,
      description: Type.String(),
      startTime: Type.String(),
      endTime: Type.String(),
      failureMessage: Type.String(),
      phases: Type.Array(PhaseRecord),
    });
    return Type.Object({
      executionId: Type.String(),
      componentVersion: Type.Optional(Type.String({ description: "run --version: the component application version (only when given)" })),
      status: StatusSchema,
      startTime: Type.String(),
      endTime: Type.String(),
      failureMessage: Type.String(),
      documents: Type.Array(DocumentRecord),
    });
  },
  { $id: "ExecutionRecord" },
);

export type StatusWord = Status;
export type LoopRecord = Static<typeof LoopRecord>;

export interface StepRecord {
  name: string;
  status: StatusWord;
  failureMessage: string;
  timeoutSeconds: number;
  onFailure: string;
  maxAttempts: number;
  action: string;
  startTime: string;
  endTime: string;
  /** Milliseconds the step took (the times above are whole seconds); absent in records restored from older journals. */
  durationMs?: number;
  inputs: string;
  outputs: string;
  loop: LoopRecord | null;
  detailedOutput: ExecutionRecord[] | null;
  /** `run --retry`: the step finished in an earlier attempt of this execution and was restored, not run again (docs/log-folder.md §7). */
  restored?: true;
  /** `run --from`/`--only`: the step (status skipped) was left out; the reason, naming the option. */
  notSelected?: string;
}

export interface PhaseRecord {
  name: string;
  status: StatusWord;
  startTime: string;
  endTime: string;
  failureMessage: string;
  steps: StepRecord[];
}

export interface DocumentRecord {
  name: string;
  filePath: string;
  status: StatusWord;
  description: string;
  startTime: string;
  endTime: string;
  failureMessage: string;
  phases: PhaseRecord[];
}

export interface ExecutionRecord {
  executionId: string;
  /** `run --version <v>`, when given; never on nested executions. */
  componentVersion?: string;
  status: StatusWord;
  startTime: string;
  endTime: string;
  failureMessage: string;
  documents: DocumentRecord[];
}

/**
 * The run summary printed on stdout and returned by ExecuteDocument, in the documented field order
 * (docs/cli.md §7); printed as 4-space indented JSON, which AWS's sample kit greps.
 */
export interface RunSummary {
  executionId: string;
  status: StatusWord;
  failedStepCount: number;
  executedStepCount: number;
  ignoredFailedStepCount: number;
  /** Steps whose `if` skipped them. */
  skippedStepCount: number;
  failureMessage: string;
  logUrl: string;
}

/** One `{{ reference }}` a step used, as chaining.json lists it (never its value). */
export interface ChainingEntry {
  expression: string;
  usedBy: string;
  resolved: boolean;
}
