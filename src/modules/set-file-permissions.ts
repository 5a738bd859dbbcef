/** @module modules/set-file-permissions: SetFilePermissions — chmod a file (Linux, macOS). */
import { chmodSync } from "node:fs";
import { Fields, Text } from "../model/schema-kit.ts";
import { defineModule, type InputOf, type ModuleContext } from "./_define.ts";
import { forEachOperation, fsFailure } from "./_fs.ts";
import { NoOutput, Permissions } from "./_inputs.ts";
import { parseMode } from "./_owner.ts";
import { existingFile } from "./_tree.ts";

/** One element of `inputs`. */
const inputSchema = () => Fields({ path: Text({ minLength: 1, description: "the file" }), permissions: Permissions("octal mode such as 0644") });

type Item = InputOf<typeof inputSchema>;

export default defineModule({
  name: "SetFilePermissions",
  summary: "Sets a file's permission bits exactly (umask is not applied).",
  platforms: ["linux", "macos"],
  shape: "list",
  input: inputSchema,
  output: NoOutput,
  async execute(items, ctx) {
    await forEachOperation(items, (item) => item.path, (item) => setFilePermissions(item, ctx));
    return { outputs: {} };
  },
});

/**
 * chmod with exactly the given bits, special bits (setuid, setgid, sticky) included; the umask
 * plays no part. A symlink's target changes (chmod cannot change a link on Linux). A folder is
 * refused, like SetFileOwner does: SetFolderPermissions is the module for folders.
 */
function setFilePermissions(item: Item, ctx: ModuleContext): void {
  const mode = parseMode(item.permissions);
  const path = existingFile(ctx, item.path, "SetFolderPermissions");
  try {
    chmodSync(path, mode);
  } catch (error) {
    throw fsFailure(error, item.path);
  }
}
