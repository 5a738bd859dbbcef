/** CreateFile on real temporary folders: bytes, overwrite rules, parents, owners, modes, lists. */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, readlinkSync, lstatSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StepError } from "../../src/errors.ts";
import { ENCODINGS } from "../../src/modules/_inputs.ts";
import { modules } from "../../src/modules/index.ts";
import { scratch } from "../helpers/fs-tree.ts";
import { moduleContext, runModule, type WrittenInput, listedChoice } from "../helpers/module-context.ts";
import { meta, SAMPLE, SAMPLE_BYTES, SPELLINGS, tempFolder } from "../helpers/text-samples.ts";

const temp = scratch("opentoe-text-");
afterAll(temp.remove);
/** A fresh folder per test, used as the run\'s working directory. */
const folder = () => temp.folder();
const create = (dir: string, ...items: WrittenInput<typeof modules.CreateFile>) => runModule(modules.CreateFile, items, moduleContext({ cwd: dir }));

describe("CreateFile encodings", () => {
  test("the spelling table covers every accepted value", () => {
    const spelled = new Set(SPELLINGS.map(([s]) => s.toLowerCase()));
    for (const value of ENCODINGS) expect(spelled.has(value.toLowerCase()), value).toBe(true);
  });

  test.each(SPELLINGS)("encoding %p writes the known bytes of %p, without a byte order mark", async (spelling, encoded) => {
    const dir = folder();
    await create(dir, { path: "out.txt", content: SAMPLE, encoding: listedChoice(ENCODINGS, spelling) });
    expect([...readFileSync(join(dir, "out.txt"))]).toEqual(SAMPLE_BYTES[encoded]);
  });

  test("no encoding means UTF-8", async () => {
    const dir = folder();
    await create(dir, { path: "out.txt", content: SAMPLE });
    expect([...readFileSync(join(dir, "out.txt"))]).toEqual(SAMPLE_BYTES.utf8);
  });

  test("an encoding outside the table is a failure and writes nothing", async () => {
    const dir = folder();
    // The engine refuses it before execute is called; the module refuses it as well.
    // @ts-expect-error latin1 is not one of the encodings
    await expect(create(dir, { path: "out.txt", content: "x", encoding: "latin1" })).rejects.toThrow("unsupported encoding 'latin1'");
    expect(existsSync(join(dir, "out.txt"))).toBe(false);
  });
});

describe("CreateFile content and paths", () => {
  test("content is written as-is: backslash sequences, CRLF, no newline added", async () => {
    const dir = folder();
    await create(dir, { path: "a.txt", content: "one\\ntwo\r\nthree" });
    expect(readFileSync(join(dir, "a.txt"), "latin1")).toBe("one\\ntwo\r\nthree");
  });

  test("no content (or empty content) makes an empty file", async () => {
    const dir = folder();
    await create(dir, { path: "none.txt" }, { path: "empty.txt", content: "" });
    expect(readFileSync(join(dir, "none.txt")).length).toBe(0);
    expect(readFileSync(join(dir, "empty.txt")).length).toBe(0);
  });

  test("missing parent folders are created; relative paths start at the working directory", async () => {
    const dir = folder();
    await create(dir, { path: "a/b/c/deep.txt", content: "deep" });
    expect(readFileSync(join(dir, "a/b/c/deep.txt"), "utf8")).toBe("deep");
  });

  test("absolute paths are used as given", async () => {
    const dir = folder();
    await create(folder(), { path: join(dir, "abs.txt"), content: "abs" });
    expect(readFileSync(join(dir, "abs.txt"), "utf8")).toBe("abs");
  });

  test("a folder at the path is a failure, whatever overwrite says, and the folder is untouched", async () => {
    const dir = folder();
    mkdirSync(join(dir, "taken"));
    writeFileSync(join(dir, "taken", "inside"), "keep");
    for (const overwrite of [true, false]) {
      await expect(create(dir, { path: "taken", content: "x", overwrite })).rejects.toThrow("'taken' is a folder, not a file");
    }
    expect(readdirSync(join(dir, "taken"))).toEqual(["inside"]);
  });

  test("a path ending with a separator names a folder and is refused", async () => {
    const dir = folder();
    await expect(create(dir, { path: "new/", content: "x" })).rejects.toThrow("'new/' ends with a path separator");
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a file where a parent folder should be is a failure", async () => {
    const dir = folder();
    writeFileSync(join(dir, "plain"), "p");
    await expect(create(dir, { path: "plain/sub/x.txt", content: "x" })).rejects.toThrow("a part of 'plain/sub/x.txt' is a file, not a folder");
    await expect(create(dir, { path: "plain/x.txt", content: "x" })).rejects.toThrow("a part of 'plain/x.txt' is a file, not a folder");
    expect(readFileSync(join(dir, "plain"), "utf8")).toBe("p");
  });

  test("success leaves exactly the target in the folder (no temporary files)", async () => {
    const dir = folder();
    writeFileSync(join(dir, "f.txt"), "old");
    await create(dir, { path: "f.txt", content: "new" }, { path: "g.txt", content: "g" });
    expect(readdirSync(dir).sort()).toEqual(["f.txt", "g.txt"]);
  });

  test("a symlink is written through: the link stays, its target gets the content", async () => {
    const dir = folder();
    writeFileSync(join(dir, "real.txt"), "old");
    symlinkSync("real.txt", join(dir, "link.txt"));
    await create(dir, { path: "link.txt", content: "via link" });
    expect(lstatSync(join(dir, "link.txt")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, "link.txt"))).toBe("real.txt");
    expect(readFileSync(join(dir, "real.txt"), "utf8")).toBe("via link");
  });

  test("a symlink to nothing is a failure, not a file created elsewhere", async () => {
    const dir = folder();
    symlinkSync("missing.txt", join(dir, "dangling"));
    await expect(create(dir, { path: "dangling", content: "x" })).rejects.toThrow("'dangling' is a symbolic link to something that does not exist");
    expect(existsSync(join(dir, "missing.txt"))).toBe(false);
  });
});

describe("CreateFile overwrite", () => {
  test("overwrite true (the default) replaces the whole content", async () => {
    const dir = folder();
    writeFileSync(join(dir, "f.txt"), "a much longer old content");
    await create(dir, { path: "f.txt", content: "short" });
    expect(readFileSync(join(dir, "f.txt"), "utf8")).toBe("short");
    await create(dir, { path: "f.txt", content: "again", overwrite: true });
    expect(readFileSync(join(dir, "f.txt"), "utf8")).toBe("again");
  });

  test("overwrite false on an existing file fails and keeps the old content", async () => {
    const dir = folder();
    writeFileSync(join(dir, "f.txt"), "old");
    await expect(create(dir, { path: "f.txt", content: "new", overwrite: false })).rejects.toThrow("'f.txt' already exists and overwrite is false");
    expect(readFileSync(join(dir, "f.txt"), "utf8")).toBe("old");
  });

  test("overwrite false on a missing file creates it", async () => {
    const dir = folder();
    await create(dir, { path: "f.txt", content: "new", overwrite: false });
    expect(readFileSync(join(dir, "f.txt"), "utf8")).toBe("new");
  });

  test("the replacement is a new file renamed into place: a reader of the old file still sees the old bytes", async () => {
    const dir = folder();
    writeFileSync(join(dir, "f.txt"), "old bytes");
    const fd = openSync(join(dir, "f.txt"), "r");
    try {
      await create(dir, { path: "f.txt", content: "new bytes!" });
      const buffer = Buffer.alloc(20);
      const n = readSync(fd, buffer, 0, 20, 0);
      expect(buffer.subarray(0, n).toString()).toBe("old bytes");
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(join(dir, "f.txt"), "utf8")).toBe("new bytes!");
  });

  test("overwriting keeps the existing file's mode and owner when none are given", async () => {
    const dir = folder();
    const path = join(dir, "f.txt");
    writeFileSync(path, "old");
    chownSync(path, 65534, 1);
    chmodSync(path, 0o4750);
    await create(dir, { path: "f.txt", content: "new" });
    expect(meta(path)).toMatchObject({ mode: 0o4750, uid: 65534, gid: 1 });
    expect(readFileSync(path, "utf8")).toBe("new");
  });

  test("overwriting with owner/group/permissions given sets those", async () => {
    const dir = folder();
    const path = join(dir, "f.txt");
    writeFileSync(path, "old");
    chmodSync(path, 0o600);
    await create(dir, { path: "f.txt", content: "new", owner: "nobody", group: "daemon", permissions: "0644" });
    expect(meta(path)).toMatchObject({ mode: 0o644, uid: 65534, gid: 1 });
  });

  test("only a group given keeps the existing owner", async () => {
    const dir = folder();
    const path = join(dir, "f.txt");
    writeFileSync(path, "old");
    chownSync(path, 65534, 65534);
    await create(dir, { path: "f.txt", content: "new", group: "1" });
    expect(meta(path)).toMatchObject({ uid: 65534, gid: 1 });
  });
});

describe("CreateFile owner, group and permissions", () => {
  test("a new file gets 0666 less the umask when no permissions are given", async () => {
    const dir = folder();
    await create(dir, { path: "f.txt", content: "x" });
    const umask = process.umask();
    expect(meta(join(dir, "f.txt")).mode).toBe(0o666 & ~umask);
    expect(meta(join(dir, "f.txt"))).toMatchObject({ uid: process.getuid!(), gid: process.getgid!() });
  });

  test.each([
    ["0640", 0o640],
    ["755", 0o755],
    ["1777", 0o1777],
    ["0777", 0o777],
    ["0000", 0o000],
    ["4755", 0o4755],
  ])("permissions %p are set exactly (not masked by the umask)", async (permissions, mode) => {
    const dir = folder();
    await create(dir, { path: "f.txt", content: "x", permissions });
    expect(meta(join(dir, "f.txt")).mode).toBe(mode);
  });

  test("owner by name: the user's id and primary group", async () => {
    const dir = folder();
    await create(dir, { path: "f.txt", content: "x", owner: "nobody" });
    expect(meta(join(dir, "f.txt"))).toMatchObject({ uid: 65534, gid: 65534 });
  });

  test("owner by numeric id", async () => {
    const dir = folder();
    await create(dir, { path: "f.txt", content: "x", owner: "65534" });
    expect(meta(join(dir, "f.txt")).uid).toBe(65534);
  });

  test("an id with no account is still set", async () => {
    const dir = folder();
    await create(dir, { path: "f.txt", content: "x", owner: "43210", group: "43211" });
    expect(meta(join(dir, "f.txt"))).toMatchObject({ uid: 43210, gid: 43211 });
  });

  test("group by name and by numeric id", async () => {
    const dir = folder();
    await create(dir, { path: "a.txt", content: "x", group: "nogroup" }, { path: "b.txt", content: "x", owner: "nobody", group: "1" });
    expect(meta(join(dir, "a.txt"))).toMatchObject({ uid: 0, gid: 65534 });
    expect(meta(join(dir, "b.txt"))).toMatchObject({ uid: 65534, gid: 1 });
  });

  test("setuid permissions survive a change of owner (chown clears them; mode comes after)", async () => {
    const dir = folder();
    await create(dir, { path: "f.txt", content: "x", owner: "nobody", group: "nogroup", permissions: "6755" });
    expect(meta(join(dir, "f.txt"))).toEqual(expect.objectContaining({ mode: 0o6755, uid: 65534, gid: 65534 }));
  });

  test("an unknown user or group fails before anything is written", async () => {
    const dir = folder();
    await expect(create(dir, { path: "u.txt", content: "x", owner: "no-such-user-xyz" })).rejects.toThrow("unknown user 'no-such-user-xyz'");
    await expect(create(dir, { path: "g.txt", content: "x", group: "no-such-group-xyz" })).rejects.toThrow("unknown group 'no-such-group-xyz'");
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("CreateFile lists", () => {
  test("every element is created, in order", async () => {
    const dir = folder();
    await create(dir, { path: "1.txt", content: "one" }, { path: "2.txt", content: "two", encoding: "utf-16-BE" }, { path: "1.txt", content: "last" });
    expect(readFileSync(join(dir, "1.txt"), "utf8")).toBe("last");
    expect([...readFileSync(join(dir, "2.txt"))]).toEqual([0x00, 0x74, 0x00, 0x77, 0x00, 0x6f]);
  });

  test("a failing middle element stops the list, names itself and what was done", async () => {
    const dir = folder();
    writeFileSync(join(dir, "second.txt"), "keep");
    const run = create(dir, { path: "first.txt", content: "1" }, { path: "second.txt", content: "2", overwrite: false }, { path: "third.txt", content: "3" });
    await expect(run).rejects.toThrow(StepError);
    await expect(run).rejects.toThrow("operation 2 of 3 (second.txt): 'second.txt' already exists and overwrite is false; operation 1 had completed");
    expect(readFileSync(join(dir, "first.txt"), "utf8")).toBe("1");
    expect(readFileSync(join(dir, "second.txt"), "utf8")).toBe("keep");
    expect(existsSync(join(dir, "third.txt"))).toBe(false);
  });

  test("a failing first element says no other operation had run", async () => {
    const dir = folder();
    mkdirSync(join(dir, "d"));
    await expect(create(dir, { path: "d", content: "1" }, { path: "b.txt", content: "2" })).rejects.toThrow("operation 1 of 2 (d): 'd' is a folder, not a file; no other operation had run");
    expect(existsSync(join(dir, "b.txt"))).toBe(false);
  });
});

describe("atomic writes and a planted symlink", () => {
  // Found in review: the temporary name was `.<name>.opentoe-<pid>-<Date.now()>.tmp`, opened with
  // "w", so a symlink planted at that name in a shared folder redirected root's write. The name is
  // now random and opened exclusively. This plants a link at the old, guessable name.
  test("writeAtomically never writes through a link at a guessable temporary name", async () => {
    const { writeAtomically } = await import("../../src/modules/_fs.ts");
    const { dir, remove } = tempFolder();
    afterAll(remove);
    writeFileSync(join(dir, "victim"), "precious\n");
    writeFileSync(join(dir, "target"), "old\n");
    const now = Date.now;
    const fixed = 1_700_000_000_000;
    Date.now = () => fixed;
    try {
      symlinkSync(join(dir, "victim"), join(dir, `.target.opentoe-${process.pid}-${fixed}.tmp`));
      writeAtomically(join(dir, "target"), Buffer.from("new\n"));
    } finally {
      Date.now = now;
    }
    expect(readFileSync(join(dir, "victim"), "utf8")).toBe("precious\n");
    expect(lstatSync(join(dir, "target")).isFile()).toBe(true);
    expect(readFileSync(join(dir, "target"), "utf8")).toBe("new\n");
  });
});
