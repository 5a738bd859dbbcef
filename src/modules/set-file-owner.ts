/** @module modules/set-file-owner: SetFileOwner — change a file's owner and group (Linux, macOS). */
import { Fields } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";
import { NoOutput, ownerFields } from "./_inputs.ts";

export default defineModule({
  name: "SetFileOwner",
  summary: "Changes the owner (and group) of a file; a symlink's target is changed.",
  platforms: ["linux", "macos"],
  shape: "list",
  input: Fields(ownerFields),
  output: NoOutput(),
});
