/** @module modules/append-file: AppendFile — add text to the end of existing files. */
import { Type } from "@sinclair/typebox";
import { readFileSync } from "node:fs";
import { Fields, Text } from "../model/schema-kit.ts";
import { defineModule, type InputOf, type ModuleContext } from "./_define.ts";
import { codecOf, encodeText, forEachOperation, isWindows } from "./_fs.ts";
import { Encoding, NoOutput } from "./_inputs.ts";
import { aboutPath, filePath, replaceFile, requireFile, requireWritable } from "./_text-file.ts";

/** One element of `inputs`. */
const inputSchema = () =>
  Fields({
    path: Text({ minLength: 1, description: "an existing file" }),
    content: Type.Optional(Text({ default: "", description: "text to append" })),
    encoding: Encoding(),
  });

type Item = InputOf<typeof inputSchema>;

export default defineModule({
  name: "AppendFile",
  summary: "Appends text to existing files (no newline is added).",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: inputSchema,
  output: NoOutput,
  async execute(items, ctx) {
    await forEachOperation(items, (item) => item.path, (item) => appendFile(item, ctx));
    return { outputs: {} };
  },
});

/**
 * The old bytes and the new are written together to a temporary file that replaces the original, so
 * a crash never leaves half the text appended. The encoded content is added as-is: no newline, no
 * byte order mark, whatever the file already holds.
 */
function appendFile(item: Item, ctx: ModuleContext): void {
  const written = item.path;
  const target = filePath(ctx, written);
  const addition = encodeText(item.content, codecOf(item.encoding));
  const file = requireFile(target, written);
  requireWritable(file, written);
  // Nothing to add: the file is left untouched rather than rewritten byte for byte.
  if (addition.length === 0) return;
  aboutPath(written, () => {
    const bytes = Buffer.concat([readFileSync(file.path), addition]);
    replaceFile(file, bytes, {}, !isWindows(ctx));
  });
}
