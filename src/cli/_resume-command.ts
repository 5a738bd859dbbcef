/**
 * @module cli/_resume-command: the command a boot trigger runs to continue an execution after a
 * restart (docs/reboot.md §4) — this very awstoe with the arguments it was started with, in the same
 * folder, with the execution id and the (absolute) state directory pinned.
 */
import { resolve } from "node:path";
import type { ResumeCommand } from "../platform/boot-trigger.ts";

/** Options the resume command sets itself; the user's own values for them are dropped. */
const PINNED = new Set(["--execution-id", "-i", "--state-directory", "-s"]);

export interface ProcessFacts {
  /** process.argv: the runtime (or the compiled binary), the script (unless compiled), then the arguments. */
  argv: readonly string[];
  execPath: string;
  /** process.argv0: the program name as it was started. */
  argv0?: string;
  cwd: string;
  /** PATH of this run: boot-time jobs start with a bare one (cron: /usr/bin:/bin, no shutdown). */
  path: string | undefined;
}

export function resumeCommandFor(facts: ProcessFacts): (executionId: string, stateDirectory: string) => ResumeCommand {
  const script = facts.argv[1];
  // A compiled binary's script lives in Bun's embedded file system; it is the executable itself.
  // A Node single executable (the windows/386 build) repeats argv0 in the script's place instead.
  const compiled = script === undefined || script.startsWith("/$bunfs/") || /^[A-Z]:[\\/]~BUN[\\/]/i.test(script) || script === facts.argv0;
  const prefix = compiled ? [] : [resolve(facts.cwd, script)];
  const given = facts.argv.slice(2);
  return (executionId, stateDirectory) => ({
    executable: facts.execPath,
    args: [...prefix, ...withoutPinned(given), "--execution-id", executionId, "--state-directory", resolve(facts.cwd, stateDirectory)],
    cwd: facts.cwd,
    ...(facts.path ? { env: { PATH: facts.path } } : {}),
  });
}

function withoutPinned(args: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (PINNED.has(arg)) {
      i++; // and its value
      continue;
    }
    if ([...PINNED].some((flag) => flag.startsWith("--") && arg.startsWith(`${flag}=`))) continue;
    kept.push(arg);
  }
  return kept;
}
