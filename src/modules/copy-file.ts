/** @module modules/copy-file: CopyFile — copy files, optionally matched by a * pattern. */
import { defineModule } from "./_define.ts";
import { checkWildcardSource, NoOutput, sourceDestination } from "./_inputs.ts";
import { transferModule } from "./_transfer.ts";

export default defineModule({
  name: "CopyFile",
  summary: "Copies files; a * in the source's last segment copies every matching file into a folder.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: () => sourceDestination("file"),
  output: NoOutput,
  check: (input, env) => checkWildcardSource(input, env.platform === "windows"),
  // Rules and the choices made where the spec leaves room: src/modules/_transfer.ts.
  execute: transferModule("file", "copy"),
});
