/**
 * @module engine/host-reboot: how this machine carries out a reboot (docs/reboot.md §3).
 *
 * Mode: AWSTOE_REBOOT_MODE (ssm | standalone | disabled) when set; else `ssm` under the Systems
 * Manager agent (it sets AWS_SSM_INSTANCE_ID for the commands it runs), else `standalone`.
 * ssm and disabled save the state and exit 194 (Linux, macOS) or 3010 (Windows); standalone
 * installs a boot trigger that runs the same command again, then restarts the machine.
 */
import type { ExecRequest, ExecResult } from "../model/ports.ts";
import { resolve } from "node:path";
import { UsageError } from "../errors.ts";
import type { PlatformName } from "../model/platform.ts";
import { chooseTriggerKind, installBootTrigger, removeBootTrigger, type ResumeCommand, type TriggerEnv } from "../platform/boot-trigger.ts";

import { rebootCommand, rebootNow } from "../platform/reboot-command.ts";
import { rebootExitCode } from "../platform/shell.ts";
import type { RebootPort } from "./deps.ts";

const MODES = ["ssm", "standalone", "disabled"] as const;
type Mode = (typeof MODES)[number];

export interface HostRebootOptions {
  platform: PlatformName;
  env: NodeJS.ProcessEnv;
  exec(request: ExecRequest): Promise<ExecResult>;
  /** The command that continues this execution after the restart. */
  resumeCommand(executionId: string, stateDirectory: string): ResumeCommand;
}

/** Reads the mode now, so a bad AWSTOE_REBOOT_MODE is a usage error before anything runs. */
export function hostReboot(options: HostRebootOptions): RebootPort {
  const mode = rebootMode(options.env);
  const t: TriggerEnv = { platform: options.platform, env: options.env, exec: options.exec };
  const exitCode = rebootExitCode(options.platform);
  return {
    exitCode,
    clearTrigger: (stateDirectory) => removeBootTrigger(resolve(stateDirectory), t),
    async reboot(executionId, stateDirectory) {
      if (mode === "ssm") return `handing the reboot to the Systems Manager agent: exiting with ${exitCode}; the agent runs this command again after the restart`;
      if (mode === "disabled") return `reboot mode is disabled (AWSTOE_REBOOT_MODE=disabled): exiting with ${exitCode} without restarting; run the same command again to continue`;
      const directory = resolve(stateDirectory);
      rebootCommand(t); // no shutdown/reboot program: say so before installing anything
      const installed = await installBootTrigger(chooseTriggerKind(t), executionId, options.resumeCommand(executionId, directory), directory, t);
      try {
        await rebootNow(t);
      } catch (error) {
        // No restart is coming: a trigger left behind would re-run this at some later boot.
        await removeBootTrigger(directory, t).catch(() => undefined);
        throw error;
      }
      return `restarting the machine now; ${installed} runs the execution on after the restart`;
    },
  };
}

export function rebootMode(env: NodeJS.ProcessEnv): Mode {
  const given = env.AWSTOE_REBOOT_MODE;
  if (given !== undefined && given !== "") {
    const mode = given.trim().toLowerCase();
    if (!(MODES as readonly string[]).includes(mode)) {
      throw new UsageError(`AWSTOE_REBOOT_MODE is '${given}'`, { hint: `set it to one of ${MODES.join(", ")}, or unset it` });
    }
    return mode as Mode;
  }
  return env.AWS_SSM_INSTANCE_ID ? "ssm" : "standalone";
}
