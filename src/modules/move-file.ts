/** @module modules/move-file: MoveFile — move or rename files. */
import { defineModule } from "./_define.ts";
import { checkWildcardSource, NoOutput, sourceDestination } from "./_inputs.ts";
import { transferModule } from "./_transfer.ts";

export default defineModule({
  name: "MoveFile",
  summary: "Moves or renames files; a * in the source's last segment moves every matching file into a folder.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: () => sourceDestination("file"),
  output: NoOutput,
  check: (input, env) => checkWildcardSource(input, env.platform === "windows"),
  // Rules and the choices made where the spec leaves room: src/modules/_transfer.ts.
  execute: transferModule("file", "move"),
});
