/** @module modules/copy-folder: CopyFolder — copy folders with everything in them. */
import { defineModule } from "./_define.ts";
import { checkWildcardSource, NoOutput, sourceDestination } from "./_inputs.ts";
import { transferModule } from "./_transfer.ts";

export default defineModule({
  name: "CopyFolder",
  summary: "Copies folders recursively; a * in the source's last segment copies every matching folder.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: () => sourceDestination("folder"),
  output: NoOutput,
  check: (input, env) => checkWildcardSource(input, env.platform === "windows"),
  // Rules and the choices made where the spec leaves room: src/modules/_transfer.ts.
  execute: transferModule("folder", "copy"),
});
