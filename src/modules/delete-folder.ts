/** @module modules/delete-folder: DeleteFolder — remove folders. */
import { Type } from "@sinclair/typebox";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";
import { NoOutput } from "./_inputs.ts";

export default defineModule({
  name: "DeleteFolder",
  summary: "Deletes folders; a folder that is not empty needs force: true.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: Fields({
    path: Text({ minLength: 1, description: "the folder to delete" }),
    force: Type.Optional(Flag({ default: false, description: "delete contents too (default false)" })),
  }),
  output: NoOutput(),
});
