/** @module modules/create-file: CreateFile — write files with given content. */
import { Type } from "@sinclair/typebox";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";
import { Encoding, NoOutput, Permissions } from "./_inputs.ts";

export default defineModule({
  name: "CreateFile",
  summary: "Creates (or rewrites) files with the given content, creating parent folders as needed.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: Fields({
    path: Text({ minLength: 1, description: "the file to create" }),
    content: Type.Optional(Text({ default: "", description: "the file's text" })),
    encoding: Encoding(),
    owner: Type.Optional(Text({ minLength: 1, description: "user name or id (not on Windows)" })),
    group: Type.Optional(Text({ minLength: 1, description: "group name or id (not on Windows)" })),
    permissions: Type.Optional(Permissions("octal mode such as 0644 (not on Windows)")),
    overwrite: Type.Optional(Flag({ default: true, description: "replace an existing file (default true)" })),
  }),
  output: NoOutput(),
  notOnWindows: ["owner", "group", "permissions"],
});
