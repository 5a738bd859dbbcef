/** @module modules/set-file-permissions: SetFilePermissions — chmod a file (Linux, macOS). */
import { Fields, Text } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";
import { NoOutput, Permissions } from "./_inputs.ts";

export default defineModule({
  name: "SetFilePermissions",
  summary: "Sets a file's permission bits exactly (umask is not applied).",
  platforms: ["linux", "macos"],
  shape: "list",
  input: Fields({ path: Text({ minLength: 1, description: "the file" }), permissions: Permissions("octal mode such as 0644") }),
  output: NoOutput(),
});
