/** SetFileOwner on real files, run as root: owners and groups by name and id, read back with stat. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, lstatSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { modules } from "../../src/modules/index.ts";
import { immutable, link, put, scratch } from "../helpers/fs-tree.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";

const area = scratch("opentoe-set-file-owner-");
afterAll(() => area.remove());

const run = (input: WrittenInput<typeof modules.SetFileOwner>, cwd: string) => runModule(modules.SetFileOwner, input, moduleContext({ cwd }));
const ids = (path: string) => [statSync(path).uid, statSync(path).gid];
const linkIds = (path: string) => [lstatSync(path).uid, lstatSync(path).gid];

/** A root-owned file (tests run as root, so this is what a new file gets anyway — made explicit). */
function rootFile(folder: string, name = "a.txt"): string {
  const path = put(folder, name, "x");
  chownSync(path, 0, 0);
  return path;
}

beforeAll(() => {
  // The ids the tests expect, checked against this machine's account files (Debian).
  expect(process.getuid?.()).toBe(0);
  const passwd = readFileSync("/etc/passwd", "utf8");
  const group = readFileSync("/etc/group", "utf8");
  expect(passwd).toMatch(/^nobody:[^:]*:65534:65534:/m);
  expect(passwd).toMatch(/^daemon:[^:]*:1:1:/m);
  expect(group).toMatch(/^nogroup:[^:]*:65534:/m);
  expect(group).toMatch(/^bin:[^:]*:2:/m);
  expect(passwd).not.toMatch(/^[^:]*:[^:]*:12345:/m);
  expect(group).not.toMatch(/^[^:]*:[^:]*:(12345|12346):/m);
});

describe("owner and group", () => {
  test("owner by name; the group defaults to the owner's primary group", async () => {
    const cwd = area.folder();
    const file = rootFile(cwd);
    expect(await run([{ path: file, owner: "nobody" }], cwd)).toEqual({ outputs: {} });
    expect(ids(file)).toEqual([65534, 65534]);
  });
  test("the default group is the owner's own primary group (daemon → group 1)", async () => {
    const cwd = area.folder();
    const file = rootFile(cwd);
    await run([{ path: file, owner: "daemon" }], cwd);
    expect(ids(file)).toEqual([1, 1]);
  });
  test("owner by numeric id of an existing account takes that account's primary group", async () => {
    const cwd = area.folder();
    const file = rootFile(cwd);
    await run([{ path: file, owner: "65534" }], cwd);
    expect(ids(file)).toEqual([65534, 65534]);
  });
  test("a numeric owner with no account: owner set, group left as it was", async () => {
    const cwd = area.folder();
    const file = rootFile(cwd);
    chownSync(file, 0, 2);
    await run([{ path: file, owner: "12345" }], cwd);
    expect(ids(file)).toEqual([12345, 2]);
  });
  test("group by name", async () => {
    const cwd = area.folder();
    const file = rootFile(cwd);
    await run([{ path: file, owner: "root", group: "nogroup" }], cwd);
    expect(ids(file)).toEqual([0, 65534]);
  });
  test("group by numeric id, with or without a group of that id", async () => {
    const cwd = area.folder();
    const a = rootFile(cwd, "a");
    const b = rootFile(cwd, "b");
    await run([{ path: a, owner: "nobody", group: "2" }, { path: b, owner: "12345", group: "12346" }], cwd);
    expect(ids(a)).toEqual([65534, 2]);
    expect(ids(b)).toEqual([12345, 12346]);
  });
  test("group by name overrides the owner's primary group", async () => {
    const cwd = area.folder();
    const file = rootFile(cwd);
    await run([{ path: file, owner: "nobody", group: "bin" }], cwd);
    expect(ids(file)).toEqual([65534, 2]);
  });
  test("a relative path is taken from the run's working directory", async () => {
    const cwd = area.folder();
    const file = rootFile(cwd, "sub/rel.txt");
    await run([{ path: "sub/rel.txt", owner: "nobody" }], cwd);
    expect(ids(file)).toEqual([65534, 65534]);
  });
  test("the content and mode stay as they were", async () => {
    const cwd = area.folder();
    const file = put(cwd, "keep.txt", "keep me", 0o640);
    await run([{ path: file, owner: "nobody" }], cwd);
    expect(readFileSync(file, "utf8")).toBe("keep me");
    expect(statSync(file).mode & 0o7777).toBe(0o640);
  });
});

describe("symlinks", () => {
  test("a symlink: its target changes, the link itself does not", async () => {
    const cwd = area.folder();
    const target = rootFile(cwd, "target.txt");
    const lnk = link(cwd, "link.txt", "target.txt");
    await run([{ path: "link.txt", owner: "nobody", group: "bin" }], cwd);
    expect(ids(target)).toEqual([65534, 2]);
    expect(linkIds(lnk)).toEqual([0, 0]);
  });
  test("a link to nothing is a failure that says so", async () => {
    const cwd = area.folder();
    link(cwd, "dangling", "nowhere");
    await expect(run([{ path: "dangling", owner: "nobody" }], cwd)).rejects.toThrow("'dangling' is a symbolic link to something that does not exist");
  });
  test("a link to a folder counts as a folder", async () => {
    const cwd = area.folder();
    mkdirSync(join(cwd, "dir"));
    link(cwd, "to-dir", "dir");
    await expect(run([{ path: "to-dir", owner: "nobody" }], cwd)).rejects.toThrow("'to-dir' is a folder, not a file (SetFolderOwner changes folders)");
    expect(ids(join(cwd, "dir"))).toEqual([0, 0]);
  });
});

describe("failures", () => {
  test("a missing file", async () => {
    const cwd = area.folder();
    await expect(run([{ path: "missing.txt", owner: "nobody" }], cwd)).rejects.toThrow("'missing.txt' does not exist");
  });
  test("a folder is refused and left alone", async () => {
    const cwd = area.folder();
    mkdirSync(join(cwd, "dir"));
    await expect(run([{ path: "dir", owner: "nobody" }], cwd)).rejects.toThrow("'dir' is a folder, not a file (SetFolderOwner changes folders)");
    expect(ids(join(cwd, "dir"))).toEqual([0, 0]);
  });
  test("a path ending with a separator names a folder", async () => {
    const cwd = area.folder();
    rootFile(cwd, "a.txt");
    await expect(run([{ path: "a.txt/", owner: "nobody" }], cwd)).rejects.toThrow("'a.txt/' ends with a path separator, so it names a folder, not a file");
    expect(ids(join(cwd, "a.txt"))).toEqual([0, 0]);
  });
  test("an unknown user is named, and nothing changes", async () => {
    const cwd = area.folder();
    const file = rootFile(cwd);
    await expect(run([{ path: file, owner: "no-such-user-xyz" }], cwd)).rejects.toThrow("unknown user 'no-such-user-xyz'");
    expect(ids(file)).toEqual([0, 0]);
  });
  test("an unknown group is named, and nothing changes", async () => {
    const cwd = area.folder();
    const file = rootFile(cwd);
    await expect(run([{ path: file, owner: "nobody", group: "no-such-group-xyz" }], cwd)).rejects.toThrow("unknown group 'no-such-group-xyz'");
    expect(ids(file)).toEqual([0, 0]);
  });
  test("an id beyond what chown takes is refused (4294967295 would mean 'unchanged')", async () => {
    const cwd = area.folder();
    const file = rootFile(cwd);
    await expect(run([{ path: file, owner: "4294967295" }], cwd)).rejects.toThrow("user id '4294967295' is out of range");
    await expect(run([{ path: file, owner: "0", group: "99999999999" }], cwd)).rejects.toThrow("group id '99999999999' is out of range");
    expect(ids(file)).toEqual([0, 0]);
  });
  test("a file the system will not change (immutable) is a permission failure", async () => {
    const cwd = area.folder();
    const file = rootFile(cwd, "locked.txt");
    const undo = immutable(file);
    if (undo === undefined) return void console.warn("chattr +i unavailable here: permission failure not tested");
    try {
      await expect(run([{ path: "locked.txt", owner: "nobody" }], cwd)).rejects.toThrow("operation not permitted on 'locked.txt'");
    } finally {
      undo();
    }
    expect(ids(file)).toEqual([0, 0]);
  });
});

describe("lists", () => {
  test("every element runs in order", async () => {
    const cwd = area.folder();
    const a = rootFile(cwd, "a");
    const b = rootFile(cwd, "b");
    await run([{ path: "a", owner: "nobody" }, { path: "b", owner: "daemon", group: "nogroup" }], cwd);
    expect(ids(a)).toEqual([65534, 65534]);
    expect(ids(b)).toEqual([1, 65534]);
  });
  test("a failing middle element stops the list, names operation 2 of 3 and says operation 1 had completed", async () => {
    const cwd = area.folder();
    const a = rootFile(cwd, "a");
    const c = rootFile(cwd, "c");
    const failure = run([{ path: "a", owner: "nobody" }, { path: "b", owner: "nobody" }, { path: "c", owner: "nobody" }], cwd);
    await expect(failure).rejects.toThrow("operation 2 of 3 (b): 'b' does not exist; operation 1 had completed");
    expect(ids(a)).toEqual([65534, 65534]);
    expect(ids(c)).toEqual([0, 0]);
  });
  test("an unknown user in the middle element: the same wording", async () => {
    const cwd = area.folder();
    const [a, b, c] = ["a", "b", "c"].map((name) => rootFile(cwd, name));
    const failure = run([{ path: "a", owner: "nobody" }, { path: "b", owner: "ghost" }, { path: "c", owner: "nobody" }], cwd);
    await expect(failure).rejects.toThrow("operation 2 of 3 (b): unknown user 'ghost'; operation 1 had completed");
    expect([ids(a!), ids(b!), ids(c!)]).toEqual([[65534, 65534], [0, 0], [0, 0]]);
  });
});
