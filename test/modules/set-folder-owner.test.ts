/**
 * SetFolderOwner on real trees, run as root: the folder and (by default) everything in it, links
 * inside changed themselves and never followed out of the tree.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { linkSync, lstatSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { modules } from "../../src/modules/index.ts";
import { existingFolder } from "../../src/modules/_tree.ts";
import { immutable, link, put, scratch } from "../helpers/fs-tree.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";

const area = scratch("opentoe-set-folder-owner-");
afterAll(() => area.remove());

const run = (input: WrittenInput<typeof modules.SetFolderOwner>, cwd: string) => runModule(modules.SetFolderOwner, input, moduleContext({ cwd }));
const ids = (path: string) => `${lstatSync(path).uid}:${lstatSync(path).gid}`;

/** `uid:gid` of the folder ("." ) and every entry in it, links not followed. */
function owners(root: string): Record<string, string> {
  const out: Record<string, string> = { ".": ids(root) };
  const walk = (folder: string, prefix: string) => {
    for (const name of readdirSync(folder).sort()) {
      const path = join(folder, name);
      out[prefix + name] = ids(path);
      if (lstatSync(path).isDirectory()) walk(path, `${prefix}${name}/`);
    }
  };
  walk(root, "");
  return out;
}

/** rm -rf works relative to open folders; rmSync's full-path removal takes seconds at this depth. */
const removeDeep = (path: string) => execFileSync("rm", ["-rf", path]);

const allAs = (tree: Record<string, string>, owner: string) => Object.fromEntries(Object.keys(tree).map((k) => [k, owner]));

/**
 * cwd/tree: files, nested and empty folders, a FIFO, links to a file and a folder outside the tree,
 * a link inside the tree, a dangling link. cwd/outside: what those links point to.
 */
function makeTree(cwd: string): { root: string; outside: string } {
  const root = join(cwd, "tree");
  const outside = join(cwd, "outside");
  put(root, "a.txt");
  put(root, "sub/b.txt");
  put(root, "sub/deep/c.txt");
  mkdirSync(join(root, "empty"));
  execFileSync("mkfifo", [join(root, "sub/fifo")]);
  put(outside, "file.txt");
  put(outside, "dir/inner.txt");
  link(root, "out-file", "../outside/file.txt");
  link(root, "sub/out-dir", "../../outside/dir");
  link(root, "sub/in-link", "../a.txt");
  link(root, "dangling", "nowhere");
  return { root, outside };
}

const EVERYTHING = [".", "a.txt", "dangling", "empty", "out-file", "sub", "sub/b.txt", "sub/deep", "sub/deep/c.txt", "sub/fifo", "sub/in-link", "sub/out-dir"];

/**
 * 100 folders of 100 entries each. All but one per folder are hard links: creating 10,000 inodes
 * takes seconds on some disks, while the walk sees 10,100 entries and makes a call for each.
 */
function manyEntries(root: string): void {
  for (let d = 0; d < 100; d++) {
    const first = put(root, `d${d}/f0`, "");
    for (let f = 1; f < 100; f++) linkSync(first, join(root, `d${d}/f${f}`));
  }
}

describe("recursive (the default)", () => {
  test("the folder, every entry and every link itself get the owner; nothing outside changes", async () => {
    const cwd = area.folder();
    const { root, outside } = makeTree(cwd);
    expect(Object.keys(owners(root)).sort()).toEqual(EVERYTHING);
    expect(await run([{ path: "tree", owner: "nobody" }], cwd)).toEqual({ outputs: {} });
    expect(owners(root)).toEqual(allAs(owners(root), "65534:65534"));
    expect(owners(outside)).toEqual({ ".": "0:0", "file.txt": "0:0", dir: "0:0", "dir/inner.txt": "0:0" });
  });
  test("recursive: true, numeric owner and group", async () => {
    const cwd = area.folder();
    const { root, outside } = makeTree(cwd);
    await run([{ path: root, owner: "12345", group: "12346", recursive: true }], cwd);
    const after = owners(root);
    expect(Object.keys(after).sort()).toEqual(EVERYTHING);
    expect(Object.values(after).every((v) => v === "12345:12346")).toBe(true);
    expect(Object.values(owners(outside)).every((v) => v === "0:0")).toBe(true);
  });
  test("group by name, owner's default group, and an owner with no account keeps groups", async () => {
    const cwd = area.folder();
    const { root } = makeTree(cwd);
    await run([{ path: "tree", owner: "root", group: "nogroup" }], cwd);
    expect(Object.values(owners(root)).every((v) => v === "0:65534")).toBe(true);
    await run([{ path: "tree", owner: "daemon" }], cwd);
    expect(Object.values(owners(root)).every((v) => v === "1:1")).toBe(true);
    await run([{ path: "tree", owner: "12345" }], cwd);
    expect(Object.values(owners(root)).every((v) => v === "12345:1")).toBe(true);
  });
  test("a path with a trailing separator is the same folder", async () => {
    const cwd = area.folder();
    const { root } = makeTree(cwd);
    await run([{ path: "tree/", owner: "nobody", group: "bin" }], cwd);
    expect(Object.values(owners(root)).every((v) => v === "65534:2")).toBe(true);
  });
  test("a folder given as a symlink: the tree it leads to changes, the link itself does not", async () => {
    const cwd = area.folder();
    const { root } = makeTree(cwd);
    const entry = link(cwd, "tree-link", "tree");
    await run([{ path: "tree-link", owner: "nobody" }], cwd);
    expect(Object.values(owners(root)).every((v) => v === "65534:65534")).toBe(true);
    expect(ids(entry)).toBe("0:0");
  });
  test("a deep tree (1,500 levels) is walked without recursion limits", async () => {
    const cwd = area.folder();
    const root = join(cwd, "deep");
    const deepest = join(root, ...Array.from({ length: 1500 }, () => "d"));
    mkdirSync(deepest, { recursive: true });
    put(deepest, "bottom.txt");
    try {
      await run([{ path: "deep", owner: "nobody" }], cwd);
      expect(ids(join(deepest, "bottom.txt"))).toBe("65534:65534");
      expect(ids(deepest)).toBe("65534:65534");
      expect(ids(join(root, "d"))).toBe("65534:65534");
    } finally {
      removeDeep(root);
    }
  });
  test("10,000 entries take well under a second", async () => {
    const cwd = area.folder();
    const root = join(cwd, "many");
    manyEntries(root);
    const started = performance.now();
    await run([{ path: "many", owner: "nobody" }], cwd);
    const took = performance.now() - started;
    expect(took).toBeLessThan(1000);
    expect(ids(join(root, "d99/f98"))).toBe("65534:65534");
    expect(ids(join(root, "d0"))).toBe("65534:65534");
  });
});

describe("recursive: false", () => {
  test("only the folder itself changes", async () => {
    const cwd = area.folder();
    const { root } = makeTree(cwd);
    await run([{ path: "tree", owner: "nobody", recursive: false }], cwd);
    const after = owners(root);
    expect(after["."]).toBe("65534:65534");
    expect(Object.entries(after).filter(([k]) => k !== ".").every(([, v]) => v === "0:0")).toBe(true);
  });
});

describe("failures", () => {
  test("a file is refused and left alone", async () => {
    const cwd = area.folder();
    const file = put(cwd, "a.txt");
    await expect(run([{ path: "a.txt", owner: "nobody" }], cwd)).rejects.toThrow("'a.txt' is a file, not a folder (SetFileOwner changes files)");
    expect(ids(file)).toBe("0:0");
  });
  test("a missing folder", async () => {
    const cwd = area.folder();
    await expect(run([{ path: "nothing-here", owner: "nobody" }], cwd)).rejects.toThrow("'nothing-here' does not exist");
  });
  test("a link to nothing", async () => {
    const cwd = area.folder();
    link(cwd, "gone", "nowhere");
    await expect(run([{ path: "gone", owner: "nobody" }], cwd)).rejects.toThrow("'gone' is a symbolic link to something that does not exist");
  });
  test("unknown user and group are named; nothing changes", async () => {
    const cwd = area.folder();
    const { root } = makeTree(cwd);
    await expect(run([{ path: "tree", owner: "no-such-user-xyz" }], cwd)).rejects.toThrow("unknown user 'no-such-user-xyz'");
    await expect(run([{ path: "tree", owner: "nobody", group: "no-such-group-xyz" }], cwd)).rejects.toThrow("unknown group 'no-such-group-xyz'");
    expect(Object.values(owners(root)).every((v) => v === "0:0")).toBe(true);
  });
  test("the root folder (or a link to it) is refused for a recursive change before anything happens", () => {
    // Checked on the path check itself: a test that ran the module on `/` would, if the refusal
    // were broken, give the whole machine to nobody.
    const cwd = area.folder();
    link(cwd, "slash", "/");
    const ctx = moduleContext({ cwd });
    expect(() => existingFolder(ctx, "/", "SetFileOwner", true)).toThrow("refusing to operate on the root folder '/'");
    expect(() => existingFolder(ctx, "slash", "SetFileOwner", true)).toThrow("refusing to operate on the root folder 'slash'");
    expect(() => existingFolder(ctx, "/../..", "SetFileOwner", true)).toThrow("refusing to operate on the root folder '/../..'");
    expect(existingFolder(ctx, "/", "SetFileOwner", false)).toBe("/");
  });
  test("an entry the system will not change stops the walk, named as the user would write it", async () => {
    const cwd = area.folder();
    const root = join(cwd, "tree");
    const locked = put(root, "x/locked");
    const undo = immutable(locked);
    if (undo === undefined) return void console.warn("chattr +i unavailable here: permission failure not tested");
    try {
      await expect(run([{ path: "tree", owner: "nobody" }], cwd)).rejects.toThrow("operation not permitted on 'tree/x/locked'; nothing in it had been changed");
    } finally {
      undo();
    }
    expect(owners(root)).toEqual({ ".": "0:0", x: "0:0", "x/locked": "0:0" });
  });
  test("a failure on the folder itself (changed last) says how many entries inside were done", async () => {
    const cwd = area.folder();
    const root = join(cwd, "tree");
    for (const name of ["a/1", "a/2", "a/3"]) put(root, name);
    const undo = immutable(root);
    if (undo === undefined) return void console.warn("chattr +i unavailable here: permission failure not tested");
    try {
      await expect(run([{ path: "tree/", owner: "nobody" }], cwd)).rejects.toThrow("operation not permitted on 'tree/'; 4 items inside 'tree/' had already been changed");
    } finally {
      undo();
    }
    expect(owners(root)).toEqual({ ".": "0:0", a: "65534:65534", "a/1": "65534:65534", "a/2": "65534:65534", "a/3": "65534:65534" });
  });
});

describe("lists", () => {
  test("a failing middle element names operation 2 of 3 and says operation 1 had completed", async () => {
    const cwd = area.folder();
    const one = join(cwd, "one");
    const three = join(cwd, "three");
    mkdirSync(one);
    mkdirSync(three);
    put(cwd, "two");
    const failure = run([{ path: "one", owner: "nobody" }, { path: "two", owner: "nobody" }, { path: "three", owner: "nobody" }], cwd);
    await expect(failure).rejects.toThrow("operation 2 of 3 (two): 'two' is a file, not a folder (SetFileOwner changes files); operation 1 had completed");
    expect([ids(one), ids(join(cwd, "two")), ids(three)]).toEqual(["65534:65534", "0:0", "0:0"]);
    expect(statSync(three).isDirectory()).toBe(true);
  });
});
