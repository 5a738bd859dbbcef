/**
 * @module engine/failure-context: what console.log says about a failed run (docs/log-folder.md §6,
 * "Failure context in console.log") — the first failed step's document, phase, step, action and
 * message, then that step's whole standard error. Kept beside the run, never in
 * detailedoutput.json (whose schema has no place for stderr).
 */

/** The first step of a document that failed or timed out (an ignored failure is not one). */
export interface FailureContext {
  /** The document's `name`, or its source when it has none. */
  document: string;
  /** The document's source, when that is an Image Builder component ARN. */
  componentArn?: string;
  /**
   * When the failure happened inside ExecuteDocument: each nested document on the way down,
   * outermost first, with the ExecuteDocument step (`<phase>/<step>`) of its parent that ran it.
   * The other fields then describe the innermost failed step; `document` stays the outer one.
   */
  nested: { document: string; via: string }[];
  phase: string;
  step: string;
  action: string;
  errorMessage: string;
  /** Everything the step's programs wrote to standard error in its last attempt ("" = nothing). */
  stderr: string;
}

/** The same failure as seen from the document whose ExecuteDocument step (`via`) ran it. */
export function nestedIn(inner: FailureContext, outer: { document: string; componentArn?: string; via: string }): FailureContext {
  // The ARN shown is the outer document's: that is the component the run was asked for.
  const { componentArn: _innerArn, ...rest } = inner;
  return {
    ...rest,
    document: outer.document,
    ...(outer.componentArn === undefined ? {} : { componentArn: outer.componentArn }),
    nested: [{ document: inner.document, via: outer.via }, ...inner.nested],
  };
}

/**
 * The block written to console.log, two-space indented, one field a line. `ErrorMessage` and
 * `Stderr` only when the step produced them; the standard error follows `Stderr: ` as it was
 * written (trailing newlines aside), so it is complete and greppable.
 *
 * A failure inside ExecuteDocument names the outer document first, the way the run was asked for
 * it, with the nested documents in brackets: `Document: outer (nested: inner, via build/RunInner)`;
 * deeper chains add `; <next>, via <phase>/<step>`. Phase, Step and Action are the innermost step's.
 */
export function formatFailureContext(context: FailureContext): string {
  const nested = context.nested.map((n) => `${n.document}, via ${n.via}`).join("; ");
  const lines = [`  Document: ${context.document}${nested === "" ? "" : ` (nested: ${nested})`}`];
  if (context.componentArn !== undefined) lines.push(`  ComponentArn: ${context.componentArn}`);
  lines.push(`  Phase: ${context.phase}`, `  Step: ${context.step}`, `  Action: ${context.action}`);
  if (context.errorMessage !== "") lines.push(`  ErrorMessage: ${context.errorMessage}`);
  const stderr = context.stderr.replace(/(\r?\n)+$/, "");
  if (stderr.trim() !== "") lines.push(`  Stderr: ${stderr}`);
  return `${lines.join("\n")}\n`;
}

/** Most characters of a step's standard error kept for the failure context (the end is kept). */
export const STDERR_KEPT_CHARS = 1024 * 1024;

/**
 * Collects what one step's programs write to standard error, as it streams past; bounded, keeping
 * the end (where the error usually is) and saying how much of the start was dropped.
 */
export class StderrCapture {
  private chunks: string[] = [];
  private size = 0;
  private dropped = 0;

  constructor(private readonly limit = STDERR_KEPT_CHARS) {}

  reset(): void {
    this.chunks = [];
    this.size = 0;
    this.dropped = 0;
  }

  add(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
    if (this.size <= this.limit * 2) return;
    // Compact now and then, not on every chunk: join, keep the last `limit` characters.
    const joined = this.chunks.join("");
    this.dropped += joined.length - this.limit;
    this.chunks = [joined.slice(-this.limit)];
    this.size = this.limit;
  }

  text(): string {
    const joined = this.chunks.join("");
    const over = Math.max(0, joined.length - this.limit);
    const dropped = this.dropped + over;
    const kept = over > 0 ? joined.slice(-this.limit) : joined;
    return dropped === 0 ? kept : `[the first ${dropped} characters of standard error are not repeated here; console.log has them above]\n${kept}`;
  }
}
