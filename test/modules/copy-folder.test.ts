/** CopyFolder on real temporary folders: new targets, merges, wildcards, links, refusals, lists. */
import { afterAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { StepError } from "../../src/errors.ts";
import { modules } from "../../src/modules/index.ts";
import { describeTree, immutable, link, put, scratch, temporaries } from "../helpers/fs-tree.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";

const temp = scratch();
afterAll(() => {
  // Read-only folders copied by the tests: make them removable again.
  execFileSync("chmod", ["-R", "u+rwx", temp.dir]);
  temp.remove();
});
// One context (and so one work folder) for the file; each call only changes the working directory.
const context = moduleContext();
const copy = (dir: string, ...items: WrittenInput<typeof modules.CopyFolder>) => runModule(modules.CopyFolder, items, { ...context, cwd: dir });
const text = (path: string) => readFileSync(path, "utf8");

/**
 * `dir/src` with files of several modes, a hidden file, an empty and a read-only folder, nested
 * folders, and links: relative inside, absolute, to a folder outside the tree, and dangling.
 * `dir/outside` is the folder outside that must never be copied through the link.
 */
function sampleTree(dir: string): string {
  const src = join(dir, "src");
  put(dir, "outside/secret.txt", "outside the tree");
  put(src, "top.txt", "top");
  put(src, "run.sh", "#!/bin/sh\n", 0o755);
  put(src, "private", "p", 0o600);
  put(src, ".dot", "hidden");
  mkdirSync(join(src, "empty"));
  put(src, "a/b/c/deep.txt", "deep");
  put(src, "ro/f.txt", "read-only", 0o444);
  chmodSync(join(src, "ro"), 0o555);
  link(src, "links/rel", "../top.txt");
  link(src, "links/abs", join(src, "top.txt"));
  link(src, "links/out", "../../outside");
  link(src, "links/dangling", "nowhere");
  utimesSync(join(src, "a/b/c/deep.txt"), 1_000_000, 1_234_567);
  utimesSync(join(src, "a/b"), 1_000_000, 1_111_111);
  return src;
}

describe("CopyFolder to a new target", () => {
  test("a destination without a separator is the new folder: every entry, mode and link, byte for byte", async () => {
    const dir = temp.folder();
    const src = sampleTree(dir);
    await copy(dir, { source: "src", destination: "copy" });
    const copied = describeTree(join(dir, "copy"));
    expect(copied).toEqual(describeTree(src));
    expect(Object.keys(copied).length).toBe(16);
    expect(statSync(join(dir, "copy")).mode & 0o7777).toBe(statSync(src).mode & 0o7777);
    expect(readdirSync(dir).sort()).toEqual(["copy", "outside", "src"]);
  });

  test("links stay links and a link out of the tree is not followed", async () => {
    const dir = temp.folder();
    sampleTree(dir);
    await copy(dir, { source: "src", destination: "copy" });
    expect(lstatSync(join(dir, "copy/links/out")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, "copy/links/out"))).toBe("../../outside");
    expect(readlinkSync(join(dir, "copy/links/abs"))).toBe(join(dir, "src/top.txt")); // as written, like cp
    expect(lstatSync(join(dir, "copy/links/dangling")).isSymbolicLink()).toBe(true);
    const everything = JSON.stringify(describeTree(join(dir, "copy")));
    expect(everything).not.toContain("secret.txt");
  });

  test("modification times of files and folders are kept", async () => {
    const dir = temp.folder();
    sampleTree(dir);
    await copy(dir, { source: "src", destination: "copy" });
    expect(Math.floor(statSync(join(dir, "copy/a/b/c/deep.txt")).mtimeMs)).toBe(1_234_567_000);
    expect(Math.floor(statSync(join(dir, "copy/a/b")).mtimeMs)).toBe(1_111_111_000);
  });

  test("a destination ending with / receives the folder under its own name; missing folders are created", async () => {
    const dir = temp.folder();
    const src = sampleTree(dir);
    await copy(dir, { source: "src/", destination: "x/y/" });
    expect(describeTree(join(dir, "x/y/src"))).toEqual(describeTree(src));
    expect(readdirSync(join(dir, "x/y"))).toEqual(["src"]);
  });

  test("an empty folder is copied as an empty folder", async () => {
    const dir = temp.folder();
    mkdirSync(join(dir, "empty"), { mode: 0o750 });
    await copy(dir, { source: "empty", destination: "e2", overwrite: false });
    expect(readdirSync(join(dir, "e2"))).toEqual([]);
    expect(statSync(join(dir, "e2")).mode & 0o7777).toBe(0o750);
  });

  test("a link named as the source is followed: the folder it points to is copied", async () => {
    const dir = temp.folder();
    put(dir, "real/f.txt", "f");
    link(dir, "alias", "real");
    await copy(dir, { source: "alias", destination: "out/" });
    expect(lstatSync(join(dir, "out/alias")).isDirectory()).toBe(true);
    expect(text(join(dir, "out/alias/f.txt"))).toBe("f");
  });
});

describe("CopyFolder onto an existing target", () => {
  function existing(dir: string): void {
    put(dir, "target/top.txt", "old top");
    put(dir, "target/extra.txt", "only in the target");
    put(dir, "target/a/old.txt", "old in a");
    chmodSync(join(dir, "target/a"), 0o700);
  }

  test.each([
    [true, undefined, "merge"],
    [true, true, "merge"],
    [true, false, "error"],
    [false, undefined, "copy"],
    [false, true, "copy"],
    [false, false, "copy"],
  ] as const)("target exists: %p, overwrite: %p → %p", async (exists, overwrite, expected) => {
    const dir = temp.folder();
    const src = sampleTree(dir);
    if (exists) existing(dir);
    const before = exists ? describeTree(join(dir, "target")) : {};
    const run = copy(dir, { source: "src", destination: "target", ...(overwrite === undefined ? {} : { overwrite }) });
    if (expected === "error") {
      await expect(run).rejects.toThrow("'target' already exists and overwrite is false");
      expect(describeTree(join(dir, "target"))).toEqual(before);
      return;
    }
    await run;
    const after = describeTree(join(dir, "target"));
    if (expected === "copy") {
      expect(after).toEqual(describeTree(src));
      return;
    }
    // Merged: everything from the source, plus what only the target had; its folders keep their mode.
    const source = describeTree(src);
    expect(after).toEqual({ ...source, "extra.txt": before["extra.txt"]!, "a/old.txt": before["a/old.txt"]!, a: "dir 700" });
    expect(text(join(dir, "target/top.txt"))).toBe("top");
  });

  test("a merge leaves no temporary files behind and adds new folders whole", async () => {
    const dir = temp.folder();
    sampleTree(dir);
    existing(dir);
    await copy(dir, { source: "src", destination: "target" });
    const leftovers = Object.keys(describeTree(join(dir, "target"))).filter((path) => path.includes(".opentoe-"));
    expect(leftovers).toEqual([]);
    expect(temporaries(dir)).toEqual([]);
    expect(text(join(dir, "target/a/b/c/deep.txt"))).toBe("deep");
  });

  test("a replaced file is a new inode (renamed into place), never rewritten in place", async () => {
    const dir = temp.folder();
    sampleTree(dir);
    existing(dir);
    const before = statSync(join(dir, "target/top.txt")).ino;
    await copy(dir, { source: "src", destination: "target" });
    expect(statSync(join(dir, "target/top.txt")).ino).not.toBe(before);
  });

  test("a file where the source has a folder, or a folder where it has a file, is an error", async () => {
    const dir = temp.folder();
    put(dir, "src/a/f.txt", "f");
    put(dir, "t1/a", "a file");
    await expect(copy(dir, { source: "src", destination: "t1" })).rejects.toThrow("cannot merge folder 'src/a' into 't1/a', which is not a folder");
    put(dir, "src2/f.txt", "f");
    put(dir, "t2/f.txt/inside", "kept");
    await expect(copy(dir, { source: "src2", destination: "t2" })).rejects.toThrow("cannot replace folder 't2/f.txt' with 'src2/f.txt', which is not a folder");
    expect(text(join(dir, "t2/f.txt/inside"))).toBe("kept");
  });

  test("a link in the target tree is never merged through", async () => {
    const dir = temp.folder();
    put(dir, "src/a/f.txt", "f");
    mkdirSync(join(dir, "elsewhere"));
    link(dir, "target/a", "../elsewhere");
    await expect(copy(dir, { source: "src", destination: "target" })).rejects.toThrow("cannot merge folder 'src/a' into 'target/a', which is not a folder");
    expect(readdirSync(join(dir, "elsewhere"))).toEqual([]);
  });

  test("a file at the target path is an error, whatever overwrite says", async () => {
    const dir = temp.folder();
    put(dir, "src/f.txt");
    put(dir, "target", "file");
    await expect(copy(dir, { source: "src", destination: "target", overwrite: true })).rejects.toThrow("'target' already exists and is not a folder");
    expect(text(join(dir, "target"))).toBe("file");
  });
});

describe("CopyFolder wildcards", () => {
  function tree(dir: string): void {
    put(dir, "in/app1/a.txt", "1");
    put(dir, "in/app2/b/c.txt", "2");
    put(dir, "in/.app3/h.txt", "3");
    put(dir, "in/app.txt", "a file matches but is not a folder");
    put(dir, "in/other/x.txt", "x");
    mkdirSync(join(dir, "elsewhere"));
    link(dir, "in/applink", "../elsewhere"); // a link to a folder is not taken by a wildcard
  }

  test("* selects matching folders only (dot folders too) and copies each into the destination folder", async () => {
    const dir = temp.folder();
    tree(dir);
    await copy(dir, { source: "in/*app*", destination: "out/" });
    expect(readdirSync(join(dir, "out")).sort()).toEqual([".app3", "app1", "app2"]);
    expect(text(join(dir, "out/app2/b/c.txt"))).toBe("2");
  });

  test("no matching folder is an error; so is a destination without a separator", async () => {
    const dir = temp.folder();
    tree(dir);
    await expect(copy(dir, { source: "in/*.txt", destination: "out/" })).rejects.toThrow("no folder matches 'in/*.txt'");
    await expect(copy(dir, { source: "in/app*", destination: "out" })).rejects.toThrow("with a wildcard source the destination must be a folder");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  test("with overwrite false, one existing target stops the operation before any folder is copied", async () => {
    const dir = temp.folder();
    tree(dir);
    put(dir, "out/app2/keep.txt", "k");
    await expect(copy(dir, { source: "in/app*", destination: "out/", overwrite: false })).rejects.toThrow("'out/app2' already exists and overwrite is false");
    expect(readdirSync(join(dir, "out"))).toEqual(["app2"]);
  });

  test("a destination inside the matched folders is refused before anything is copied", async () => {
    const dir = temp.folder();
    tree(dir);
    await expect(copy(dir, { source: "in/*", destination: "in/app1/backup/" })).rejects.toThrow("cannot copy folder 'in/app1' into itself ('in/app1/backup/app1')");
    expect(existsSync(join(dir, "in/app1/backup"))).toBe(false);
  });
});

describe("CopyFolder refusals and failures", () => {
  test("copying a folder into itself is refused, however the path is written", async () => {
    const dir = temp.folder();
    put(dir, "src/f.txt");
    link(dir, "via", "src");
    await expect(copy(dir, { source: "src", destination: "src/sub" })).rejects.toThrow("cannot copy folder 'src' into itself ('src/sub')");
    await expect(copy(dir, { source: "src", destination: "src/" })).rejects.toThrow("cannot copy folder 'src' into itself ('src/src')");
    await expect(copy(dir, { source: "src", destination: "via/deeper/copy" })).rejects.toThrow("cannot copy folder 'src' into itself ('via/deeper/copy')");
    await expect(copy(dir, { source: "src", destination: "src" })).rejects.toThrow("cannot copy folder 'src' into itself ('src')");
    expect(readdirSync(join(dir, "src"))).toEqual(["f.txt"]);
  });

  test("merging into a folder that contains the source is refused", async () => {
    const dir = temp.folder();
    put(dir, "p/c/f.txt");
    await expect(copy(dir, { source: "p/c", destination: "p" })).rejects.toThrow("'p' contains the source folder 'p/c'");
  });

  test("a missing source or a file as source is an error", async () => {
    const dir = temp.folder();
    put(dir, "file.txt");
    await expect(copy(dir, { source: "nope", destination: "out" })).rejects.toThrow("source 'nope' does not exist");
    await expect(copy(dir, { source: "file.txt", destination: "out" })).rejects.toThrow("'file.txt' is a file, not a folder (CopyFile copies files)");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  test("something that is not a file, folder or link stops the copy, and no part of the target appears", async () => {
    const dir = temp.folder();
    put(dir, "src/a.txt");
    execFileSync("mkfifo", [join(dir, "src/pipe")]);
    await expect(copy(dir, { source: "src", destination: "copy" })).rejects.toThrow("'src/pipe' is not a file, folder or symbolic link and cannot be copied");
    expect(readdirSync(dir).sort()).toEqual(["src"]);
  });

  test("a failure after some wildcard matches were copied says how many", async () => {
    const dir = temp.folder();
    put(dir, "in/a/f.txt");
    put(dir, "in/b/f.txt");
    execFileSync("mkfifo", [join(dir, "in/b/pipe")]);
    put(dir, "in/c/f.txt");
    await expect(copy(dir, { source: "in/*", destination: "out/" })).rejects.toThrow(
      "'in/b/pipe' is not a file, folder or symbolic link and cannot be copied (1 of the 3 matching folders had been copied)",
    );
    expect(readdirSync(join(dir, "out"))).toEqual(["a"]);
  });

  test("an empty source or destination (a reference that resolved to nothing) is an error, not the working directory", async () => {
    const dir = temp.folder();
    put(dir, "src/f.txt");
    await expect(copy(dir, { source: "src", destination: "" })).rejects.toThrow("the destination is empty");
    await expect(copy(dir, { source: " ", destination: "out" })).rejects.toThrow("the source is empty");
    expect(readdirSync(dir)).toEqual(["src"]);
  });

  test("no permission to write the destination is an error, and nothing is left behind", async () => {
    const dir = temp.folder();
    put(dir, "src/a.txt");
    mkdirSync(join(dir, "locked"));
    const undo = immutable(join(dir, "locked"));
    if (undo === undefined) {
      console.warn("skipped: chattr +i is not available here, and root bypasses permission bits");
      return;
    }
    try {
      await expect(copy(dir, { source: "src", destination: "locked/" })).rejects.toThrow(/operation not permitted on 'locked\/src'/);
    } finally {
      undo();
    }
    expect(readdirSync(join(dir, "locked"))).toEqual([]);
  });

  test("a stopped step (aborted signal) stops the copy and leaves no target", async () => {
    const dir = temp.folder();
    sampleTree(dir);
    const controller = new AbortController();
    controller.abort();
    const run = runModule(modules.CopyFolder, [{ source: "src", destination: "copy" }], { ...context, cwd: dir, signal: controller.signal });
    await expect(run).rejects.toThrow("stopped before it was complete");
    expect(readdirSync(dir).sort()).toEqual(["outside", "src"]);
  });

  test("a failing middle element stops the list, names it, and says what was done", async () => {
    const dir = temp.folder();
    put(dir, "one/f.txt");
    put(dir, "three/f.txt");
    const run = copy(dir, { source: "one", destination: "out/" }, { source: "two", destination: "out/" }, { source: "three", destination: "out/" });
    await expect(run).rejects.toThrow(StepError);
    await expect(run).rejects.toThrow("operation 2 of 3 ('two' → 'out/'): source 'two' does not exist; operation 1 had completed");
    expect(readdirSync(join(dir, "out"))).toEqual(["one"]);
  });
});
