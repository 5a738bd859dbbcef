/** MoveFile on real temporary folders: renames, overwrite, wildcards, links, other devices, lists. */
import { afterAll, describe, expect, test } from "bun:test";
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { StepError } from "../../src/errors.ts";
import { modules } from "../../src/modules/index.ts";
import { immutable, link, otherDevice, put, scratch, temporaries } from "../helpers/fs-tree.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";

const temp = scratch();
const device = otherDevice();
const remote = device === undefined ? undefined : mkdtempSync(join(device, "opentoe-move-file-"));
afterAll(() => {
  temp.remove();
  if (remote !== undefined) rmSync(remote, { recursive: true, force: true });
});
// One context (and so one work folder) for the file; each call only changes the working directory.
const context = moduleContext();
const move = (dir: string, ...items: WrittenInput<typeof modules.MoveFile>) => runModule(modules.MoveFile, items, { ...context, cwd: dir });
const text = (path: string) => readFileSync(path, "utf8");

describe("MoveFile destinations", () => {
  test("a destination without a separator is the new path: the same file (inode), source gone, folders created", async () => {
    const dir = temp.folder();
    const source = put(dir, "a.txt", "moved", 0o640);
    const inode = statSync(source).ino;
    await move(dir, { source: "a.txt", destination: "new/deep/b.txt" });
    expect(existsSync(source)).toBe(false);
    expect(text(join(dir, "new/deep/b.txt"))).toBe("moved");
    expect(statSync(join(dir, "new/deep/b.txt")).ino).toBe(inode);
    expect(statSync(join(dir, "new/deep/b.txt")).mode & 0o7777).toBe(0o640);
  });

  test("a destination ending with / is a folder; the name is kept", async () => {
    const dir = temp.folder();
    put(dir, "src/a.txt", "A");
    await move(dir, { source: "src/a.txt", destination: "out/" });
    expect(readdirSync(join(dir, "src"))).toEqual([]);
    expect(text(join(dir, "out/a.txt"))).toBe("A");
  });

  test("a folder at the destination file path is an error; nothing moves", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "A");
    put(dir, "taken/x", "x");
    await expect(move(dir, { source: "a.txt", destination: "taken" })).rejects.toThrow("a folder already exists at 'taken'");
    expect(text(join(dir, "a.txt"))).toBe("A");
  });

  test("a folder as source is an error", async () => {
    const dir = temp.folder();
    put(dir, "f/x");
    await expect(move(dir, { source: "f", destination: "g" })).rejects.toThrow("'f' is a folder, not a file (MoveFolder moves folders)");
    link(dir, "flink", "f");
    await expect(move(dir, { source: "flink", destination: "g" })).rejects.toThrow("'flink' is a link to a folder, not a file (MoveFolder moves it)");
  });

  test("a missing source is an error", async () => {
    const dir = temp.folder();
    await expect(move(dir, { source: "gone.txt", destination: "x.txt" })).rejects.toThrow("source 'gone.txt' does not exist");
  });
});

describe("MoveFile overwrite", () => {
  test.each([
    [true, undefined, "moved"],
    [true, true, "moved"],
    [true, false, "error"],
    [false, undefined, "moved"],
    [false, true, "moved"],
    [false, false, "moved"],
  ] as const)("target exists: %p, overwrite: %p → %p (default true, like mv)", async (exists, overwrite, expected) => {
    const dir = temp.folder();
    put(dir, "a.txt", "new");
    if (exists) put(dir, "out/a.txt", "old");
    const run = move(dir, { source: "a.txt", destination: "out/", ...(overwrite === undefined ? {} : { overwrite }) });
    if (expected === "error") {
      await expect(run).rejects.toThrow("'out/a.txt' already exists and overwrite is false");
      expect(text(join(dir, "out/a.txt"))).toBe("old");
      expect(text(join(dir, "a.txt"))).toBe("new");
      return;
    }
    await run;
    expect(text(join(dir, "out/a.txt"))).toBe("new");
    expect(existsSync(join(dir, "a.txt"))).toBe(false);
  });

  test("the same file as source and destination is an error, and the file stays", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "A");
    await expect(move(dir, { source: "a.txt", destination: "./" })).rejects.toThrow("'a.txt' and './a.txt' are the same file");
    expect(text(join(dir, "a.txt"))).toBe("A");
  });
});

describe("MoveFile links", () => {
  test("a link as source is moved as the link itself; what it points to stays", async () => {
    const dir = temp.folder();
    const real = put(dir, "real.txt", "R");
    link(dir, "alias", real);
    await move(dir, { source: "alias", destination: "out/alias2" });
    expect(readlinkSync(join(dir, "out/alias2"))).toBe(real);
    expect(existsSync(join(dir, "alias"))).toBe(false);
    expect(text(real)).toBe("R");
  });

  test("a link at the destination is replaced by the file, not written through", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "new");
    const real = put(dir, "real.txt", "untouched");
    link(dir, "dest", "real.txt");
    await move(dir, { source: "a.txt", destination: "dest" });
    expect(lstatSync(join(dir, "dest")).isFile()).toBe(true);
    expect(text(join(dir, "dest"))).toBe("new");
    expect(text(real)).toBe("untouched");
  });
});

describe("MoveFile wildcards", () => {
  test("* moves every matching file (dotfiles too), leaving folders and other files", async () => {
    const dir = temp.folder();
    put(dir, "in/a.log", "A");
    put(dir, "in/.b.log", "B");
    put(dir, "in/c.txt", "C");
    put(dir, "in/d.log/inner", "folder");
    await move(dir, { source: "in/*.log", destination: "out/" });
    expect(readdirSync(join(dir, "out")).sort()).toEqual([".b.log", "a.log"]);
    expect(readdirSync(join(dir, "in")).sort()).toEqual(["c.txt", "d.log"]);
  });

  test("no match is an error; a destination without a separator too", async () => {
    const dir = temp.folder();
    put(dir, "in/c.txt");
    await expect(move(dir, { source: "in/*.log", destination: "out/" })).rejects.toThrow("no file matches 'in/*.log'");
    await expect(move(dir, { source: "in/*.txt", destination: "out" })).rejects.toThrow("with a wildcard source the destination must be a folder");
    expect(readdirSync(join(dir, "in"))).toEqual(["c.txt"]);
  });

  test("with overwrite false, one existing target stops the operation before any file moves", async () => {
    const dir = temp.folder();
    put(dir, "in/a.log", "A");
    put(dir, "in/b.log", "B");
    put(dir, "out/b.log", "old");
    await expect(move(dir, { source: "in/*.log", destination: "out/", overwrite: false })).rejects.toThrow("'out/b.log' already exists and overwrite is false");
    expect(readdirSync(join(dir, "in")).sort()).toEqual(["a.log", "b.log"]);
  });
});

describe("MoveFile across file systems", () => {
  const skip = remote === undefined;
  if (skip) console.warn(`skipped: /dev/shm is not a separate file system from the temp folder here, so EXDEV cannot be provoked`);

  test.skipIf(skip)("a move to another device copies (bytes, mode, owner, times) then removes the source", async () => {
    const dir = temp.folder();
    const source = put(dir, "a.bin", new Uint8Array([9, 8, 7, 0, 255]), 0o751);
    chownSync(source, 65534, 65534);
    utimesSync(source, 1_000_000, 1_222_333);
    const target = join(remote!, "t1", "b.bin");
    expect(statSync(dir).dev).not.toBe(statSync(remote!).dev);
    await move(dir, { source: "a.bin", destination: target });
    expect(existsSync(source)).toBe(false);
    const stats = statSync(target);
    expect([...readFileSync(target)]).toEqual([9, 8, 7, 0, 255]);
    expect([stats.mode & 0o7777, stats.uid, stats.gid, Math.floor(stats.mtimeMs)]).toEqual([0o751, 65534, 65534, 1_222_333_000]);
    expect(temporaries(join(remote!, "t1"))).toEqual([]);
  });

  test.skipIf(skip)("an existing file on the other device is replaced; a link moves as a link", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "new");
    link(dir, "l", "some/where");
    mkdirSync(join(remote!, "t2"));
    put(remote!, "t2/a.txt", "old");
    await move(dir, { source: "a.txt", destination: join(remote!, "t2") + "/" }, { source: "l", destination: join(remote!, "t2/l") });
    expect(text(join(remote!, "t2/a.txt"))).toBe("new");
    expect(readlinkSync(join(remote!, "t2/l"))).toBe("some/where");
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("MoveFile failures and lists", () => {
  test("no permission to remove the source is an error; the source stays", async () => {
    const dir = temp.folder();
    put(dir, "locked/a.txt", "A");
    const undo = immutable(join(dir, "locked"));
    if (undo === undefined) {
      console.warn("skipped: chattr +i is not available here, and root bypasses permission bits");
      return;
    }
    try {
      await expect(move(dir, { source: "locked/a.txt", destination: "out/" })).rejects.toThrow("operation not permitted on 'locked/a.txt'");
    } finally {
      undo();
    }
    expect(text(join(dir, "locked/a.txt"))).toBe("A");
    expect(existsSync(join(dir, "out/a.txt"))).toBe(false);
  });

  test("a failing middle element stops the list, names it, and says what was done", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "A");
    put(dir, "c.txt", "C");
    const run = move(dir, { source: "a.txt", destination: "out/" }, { source: "b.txt", destination: "out/" }, { source: "c.txt", destination: "out/" });
    await expect(run).rejects.toThrow(StepError);
    await expect(run).rejects.toThrow("operation 2 of 3 ('b.txt' → 'out/'): source 'b.txt' does not exist; operation 1 had completed");
    expect(readdirSync(join(dir, "out"))).toEqual(["a.txt"]);
    expect(text(join(dir, "c.txt"))).toBe("C");
  });
});
