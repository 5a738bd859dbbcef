/**
 * @module platform/reboot-command: restarts the machine now (standalone mode, docs/reboot.md §3) —
 * `shutdown -r now` (or `reboot`) on Linux and macOS, `shutdown /r /t 0` on Windows.
 */
import { StepError } from "../errors.ts";
import { failure, requireRoot, type TriggerEnv } from "./boot-trigger.ts";
import { findProgram } from "./probe.ts";

/** Time allowed for the command to accept the request; the restart itself happens after it returns. */
const ACCEPT_TIMEOUT_MS = 60_000;

/**
 * The program and arguments that restart this machine at once. Only PATH is searched (no
 * well-known folders): what runs is what the environment says, and tests can rely on that.
 */
export function rebootCommand(t: TriggerEnv): { command: string; args: string[] } {
  // Windows: shutdown.exe is in System32, which CreateProcess searches whatever PATH holds.
  if (t.platform === "windows") return { command: "shutdown", args: ["/r", "/t", "0"] };
  const shutdown = findProgram("shutdown", t.env, false);
  if (shutdown !== undefined) return { command: shutdown, args: ["-r", "now"] };
  const reboot = findProgram("reboot", t.env, false);
  if (reboot !== undefined) return { command: reboot, args: [] };
  throw new StepError("cannot reboot: neither shutdown nor reboot is on PATH; add /usr/sbin or /sbin to PATH.");
}

/**
 * Asks the system to restart now and returns once the request was accepted (exit 0); the caller
 * then exits and the shutdown ends what is left. Off Windows, refuses before running anything when
 * awstoe is not root. A failing command → StepError with what it printed.
 */
export async function rebootNow(t: TriggerEnv): Promise<void> {
  requireRoot(t, "reboot the machine");
  const { command, args } = rebootCommand(t);
  const result = await t.exec({ command, args, env: t.env, timeoutMs: ACCEPT_TIMEOUT_MS });
  if (result.spawnError !== undefined || result.exitCode !== 0) throw failure("reboot the machine", command, result);
}
