/** @module modules/reboot: Reboot — restart the machine and continue with the next step. */
import { Type } from "@sinclair/typebox";
import { Fields, Whole } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";
import { NoOutput } from "./_inputs.ts";

export default defineModule({
  name: "Reboot",
  summary: "Restarts the machine, then the execution continues with the next step.",
  platforms: ["linux", "windows", "macos"],
  shape: "map",
  inputsOptional: true,
  input: () => Fields({ delaySeconds: Type.Optional(Whole({ minimum: 0, default: 0, description: "seconds to wait before restarting" })) }),
  output: NoOutput,
  ignoresTimeout: true,
  // Waits, then hands the restart to the engine, which saves the state and reboots (or exits
  // 194/3010 for the Systems Manager agent). The step's timeout does not apply (docs/modules.md#reboot).
  async execute(input, ctx) {
    const { delaySeconds } = input;
    if (delaySeconds > 0) {
      ctx.log.info(`waiting ${delaySeconds} s before the reboot`);
      await sleep(delaySeconds * 1000, ctx.signal);
    }
    return { outputs: {}, reboot: { rerunStep: false } };
  },
});

/** Resolves after `ms`, or rejects as soon as the step is stopped. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", stop, { once: true });
  });
}
