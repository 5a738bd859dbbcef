/** CreateFolder on real temporary folders: parents, existing folders, owners, exact modes, lists. */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { modules } from "../../src/modules/index.ts";
import type { PlatformName } from "../../src/model/platform.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";

const root = mkdtempSync(join(tmpdir(), "opentoe-create-folder-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
/** A fresh folder per test, used as the run's working directory. */
function folder(): string {
  const dir = join(root, `t${++counter}`);
  mkdirSync(dir);
  return dir;
}
const create = (dir: string, ...items: WrittenInput<typeof modules.CreateFolder>) => runModule(modules.CreateFolder, items, moduleContext({ cwd: dir }));
const on = (platform: PlatformName, dir: string, ...items: WrittenInput<typeof modules.CreateFolder>) =>
  runModule(modules.CreateFolder, items, moduleContext({ cwd: dir, platform }));
const meta = (path: string) => {
  const s = statSync(path);
  return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
};
const umask = process.umask();
const DEFAULT_MODE = 0o777 & ~umask;

describe("CreateFolder creates", () => {
  test("the folder and its missing parents, relative to the working directory, with 0777 less the umask", async () => {
    const dir = folder();
    expect(await create(dir, { path: "a/b/c" })).toEqual({ outputs: {} });
    for (const path of ["a", "a/b", "a/b/c"]) {
      expect(statSync(join(dir, path)).isDirectory()).toBe(true);
      expect(meta(join(dir, path))).toEqual({ mode: DEFAULT_MODE, uid: 0, gid: 0 });
    }
    expect(readdirSync(join(dir, "a/b/c"))).toEqual([]);
  });

  test("an absolute path is used as given", async () => {
    const dir = folder();
    await create(folder(), { path: join(dir, "abs") });
    expect(statSync(join(dir, "abs")).isDirectory()).toBe(true);
  });

  test("a trailing separator and `..` segments are accepted", async () => {
    const dir = folder();
    await create(dir, { path: "x/../y/" });
    expect(readdirSync(dir)).toEqual(["y"]);
  });

  test("permissions are exact, not masked by the umask, special bits included", async () => {
    const dir = folder();
    const old = process.umask(0o077);
    try {
      await create(dir, { path: "open", permissions: "0777" }, { path: "three", permissions: "751" }, { path: "sticky", permissions: "1777" }, { path: "setgid", permissions: "2750" });
    } finally {
      process.umask(old);
    }
    expect(meta(join(dir, "open")).mode).toBe(0o777);
    expect(meta(join(dir, "three")).mode).toBe(0o751);
    expect(meta(join(dir, "sticky")).mode).toBe(0o1777);
    expect(meta(join(dir, "setgid")).mode).toBe(0o2750);
  });

  test("owner and permissions go to the named folder only; parents created on the way get the defaults", async () => {
    const dir = folder();
    await create(dir, { path: "p/q/leaf", owner: "nobody", permissions: "0700" });
    expect(meta(join(dir, "p/q/leaf"))).toEqual({ mode: 0o700, uid: 65534, gid: 65534 });
    expect(meta(join(dir, "p"))).toEqual({ mode: DEFAULT_MODE, uid: 0, gid: 0 });
    expect(meta(join(dir, "p/q"))).toEqual({ mode: DEFAULT_MODE, uid: 0, gid: 0 });
  });

  test("owner by name takes the user's primary group; owner and group by numeric id; group alone keeps the owner", async () => {
    const dir = folder();
    await create(dir, { path: "byname", owner: "nobody" }, { path: "byid", owner: "12345", group: "54321" }, { path: "grouponly", group: "nogroup" }, { path: "mixed", owner: "65534", group: "0" });
    expect(meta(join(dir, "byname"))).toMatchObject({ uid: 65534, gid: 65534 });
    expect(meta(join(dir, "byid"))).toMatchObject({ uid: 12345, gid: 54321 });
    expect(meta(join(dir, "grouponly"))).toMatchObject({ uid: 0, gid: 65534 });
    expect(meta(join(dir, "mixed"))).toMatchObject({ uid: 65534, gid: 0 });
  });

  test("a setgid mode and an owner change together: both end up set", async () => {
    const dir = folder();
    await create(dir, { path: "shared", owner: "nobody", group: "nogroup", permissions: "2775" });
    expect(meta(join(dir, "shared"))).toEqual({ mode: 0o2775, uid: 65534, gid: 65534 });
  });
});

describe("CreateFolder on an existing folder", () => {
  function existing(dir: string): string {
    const path = join(dir, "keep");
    mkdirSync(join(path, "sub"), { recursive: true });
    writeFileSync(join(path, "file.txt"), "contents");
    writeFileSync(join(path, "sub", "deep.txt"), "deep");
    chmodSync(path, 0o705);
    return path;
  }
  const contentsKept = (path: string) => {
    expect(readdirSync(path).sort()).toEqual(["file.txt", "sub"]);
    expect(readFileSync(join(path, "file.txt"), "utf8")).toBe("contents");
    expect(readFileSync(join(path, "sub", "deep.txt"), "utf8")).toBe("deep");
  };

  test("overwrite defaults to true: success, contents and mode kept when nothing is asked", async () => {
    const dir = folder();
    const path = existing(dir);
    await create(dir, { path: "keep" });
    contentsKept(path);
    expect(meta(path)).toEqual({ mode: 0o705, uid: 0, gid: 0 });
  });

  test("overwrite true applies owner, group and permissions to the folder, not to its contents", async () => {
    const dir = folder();
    const path = existing(dir);
    await create(dir, { path: "keep", overwrite: true, owner: "nobody", group: "54321", permissions: "0750" });
    contentsKept(path);
    expect(meta(path)).toEqual({ mode: 0o750, uid: 65534, gid: 54321 });
    expect(meta(join(path, "file.txt"))).toMatchObject({ uid: 0, gid: 0 });
    expect(meta(join(path, "sub"))).toMatchObject({ uid: 0, gid: 0 });
  });

  test("overwrite false is a failure that changes nothing", async () => {
    const dir = folder();
    const path = existing(dir);
    await expect(create(dir, { path: "keep", overwrite: false, owner: "nobody", permissions: "0700" })).rejects.toThrow("'keep' already exists and overwrite is false");
    contentsKept(path);
    expect(meta(path)).toEqual({ mode: 0o705, uid: 0, gid: 0 });
  });

  test("a symlink to a folder counts as the folder; its target gets the permissions, the link stays", async () => {
    const dir = folder();
    const path = existing(dir);
    symlinkSync(path, join(dir, "link"));
    await expect(create(dir, { path: "link", overwrite: false })).rejects.toThrow("'link' already exists and overwrite is false");
    await create(dir, { path: "link", permissions: "0711" });
    expect(lstatSync(join(dir, "link")).isSymbolicLink()).toBe(true);
    expect(meta(path).mode).toBe(0o711);
    contentsKept(path);
  });

  test("the root folder exists: accepted when nothing would change it, refused with owner or permissions, failed with overwrite false", async () => {
    const dir = folder();
    const before = meta("/");
    await create(dir, { path: "/" });
    await expect(create(dir, { path: "/", permissions: "0700" })).rejects.toThrow("refusing to operate on the root folder '/'");
    await expect(create(dir, { path: "/", owner: "nobody" })).rejects.toThrow("refusing to operate on the root folder '/'");
    await expect(create(dir, { path: "/", overwrite: false })).rejects.toThrow("'/' already exists and overwrite is false");
    expect(meta("/")).toEqual(before);
  });
});

describe("CreateFolder failures", () => {
  test("a file at the path is a failure whatever overwrite says, and the file is untouched", async () => {
    const dir = folder();
    writeFileSync(join(dir, "taken"), "file");
    for (const overwrite of [true, false]) {
      await expect(create(dir, { path: "taken", overwrite })).rejects.toThrow("'taken' already exists and is a file, not a folder");
    }
    expect(readFileSync(join(dir, "taken"), "utf8")).toBe("file");
  });

  test("a file in place of a parent is a failure", async () => {
    const dir = folder();
    writeFileSync(join(dir, "f"), "file");
    await expect(create(dir, { path: "f/sub/deeper" })).rejects.toThrow("a part of 'f/sub/deeper' is a file, not a folder");
    await expect(create(dir, { path: "f/sub" })).rejects.toThrow("a part of 'f/sub' is a file, not a folder");
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("file");
  });

  test("a dangling symlink at the path is a failure, and nothing is created where it points", async () => {
    const dir = folder();
    symlinkSync(join(dir, "nowhere"), join(dir, "dangling"));
    await expect(create(dir, { path: "dangling" })).rejects.toThrow("'dangling' is a symbolic link to something that does not exist");
    expect(existsSync(join(dir, "nowhere"))).toBe(false);
  });

  test("an unknown user or group, or bad permissions, fail before anything is created", async () => {
    const dir = folder();
    await expect(create(dir, { path: "u/x", owner: "no-such-user-opentoe" })).rejects.toThrow("unknown user 'no-such-user-opentoe'");
    await expect(create(dir, { path: "g/x", group: "no-such-group-opentoe" })).rejects.toThrow("unknown group 'no-such-group-opentoe'");
    await expect(create(dir, { path: "m/x", permissions: "0999" })).rejects.toThrow("permissions '0999' are not octal digits such as 0755");
    expect(readdirSync(dir)).toEqual([]);
  });

  test("an empty path is refused", async () => {
    await expect(create(folder(), { path: "" })).rejects.toThrow("the path is empty");
    await expect(create(folder(), { path: "  " })).rejects.toThrow("the path is empty");
  });

  test("on Windows owner, group and permissions (refused by the validator) are not applied", async () => {
    const dir = folder();
    await on("windows", dir, { path: join(dir, "w"), owner: "nobody", permissions: "0700" });
    expect(meta(join(dir, "w"))).toEqual({ mode: DEFAULT_MODE, uid: 0, gid: 0 });
  });
});

describe("CreateFolder lists", () => {
  test("every element is created in order", async () => {
    const dir = folder();
    await create(dir, { path: "one" }, { path: "two/deep", permissions: "0700" }, { path: "one", overwrite: true });
    expect(readdirSync(dir).sort()).toEqual(["one", "two"]);
    expect(meta(join(dir, "two/deep")).mode).toBe(0o700);
  });

  test("a failing middle element stops the list, names its index and path, and says what was done", async () => {
    const dir = folder();
    writeFileSync(join(dir, "blocker"), "x");
    const run = create(dir, { path: "first" }, { path: "blocker/inside" }, { path: "third" });
    await expect(run).rejects.toThrow("operation 2 of 3 (blocker/inside): a part of 'blocker/inside' is a file, not a folder; operation 1 had completed");
    expect(existsSync(join(dir, "first"))).toBe(true);
    expect(existsSync(join(dir, "third"))).toBe(false);
  });
});
