/** @module modules/set-folder-owner: SetFolderOwner — change a folder's owner and group (Linux, macOS). */
import { Type } from "@sinclair/typebox";
import { Fields, Flag } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";
import { NoOutput, ownerFields } from "./_inputs.ts";

export default defineModule({
  name: "SetFolderOwner",
  summary: "Changes the owner (and group) of a folder and, by default, everything in it.",
  platforms: ["linux", "macos"],
  shape: "list",
  input: Fields({ ...ownerFields, recursive: Type.Optional(Flag({ default: true, description: "include the folder's contents (default true)" })) }),
  output: NoOutput(),
});
