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
  input: Fields({ delaySeconds: Type.Optional(Whole({ minimum: 0, default: 0, description: "seconds to wait before restarting" })) }),
  output: NoOutput(),
});
