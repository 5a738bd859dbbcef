/** @module modules/read-file: ReadFile — read a text file into the step's output. */
import { Type } from "@sinclair/typebox";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { StepError } from "../errors.ts";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule, type InputOf, type ModuleContext } from "./_define.ts";
import { codecOf, decodeText, forEachOperation } from "./_fs.ts";
import { Encoding } from "./_inputs.ts";
import { aboutPath, filePath, nameTheFile, requireFile } from "./_text-file.ts";

/**
 * Several files in one step give one `content`: their texts in input order joined by "\n" (a step
 * has one set of outputs). With one file — the usual case — `content` is exactly its text.
 */
export const CONTENT_SEPARATOR = "\n";

/**
 * The most bytes one ReadFile step reads (its files together): 16 MiB. The text is not streamed
 * anywhere: it is held in memory as a string, copied into the step's outputs, the journal line
 * that keeps it chainable across a reboot, detailedoutput.json, and every later input that
 * references it. Measured with the compiled binary (peak RSS, a file of "a"s): 4 MiB → 115 MB,
 * 16 MiB → 287 MB, 64 MiB → 974 MB; chained once into an ExecuteBash command 236 MB, 548 MB and
 * 2.35 GB. 16 MiB keeps a run well inside a 1 GiB build instance; a 1.1 GB file ran awstoe out of
 * memory (and every resume with it). Text meant for other steps (a version, a token, a config) is
 * far smaller; larger files are for CopyFile or a script. A program's chainable output is capped
 * likewise (the last 4 MiB, platform/process.ts).
 */
export const MAX_READ_BYTES = 16 * 1024 * 1024;

/** One element of `inputs`. */
const inputSchema = () =>
  Fields({
    path: Text({ minLength: 1, description: "the file to read (at most 16 MiB, all files of the step together)" }),
    encoding: Encoding(),
    printFileContent: Type.Optional(Flag({ default: false, description: "also print the text to the console log" })),
  });

type Item = InputOf<typeof inputSchema>;

export default defineModule({
  name: "ReadFile",
  summary: "Reads a text file of at most 16 MiB; its text becomes the output content.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: inputSchema,
  output: () => Fields({ content: Text({ description: "the file's text" }) }),
  async execute(items, ctx) {
    const texts: string[] = [];
    let budget = MAX_READ_BYTES;
    await forEachOperation(items, (item) => item.path, (item) => {
      const { text, bytes } = readText(item, ctx, budget, items.length > 1);
      budget -= bytes;
      texts.push(text);
    });
    return { outputs: { content: texts.join(CONTENT_SEPARATOR) } };
  },
});

/**
 * Decodes the whole file (symlinks followed); a leading byte order mark of that encoding is dropped.
 * `budget` is what is left of MAX_READ_BYTES for this step.
 */
function readText(item: Item, ctx: ModuleContext, budget: number, several: boolean): { text: string; bytes: number } {
  const written = item.path;
  const codec = codecOf(item.encoding);
  const file = requireFile(filePath(ctx, written), written);
  const bytes = aboutPath(written, () => readLimited(file.path, written, budget, several));
  let text: string;
  try {
    text = decodeText(bytes, codec);
  } catch (error) {
    throw nameTheFile(error, written);
  }
  // Printed like program output: terminal and console.log (spec: "printed to console.log").
  if (item.printFileContent === true) ctx.print(text);
  return { text, bytes: bytes.length };
}

/**
 * The file's bytes, refused without reading when the opened file's size (fstat on the descriptor,
 * so it is the file that will be read) is over `budget`. Reading stops one byte past the budget
 * too, for files that grow meanwhile or report no size (/proc).
 */
function readLimited(path: string, written: string, budget: number, several: boolean): Buffer {
  const fd = openSync(path, "r");
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new StepError(`'${written}' is not a regular file`);
    if (stat.size > budget) throw tooLarge(written, stat.size, budget, several);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(stat.size - total, 64 * 1024), budget + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > budget) throw tooLarge(written, total, budget, several, true);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

function tooLarge(written: string, size: number, budget: number, several: boolean, grew = false): StepError {
  const actual = grew ? `holds more than ${formatSize(budget)} (found while reading it; its size on disk was smaller)` : `is ${formatSize(size)} (${size} bytes)`;
  const limit = `ReadFile reads at most ${formatSize(MAX_READ_BYTES)} (${MAX_READ_BYTES} bytes)${several ? " per step, its files together" : ""}`;
  const left = several && budget < MAX_READ_BYTES ? `; ${formatSize(budget)} were left for it` : "";
  return new StepError(`'${written}' ${actual}; ${limit}${left}, since its text is kept in memory and written into detailedoutput.json; use CopyFile or a script for large files`);
}

function formatSize(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
