/** @module modules/set-file-owner: SetFileOwner — change a file's owner and group (Linux, macOS). */
import { chownSync } from "node:fs";
import { Fields } from "../model/schema-kit.ts";
import { defineModule, type InputOf, type ModuleContext } from "./_define.ts";
import { forEachOperation, fsFailure } from "./_fs.ts";
import { NoOutput, ownerFields } from "./_inputs.ts";
import { ownership } from "./_owner.ts";
import { existingFile } from "./_tree.ts";

/** One element of `inputs`. */
const inputSchema = () => Fields(ownerFields());

export default defineModule({
  name: "SetFileOwner",
  summary: "Changes the owner (and group) of a file; a symlink's target is changed.",
  platforms: ["linux", "macos"],
  shape: "list",
  input: inputSchema,
  output: NoOutput,
  async execute(items, ctx) {
    await forEachOperation(items, (item) => item.path, (item) => setFileOwner(item, ctx));
    return { outputs: {} };
  },
});

/**
 * A folder is refused rather than changed: SetFolderOwner exists for folders and says whether the
 * contents change too, so a folder here is more likely a wrong path than an intent. Anything else
 * that is not a folder (a device node, a FIFO) is changed like a file. A symlink's target changes,
 * not the link (docs/modules.md#setfileowner).
 */
function setFileOwner(item: InputOf<typeof inputSchema>, ctx: ModuleContext): void {
  const ids = ownerIds(item);
  const path = existingFile(ctx, item.path, "SetFolderOwner");
  try {
    chownSync(path, ids.uid, ids.gid);
  } catch (error) {
    throw fsFailure(error, item.path);
  }
}

/**
 * Owner and group ids, found before the disk is touched. Without `group` the owner's primary
 * group is set; a numeric owner with no account has no primary group, and then the group is left
 * as it is (as `chown 12345 file` does).
 */
export function ownerIds(item: { owner: string; group?: string }): { uid: number; gid: number } {
  return ownership(item.owner, item.group)!;
}
