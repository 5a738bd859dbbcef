/** DeleteFolder on real temporary folders: empty/non-empty, force, symlink safety, refusals, lists. */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { modules } from "../../src/modules/index.ts";
import { put, scratch } from "../helpers/fs-tree.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";

const temp = scratch("opentoe-delete-folder-");
const root = temp.dir;
afterAll(temp.remove);
/** A fresh folder per test, used as the run's working directory, with the given files in it. */
function folder(files: Record<string, string> = {}): string {
  const dir = temp.folder();
  for (const [path, content] of Object.entries(files)) put(dir, path, content);
  return dir;
}
function runner(cwd: string, platform: "linux" | "windows" = "linux") {
  const logs: string[] = [];
  const del = (...items: WrittenInput<typeof modules.DeleteFolder>) =>
    runModule(modules.DeleteFolder, items, moduleContext({ cwd, platform, log: { debug: () => {}, info: (m) => logs.push(m), warn: () => {} } }));
  return { del, logs };
}
/** Every path under `dir`, folders with a trailing slash, links not entered, sorted. */
function tree(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? [`${prefix}${e.name}/`, ...tree(dir, `${prefix}${e.name}/`)] : [`${prefix}${e.name}`]))
    .sort();
}

describe("DeleteFolder without force", () => {
  test("an empty folder is deleted; the log says so", async () => {
    const dir = folder();
    mkdirSync(join(dir, "empty"));
    const { del, logs } = runner(dir);
    expect(await del({ path: "empty" })).toEqual({ outputs: {} });
    expect(tree(dir)).toEqual([]);
    expect(logs).toEqual(["deleted 'empty'"]);
  });

  test("a folder that is not empty is a failure naming the path, and nothing in it changes", async () => {
    const dir = folder({ "full/a.txt": "a", "full/sub/b.txt": "b" });
    for (const force of [undefined, false]) {
      await expect(runner(dir).del({ path: "full", ...(force === undefined ? {} : { force }) })).rejects.toThrow(
        "folder 'full' is not empty; set force: true to delete it with its contents",
      );
    }
    expect(tree(dir)).toEqual(["full/", "full/a.txt", "full/sub/", "full/sub/b.txt"]);
  });

  test("a folder holding only a hidden file or an empty folder is not empty", async () => {
    const dir = folder({ "h/.hidden": "" });
    mkdirSync(join(dir, "e", "inner"), { recursive: true });
    await expect(runner(dir).del({ path: "h" })).rejects.toThrow("folder 'h' is not empty");
    await expect(runner(dir).del({ path: "e" })).rejects.toThrow("folder 'e' is not empty");
    expect(tree(dir)).toEqual(["e/", "e/inner/", "h/", "h/.hidden"]);
  });

  test("absolute paths and a trailing separator", async () => {
    const dir = folder();
    mkdirSync(join(dir, "x"));
    mkdirSync(join(dir, "y"));
    await runner(folder()).del({ path: join(dir, "x") }, { path: `${join(dir, "y")}/` });
    expect(tree(dir)).toEqual([]);
  });
});

describe("DeleteFolder with force", () => {
  test("deletes the folder with everything in it: nested folders, hidden, read-only files and folders", async () => {
    const dir = folder({ "big/a.txt": "a", "big/.hidden": "h", "big/sub/deep/d.txt": "d", "big/ro/locked.txt": "l" });
    chmodSync(join(dir, "big", "ro", "locked.txt"), 0o444);
    chmodSync(join(dir, "big", "ro"), 0o555);
    const { del, logs } = runner(dir);
    await del({ path: "big", force: true });
    expect(existsSync(join(dir, "big"))).toBe(false);
    expect(logs).toEqual(["deleted 'big'"]);
  });

  test("an empty folder is deleted with force too", async () => {
    const dir = folder();
    mkdirSync(join(dir, "empty"));
    await runner(dir).del({ path: "empty", force: true });
    expect(tree(dir)).toEqual([]);
  });

  test("symbolic links inside are removed as links: the outside folders and files they point to survive", async () => {
    const dir = folder({ "outside/keep.txt": "keep", "outside/sub/deep.txt": "deep", "outside-file.txt": "file", "tree/own.txt": "own" });
    mkdirSync(join(dir, "tree", "nested"));
    symlinkSync(join(dir, "outside"), join(dir, "tree", "abs-folder-link"));
    symlinkSync("../../outside", join(dir, "tree", "nested", "rel-folder-link"));
    symlinkSync(join(dir, "outside-file.txt"), join(dir, "tree", "file-link"));
    symlinkSync("/", join(dir, "tree", "root-link"));
    symlinkSync(".", join(dir, "tree", "loop"));
    symlinkSync("nowhere", join(dir, "tree", "dangling"));
    await runner(dir).del({ path: "tree", force: true });
    expect(existsSync(join(dir, "tree"))).toBe(false);
    expect(tree(dir)).toEqual(["outside-file.txt", "outside/", "outside/keep.txt", "outside/sub/", "outside/sub/deep.txt"]);
    expect(readFileSync(join(dir, "outside", "sub", "deep.txt"), "utf8")).toBe("deep");
    expect(readFileSync(join(dir, "outside-file.txt"), "utf8")).toBe("file");
    expect(existsSync("/etc/passwd")).toBe(true);
  });

  test("fs.rmSync({ recursive: true, force: false }), which DeleteFolder relies on, does not follow links (checked, not assumed)", () => {
    const dir = folder({ "out/precious.txt": "p", "t/x.txt": "x" });
    symlinkSync(join(dir, "out"), join(dir, "t", "link"));
    rmSync(join(dir, "t"), { recursive: true, force: false });
    expect(tree(dir)).toEqual(["out/", "out/precious.txt"]);
    // force: false still reports a missing folder, so DeleteFolder tells "missing" apart itself.
    expect(() => rmSync(join(dir, "t"), { recursive: true, force: false })).toThrow();
  });

  test("a large tree is deleted completely", async () => {
    const dir = folder();
    for (let i = 0; i < 20; i++) {
      mkdirSync(join(dir, "many", `d${i}`), { recursive: true });
      for (let j = 0; j < 100; j++) writeFileSync(join(dir, "many", `d${i}`, `f${j}`), "");
    }
    await runner(dir).del({ path: "many", force: true });
    expect(tree(dir)).toEqual([]);
  });

  const immutable = (() => {
    const probe = join(root, "chattr-probe");
    writeFileSync(probe, "");
    const ok = spawnSync("chattr", ["+i", probe]).status === 0;
    if (ok) spawnSync("chattr", ["-i", probe]);
    rmSync(probe);
    return ok;
  })();

  test.skipIf(!immutable)("an entry that cannot be deleted stops it; the message names the entry as written and warns that part is gone", async () => {
    const dir = folder({ "t/sub/locked": "", "t/other": "" });
    spawnSync("chattr", ["+i", join(dir, "t", "sub", "locked")]);
    try {
      await expect(runner(dir).del({ path: "t/", force: true })).rejects.toThrow("operation not permitted on 't/sub/locked'; part of 't/' may already have been deleted");
      expect(existsSync(join(dir, "t", "sub", "locked"))).toBe(true);
    } finally {
      spawnSync("chattr", ["-i", join(dir, "t", "sub", "locked")]);
    }
  });
});

describe("DeleteFolder on what is not a folder", () => {
  test("a missing folder is success, with or without force; the log says nothing was deleted", async () => {
    const dir = folder({ f: "keep" });
    const { del, logs } = runner(dir);
    await del({ path: "gone" }, { path: "gone/deeper", force: true }, { path: "f/sub" });
    expect(logs).toEqual(["'gone' does not exist; nothing to delete", "'gone/deeper' does not exist; nothing to delete", "'f/sub' does not exist; nothing to delete"]);
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("keep");
  });

  test("a file at the path is a failure, whatever force says", async () => {
    const dir = folder({ "file.txt": "f" });
    for (const force of [false, true]) {
      await expect(runner(dir).del({ path: "file.txt", force })).rejects.toThrow("'file.txt' is a file, not a folder (DeleteFile deletes files)");
    }
    expect(tree(dir)).toEqual(["file.txt"]);
  });

  test("a symbolic link to a folder is a failure, whatever force says: neither the link nor the folder is touched", async () => {
    const dir = folder({ "real/keep.txt": "k" });
    symlinkSync("real", join(dir, "link"));
    for (const path of ["link", "link/"]) {
      for (const force of [false, true]) {
        await expect(runner(dir).del({ path, force })).rejects.toThrow(
          `'${path}' is a symbolic link, not a folder; DeleteFolder does not follow links (DeleteFile deletes the link itself)`,
        );
      }
    }
    expect(lstatSync(join(dir, "link")).isSymbolicLink()).toBe(true);
    expect(tree(dir)).toEqual(["link", "real/", "real/keep.txt"]);
  });
});

describe("DeleteFolder refuses", () => {
  test("an empty path and the root folder, with the exact messages", async () => {
    const { del } = runner(folder());
    await expect(del({ path: "" })).rejects.toThrow("the path is empty");
    await expect(del({ path: "   " })).rejects.toThrow("the path is empty");
    for (const path of ["/", "//", "/tmp/..", "/../.."]) {
      await expect(del({ path, force: true })).rejects.toThrow(`refusing to operate on the root folder '${path}'`);
    }
    expect(existsSync("/etc/passwd")).toBe(true);
  });

  test("a drive root on Windows", async () => {
    const { del } = runner(folder(), "windows");
    for (const path of ["C:", "C:\\", "d:/"]) {
      await expect(del({ path, force: true })).rejects.toThrow(`refusing to operate on the root folder '${path}'`);
    }
  });

  test("the working directory and every folder above it, however written; a sibling with the same prefix is fine", async () => {
    const dir = folder({ "work/build/keep.txt": "k" });
    mkdirSync(join(dir, "work", "build2"));
    const cwd = join(dir, "work", "build");
    const { del } = runner(cwd);
    const message = (path: string) => `refusing to delete '${path}': it holds the working directory '${cwd}' that relative paths are taken from`;
    await expect(del({ path: ".", force: true })).rejects.toThrow(message("."));
    await expect(del({ path: cwd, force: true })).rejects.toThrow(message(cwd));
    await expect(del({ path: "..", force: true })).rejects.toThrow(message(".."));
    await expect(del({ path: join(dir, "work"), force: true })).rejects.toThrow(message(join(dir, "work")));
    expect(tree(join(dir, "work"))).toEqual(["build/", "build/keep.txt", "build2/"]);
    await del({ path: "../build2" });
    expect(tree(join(dir, "work"))).toEqual(["build/", "build/keep.txt"]);
  });

  test("the working directory reached through a symlinked parent is still refused", async () => {
    const dir = folder({ "real/cwd/x": "" });
    symlinkSync(join(dir, "real"), join(dir, "alias"));
    const cwd = join(dir, "real", "cwd");
    await expect(runner(cwd).del({ path: join(dir, "alias", "cwd"), force: true })).rejects.toThrow("refusing to delete");
    expect(existsSync(join(cwd, "x"))).toBe(true);
  });
});

describe("DeleteFolder lists", () => {
  test("a failing middle element stops the list, names its index and path, and says what was done", async () => {
    const dir = folder({ "full/x.txt": "x" });
    mkdirSync(join(dir, "empty1"));
    mkdirSync(join(dir, "empty3"));
    const run = runner(dir).del({ path: "empty1" }, { path: "full" }, { path: "empty3" });
    await expect(run).rejects.toThrow("operation 2 of 3 (full): folder 'full' is not empty; set force: true to delete it with its contents; operation 1 had completed");
    expect(tree(dir)).toEqual(["empty3/", "full/", "full/x.txt"]);
  });

  test("each element has its own force", async () => {
    const dir = folder({ "a/1": "", "b/2": "" });
    mkdirSync(join(dir, "c"));
    await runner(dir).del({ path: "a", force: true }, { path: "c" }, { path: "b", force: true });
    expect(tree(dir)).toEqual([]);
  });
});
