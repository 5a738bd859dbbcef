/** DeleteFile on real temporary folders: one file, * patterns, missing paths, links, refusals, lists. */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { modules } from "../../src/modules/index.ts";
import type { PlatformName } from "../../src/model/platform.ts";
import { put, scratch } from "../helpers/fs-tree.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";

const temp = scratch("opentoe-delete-file-");
const root = temp.dir;
afterAll(temp.remove);
/** A fresh folder per test, used as the run's working directory, with the given files in it. */
function folder(files: Record<string, string> = {}): string {
  const dir = temp.folder();
  for (const [path, content] of Object.entries(files)) put(dir, path, content);
  return dir;
}
/** Runs DeleteFile; `logs` collects what it logged at info level. */
function runner(dir: string) {
  const logs: string[] = [];
  const del = (...items: WrittenInput<typeof modules.DeleteFile>) =>
    runModule(modules.DeleteFile, items, moduleContext({ cwd: dir, log: { debug: () => {}, info: (m) => logs.push(m), warn: () => {} } }));
  return { del, logs };
}
/** Every path under `dir`, folders with a trailing slash, sorted. */
function tree(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() && !e.isSymbolicLink() ? [`${prefix}${e.name}/`, ...tree(dir, `${prefix}${e.name}/`)] : [`${prefix}${e.name}`]))
    .sort();
}

describe("DeleteFile one file", () => {
  test("a relative path from the working directory; the log says what was deleted", async () => {
    const dir = folder({ "a.txt": "a", "b.txt": "b" });
    const { del, logs } = runner(dir);
    expect(await del({ path: "a.txt" })).toEqual({ outputs: {} });
    expect(tree(dir)).toEqual(["b.txt"]);
    expect(logs).toEqual(["deleted 'a.txt'"]);
  });

  test("an absolute path", async () => {
    const dir = folder({ "sub/x.bin": "x" });
    await runner(folder()).del({ path: join(dir, "sub", "x.bin") });
    expect(tree(dir)).toEqual(["sub/"]);
  });

  test("a missing file, a missing folder and a file standing in for a folder are success, and the log says nothing was deleted", async () => {
    const dir = folder({ "f": "keep" });
    const { del, logs } = runner(dir);
    await del({ path: "nope.txt" }, { path: "no/such/folder/x.txt" }, { path: "f/x" });
    expect(logs).toEqual([
      "'nope.txt' does not exist; nothing to delete",
      "'no/such/folder/x.txt' does not exist; nothing to delete",
      "'f/x' does not exist; nothing to delete",
    ]);
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("keep");
  });

  test("a folder at the path is a failure and stays with its contents", async () => {
    const dir = folder({ "sub/inside.txt": "in" });
    const { del } = runner(dir);
    await expect(del({ path: "sub" })).rejects.toThrow("'sub' is a folder, not a file (DeleteFolder deletes folders)");
    await expect(del({ path: "sub/" })).rejects.toThrow("'sub/' ends with a path separator, so it names a folder, not a file (DeleteFolder deletes folders)");
    expect(tree(dir)).toEqual(["sub/", "sub/inside.txt"]);
  });

  test("a symbolic link is deleted as a link; the file or folder it points to stays", async () => {
    const dir = folder({ "target.txt": "t", "folder/inside.txt": "in" });
    symlinkSync("target.txt", join(dir, "file-link"));
    symlinkSync("folder", join(dir, "folder-link"));
    symlinkSync("nowhere", join(dir, "dangling"));
    await runner(dir).del({ path: "file-link" }, { path: "folder-link" }, { path: "dangling" });
    expect(tree(dir)).toEqual(["folder/", "folder/inside.txt", "target.txt"]);
    expect(readFileSync(join(dir, "target.txt"), "utf8")).toBe("t");
  });

  test("a special file named exactly is deleted, as rm does", async () => {
    const dir = folder();
    expect(spawnSync("mkfifo", [join(dir, "pipe")]).status).toBe(0);
    await runner(dir).del({ path: "pipe" });
    expect(tree(dir)).toEqual([]);
  });

  test("an empty path and the root folder are refused with clear messages", async () => {
    const { del } = runner(folder());
    await expect(del({ path: "" })).rejects.toThrow("the path is empty");
    await expect(del({ path: " " })).rejects.toThrow("the path is empty");
    await expect(del({ path: "/" })).rejects.toThrow("refusing to operate on the root folder '/'");
    await expect(del({ path: "/.." })).rejects.toThrow("refusing to operate on the root folder '/..'");
    expect(existsSync("/etc")).toBe(true);
  });

  test("on Windows a drive root is refused", async () => {
    const dir = folder();
    const windows = (path: string) => modules.DeleteFile.execute([{ path }], moduleContext({ cwd: dir, platform: "windows" as PlatformName }));
    await expect(windows("C:\\")).rejects.toThrow("refusing to operate on the root folder 'C:\\'");
    await expect(windows("c:/")).rejects.toThrow("refusing to operate on the root folder 'c:/'");
  });
});

describe("DeleteFile * patterns", () => {
  const files = {
    "logs/a.log": "a",
    "logs/b.log": "b",
    "logs/.hidden.log": "h",
    "logs/.log": "dot",
    "logs/keep.txt": "k",
    "logs/log": "no extension",
    "logs/a.log.bak": "bak",
    "logs/dir.log/inside.log": "nested in a matching folder",
    "logs/nested/c.log": "nested",
  };

  test("every matching file in the folder — hidden ones too — and only there: folders and nested files stay", async () => {
    const dir = folder(files);
    const { del, logs } = runner(dir);
    await del({ path: "logs/*.log" });
    expect(tree(dir)).toEqual(["logs/", "logs/a.log.bak", "logs/dir.log/", "logs/dir.log/inside.log", "logs/keep.txt", "logs/log", "logs/nested/", "logs/nested/c.log"]);
    expect(logs).toEqual(["deleted 4 files matching 'logs/*.log': .hidden.log, .log, a.log, b.log"]);
  });

  test("`*` alone takes every file, hidden included, and no folder", async () => {
    const dir = folder(files);
    await runner(dir).del({ path: "logs/*" });
    expect(tree(dir)).toEqual(["logs/", "logs/dir.log/", "logs/dir.log/inside.log", "logs/nested/", "logs/nested/c.log"]);
  });

  test("a pattern in the middle: `a*z.log`", async () => {
    const dir = folder({ "az.log": "", "abcz.log": "", "a-z.log": "", "az.log.1": "", "baz.log": "", "AZ.log": "", "a.z.log": "", "az.txt": "" });
    await runner(dir).del({ path: "a*z.log" });
    expect(tree(dir)).toEqual(["AZ.log", "az.log.1", "az.txt", "baz.log"]);
  });

  test("a pattern without a folder works in the working directory; `./` is kept in the log", async () => {
    const dir = folder({ "x1.tmp": "", "x2.tmp": "", "y.tmp": "" });
    const { del, logs } = runner(dir);
    await del({ path: "x*" }, { path: "./*.tmp" });
    expect(tree(dir)).toEqual([]);
    expect(logs).toEqual(["deleted 2 files matching 'x*': x1.tmp, x2.tmp", "deleted 1 file matching './*.tmp': y.tmp"]);
  });

  test("an absolute pattern", async () => {
    const dir = folder({ "p/one.csv": "", "p/two.csv": "", "p/three.json": "" });
    await runner(folder()).del({ path: join(dir, "p", "*.csv") });
    expect(tree(dir)).toEqual(["p/", "p/three.json"]);
  });

  test("characters that mean something in regular expressions are literal", async () => {
    const dir = folder({ "report(1).txt": "", "report1.txt": "", "r+.[x]": "", "rr.[x]": "", "a$b^c.txt": "" });
    await runner(dir).del({ path: "report(1).*" }, { path: "r+.[*]" }, { path: "a$b^*" });
    expect(tree(dir)).toEqual(["report1.txt", "rr.[x]"]);
  });

  test("nothing matching, or no such folder, is success; the log says nothing matched and nothing changes", async () => {
    const dir = folder(files);
    const { del, logs } = runner(dir);
    await del({ path: "logs/*.tmp" }, { path: "missing/*.log" }, { path: "logs/keep.txt/*.x" }, { path: "logs/nested*" });
    expect(logs).toEqual([
      "no file matches 'logs/*.tmp'; nothing to delete",
      "no file matches 'missing/*.log'; nothing to delete",
      "no file matches 'logs/keep.txt/*.x'; nothing to delete",
      "no file matches 'logs/nested*'; nothing to delete",
    ]);
    expect(tree(join(dir, "logs")).length).toBe(11);
  });

  test("matching symbolic links are deleted as links; what they point to, outside the folder, stays", async () => {
    const dir = folder({ "outside/file.log": "out", "outside/sub/deep.log": "deep", "in/real.log": "r" });
    symlinkSync(join(dir, "outside", "file.log"), join(dir, "in", "file-link.log"));
    symlinkSync(join(dir, "outside", "sub"), join(dir, "in", "folder-link.log"));
    await runner(dir).del({ path: "in/*.log" });
    expect(tree(join(dir, "in"))).toEqual([]);
    expect(tree(join(dir, "outside"))).toEqual(["file.log", "sub/", "sub/deep.log"]);
  });

  test("special files (a FIFO) are not files matching a pattern and stay", async () => {
    const dir = folder({ "q.data": "" });
    expect(spawnSync("mkfifo", [join(dir, "p.data")]).status).toBe(0);
    await runner(dir).del({ path: "*.data" });
    expect(tree(dir)).toEqual(["p.data"]);
    expect(lstatSync(join(dir, "p.data")).isFIFO()).toBe(true);
  });

  test("a * in a folder segment is refused at validation and at run time", async () => {
    expect(modules.DeleteFile.check!({ path: "logs*/a.log" }, { platform: "linux" })).toEqual([
      { path: ["path"], message: "a * wildcard may only appear in the file name", needle: "*" },
    ]);
    expect(modules.DeleteFile.check!({ path: "logs/*.log" }, { platform: "linux" })).toEqual([]);
    expect(modules.DeleteFile.check!({ path: "a*\\b.log" }, { platform: "linux" })).toEqual([]);
    expect(modules.DeleteFile.check!({ path: "a*\\b.log" }, { platform: "windows" })).toHaveLength(1);
    const dir = folder({ "logs1/a.log": "" });
    await expect(runner(dir).del({ path: "logs*/a.log" })).rejects.toThrow("'logs*/a.log': a * wildcard may only appear in the file name");
    expect(tree(dir)).toEqual(["logs1/", "logs1/a.log"]);
  });

  const immutable = (() => {
    const probe = join(root, "chattr-probe");
    writeFileSync(probe, "");
    const ok = spawnSync("chattr", ["+i", probe]).status === 0;
    if (ok) spawnSync("chattr", ["-i", probe]);
    rmSync(probe);
    return ok;
  })();

  test.skipIf(!immutable)("a file that cannot be deleted stops the pattern, names the file and says how many were deleted", async () => {
    const dir = folder({ "l/1.log": "", "l/2.log": "", "l/3.log": "" });
    spawnSync("chattr", ["+i", join(dir, "l", "2.log")]);
    try {
      await expect(runner(dir).del({ path: "l/*.log" })).rejects.toThrow("operation not permitted on 'l/2.log'; 3 files matched 'l/*.log' and 1 of them had already been deleted");
      expect(tree(dir)).toEqual(["l/", "l/2.log", "l/3.log"]);
    } finally {
      spawnSync("chattr", ["-i", join(dir, "l", "2.log")]);
    }
  });
});

describe("DeleteFile lists", () => {
  test("a failing middle element stops the list, names its index and path, and says what was done", async () => {
    const dir = folder({ "a.txt": "", "sub/x": "", "c.txt": "" });
    const run = runner(dir).del({ path: "a.txt" }, { path: "sub" }, { path: "c.txt" });
    await expect(run).rejects.toThrow("operation 2 of 3 (sub): 'sub' is a folder, not a file (DeleteFolder deletes folders); operation 1 had completed");
    expect(tree(dir)).toEqual(["c.txt", "sub/", "sub/x"]);
  });

  test("files and patterns mix in one list", async () => {
    const dir = folder({ "one.txt": "", "two.log": "", "three.log": "", "four.md": "" });
    await runner(dir).del({ path: "one.txt" }, { path: "*.log" }, { path: "missing" });
    expect(tree(dir)).toEqual(["four.md"]);
  });
});
