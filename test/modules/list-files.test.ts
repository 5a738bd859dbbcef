/** ListFiles on real temporary folders: patterns, recursion, symlinks (loops), output, lists. */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { modules } from "../../src/modules/index.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";

const root = mkdtempSync(join(tmpdir(), "opentoe-list-files-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
/** A fresh folder per test, used as the run's working directory, with the given files in it. */
function folder(files: string[] = []): string {
  const dir = join(root, `t${++counter}`);
  mkdirSync(dir);
  for (const path of files) {
    if (path.endsWith("/")) mkdirSync(join(dir, path), { recursive: true });
    else {
      mkdirSync(join(dir, path, ".."), { recursive: true });
      writeFileSync(join(dir, path), path);
    }
  }
  return dir;
}
function runner(cwd: string) {
  const warnings: string[] = [];
  const list = async (...items: WrittenInput<typeof modules.ListFiles>) => {
    const result = await runModule(modules.ListFiles, items, moduleContext({ cwd, log: { debug: () => {}, info: () => {}, warn: (m) => warnings.push(m) } }));
    return result.outputs.files;
  };
  return { list, warnings };
}
const list = (cwd: string, ...items: WrittenInput<typeof modules.ListFiles>) => runner(cwd).list(...items);
/** The expected output: absolute paths under `dir`, joined with commas. */
const under = (dir: string, ...paths: string[]) => paths.map((p) => join(dir, p)).join(",");

const SAMPLE = ["b.log", "a.log", ".hidden.log", "notes.txt", "az.log", "abcz.log", "az.log.1", "sub/c.log", "sub/deeper/d.log", "sub/deeper/e.txt", "empty/"];

describe("ListFiles in one folder", () => {
  test("every file, hidden ones too, no folders, as absolute paths sorted and joined with commas", async () => {
    const dir = folder(SAMPLE);
    expect(await list(dir, { path: dir })).toBe(under(dir, ".hidden.log", "a.log", "abcz.log", "az.log", "az.log.1", "b.log", "notes.txt"));
  });

  test("a relative path is made absolute from the working directory; `.`, `./x` and a trailing separator work", async () => {
    const dir = folder(["in/one.txt", "in/two.txt"]);
    const expected = under(dir, "in/one.txt", "in/two.txt");
    expect(await list(dir, { path: "in" })).toBe(expected);
    expect(await list(dir, { path: "in/" })).toBe(expected);
    expect(await list(dir, { path: "./in" })).toBe(expected);
    expect(await list(join(dir, "in"), { path: "." })).toBe(expected);
    expect(await list(join(dir, "in"), { path: "../in" })).toBe(expected);
  });

  test("sorting is by code unit, not by locale: upper case before lower case before accents", async () => {
    const dir = folder(["é.txt", "a.txt", "B.txt", "_.txt", "10.txt", "9.txt"]);
    expect(await list(dir, { path: "." })).toBe(under(dir, "10.txt", "9.txt", "B.txt", "_.txt", "a.txt", "é.txt"));
  });

  test("an empty folder, or no match, gives an empty string", async () => {
    const dir = folder(["empty/", "x.txt"]);
    expect(await list(dir, { path: "empty" })).toBe("");
    expect(await list(dir, { path: ".", fileNamePattern: "*.log" })).toBe("");
  });
});

describe("ListFiles fileNamePattern", () => {
  const cases: [string, string[]][] = [
    ["*.log", [".hidden.log", "a.log", "abcz.log", "az.log", "b.log"]],
    ["a*z.log", ["abcz.log", "az.log"]],
    ["*", [".hidden.log", "a.log", "abcz.log", "az.log", "az.log.1", "b.log", "notes.txt"]],
    [".*", [".hidden.log"]],
    ["notes.txt", ["notes.txt"]],
    ["NOTES.TXT", []],
    ["*.log*", [".hidden.log", "a.log", "abcz.log", "az.log", "az.log.1", "b.log"]],
    ["**z*", ["abcz.log", "az.log", "az.log.1"]],
    ["sub", []],
  ];
  test.each(cases)("%p", async (pattern, names) => {
    const dir = folder(SAMPLE);
    expect(await list(dir, { path: ".", fileNamePattern: pattern })).toBe(under(dir, ...names));
  });

  test("no pattern and an empty pattern both mean all files", async () => {
    const dir = folder(["a", "b"]);
    expect(await list(dir, { path: "." })).toBe(under(dir, "a", "b"));
    expect(await list(dir, { path: ".", fileNamePattern: "" })).toBe(under(dir, "a", "b"));
  });

  test("regular-expression characters are literal", async () => {
    const dir = folder(["report(1).txt", "report1.txt", "a+b.txt", "aab.txt", "x.[y]", "x.y"]);
    expect(await list(dir, { path: ".", fileNamePattern: "report(1).*" })).toBe(under(dir, "report(1).txt"));
    expect(await list(dir, { path: ".", fileNamePattern: "a+b*" })).toBe(under(dir, "a+b.txt"));
    expect(await list(dir, { path: ".", fileNamePattern: "*.[y]" })).toBe(under(dir, "x.[y]"));
  });

  test("the pattern applies to names; one with a path separator is an error", async () => {
    const dir = folder(SAMPLE);
    await expect(list(dir, { path: ".", fileNamePattern: "sub/*.log", recursive: true })).rejects.toThrow(
      "fileNamePattern 'sub/*.log' must be a file name, without path separators",
    );
  });
});

describe("ListFiles recursive", () => {
  test("files in every sub-folder, folders themselves never listed, sorted over the whole tree", async () => {
    const dir = folder(SAMPLE);
    expect(await list(dir, { path: ".", recursive: true })).toBe(
      under(dir, ".hidden.log", "a.log", "abcz.log", "az.log", "az.log.1", "b.log", "notes.txt", "sub/c.log", "sub/deeper/d.log", "sub/deeper/e.txt"),
    );
  });

  test("the pattern matches names at every depth", async () => {
    const dir = folder(SAMPLE);
    expect(await list(dir, { path: ".", recursive: true, fileNamePattern: "*.log" })).toBe(
      under(dir, ".hidden.log", "a.log", "abcz.log", "az.log", "b.log", "sub/c.log", "sub/deeper/d.log"),
    );
    expect(await list(dir, { path: "sub", recursive: true, fileNamePattern: "*.txt" })).toBe(under(dir, "sub/deeper/e.txt"));
  });

  test("recursive false (the default) stays in the folder", async () => {
    const dir = folder(SAMPLE);
    expect(await list(dir, { path: "sub", recursive: false })).toBe(under(dir, "sub/c.log"));
    expect(await list(dir, { path: "sub" })).toBe(under(dir, "sub/c.log"));
  });

  test("a deep tree", async () => {
    const deep = Array.from({ length: 60 }, (_, i) => `d${i}`).join("/");
    const dir = folder([`${deep}/bottom.txt`, "top.txt"]);
    expect(await list(dir, { path: ".", recursive: true })).toBe(under(dir, `${deep}/bottom.txt`, "top.txt"));
  });
});

describe("ListFiles and symbolic links", () => {
  test("a link to a file is listed under its own path; links to folders, dangling links and FIFOs are not", async () => {
    const dir = folder(["in/real.txt", "outside/o.txt"]);
    symlinkSync("real.txt", join(dir, "in", "file-link"));
    symlinkSync("../outside", join(dir, "in", "folder-link"));
    symlinkSync("nowhere", join(dir, "in", "dangling"));
    expect(spawnSync("mkfifo", [join(dir, "in", "pipe")]).status).toBe(0);
    const expected = under(dir, "in/file-link", "in/real.txt");
    expect(await list(dir, { path: "in" })).toBe(expected);
    expect(await list(dir, { path: "in", recursive: true })).toBe(expected);
  });

  test("recursive never enters a linked folder: a link loop does not hang, and nothing outside the tree is listed", async () => {
    const dir = folder(["tree/a.txt", "tree/sub/b.txt", "outside/secret.txt"]);
    symlinkSync(".", join(dir, "tree", "self"));
    symlinkSync("..", join(dir, "tree", "sub", "parent"));
    symlinkSync(join(dir, "outside"), join(dir, "tree", "sub", "out"));
    symlinkSync("/", join(dir, "tree", "root"));
    // Two links pointing at each other: stat fails with ELOOP; they are not files.
    symlinkSync("ping", join(dir, "tree", "pong"));
    symlinkSync("pong", join(dir, "tree", "ping"));
    const started = performance.now();
    expect(await list(dir, { path: "tree", recursive: true })).toBe(under(dir, "tree/a.txt", "tree/sub/b.txt"));
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("the folder given may itself be a link; the paths start with the link as written, made absolute", async () => {
    const dir = folder(["real/x.txt", "real/sub/y.txt"]);
    symlinkSync("real", join(dir, "alias"));
    expect(await list(dir, { path: "alias", recursive: true })).toBe(under(dir, "alias/sub/y.txt", "alias/x.txt"));
  });
});

describe("ListFiles failures", () => {
  test("a missing folder", async () => {
    const dir = folder();
    await expect(list(dir, { path: "missing" })).rejects.toThrow("'missing' does not exist");
  });

  test("a file at the path, and a file in place of a parent", async () => {
    const dir = folder(["f.txt"]);
    await expect(list(dir, { path: "f.txt" })).rejects.toThrow("'f.txt' is a file, not a folder");
    await expect(list(dir, { path: "f.txt/sub" })).rejects.toThrow("a part of 'f.txt/sub' is a file, not a folder");
  });

  test("a link to a file, and a dangling link, are not folders", async () => {
    const dir = folder(["f.txt"]);
    symlinkSync("f.txt", join(dir, "to-file"));
    symlinkSync("nowhere", join(dir, "dangling"));
    await expect(list(dir, { path: "to-file" })).rejects.toThrow("'to-file' is a file, not a folder");
    await expect(list(dir, { path: "dangling" })).rejects.toThrow("'dangling' does not exist");
  });

  test("an empty path", async () => {
    await expect(list(folder(), { path: "" })).rejects.toThrow("the path is empty");
  });
});

describe("ListFiles lists and output", () => {
  test("several elements: each sorted, joined in the order written; an empty result adds nothing; repeats stay", async () => {
    const dir = folder(["z/1.txt", "a/2.txt", "a/3.log", "empty/"]);
    const files = await list(dir, { path: "z" }, { path: "empty" }, { path: "a", fileNamePattern: "*.txt" }, { path: "z" });
    expect(files).toBe([join(dir, "z/1.txt"), join(dir, "a/2.txt"), join(dir, "z/1.txt")].join(","));
  });

  test("a failing middle element fails the step, names its index and path, and says what was done", async () => {
    const dir = folder(["a/1.txt"]);
    const run = list(dir, { path: "a" }, { path: "missing" }, { path: "a" });
    await expect(run).rejects.toThrow("operation 2 of 3 (missing): 'missing' does not exist; operation 1 had completed");
  });

  test("a path with a comma is listed as it is, with a warning that the output cannot be split back", async () => {
    const dir = folder(["c/a,b.txt", "c/plain.txt"]);
    const { list: run, warnings } = runner(dir);
    expect(await run({ path: "c" })).toBe(under(dir, "c/a,b.txt", "c/plain.txt"));
    expect(warnings).toEqual([`1 listed path(s) contain a comma, which also separates the paths in 'files': ${join(dir, "c/a,b.txt")}`]);
  });
});
