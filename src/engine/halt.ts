/**
 * @module engine/halt: the reason an execution was ended from outside its steps — a log or state
 * file that can no longer be written (a full disk). It travels as the run signal's abort reason,
 * so the step that was running is recorded as stopped for that reason, not as "interrupted".
 */
export class RunHalt extends Error {
  override readonly name = "RunHalt";
}

export function isHalt(reason: unknown): reason is RunHalt {
  return reason instanceof RunHalt;
}
