/** @module modules/create-symlink: CreateSymlink — make symbolic links (Linux, macOS). */
import { Type } from "@sinclair/typebox";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";
import { NoOutput } from "./_inputs.ts";

export default defineModule({
  name: "CreateSymlink",
  summary: "Creates symbolic links pointing at existing targets.",
  platforms: ["linux", "macos"],
  shape: "list",
  input: Fields({
    path: Text({ minLength: 1, description: "where the link is created" }),
    target: Text({ minLength: 1, description: "what the link points to (must exist)" }),
    force: Type.Optional(Flag({ default: false, description: "replace an existing link (default false)" })),
  }),
  output: NoOutput(),
});
