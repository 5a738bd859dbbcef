/** @module modules/_exec: turning a finished script or program into a step outcome (Execute* modules). */
import type { ExecResult } from "../model/ports.ts";
import { StepError } from "../errors.ts";

import type { ModuleContext, ModuleResult } from "./_define.ts";

/** How many of the last stderr lines a failure message quotes. */
const QUOTED_STDERR_LINES = 3;

/**
 * Exit 0 → success with `stdout`; the platform's reboot code (194/3010) → a reboot request that
 * reruns the step; anything else → failure quoting the exit code and the end of stderr.
 *
 * A program that exited while processes it started still held its output (`leftRunning`: a
 * background job, a service) is judged by its own exit code like any other; those processes are
 * left running. That is said three ways: a warning (application.log, terminal, console.log), a
 * `backgroundProcesses` note beside `stdout` in the step's recorded outputs (not a declared
 * output: documents cannot chain to it), or a clause in the failure message.
 */
export function scriptOutcome(what: string, result: ExecResult, ctx: ModuleContext): ModuleResult<{ stdout: string }> {
  if (result.spawnError !== undefined) throw new StepError(result.spawnError);
  if (result.aborted || result.timedOut) throw new StepError(`${what} was stopped before it finished`);
  const leftRunning = result.leftRunning === true;
  if (leftRunning) {
    ctx.log.warn(
      `processes started by ${what} kept running after it exited, with its output still open; they were left running and their further output is not captured (redirect a background job's output, e.g. 'command >file 2>&1 &', to avoid this)`,
    );
  }
  const stdout = ctx.shell.trimTrailingNewlines(result.stdout);
  const outputs = leftRunning ? { stdout, backgroundProcesses: `kept running after ${what} exited, with its output still open` } : { stdout };
  const rebootCode = ctx.shell.rebootExitCode(ctx.platform);
  if (result.exitCode === rebootCode || truncatedRebootCode(result.exitCode, rebootCode, ctx)) return { outputs, reboot: { rerunStep: true, exitCode: rebootCode } };
  if (result.exitCode !== 0) {
    const code = result.exitCode === null ? `was killed by ${result.signal ?? "a signal"}` : `exited with code ${result.exitCode}`;
    const left = leftRunning ? " (processes it started kept running, with its output still open)" : "";
    throw new StepError(`${what} ${code}${stderrTail(result.stderr)}${left}`, { exitCode: result.exitCode ?? undefined, stderrTail: result.stderr.slice(-2000) });
  }
  return { outputs };
}

/**
 * Bun's Windows runtime keeps only the low byte of a child's exit code (3010 arrives as 194;
 * Bun issue/PR #33720). On Windows a program exiting 194 for its own reasons is rare, and 3010 is
 * the documented reboot request, so 194 there is read as 3010. Under Node (the 386 fallback) the
 * full code arrives and the first comparison matches.
 */
function truncatedRebootCode(exitCode: number | null, rebootCode: number, ctx: ModuleContext): boolean {
  return ctx.platform === "windows" && exitCode === (rebootCode & 0xff);
}

function stderrTail(stderr: string): string {
  const lines = stderr.trimEnd().split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) return "";
  return `: ${lines.slice(-QUOTED_STDERR_LINES).join(" | ").slice(0, 500)}`;
}
