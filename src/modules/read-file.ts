/** @module modules/read-file: ReadFile — read a text file into the step's output. */
import { Type } from "@sinclair/typebox";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";
import { Encoding } from "./_inputs.ts";

export default defineModule({
  name: "ReadFile",
  summary: "Reads a text file; its text becomes the output content.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: Fields({
    path: Text({ minLength: 1, description: "the file to read" }),
    encoding: Encoding(),
    printFileContent: Type.Optional(Flag({ default: false, description: "also print the text to the console log" })),
  }),
  output: Fields({ content: Text({ description: "the file's text" }) }),
});
