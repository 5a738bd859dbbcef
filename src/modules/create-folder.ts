/** @module modules/create-folder: CreateFolder — make folders and their parents. */
import { Type } from "@sinclair/typebox";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";
import { NoOutput, Permissions } from "./_inputs.ts";

export default defineModule({
  name: "CreateFolder",
  summary: "Creates folders and missing parents; existing folders keep their contents.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: Fields({
    path: Text({ minLength: 1, description: "the folder to create" }),
    owner: Type.Optional(Text({ minLength: 1, description: "user name or id (not on Windows)" })),
    group: Type.Optional(Text({ minLength: 1, description: "group name or id (not on Windows)" })),
    permissions: Type.Optional(Permissions("octal mode such as 0755 (not on Windows)")),
    overwrite: Type.Optional(Flag({ default: true, description: "accept an existing folder (default true)" })),
  }),
  output: NoOutput(),
  notOnWindows: ["owner", "group", "permissions"],
});
