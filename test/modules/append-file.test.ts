/** AppendFile on real temporary folders: appended bytes per encoding, kept metadata, failures, lists. */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StepError } from "../../src/errors.ts";
import { ENCODINGS } from "../../src/modules/_inputs.ts";
import { modules } from "../../src/modules/index.ts";
import { scratch } from "../helpers/fs-tree.ts";
import { moduleContext, runModule, type WrittenInput, listedChoice } from "../helpers/module-context.ts";
import { meta, SAMPLE, SAMPLE_BYTES, SPELLINGS } from "../helpers/text-samples.ts";

const temp = scratch("opentoe-text-");
afterAll(temp.remove);
/** A fresh folder per test, used as the run\'s working directory. */
const folder = () => temp.folder();
const append = (dir: string, ...items: WrittenInput<typeof modules.AppendFile>) => runModule(modules.AppendFile, items, moduleContext({ cwd: dir }));
const bytesOf = (path: string) => [...readFileSync(path)];

describe("AppendFile encodings", () => {
  test.each(SPELLINGS)("encoding %p appends the known bytes of %p after the existing ones", async (spelling, encoded) => {
    const dir = folder();
    writeFileSync(join(dir, "f.txt"), Buffer.from([0x41, 0x42, 0xff]));
    await append(dir, { path: "f.txt", content: SAMPLE, encoding: listedChoice(ENCODINGS, spelling) });
    expect(bytesOf(join(dir, "f.txt"))).toEqual([0x41, 0x42, 0xff, ...SAMPLE_BYTES[encoded]]);
  });

  test("no encoding means UTF-8", async () => {
    const dir = folder();
    writeFileSync(join(dir, "f.txt"), "");
    await append(dir, { path: "f.txt", content: SAMPLE });
    expect(bytesOf(join(dir, "f.txt"))).toEqual(SAMPLE_BYTES.utf8);
  });
});

describe("AppendFile behaviour", () => {
  test("no newline is added: two appends follow each other directly", async () => {
    const dir = folder();
    writeFileSync(join(dir, "f.txt"), "start\n");
    await append(dir, { path: "f.txt", content: "a" }, { path: "f.txt", content: "b\\n" });
    expect(readFileSync(join(dir, "f.txt"), "utf8")).toBe("start\nab\\n");
  });

  test("a missing file is a failure and is not created", async () => {
    const dir = folder();
    await expect(append(dir, { path: "nope.txt", content: "x" })).rejects.toThrow("'nope.txt' does not exist");
    expect(existsSync(join(dir, "nope.txt"))).toBe(false);
  });

  test("a missing parent folder is a failure too", async () => {
    const dir = folder();
    await expect(append(dir, { path: "no/such/f.txt", content: "x" })).rejects.toThrow("'no/such/f.txt' does not exist");
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a folder is a failure", async () => {
    const dir = folder();
    mkdirSync(join(dir, "d"));
    await expect(append(dir, { path: "d", content: "x" })).rejects.toThrow("'d' is a folder, not a file");
    await expect(append(dir, { path: "d/", content: "x" })).rejects.toThrow("'d/' ends with a path separator");
  });

  test("the file keeps its mode (setuid included), owner and group", async () => {
    const dir = folder();
    const path = join(dir, "f.txt");
    writeFileSync(path, "old");
    chownSync(path, 65534, 1);
    chmodSync(path, 0o4640);
    await append(dir, { path: "f.txt", content: "+new" });
    expect(readFileSync(path, "utf8")).toBe("old+new");
    expect(meta(path)).toMatchObject({ mode: 0o4640, uid: 65534, gid: 1 });
  });

  test("a restrictive mode is kept, not widened to the umask default", async () => {
    const dir = folder();
    const path = join(dir, "secret");
    writeFileSync(path, "a");
    chmodSync(path, 0o600);
    await append(dir, { path: "secret", content: "b" });
    expect(meta(path).mode).toBe(0o600);
  });

  test("the append replaces the file atomically (new inode) and leaves no temporary file", async () => {
    const dir = folder();
    const path = join(dir, "f.txt");
    writeFileSync(path, "old");
    const before = meta(path).ino;
    await append(dir, { path: "f.txt", content: "!" });
    expect(meta(path).ino).not.toBe(before);
    expect(readdirSync(dir)).toEqual(["f.txt"]);
  });

  test("empty content leaves the file untouched", async () => {
    const dir = folder();
    const path = join(dir, "f.txt");
    writeFileSync(path, "same");
    const before = meta(path).ino;
    await append(dir, { path: "f.txt", content: "" }, { path: "f.txt" });
    expect(readFileSync(path, "utf8")).toBe("same");
    expect(meta(path).ino).toBe(before);
  });

  test("a symlink is appended through; the link stays", async () => {
    const dir = folder();
    writeFileSync(join(dir, "real.txt"), "real");
    symlinkSync(join(dir, "real.txt"), join(dir, "link"));
    await append(dir, { path: "link", content: "+" });
    expect(lstatSync(join(dir, "link")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, "real.txt"), "utf8")).toBe("real+");
  });

  test("absolute paths work from any working directory", async () => {
    const dir = folder();
    writeFileSync(join(dir, "f.txt"), "1");
    await append(folder(), { path: join(dir, "f.txt"), content: "2" });
    expect(readFileSync(join(dir, "f.txt"), "utf8")).toBe("12");
  });

  test("larger files keep every byte", async () => {
    const dir = folder();
    const old = Buffer.alloc(3_000_000, 0x61);
    writeFileSync(join(dir, "big"), old);
    await append(dir, { path: "big", content: "€", encoding: "utf-16-BE" });
    expect(readFileSync(join(dir, "big")).equals(Buffer.concat([old, Buffer.from([0x20, 0xac])]))).toBe(true);
  });
});

describe("AppendFile lists", () => {
  test("a failing middle element stops the list, names itself and what was done", async () => {
    const dir = folder();
    writeFileSync(join(dir, "a.txt"), "a");
    writeFileSync(join(dir, "c.txt"), "c");
    const run = append(dir, { path: "a.txt", content: "1" }, { path: "b.txt", content: "2" }, { path: "c.txt", content: "3" });
    await expect(run).rejects.toThrow(StepError);
    await expect(run).rejects.toThrow("operation 2 of 3 (b.txt): 'b.txt' does not exist; operation 1 had completed");
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a1");
    expect(existsSync(join(dir, "b.txt"))).toBe(false);
    expect(readFileSync(join(dir, "c.txt"), "utf8")).toBe("c");
  });
});
