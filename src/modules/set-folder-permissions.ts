/** @module modules/set-folder-permissions: SetFolderPermissions — chmod a folder (Linux, macOS). */
import { Type } from "@sinclair/typebox";
import { chmodSync } from "node:fs";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule, type InputOf, type ModuleContext } from "./_define.ts";
import { forEachOperation } from "./_fs.ts";
import { NoOutput, Permissions } from "./_inputs.ts";
import { parseMode } from "./_owner.ts";
import { changeTree, existingFolder } from "./_tree.ts";

/** One element of `inputs`. */
const inputSchema = () =>
  Fields({
    path: Text({ minLength: 1, description: "the folder" }),
    permissions: Permissions("octal mode such as 0755"),
    recursive: Type.Optional(Flag({ default: true, description: "include the folder's contents (default true)" })),
  });

type Item = InputOf<typeof inputSchema>;

export default defineModule({
  name: "SetFolderPermissions",
  summary: "Sets a folder's permission bits exactly and, by default, those of everything in it.",
  platforms: ["linux", "macos"],
  shape: "list",
  input: inputSchema,
  output: NoOutput,
  async execute(items, ctx) {
    await forEachOperation(items, (item) => item.path, (item) => setFolderPermissions(item, ctx));
    return { outputs: {} };
  },
});

/**
 * The folder and, when `recursive` (default), every file and folder in it get exactly the given
 * bits — files too, execute bits included: the spec says "apply to all contents" and a mode that
 * silently differed between files and folders would surprise more than `chmod -R` semantics do.
 * Symlinks inside are skipped: chmod would follow them and change something outside the folder,
 * and a link's own mode means nothing on Linux. A link given as the folder itself is followed (see
 * existingFolder). A file is refused: that is SetFilePermissions' job.
 */
function setFolderPermissions(item: Item, ctx: ModuleContext): void {
  const mode = parseMode(item.permissions);
  const recursive = item.recursive !== false;
  const root = existingFolder(ctx, item.path, "SetFilePermissions", recursive);
  changeTree(root, item.path, recursive, (entry) => {
    if (entry.kind === "symlink") return false;
    chmodSync(entry.path, mode);
    return true;
  });
}
