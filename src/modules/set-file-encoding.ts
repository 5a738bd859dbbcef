/** @module modules/set-file-encoding: SetFileEncoding — re-encode a UTF-8 file in place. */
import { readFileSync } from "node:fs";
import { Fields, Text } from "../model/schema-kit.ts";
import { defineModule, type InputOf, type ModuleContext } from "./_define.ts";
import { codecOf, decodeText, encodeText, forEachOperation, isWindows } from "./_fs.ts";
import { Encoding, NoOutput } from "./_inputs.ts";
import { aboutPath, filePath, nameTheFile, replaceFile, requireFile, requireWritable } from "./_text-file.ts";

/** One element of `inputs`. */
const inputSchema = () => Fields({ path: Text({ minLength: 1, description: "an existing UTF-8 file" }), encoding: Encoding() });

type Item = InputOf<typeof inputSchema>;

export default defineModule({
  name: "SetFileEncoding",
  summary: "Re-encodes an existing UTF-8 file into another encoding, in place.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: inputSchema,
  output: NoOutput,
  async execute(items, ctx) {
    await forEachOperation(items, (item) => item.path, (item) => setFileEncoding(item, ctx));
    return { outputs: {} };
  },
});

/**
 * The file must be valid UTF-8 (a UTF-8 byte order mark is allowed and dropped); anything else is
 * refused rather than guessed at, and the file is left as it was. The result has no byte order
 * mark, like every file these modules write, so `utf8` turns a UTF-8 file with a BOM into one
 * without. A file already in the wanted bytes is not rewritten.
 */
function setFileEncoding(item: Item, ctx: ModuleContext): void {
  const written = item.path;
  const codec = codecOf(item.encoding);
  const file = requireFile(filePath(ctx, written), written);
  requireWritable(file, written);
  const original = aboutPath(written, () => readFileSync(file.path));
  let text: string;
  try {
    text = decodeText(original, "utf8");
  } catch (error) {
    throw nameTheFile(error, written);
  }
  const bytes = encodeText(text, codec);
  if (bytes.equals(original)) return;
  aboutPath(written, () => replaceFile(file, bytes, {}, !isWindows(ctx)));
}
