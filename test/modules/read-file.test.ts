/** ReadFile on real temporary folders: decoding per encoding, byte order marks, printing, lists. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StepError } from "../../src/errors.ts";
import { ENCODINGS } from "../../src/modules/_inputs.ts";
import { modules } from "../../src/modules/index.ts";
import { MAX_READ_BYTES } from "../../src/modules/read-file.ts";
import { scratch } from "../helpers/fs-tree.ts";
import { listedChoice, moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";
import { BOM_BYTES, ENCODED, SAMPLE, SAMPLE_BYTES, SPELLINGS } from "../helpers/text-samples.ts";

const temp = scratch("opentoe-text-");
afterAll(temp.remove);
/** A fresh folder per test, used as the run\'s working directory. */
const folder = () => temp.folder();

/** Runs ReadFile and keeps what it sent to the run's log. */
async function read(dir: string, ...items: WrittenInput<typeof modules.ReadFile>): Promise<{ content: string; logged: string[] }> {
  const logged: string[] = [];
  const ctx = moduleContext({ cwd: dir, print: (text) => logged.push(text) });
  const result = await runModule(modules.ReadFile, items, ctx);
  return { content: result.outputs.content, logged };
}

describe("ReadFile encodings", () => {
  test.each(SPELLINGS)("encoding %p decodes the known bytes of %p", async (spelling, encoded) => {
    const dir = folder();
    writeFileSync(join(dir, "f"), Buffer.from(SAMPLE_BYTES[encoded]));
    expect((await read(dir, { path: "f", encoding: listedChoice(ENCODINGS, spelling) })).content).toBe(SAMPLE);
  });

  test.each(ENCODED)("a leading %s byte order mark is dropped (only one)", async (encoded) => {
    const dir = folder();
    writeFileSync(join(dir, "f"), Buffer.from([...BOM_BYTES[encoded], ...SAMPLE_BYTES[encoded]]));
    const encoding = listedChoice(ENCODINGS, encoded.replace(/(\d+)(le|be)/, "$1-$2"));
    expect((await read(dir, { path: "f", encoding })).content).toBe(SAMPLE);
    writeFileSync(join(dir, "g"), Buffer.from([...BOM_BYTES[encoded], ...BOM_BYTES[encoded], ...SAMPLE_BYTES[encoded]]));
    expect((await read(dir, { path: "g", encoding })).content).toBe(`\uFEFF${SAMPLE}`);
  });

  test("a byte order mark of another encoding is not taken for one", async () => {
    const dir = folder();
    // FE FF read as UTF-16LE is the character U+FFFE, not a mark.
    writeFileSync(join(dir, "f"), Buffer.from([0xfe, 0xff, 0x68, 0x00]));
    expect((await read(dir, { path: "f", encoding: "utf16" })).content).toBe("\uFFFEh");
  });

  test("no encoding means UTF-8", async () => {
    const dir = folder();
    writeFileSync(join(dir, "f"), Buffer.from(SAMPLE_BYTES.utf8));
    expect((await read(dir, { path: "f" })).content).toBe(SAMPLE);
  });

  test("bytes that are not valid in the encoding are a failure naming the file", async () => {
    const dir = folder();
    writeFileSync(join(dir, "latin1.txt"), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    await expect(read(dir, { path: "latin1.txt" })).rejects.toThrow("'latin1.txt' is not valid UTF-8 text");
    writeFileSync(join(dir, "odd"), Buffer.from([0x68, 0x00, 0x00]));
    await expect(read(dir, { path: "odd", encoding: "utf32" })).rejects.toThrow("'odd' is not valid UTF-32 text");
    writeFileSync(join(dir, "lone"), Buffer.from([0x00, 0xd8]));
    await expect(read(dir, { path: "lone", encoding: "utf-16" })).rejects.toThrow("'lone' is not valid UTF-16LE text");
  });
});

describe("ReadFile behaviour", () => {
  test("content is the whole text, exactly: CRLF, trailing newline, empty file", async () => {
    const dir = folder();
    writeFileSync(join(dir, "f"), "a\r\nb\n\n");
    writeFileSync(join(dir, "empty"), "");
    expect((await read(dir, { path: "f" })).content).toBe("a\r\nb\n\n");
    expect((await read(dir, { path: "empty" })).content).toBe("");
  });

  test("a missing file, a folder and a trailing separator are failures", async () => {
    const dir = folder();
    mkdirSync(join(dir, "d"));
    await expect(read(dir, { path: "missing.txt" })).rejects.toThrow("'missing.txt' does not exist");
    await expect(read(dir, { path: "d" })).rejects.toThrow("'d' is a folder, not a file");
    await expect(read(dir, { path: "f.txt/" })).rejects.toThrow("'f.txt/' ends with a path separator");
  });

  test("symlinks are followed", async () => {
    const dir = folder();
    writeFileSync(join(dir, "real"), "through the link");
    symlinkSync("real", join(dir, "link"));
    expect((await read(dir, { path: "link" })).content).toBe("through the link");
  });

  test("absolute paths work from any working directory", async () => {
    const dir = folder();
    writeFileSync(join(dir, "f"), "abs");
    expect((await read(folder(), { path: join(dir, "f") })).content).toBe("abs");
  });

  test("the text is printed (terminal and console.log) only when printFileContent is true", async () => {
    const dir = folder();
    writeFileSync(join(dir, "f"), "secret-ish\nline 2");
    expect((await read(dir, { path: "f" })).logged).toEqual([]);
    expect((await read(dir, { path: "f", printFileContent: false })).logged).toEqual([]);
    const printed = await read(dir, { path: "f", printFileContent: true });
    expect(printed.logged).toEqual(["secret-ish\nline 2"]);
    expect(printed.content).toBe("secret-ish\nline 2");
  });
});

describe("ReadFile lists", () => {
  test("several files give their texts joined by a newline, in input order", async () => {
    const dir = folder();
    writeFileSync(join(dir, "a"), "first");
    writeFileSync(join(dir, "b"), Buffer.from([0x00, 0x32]));
    writeFileSync(join(dir, "c"), "third\n");
    const result = await read(dir, { path: "a" }, { path: "b", encoding: "utf-16-BE", printFileContent: true }, { path: "c" });
    expect(result.content).toBe("first\n2\nthird\n");
    expect(result.logged).toEqual(["2"]);
  });

  test("a failing middle element stops the list, names itself and what was done", async () => {
    const dir = folder();
    writeFileSync(join(dir, "a"), "a");
    writeFileSync(join(dir, "c"), "c");
    const run = read(dir, { path: "a" }, { path: "b/missing.txt" }, { path: "c", printFileContent: true });
    await expect(run).rejects.toThrow(StepError);
    await expect(run).rejects.toThrow("operation 2 of 3 (b/missing.txt): 'b/missing.txt' does not exist; operation 1 had completed");
  });
});

describe("ReadFile size limit", () => {
  // Sparse files: their size is what counts, no disk is used and nothing is read.
  test("a 2 GiB file is refused before reading, naming the file, its size and the limit", async () => {
    const dir = folder();
    writeFileSync(join(dir, "big.txt"), "");
    truncateSync(join(dir, "big.txt"), 2 * 1024 ** 3);
    const rssBefore = process.memoryUsage().rss;
    const run = read(dir, { path: "big.txt" });
    await expect(run).rejects.toThrow(StepError);
    await expect(run).rejects.toThrow("'big.txt' is 2 GiB (2147483648 bytes); ReadFile reads at most 16 MiB (16777216 bytes)");
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(MAX_READ_BYTES);
  });

  test("exactly the limit is read; one byte more is refused", async () => {
    const dir = folder();
    writeFileSync(join(dir, "edge"), "");
    truncateSync(join(dir, "edge"), MAX_READ_BYTES);
    expect((await read(dir, { path: "edge" })).content.length).toBe(MAX_READ_BYTES);
    truncateSync(join(dir, "edge"), MAX_READ_BYTES + 1);
    await expect(read(dir, { path: "edge" })).rejects.toThrow(`'edge' is 16.0 MiB (${MAX_READ_BYTES + 1} bytes)`);
  });

  test("the limit is for the step's files together", async () => {
    const dir = folder();
    for (const name of ["a", "b"]) {
      writeFileSync(join(dir, name), "");
      truncateSync(join(dir, name), 10 * 1024 * 1024);
    }
    await expect(read(dir, { path: "a" }, { path: "b" })).rejects.toThrow(
      "operation 2 of 2 (b): 'b' is 10 MiB (10485760 bytes); ReadFile reads at most 16 MiB (16777216 bytes) per step, its files together; 6 MiB were left for it",
    );
  });

  test("a file that reports no size (/proc) is still read, within the limit", async () => {
    const { content } = await read(folder(), { path: "/proc/self/status" });
    expect(content).toContain("VmRSS:");
  });
});
