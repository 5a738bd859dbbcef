/** @module model/status: the status words awstoe writes, and how children roll up into parents. */

/**
 * Step statuses, as current AWSTOE writes them (docs/component-documents.md §9.2: lower-camel words).
 * `ignoredFailure`: the step failed and its `onFailure: Ignore` let the run go on (docs/component-documents.md §9.2
 * calls it IgnoredFailure; older opentoe wrote `ignored`).
 * `timedOut`: the step's last attempt was stopped for exceeding `timeoutSeconds`, and the failure
 * was not ignored. The spec names `timedOut` only for the run summary; a step carries it too so that
 * the record shows which step a timed-out run stopped at. It is a failure like `failed`: it counts
 * in failedStepCount, and with `onFailure: Continue` its phase and document are `failed`. An
 * ExecuteDocument step whose nested run timed out is `failed`: that step has no time limit of its
 * own (its outputs carry the nested `timedOut`).
 */
export type StepStatus = "success" | "failed" | "skipped" | "ignoredFailure" | "timedOut";
/**
 * Phases, documents and executions: `timedOut` only when a step that timed out stopped them
 * (onFailure Abort); a timeout that the run went on after makes them `failed`.
 */
export type RollUpStatus = "success" | "failed" | "timedOut" | "successWithIgnoredFailure";
/** A document, phase or execution that has started and not finished (seen only mid-run). */
export type Status = StepStatus | RollUpStatus | "running";

/** A step, phase, document or execution that failed (whatever the reason). */
export function isFailure(status: Status): boolean {
  return status === "failed" || status === "timedOut";
}

/**
 * Parent status from its children (docs/component-documents.md §9.3): `stoppedBy` is the status of the child that
 * ended the parent early (an Abort-level failure), when one did — a timed-out one makes the parent
 * `timedOut`. Otherwise failed if any child failed or timed out; else successWithIgnoredFailure if
 * any failure was ignored; else success. Skipped counts as success.
 */
export function rollUp(children: readonly Status[], stoppedBy?: Status): RollUpStatus {
  if (stoppedBy === "timedOut") return "timedOut";
  if (children.some(isFailure)) return "failed";
  if (children.includes("ignoredFailure") || children.includes("successWithIgnoredFailure")) return "successWithIgnoredFailure";
  return "success";
}

/** Statuses that let the run carry on and count as a good outcome. */
export function isSuccessful(status: Status): boolean {
  return status === "success" || status === "skipped" || status === "successWithIgnoredFailure" || status === "ignoredFailure";
}
