/** @module modules/move-folder: MoveFolder — move or rename folders. */
import { defineModule } from "./_define.ts";
import { checkWildcardSource, NoOutput, sourceDestination } from "./_inputs.ts";
import { transferModule } from "./_transfer.ts";

export default defineModule({
  name: "MoveFolder",
  summary: "Moves or renames folders; a * in the source's last segment moves every matching folder.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: () => sourceDestination("folder"),
  output: NoOutput,
  check: (input, env) => checkWildcardSource(input, env.platform === "windows"),
  // Rules and the choices made where the spec leaves room: src/modules/_transfer.ts.
  execute: transferModule("folder", "move"),
});
