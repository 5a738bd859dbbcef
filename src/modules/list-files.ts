/** @module modules/list-files: ListFiles — list files in a folder. */
import { Type } from "@sinclair/typebox";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";

export default defineModule({
  name: "ListFiles",
  summary: "Lists files (not folders) in a folder whose names match a pattern; output files, comma-separated.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: Fields({
    path: Text({ minLength: 1, description: "the folder" }),
    fileNamePattern: Type.Optional(Text({ description: "file names to include; * is a wildcard (default all)" })),
    recursive: Type.Optional(Flag({ default: false, description: "look in sub-folders too (default false)" })),
  }),
  output: Fields({ files: Text({ description: "full paths, comma-separated, sorted" }) }),
});
