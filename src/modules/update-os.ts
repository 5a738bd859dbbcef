/** @module modules/update-os: UpdateOS — install operating system updates. */
import { Type } from "@sinclair/typebox";
import { Fields, TextList } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";
import { NoOutput } from "./_inputs.ts";

export default defineModule({
  name: "UpdateOS",
  summary: "Installs available updates (Linux packages or Windows updates), optionally only some.",
  // macOS has no package manager awstoe can drive (README Q18).
  platforms: ["linux", "windows"],
  shape: "map",
  inputsOptional: true,
  input: Fields({
    include: Type.Optional(TextList({ description: "packages, KB ids or *title* patterns to update" })),
    exclude: Type.Optional(TextList({ description: "packages, KB ids or *title* patterns to leave alone" })),
  }),
  output: NoOutput(),
});
