/** CreateSymlink on real temporary folders: targets as written, existence checks, force, lists. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { modules } from "../../src/modules/index.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";

const root = mkdtempSync(join(tmpdir(), "opentoe-create-symlink-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
/** A fresh folder per test, used as the run's working directory, with `data/file.txt` in it. */
function folder(): string {
  const dir = join(root, `t${++counter}`);
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(join(dir, "data", "file.txt"), "payload");
  return dir;
}
const link = (dir: string, ...items: WrittenInput<typeof modules.CreateSymlink>) => runModule(modules.CreateSymlink, items, moduleContext({ cwd: dir }));
const isLink = (path: string) => lstatSync(path).isSymbolicLink();

describe("CreateSymlink creates", () => {
  test("a link at an absolute path to an absolute target", async () => {
    const dir = folder();
    expect(await link(folder(), { path: join(dir, "abs-link"), target: join(dir, "data", "file.txt") })).toEqual({ outputs: {} });
    expect(isLink(join(dir, "abs-link"))).toBe(true);
    expect(readlinkSync(join(dir, "abs-link"))).toBe(join(dir, "data", "file.txt"));
    expect(readFileSync(join(dir, "abs-link"), "utf8")).toBe("payload");
  });

  test("a relative path is taken from the working directory; a relative target is stored as written and read from the link's folder", async () => {
    const dir = folder();
    mkdirSync(join(dir, "links"));
    await link(dir, { path: "links/rel", target: "../data/file.txt" });
    expect(readlinkSync(join(dir, "links", "rel"))).toBe("../data/file.txt");
    expect(readFileSync(join(dir, "links", "rel"), "utf8")).toBe("payload");
  });

  test("a link to a folder", async () => {
    const dir = folder();
    await link(dir, { path: "folder-link", target: "data" });
    expect(readlinkSync(join(dir, "folder-link"))).toBe("data");
    expect(readdirSync(join(dir, "folder-link"))).toEqual(["file.txt"]);
  });

  test("missing parent folders are created, and a relative target may climb out of them", async () => {
    const dir = folder();
    await link(dir, { path: "new/deep/link", target: "../../data/file.txt" });
    expect(readlinkSync(join(dir, "new", "deep", "link"))).toBe("../../data/file.txt");
    expect(readFileSync(join(dir, "new", "deep", "link"), "utf8")).toBe("payload");
  });

  test("a target inside folders still to be created does not exist; one of those folders themselves will", async () => {
    const dir = folder();
    await expect(link(dir, { path: "n1/n2/link", target: "sibling" })).rejects.toThrow("target 'sibling' does not exist");
    expect(existsSync(join(dir, "n1"))).toBe(false);
    await link(dir, { path: "n1/n2/up", target: ".." }, { path: "n1/n2/here", target: "." });
    expect(readdirSync(join(dir, "n1", "n2", "up"))).toEqual(["n2"]);
    expect(readdirSync(join(dir, "n1", "n2", "here")).sort()).toEqual(["here", "up"]);
  });

  test("the target is checked the way the system will follow it: `..` after a symlinked folder goes to its real parent", async () => {
    const dir = folder();
    mkdirSync(join(dir, "real", "x", "y"), { recursive: true });
    mkdirSync(join(dir, "real", "x", "z"));
    symlinkSync(join(dir, "real", "x", "y"), join(dir, "via"));
    // Read as text, via/../z would be <dir>/z, which does not exist; the kernel reaches real/x/z.
    await link(dir, { path: "via/one", target: "../z" }, { path: "via/new/two", target: "../../z" });
    expect(readlinkSync(join(dir, "real", "x", "y", "one"))).toBe("../z");
    expect(readlinkSync(join(dir, "real", "x", "y", "new", "two"))).toBe("../../z");
    expect(lstatSync(join(dir, "real", "x", "y", "new", "two")).isSymbolicLink()).toBe(true);
    expect(readdirSync(join(dir, "real", "x", "y", "new", "two"))).toEqual([]);
  });

  test("a trailing separator on the path names the link without it", async () => {
    const dir = folder();
    await link(dir, { path: "slash/", target: "data" });
    expect(isLink(join(dir, "slash"))).toBe(true);
  });

  test("force on a path where nothing exists simply creates the link", async () => {
    const dir = folder();
    await link(dir, { path: "forced", target: "data/file.txt", force: true });
    expect(readlinkSync(join(dir, "forced"))).toBe("data/file.txt");
  });
});

describe("CreateSymlink targets that do not exist", () => {
  test("a missing absolute target is a failure and creates no parent folders", async () => {
    const dir = folder();
    const missing = join(dir, "missing.txt");
    await expect(link(dir, { path: "p/q/link", target: missing })).rejects.toThrow(`target '${missing}' does not exist`);
    expect(readdirSync(dir)).toEqual(["data"]);
  });

  test("a relative target is looked for from the link's folder, not from the working directory", async () => {
    const dir = folder();
    mkdirSync(join(dir, "sub"));
    // data/file.txt exists from the working directory, but sub/data/file.txt does not.
    await expect(link(dir, { path: "sub/link", target: "data/file.txt" })).rejects.toThrow(`target 'data/file.txt' does not exist (looked for from '${join(dir, "sub")}')`);
    expect(existsSync(join(dir, "sub", "link"))).toBe(false);
    expect(() => lstatSync(join(dir, "sub", "link"))).toThrow();
  });

  test("a target that is a dangling link does not exist", async () => {
    const dir = folder();
    symlinkSync(join(dir, "gone"), join(dir, "dangling"));
    await expect(link(dir, { path: "link", target: "dangling" })).rejects.toThrow("target 'dangling' does not exist");
  });

  test("a target under a file does not exist", async () => {
    const dir = folder();
    await expect(link(dir, { path: "link", target: "data/file.txt/inner" })).rejects.toThrow("target 'data/file.txt/inner' does not exist");
  });

  test("a link pointing at itself is refused as a missing target", async () => {
    const dir = folder();
    await expect(link(dir, { path: "self", target: "self" })).rejects.toThrow("target 'self' does not exist");
    expect(existsSync(join(dir, "self"))).toBe(false);
  });
});

describe("CreateSymlink over something that exists", () => {
  test("a regular file at the path is never replaced, even with force", async () => {
    const dir = folder();
    writeFileSync(join(dir, "plain"), "mine");
    for (const force of [false, true]) {
      await expect(link(dir, { path: "plain", target: "data", force })).rejects.toThrow(
        "'plain' already exists and is a file, not a symbolic link; CreateSymlink replaces only symbolic links, even with force",
      );
    }
    expect(isLink(join(dir, "plain"))).toBe(false);
    expect(readFileSync(join(dir, "plain"), "utf8")).toBe("mine");
  });

  test("a folder at the path is never replaced, even with force, and keeps its contents", async () => {
    const dir = folder();
    for (const force of [false, true]) {
      await expect(link(dir, { path: "data", target: "/", force })).rejects.toThrow("'data' already exists and is a folder, not a symbolic link");
    }
    expect(readdirSync(join(dir, "data"))).toEqual(["file.txt"]);
  });

  test("an existing symlink without force is a failure naming where it points — even when it already points at the target", async () => {
    const dir = folder();
    symlinkSync("data/file.txt", join(dir, "current"));
    await expect(link(dir, { path: "current", target: "data" })).rejects.toThrow("'current' is already a symbolic link (to 'data/file.txt'); set force: true to replace it");
    await expect(link(dir, { path: "current", target: "data/file.txt", force: false })).rejects.toThrow("is already a symbolic link");
    expect(readlinkSync(join(dir, "current"))).toBe("data/file.txt");
  });

  test("force replaces an existing symlink atomically: a new link renamed over it, no temporary left", async () => {
    const dir = folder();
    symlinkSync("data/file.txt", join(dir, "current"));
    const before = lstatSync(join(dir, "current")).ino;
    await link(dir, { path: "current", target: "data", force: true });
    expect(readlinkSync(join(dir, "current"))).toBe("data");
    expect(lstatSync(join(dir, "current")).ino).not.toBe(before);
    expect(readdirSync(dir).sort()).toEqual(["current", "data"]);
    // The old target is untouched.
    expect(readFileSync(join(dir, "data", "file.txt"), "utf8")).toBe("payload");
  });

  test("force replaces a symlink to a folder (the link, not the folder's contents) and a dangling symlink", async () => {
    const dir = folder();
    mkdirSync(join(dir, "other"));
    writeFileSync(join(dir, "other", "o.txt"), "o");
    symlinkSync("other", join(dir, "to-folder"));
    symlinkSync("nowhere", join(dir, "dangling"));
    await link(dir, { path: "to-folder", target: "data", force: true }, { path: "dangling", target: "data/file.txt", force: true });
    expect(readlinkSync(join(dir, "to-folder"))).toBe("data");
    expect(readdirSync(join(dir, "other"))).toEqual(["o.txt"]);
    expect(readlinkSync(join(dir, "dangling"))).toBe("data/file.txt");
  });
});

describe("CreateSymlink paths refused", () => {
  test("an empty path, and the root folder, with the exact messages", async () => {
    const dir = folder();
    await expect(link(dir, { path: "", target: "data" })).rejects.toThrow("the path is empty");
    await expect(link(dir, { path: "/", target: "data", force: true })).rejects.toThrow("refusing to operate on the root folder '/'");
  });

  test("a file in place of a parent folder", async () => {
    const dir = folder();
    await expect(link(dir, { path: "data/file.txt/link", target: join(dir, "data") })).rejects.toThrow("a part of 'data/file.txt/link' is a file, not a folder");
    await expect(link(dir, { path: "data/file.txt/deeper/link", target: join(dir, "data") })).rejects.toThrow("a part of 'data/file.txt/deeper/link' is a file, not a folder");
    expect(readFileSync(join(dir, "data", "file.txt"), "utf8")).toBe("payload");
  });
});

describe("CreateSymlink lists", () => {
  test("a failing middle element stops the list, names its index and path, and says what was done", async () => {
    const dir = folder();
    const run = link(dir, { path: "one", target: "data" }, { path: "two", target: "missing" }, { path: "three", target: "data" });
    await expect(run).rejects.toThrow("operation 2 of 3 (two): target 'missing' does not exist");
    await expect(run).rejects.toThrow("; operation 1 had completed");
    expect(isLink(join(dir, "one"))).toBe(true);
    expect(existsSync(join(dir, "two"))).toBe(false);
    expect(existsSync(join(dir, "three"))).toBe(false);
  });
});
