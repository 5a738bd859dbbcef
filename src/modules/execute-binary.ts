/** @module modules/execute-binary: ExecuteBinary — run a program directly, without a shell. */
import { Type } from "@sinclair/typebox";
import { Fields, Text, TextList } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";
import { scriptOutcome } from "./_exec.ts";

/** The step's `inputs`. */
const inputSchema = () =>
  Fields({
    path: Text({ minLength: 1, description: "the program to run" }),
    arguments: Type.Optional(TextList({ default: [], description: "arguments, one per item (default none)" })),
  });

export default defineModule({
  name: "ExecuteBinary",
  summary: "Runs a program with the given arguments, each list item one argument; no shell is involved.",
  platforms: ["linux", "windows", "macos"],
  shape: "map",
  input: inputSchema,
  output: () => Fields({ stdout: Text({ description: "standard output, trailing newlines removed" }) }),
  async execute(input, ctx) {
    const { path, arguments: args } = input;
    return scriptOutcome(`'${path}'`, await ctx.exec({ command: path, args }), ctx);
  },
});
