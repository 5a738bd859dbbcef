/** @module model/status: the status words awstoe writes, and how children roll up into parents. */

/** Step statuses (README Q5); phases, documents and executions use the first three plus `running`. */
export type StepStatus = "success" | "failed" | "skipped" | "ignored";
export type RollUpStatus = "success" | "failed" | "successWithIgnoredFailure";
/** A document, phase or execution that has started and not finished (seen only mid-run). */
export type Status = StepStatus | RollUpStatus | "running";

/**
 * Parent status from its children (documents.md §9): failed if any failed; else
 * successWithIgnoredFailure if any was ignored; else success. Skipped counts as success.
 */
export function rollUp(children: readonly Status[]): RollUpStatus {
  if (children.includes("failed")) return "failed";
  if (children.includes("ignored") || children.includes("successWithIgnoredFailure")) return "successWithIgnoredFailure";
  return "success";
}

/** Statuses that let the run carry on and count as a good outcome. */
export function isSuccessful(status: Status): boolean {
  return status === "success" || status === "skipped" || status === "successWithIgnoredFailure" || status === "ignored";
}
