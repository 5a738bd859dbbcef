/** CopyFile on real temporary folders: destinations, overwrite, wildcards, links, failures, lists. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { StepError } from "../../src/errors.ts";
import { modules } from "../../src/modules/index.ts";
import { immutable, link, put, scratch, temporaries } from "../helpers/fs-tree.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";

const temp = scratch();
afterAll(temp.remove);
// One context (and so one work folder) for the file; each call only changes the working directory.
const context = moduleContext();
const copy = (dir: string, ...items: WrittenInput<typeof modules.CopyFile>) => runModule(modules.CopyFile, items, { ...context, cwd: dir });
const text = (path: string) => readFileSync(path, "utf8");
const mode = (path: string) => statSync(path).mode & 0o7777;

describe("CopyFile destinations", () => {
  test("a destination without a separator is the new file's path; folders, bytes, mode and mtime come along", async () => {
    const dir = temp.folder();
    const source = put(dir, "a.bin", new Uint8Array([0, 1, 2, 255, 254]), 0o640);
    utimesSync(source, 1_000_000, 1_500_000.25);
    const result = await copy(dir, { source: "a.bin", destination: "new/deep/b.bin", overwrite: true });
    expect(result).toEqual({ outputs: {} });
    const target = join(dir, "new/deep/b.bin");
    expect([...readFileSync(target)]).toEqual([0, 1, 2, 255, 254]);
    expect(mode(target)).toBe(0o640);
    expect(Math.floor(statSync(target).mtimeMs)).toBe(1_500_000_250);
    expect(text(source) === text(target)).toBe(true);
    expect(readdirSync(join(dir, "new/deep"))).toEqual(["b.bin"]);
  });

  test("a destination ending with / is a folder (created) and the name is kept", async () => {
    const dir = temp.folder();
    put(dir, "src/report.txt", "report", 0o755);
    await copy(dir, { source: "src/report.txt", destination: "out/x/", overwrite: false });
    expect(text(join(dir, "out/x/report.txt"))).toBe("report");
    expect(mode(join(dir, "out/x/report.txt"))).toBe(0o755);
    expect(text(join(dir, "src/report.txt"))).toBe("report");
  });

  test("absolute paths work from any working directory", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "abs");
    await copy("/", { source: join(dir, "a.txt"), destination: join(dir, "b.txt") });
    expect(text(join(dir, "b.txt"))).toBe("abs");
  });

  test("on Linux a backslash is part of a name, not a separator", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "x");
    await copy(dir, { source: "a.txt", destination: "out\\" });
    expect(lstatSync(join(dir, "out\\")).isFile()).toBe(true);
  });

  test("a folder at the destination file path is an error and stays as it is", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "x");
    put(dir, "taken/inside.txt", "kept");
    const run = copy(dir, { source: "a.txt", destination: "taken", overwrite: true });
    await expect(run).rejects.toThrow(StepError);
    await expect(run).rejects.toThrow("a folder already exists at 'taken'; end the destination with a path separator to put the file into it");
    expect(readdirSync(join(dir, "taken"))).toEqual(["inside.txt"]);
  });

  test("a file where a destination folder should be is an error", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "x");
    put(dir, "plain", "file");
    await expect(copy(dir, { source: "a.txt", destination: "plain/" })).rejects.toThrow("a part of 'plain/a.txt' is a file, not a folder");
    await expect(copy(dir, { source: "a.txt", destination: "plain/sub/b.txt" })).rejects.toThrow("a part of 'plain/sub/b.txt' is a file, not a folder");
    expect(text(join(dir, "plain"))).toBe("file");
  });
});

describe("CopyFile overwrite", () => {
  test.each([
    [true, undefined, "new"],
    [true, true, "new"],
    [true, false, "error"],
    [false, undefined, "new"],
    [false, true, "new"],
    [false, false, "new"],
  ] as const)("target exists: %p, overwrite: %p → %p", async (exists, overwrite, expected) => {
    const dir = temp.folder();
    put(dir, "a.txt", "new");
    if (exists) put(dir, "out/a.txt", "old content that is longer", 0o600);
    const run = copy(dir, { source: "a.txt", destination: "out/", ...(overwrite === undefined ? {} : { overwrite }) });
    if (expected === "error") {
      await expect(run).rejects.toThrow("'out/a.txt' already exists and overwrite is false");
      expect(text(join(dir, "out/a.txt"))).toBe("old content that is longer");
    } else {
      await run;
      expect(text(join(dir, "out/a.txt"))).toBe("new");
      expect(mode(join(dir, "out/a.txt"))).toBe(0o644); // the source's mode, not the replaced file's
    }
    expect(temporaries(join(dir, "out"))).toEqual([]);
  });

  test("replacing is a rename of a complete copy: the old inode is not written to", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "new");
    const old = put(dir, "b.txt", "old");
    const before = statSync(old).ino;
    await copy(dir, { source: "a.txt", destination: "b.txt" });
    expect(statSync(old).ino).not.toBe(before);
    expect(text(old)).toBe("new");
  });

  test("source and destination the same file is an error, whichever way it is written", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "same");
    await expect(copy(dir, { source: "a.txt", destination: "./" })).rejects.toThrow("'a.txt' and './a.txt' are the same file");
    await expect(copy(dir, { source: "a.txt", destination: join(dir, "a.txt") })).rejects.toThrow("are the same file");
    expect(text(join(dir, "a.txt"))).toBe("same");
  });
});

describe("CopyFile sources", () => {
  test("a missing source is an error naming it as written", async () => {
    const dir = temp.folder();
    await expect(copy(dir, { source: "nope.txt", destination: "out/" })).rejects.toThrow("source 'nope.txt' does not exist");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  test("a folder as source is an error", async () => {
    const dir = temp.folder();
    put(dir, "folder/a.txt");
    await expect(copy(dir, { source: "folder", destination: "out" })).rejects.toThrow("'folder' is a folder, not a file (CopyFolder copies folders)");
    await expect(copy(dir, { source: "folder/", destination: "out" })).rejects.toThrow("source 'folder/' ends with a path separator, so it names a folder, not a file");
  });

  test("a link as source copies what it points to, as a regular file", async () => {
    const dir = temp.folder();
    put(dir, "real.txt", "pointed at");
    link(dir, "alias.txt", "real.txt");
    await copy(dir, { source: "alias.txt", destination: "out/" });
    expect(lstatSync(join(dir, "out/alias.txt")).isFile()).toBe(true);
    expect(text(join(dir, "out/alias.txt"))).toBe("pointed at");
  });
});

describe("CopyFile links at the destination", () => {
  test("a link to a file is written through: the link stays, the file it names is replaced", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "new");
    const real = put(dir, "managed/real.conf", "old");
    link(dir, "etc/app.conf", "../managed/real.conf");
    await copy(dir, { source: "a.txt", destination: "etc/app.conf" });
    expect(readlinkSync(join(dir, "etc/app.conf"))).toBe("../managed/real.conf");
    expect(text(real)).toBe("new");
    expect(temporaries(join(dir, "managed"))).toEqual([]);
  });

  test("a dangling link is not written through", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "new");
    link(dir, "dangling", "missing/target");
    await expect(copy(dir, { source: "a.txt", destination: "dangling" })).rejects.toThrow("'dangling' is a symbolic link to nothing; not writing through it");
    expect(existsSync(join(dir, "missing"))).toBe(false);
  });

  test("a link to a folder counts as a folder at the destination path", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "new");
    mkdirSync(join(dir, "realdir"));
    link(dir, "dirlink", "realdir");
    await expect(copy(dir, { source: "a.txt", destination: "dirlink" })).rejects.toThrow("a folder already exists at 'dirlink'");
    await copy(dir, { source: "a.txt", destination: "dirlink/" }); // with a separator: into the folder it names
    expect(text(join(dir, "realdir/a.txt"))).toBe("new");
  });
});

describe("CopyFile wildcards", () => {
  function tree(dir: string): void {
    put(dir, "logs/a.log", "A");
    put(dir, "logs/b.log", "B");
    put(dir, "logs/.hidden.log", "H");
    put(dir, "logs/notes.txt", "N");
    put(dir, "logs/dir.log/inner.log", "I"); // a folder whose name matches: not a file, skipped
    put(dir, "logs/sub/c.log", "C"); // not recursive
    link(dir, "logs/link.log", "a.log"); // a link to a file counts as a file
    link(dir, "logs/dangling.log", "nothing"); // a link to nothing does not
    link(dir, "logs/folderlink.log", "sub"); // a link to a folder does not
  }

  test("* in the last segment copies every matching file, dotfiles included, nothing else", async () => {
    const dir = temp.folder();
    tree(dir);
    await copy(dir, { source: "logs/*.log", destination: "out/" });
    expect(readdirSync(join(dir, "out")).sort()).toEqual([".hidden.log", "a.log", "b.log", "link.log"]);
    expect(text(join(dir, "out/link.log"))).toBe("A");
    expect(lstatSync(join(dir, "out/link.log")).isFile()).toBe(true);
    expect(text(join(dir, "out/.hidden.log"))).toBe("H");
  });

  test("a lone * matches every file; dotfiles are matched like any name (unlike the shell)", async () => {
    const dir = temp.folder();
    tree(dir);
    await copy(dir, { source: "logs/*", destination: "all/" });
    expect(readdirSync(join(dir, "all")).sort()).toEqual([".hidden.log", "a.log", "b.log", "link.log", "notes.txt"]);
  });

  test("a wildcard without a folder part is taken from the working directory", async () => {
    const dir = temp.folder();
    put(dir, "one.txt", "1");
    put(dir, "two.txt", "2");
    put(dir, "three.md", "3");
    await copy(dir, { source: "*.txt", destination: "txt/" });
    expect(readdirSync(join(dir, "txt")).sort()).toEqual(["one.txt", "two.txt"]);
  });

  test("* may stand in the middle of a name", async () => {
    const dir = temp.folder();
    put(dir, "in/app-1.2.jar", "j");
    put(dir, "in/app-sources.zip", "z");
    put(dir, "in/lib-1.2.jar", "l");
    await copy(dir, { source: "in/app-*.jar", destination: "out/" });
    expect(readdirSync(join(dir, "out"))).toEqual(["app-1.2.jar"]);
  });

  test("no matching file is an error, and so is a missing folder", async () => {
    const dir = temp.folder();
    tree(dir);
    await expect(copy(dir, { source: "logs/*.csv", destination: "out/" })).rejects.toThrow("no file matches 'logs/*.csv'");
    await expect(copy(dir, { source: "logs/sub*", destination: "out/" })).rejects.toThrow("no file matches 'logs/sub*'"); // only a folder matches
    await expect(copy(dir, { source: "nowhere/*.log", destination: "out/" })).rejects.toThrow("source folder 'nowhere/' does not exist");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  test("a wildcard source needs a destination folder, and * only in the last segment", async () => {
    const dir = temp.folder();
    tree(dir);
    await expect(copy(dir, { source: "logs/*.log", destination: "out" })).rejects.toThrow("with a wildcard source the destination must be a folder: end 'out' with a path separator");
    await expect(copy(dir, { source: "lo*/a.log", destination: "out/" })).rejects.toThrow("a * wildcard may only appear in the last path segment ('lo*/a.log')");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  test("with overwrite false, one existing target stops the operation before any file is copied", async () => {
    const dir = temp.folder();
    tree(dir);
    put(dir, "out/b.log", "old B");
    await expect(copy(dir, { source: "logs/*.log", destination: "out/", overwrite: false })).rejects.toThrow("'out/b.log' already exists and overwrite is false");
    expect(readdirSync(join(dir, "out"))).toEqual(["b.log"]);
    expect(text(join(dir, "out/b.log"))).toBe("old B");
  });

  test("with overwrite true, existing targets are replaced and the rest added", async () => {
    const dir = temp.folder();
    tree(dir);
    put(dir, "out/b.log", "old B");
    put(dir, "out/keep.txt", "K");
    await copy(dir, { source: "logs/*.log", destination: "out/", overwrite: true });
    expect(readdirSync(join(dir, "out")).sort()).toEqual([".hidden.log", "a.log", "b.log", "keep.txt", "link.log"]);
    expect(text(join(dir, "out/b.log"))).toBe("B");
    expect(text(join(dir, "out/keep.txt"))).toBe("K");
    expect(temporaries(join(dir, "out"))).toEqual([]);
  });
});

describe("CopyFile failures and lists", () => {
  test("no permission to write the destination folder is an error naming the target", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "x");
    mkdirSync(join(dir, "locked"));
    const undo = immutable(join(dir, "locked"));
    if (undo === undefined) {
      console.warn("skipped: chattr +i is not available here, and root bypasses permission bits");
      return;
    }
    try {
      await expect(copy(dir, { source: "a.txt", destination: "locked/" })).rejects.toThrow("operation not permitted on 'locked/a.txt'");
    } finally {
      undo();
    }
    expect(readdirSync(join(dir, "locked"))).toEqual([]);
  });

  test("a failing middle element stops the list, names it, and says what was done", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "A");
    put(dir, "c.txt", "C");
    const run = copy(
      dir,
      { source: "a.txt", destination: "out/" },
      { source: "missing.txt", destination: "out/" },
      { source: "c.txt", destination: "out/" },
    );
    await expect(run).rejects.toThrow("operation 2 of 3 ('missing.txt' → 'out/'): source 'missing.txt' does not exist; operation 1 had completed");
    expect(readdirSync(join(dir, "out"))).toEqual(["a.txt"]);
  });

  test("several elements run in order; a later one may use an earlier one's result", async () => {
    const dir = temp.folder();
    put(dir, "a.txt", "A");
    await copy(dir, { source: "a.txt", destination: "b.txt" }, { source: "b.txt", destination: "sub/c.txt" });
    expect(text(join(dir, "sub/c.txt"))).toBe("A");
  });
});
