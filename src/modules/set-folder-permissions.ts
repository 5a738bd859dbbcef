/** @module modules/set-folder-permissions: SetFolderPermissions — chmod a folder (Linux, macOS). */
import { Type } from "@sinclair/typebox";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";
import { NoOutput, Permissions } from "./_inputs.ts";

export default defineModule({
  name: "SetFolderPermissions",
  summary: "Sets a folder's permission bits exactly and, by default, those of everything in it.",
  platforms: ["linux", "macos"],
  shape: "list",
  input: Fields({
    path: Text({ minLength: 1, description: "the folder" }),
    permissions: Permissions("octal mode such as 0755"),
    recursive: Type.Optional(Flag({ default: true, description: "include the folder's contents (default true)" })),
  }),
  output: NoOutput(),
});
