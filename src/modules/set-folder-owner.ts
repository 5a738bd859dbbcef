/** @module modules/set-folder-owner: SetFolderOwner — change a folder's owner and group (Linux, macOS). */
import { Type } from "@sinclair/typebox";
import { lchownSync } from "node:fs";
import { Fields, Flag } from "../model/schema-kit.ts";
import { defineModule, type InputOf, type ModuleContext } from "./_define.ts";
import { forEachOperation } from "./_fs.ts";
import { NoOutput, ownerFields } from "./_inputs.ts";
import { changeTree, existingFolder } from "./_tree.ts";
import { ownerIds } from "./set-file-owner.ts";

/** One element of `inputs`. */
const inputSchema = () =>
  Fields({ ...ownerFields(), recursive: Type.Optional(Flag({ default: true, description: "include the folder's contents (default true)" })) });

export default defineModule({
  name: "SetFolderOwner",
  summary: "Changes the owner (and group) of a folder and, by default, everything in it.",
  platforms: ["linux", "macos"],
  shape: "list",
  input: inputSchema,
  output: NoOutput,
  async execute(items, ctx) {
    await forEachOperation(items, (item) => item.path, (item) => setFolderOwner(item, ctx));
    return { outputs: {} };
  },
});

/**
 * The folder and, when `recursive` (default), everything in it get the owner and group. Symlinks
 * inside are changed themselves (lchown) and never followed, so nothing outside the folder changes;
 * a link given as the folder itself is followed (see existingFolder). A file is refused: that is
 * SetFileOwner's job. As with `chown -R`, the system clears setuid/setgid bits of executable files
 * whose owner changes.
 */
function setFolderOwner(item: InputOf<typeof inputSchema>, ctx: ModuleContext): void {
  const ids = ownerIds(item);
  const recursive = item.recursive !== false;
  const root = existingFolder(ctx, item.path, "SetFileOwner", recursive);
  // lchown for every entry: on a link it changes the link, on anything else it is chown — and an
  // entry swapped for a link behind our back is still not followed. `root` is a real path.
  changeTree(root, item.path, recursive, (entry) => {
    lchownSync(entry.path, ids.uid, ids.gid);
    return true;
  });
}
