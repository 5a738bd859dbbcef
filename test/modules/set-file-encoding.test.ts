/** SetFileEncoding on real temporary folders: UTF-8 re-encoded byte-exact, refusals, kept metadata, lists. */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StepError } from "../../src/errors.ts";
import { ENCODINGS } from "../../src/modules/_inputs.ts";
import { modules } from "../../src/modules/index.ts";
import { scratch } from "../helpers/fs-tree.ts";
import { moduleContext, runModule, type WrittenInput, listedChoice } from "../helpers/module-context.ts";
import { BOM_BYTES, meta, SAMPLE_BYTES, SPELLINGS } from "../helpers/text-samples.ts";

const temp = scratch("opentoe-text-");
afterAll(temp.remove);
/** A fresh folder per test, used as the run\'s working directory. */
const folder = () => temp.folder();
const setEncoding = (dir: string, ...items: WrittenInput<typeof modules.SetFileEncoding>) => runModule(modules.SetFileEncoding, items, moduleContext({ cwd: dir }));
const bytesOf = (path: string) => [...readFileSync(path)];

describe("SetFileEncoding encodings", () => {
  test.each(SPELLINGS)("encoding %p turns the UTF-8 sample into the known bytes of %p", async (spelling, encoded) => {
    const dir = folder();
    writeFileSync(join(dir, "f.txt"), Buffer.from(SAMPLE_BYTES.utf8));
    await setEncoding(dir, { path: "f.txt", encoding: listedChoice(ENCODINGS, spelling) });
    expect(bytesOf(join(dir, "f.txt"))).toEqual(SAMPLE_BYTES[encoded]);
  });

  test("a UTF-8 byte order mark in the source is dropped; none is written", async () => {
    const dir = folder();
    writeFileSync(join(dir, "a"), Buffer.from([...BOM_BYTES.utf8, ...SAMPLE_BYTES.utf8]));
    writeFileSync(join(dir, "b"), Buffer.from([...BOM_BYTES.utf8, ...SAMPLE_BYTES.utf8]));
    await setEncoding(dir, { path: "a", encoding: "utf-32-BE" }, { path: "b" });
    expect(bytesOf(join(dir, "a"))).toEqual(SAMPLE_BYTES.utf32be);
    expect(bytesOf(join(dir, "b"))).toEqual(SAMPLE_BYTES.utf8);
  });

  test("an empty file stays empty", async () => {
    const dir = folder();
    writeFileSync(join(dir, "e"), "");
    await setEncoding(dir, { path: "e", encoding: "utf16" });
    expect(bytesOf(join(dir, "e"))).toEqual([]);
  });
});

describe("SetFileEncoding refusals", () => {
  test("a source that is not valid UTF-8 is a failure and the file is left as it was", async () => {
    const dir = folder();
    const utf16 = Buffer.from(SAMPLE_BYTES.utf16le);
    writeFileSync(join(dir, "f"), utf16);
    await expect(setEncoding(dir, { path: "f", encoding: "utf-32" })).rejects.toThrow("'f' is not valid UTF-8 text");
    expect(bytesOf(join(dir, "f"))).toEqual(SAMPLE_BYTES.utf16le);
    writeFileSync(join(dir, "g"), Buffer.from([0x61, 0xc3]));
    await expect(setEncoding(dir, { path: "g", encoding: "utf8" })).rejects.toThrow("'g' is not valid UTF-8 text");
    expect(bytesOf(join(dir, "g"))).toEqual([0x61, 0xc3]);
  });

  test("a missing file, a folder and a trailing separator are failures", async () => {
    const dir = folder();
    mkdirSync(join(dir, "d"));
    await expect(setEncoding(dir, { path: "missing", encoding: "utf16" })).rejects.toThrow("'missing' does not exist");
    expect(existsSync(join(dir, "missing"))).toBe(false);
    await expect(setEncoding(dir, { path: "d", encoding: "utf16" })).rejects.toThrow("'d' is a folder, not a file");
    await expect(setEncoding(dir, { path: "d/", encoding: "utf16" })).rejects.toThrow("'d/' ends with a path separator");
  });
});

describe("SetFileEncoding in place", () => {
  test("the file keeps its mode, owner and group, and no temporary file is left", async () => {
    const dir = folder();
    const path = join(dir, "f.txt");
    writeFileSync(path, "abc");
    chownSync(path, 65534, 1);
    chmodSync(path, 0o2640);
    const before = meta(path).ino;
    await setEncoding(dir, { path: "f.txt", encoding: "utf-16-BE" });
    expect(bytesOf(path)).toEqual([0x00, 0x61, 0x00, 0x62, 0x00, 0x63]);
    expect(meta(path)).toMatchObject({ mode: 0o2640, uid: 65534, gid: 1 });
    expect(meta(path).ino).not.toBe(before);
    expect(readdirSync(dir)).toEqual(["f.txt"]);
  });

  test("a file already in the wanted bytes is not rewritten", async () => {
    const dir = folder();
    const path = join(dir, "f.txt");
    writeFileSync(path, "plain ascii");
    const before = meta(path).ino;
    await setEncoding(dir, { path: "f.txt", encoding: "utf-8" });
    expect(meta(path).ino).toBe(before);
  });
});

describe("SetFileEncoding lists", () => {
  test("a failing middle element stops the list, names itself and what was done", async () => {
    const dir = folder();
    writeFileSync(join(dir, "a"), "a");
    writeFileSync(join(dir, "b"), Buffer.from([0xff, 0xfe, 0x61, 0x00]));
    writeFileSync(join(dir, "c"), "c");
    const run = setEncoding(dir, { path: "a", encoding: "utf16" }, { path: "b", encoding: "utf16" }, { path: "c", encoding: "utf16" });
    await expect(run).rejects.toThrow(StepError);
    await expect(run).rejects.toThrow("operation 2 of 3 (b): 'b' is not valid UTF-8 text; operation 1 had completed");
    expect(bytesOf(join(dir, "a"))).toEqual([0x61, 0x00]);
    expect(bytesOf(join(dir, "b"))).toEqual([0xff, 0xfe, 0x61, 0x00]);
    expect(bytesOf(join(dir, "c"))).toEqual([0x63]);
  });
});
