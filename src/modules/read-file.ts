/** @module modules/read-file: ReadFile — read a text file into the step's output. */
import { Type } from "@sinclair/typebox";
import { readFileSync } from "node:fs";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule, type ModuleContext } from "./_define.ts";
import { codecOf, decodeText, forEachOperation } from "./_fs.ts";
import { Encoding } from "./_inputs.ts";
import { aboutPath, filePath, nameTheFile, requireFile } from "./_text-file.ts";

interface ReadFileInput {
  path: string;
  encoding?: string;
  printFileContent?: boolean;
}

/**
 * Several files in one step give one `content`: their texts in input order joined by "\n" (a step
 * has one set of outputs). With one file — the usual case — `content` is exactly its text.
 */
export const CONTENT_SEPARATOR = "\n";

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
  async execute(input, ctx) {
    const items = input as ReadFileInput[];
    const texts: string[] = [];
    await forEachOperation(items, (item) => item.path, (item) => {
      texts.push(readText(item, ctx));
    });
    return { outputs: { content: texts.join(CONTENT_SEPARATOR) } };
  },
});

/** Decodes the whole file (symlinks followed); a leading byte order mark of that encoding is dropped. */
function readText(item: ReadFileInput, ctx: ModuleContext): string {
  const written = item.path;
  const codec = codecOf(item.encoding);
  const file = requireFile(filePath(ctx, written), written);
  const bytes = aboutPath(written, () => readFileSync(file.path));
  let text: string;
  try {
    text = decodeText(bytes, codec);
  } catch (error) {
    throw nameTheFile(error, written);
  }
  // Printed like program output: terminal and console.log (spec: "printed to console.log").
  if (item.printFileContent === true) ctx.print(text);
  return text;
}
