/** MoveFolder on real temporary folders: renames, merges, wildcards, links, other devices, refusals, lists. */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { StepError } from "../../src/errors.ts";
import { modules } from "../../src/modules/index.ts";
import { describeTree, link, otherDevice, put, scratch, temporaries } from "../helpers/fs-tree.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";

const temp = scratch();
const device = otherDevice();
const remote = device === undefined ? undefined : mkdtempSync(join(device, "opentoe-move-folder-"));
afterAll(() => {
  temp.remove();
  if (remote !== undefined) rmSync(remote, { recursive: true, force: true });
});
// One context (and so one work folder) for the file; each call only changes the working directory.
const context = moduleContext();
const move = (dir: string, ...items: WrittenInput<typeof modules.MoveFolder>) => runModule(modules.MoveFolder, items, { ...context, cwd: dir });
const text = (path: string) => readFileSync(path, "utf8");

/** `dir/src` with nested files, modes, owners, times and links (one out of the tree); `dir/outside` beside it. */
function sampleTree(dir: string): string {
  const src = join(dir, "src");
  put(dir, "outside/secret.txt", "outside the tree");
  put(src, "top.txt", "top");
  put(src, "run.sh", "#!/bin/sh\n", 0o755);
  put(src, ".dot", "hidden");
  put(src, "a/b/deep.txt", "deep", 0o600);
  mkdirSync(join(src, "empty"));
  link(src, "links/rel", "../top.txt");
  link(src, "links/out", "../../outside");
  chownSync(join(src, "a/b/deep.txt"), 65534, 65534);
  chmodSync(join(src, "a"), 0o750);
  utimesSync(join(src, "a/b/deep.txt"), 1_000_000, 1_234_567);
  utimesSync(join(src, "a/b"), 1_000_000, 1_111_111);
  return src;
}

describe("MoveFolder on one file system", () => {
  test("a destination without a separator is the new path: a rename (same inode), source gone, parents created", async () => {
    const dir = temp.folder();
    const src = sampleTree(dir);
    const before = describeTree(src);
    const inode = statSync(src).ino;
    await move(dir, { source: "src", destination: "x/y/moved" });
    expect(existsSync(src)).toBe(false);
    expect(statSync(join(dir, "x/y/moved")).ino).toBe(inode);
    expect(describeTree(join(dir, "x/y/moved"))).toEqual(before);
    expect(readdirSync(join(dir, "outside"))).toEqual(["secret.txt"]);
  });

  test("a destination ending with / receives the folder under its own name", async () => {
    const dir = temp.folder();
    const src = sampleTree(dir);
    const before = describeTree(src);
    await move(dir, { source: "src/", destination: "out/" });
    expect(describeTree(join(dir, "out/src"))).toEqual(before);
    expect(existsSync(src)).toBe(false);
  });

  test("a link named as the source is moved as the link", async () => {
    const dir = temp.folder();
    put(dir, "real/f.txt", "f");
    link(dir, "alias", "real");
    await move(dir, { source: "alias", destination: "out/" });
    expect(readlinkSync(join(dir, "out/alias"))).toBe("real"); // moved as written, like mv
    expect(existsSync(join(dir, "alias"))).toBe(false);
    expect(text(join(dir, "real/f.txt"))).toBe("f");
  });
});

describe("MoveFolder onto an existing target", () => {
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
    [false, undefined, "rename"],
    [false, true, "rename"],
    [false, false, "rename"],
  ] as const)("target exists: %p, overwrite: %p → %p", async (exists, overwrite, expected) => {
    const dir = temp.folder();
    const src = sampleTree(dir);
    const source = describeTree(src);
    if (exists) existing(dir);
    const before = exists ? describeTree(join(dir, "target")) : {};
    const run = move(dir, { source: "src", destination: "target", ...(overwrite === undefined ? {} : { overwrite }) });
    if (expected === "error") {
      await expect(run).rejects.toThrow("'target' already exists and overwrite is false");
      expect(describeTree(join(dir, "target"))).toEqual(before);
      expect(describeTree(src)).toEqual(source);
      return;
    }
    await run;
    expect(existsSync(src)).toBe(false);
    const after = describeTree(join(dir, "target"));
    if (expected === "rename") expect(after).toEqual(source);
    else expect(after).toEqual({ ...source, "extra.txt": before["extra.txt"]!, "a/old.txt": before["a/old.txt"]!, a: "dir 700" });
  });

  test("a file where the source has a folder is an error; what was merged so far stays merged", async () => {
    const dir = temp.folder();
    put(dir, "src/a/f.txt", "f");
    put(dir, "target/a", "a file");
    await expect(move(dir, { source: "src", destination: "target" })).rejects.toThrow("cannot move 'src/a' onto 'target/a': one is a folder and the other is not");
    expect(text(join(dir, "target/a"))).toBe("a file");
    expect(text(join(dir, "src/a/f.txt"))).toBe("f");
  });

  test("a file at the target path is an error", async () => {
    const dir = temp.folder();
    put(dir, "src/f.txt");
    put(dir, "target", "file");
    await expect(move(dir, { source: "src", destination: "target" })).rejects.toThrow("'target' already exists and is not a folder");
  });
});

describe("MoveFolder wildcards", () => {
  test("* moves matching folders only, dot folders too", async () => {
    const dir = temp.folder();
    put(dir, "in/app1/a.txt", "1");
    put(dir, "in/.app2/b.txt", "2");
    put(dir, "in/app.txt", "file");
    mkdirSync(join(dir, "elsewhere"));
    link(dir, "in/applink", "../elsewhere");
    await move(dir, { source: "in/*app*", destination: "out/" });
    expect(readdirSync(join(dir, "out")).sort()).toEqual([".app2", "app1"]);
    expect(readdirSync(join(dir, "in")).sort()).toEqual(["app.txt", "applink"]);
  });

  test("no match is an error; a destination without a separator too", async () => {
    const dir = temp.folder();
    put(dir, "in/app.txt", "file");
    await expect(move(dir, { source: "in/app*", destination: "out/" })).rejects.toThrow("no folder matches 'in/app*'");
    await expect(move(dir, { source: "in/*", destination: "out" })).rejects.toThrow("with a wildcard source the destination must be a folder");
  });
});

describe("MoveFolder refusals", () => {
  test("moving a folder into itself is refused", async () => {
    const dir = temp.folder();
    put(dir, "src/f.txt");
    await expect(move(dir, { source: "src", destination: "src/sub" })).rejects.toThrow("cannot move folder 'src' into itself ('src/sub')");
    await expect(move(dir, { source: "src", destination: "src/" })).rejects.toThrow("cannot move folder 'src' into itself ('src/src')");
    await expect(move(dir, { source: "src", destination: "src" })).rejects.toThrow("cannot move folder 'src' into itself ('src')");
    expect(readdirSync(join(dir, "src"))).toEqual(["f.txt"]);
  });

  test("merging into a folder that contains the source is refused", async () => {
    const dir = temp.folder();
    put(dir, "p/c/f.txt");
    await expect(move(dir, { source: "p/c", destination: "p" })).rejects.toThrow("'p' contains the source folder 'p/c'");
  });

  test("the root folder is never moved", async () => {
    await expect(move(temp.dir, { source: "/", destination: "anywhere" })).rejects.toThrow("refusing to operate on the root folder '/'");
  });

  test("a missing source or a file as source is an error", async () => {
    const dir = temp.folder();
    put(dir, "f.txt");
    await expect(move(dir, { source: "nope", destination: "x" })).rejects.toThrow("source 'nope' does not exist");
    await expect(move(dir, { source: "f.txt", destination: "x" })).rejects.toThrow("'f.txt' is a file, not a folder (MoveFile moves files)");
  });

  test("a failing middle element stops the list, names it, and says what was done", async () => {
    const dir = temp.folder();
    put(dir, "one/f.txt");
    put(dir, "three/f.txt");
    const run = move(dir, { source: "one", destination: "out/" }, { source: "two", destination: "out/" }, { source: "three", destination: "out/" });
    await expect(run).rejects.toThrow(StepError);
    await expect(run).rejects.toThrow("operation 2 of 3 ('two' → 'out/'): source 'two' does not exist; operation 1 had completed");
    expect(readdirSync(join(dir, "out"))).toEqual(["one"]);
    expect(existsSync(join(dir, "three"))).toBe(true);
  });
});

describe("MoveFolder across file systems", () => {
  const skip = remote === undefined;
  if (skip) console.warn(`skipped: /dev/shm is not a separate file system from the temp folder here, so EXDEV cannot be provoked`);

  test.skipIf(skip)("the tree is copied whole (links as links, modes, owners, times), then the source is removed", async () => {
    const dir = temp.folder();
    const src = sampleTree(dir);
    const before = describeTree(src);
    const target = join(remote!, "m1", "moved");
    await move(dir, { source: "src", destination: target });
    expect(existsSync(src)).toBe(false);
    expect(describeTree(target)).toEqual(before);
    expect(lstatSync(join(target, "links/out")).isSymbolicLink()).toBe(true);
    expect(JSON.stringify(describeTree(target))).not.toContain("secret.txt");
    expect(text(join(dir, "outside/secret.txt"))).toBe("outside the tree"); // removing the source did not follow the link
    const deep = statSync(join(target, "a/b/deep.txt"));
    expect([deep.uid, deep.gid, Math.floor(deep.mtimeMs)]).toEqual([65534, 65534, 1_234_567_000]);
    expect(Math.floor(statSync(join(target, "a/b")).mtimeMs)).toBe(1_111_111_000);
    expect(temporaries(join(remote!, "m1"))).toEqual([]);
  });

  test.skipIf(skip)("merging into an existing folder on another device replaces files and removes the source", async () => {
    const dir = temp.folder();
    const src = sampleTree(dir);
    const source = describeTree(src);
    put(remote!, "m2/target/top.txt", "old top");
    put(remote!, "m2/target/extra.txt", "kept");
    put(remote!, "m2/target/a/old.txt", "old in a");
    chmodSync(join(remote!, "m2/target/a"), 0o700);
    await move(dir, { source: "src", destination: join(remote!, "m2/target") });
    expect(existsSync(src)).toBe(false);
    const after = describeTree(join(remote!, "m2/target"));
    expect(after).toEqual({ ...source, "extra.txt": after["extra.txt"]!, "a/old.txt": after["a/old.txt"]!, a: "dir 700" });
    expect(text(join(remote!, "m2/target/extra.txt"))).toBe("kept");
    expect(text(join(remote!, "m2/target/top.txt"))).toBe("top");
  });

  test.skipIf(skip)("a link to a folder moves to another device as a link", async () => {
    const dir = temp.folder();
    put(dir, "real/f.txt", "f");
    link(dir, "alias", join(dir, "real"));
    await move(dir, { source: "alias", destination: join(remote!, "m3") + "/" });
    expect(readlinkSync(join(remote!, "m3/alias"))).toBe(join(dir, "real"));
    expect(existsSync(join(dir, "alias"))).toBe(false);
    expect(readdirSync(join(dir, "real"))).toEqual(["f.txt"]);
  });
});
