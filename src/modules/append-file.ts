/** @module modules/append-file: AppendFile — add text to the end of existing files. */
import { Type } from "@sinclair/typebox";
import { Fields, Text } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";
import { Encoding, NoOutput } from "./_inputs.ts";

export default defineModule({
  name: "AppendFile",
  summary: "Appends text to existing files (no newline is added).",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: Fields({
    path: Text({ minLength: 1, description: "an existing file" }),
    content: Type.Optional(Text({ default: "", description: "text to append" })),
    encoding: Encoding(),
  }),
  output: NoOutput(),
});
