/**
 * The one durable-write helper on real files: exact modes, exclusive random names, whole-or-nothing
 * appends, and what a full disk does (a tmpfs of a few KiB mounted by the test, as root).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appendWhole, createBeside, PRIVATE_FILE_MODE, privateFolderBeside, sweepTemporaries, temporaryFileBeside, temporaryNameBeside, writeFileDurably } from "../../src/safe-fs/durable.ts";
import { TEMPORARY_NAME } from "../helpers/fs-tree.ts";
import { mountTinyDisk } from "../helpers/tiny-disk.ts";

const root = mkdtempSync(join(tmpdir(), "opentoe-durable-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const folder = () => {
  const dir = join(root, `d${++count}`);
  mkdirSync(dir);
  return dir;
};
const mode = (path: string) => lstatSync(path).mode & 0o7777;

describe("writeFileDurably", () => {
  test("creates the file private (0600) by default, whatever the umask", () => {
    const dir = folder();
    const old = process.umask(0);
    try {
      writeFileDurably(join(dir, "record.json"), "{}\n");
    } finally {
      process.umask(old);
    }
    expect(mode(join(dir, "record.json"))).toBe(PRIVATE_FILE_MODE);
    expect(readFileSync(join(dir, "record.json"), "utf8")).toBe("{}\n");
    expect(readdirSync(dir)).toEqual(["record.json"]); // no temporary left behind
  });

  test("an exact mode is exact; 'new' is 0666 less the umask", () => {
    const dir = folder();
    writeFileDurably(join(dir, "a"), "x", { mode: 0o4750 });
    expect(mode(join(dir, "a"))).toBe(0o4750);
    writeFileDurably(join(dir, "b"), "x", { mode: "new" });
    const umask = process.umask();
    expect(mode(join(dir, "b"))).toBe(0o666 & ~umask);
  });

  test("replaces a symlink at the target instead of writing through it", () => {
    const dir = folder();
    const victim = join(dir, "victim");
    writeFileSync(victim, "precious");
    symlinkSync(victim, join(dir, "detailedoutput.json"));
    writeFileDurably(join(dir, "detailedoutput.json"), "new");
    expect(readFileSync(victim, "utf8")).toBe("precious");
    expect(lstatSync(join(dir, "detailedoutput.json")).isSymbolicLink()).toBe(false);
  });

  test("temporary names are random, hidden, beside the target, and never reuse a planted name", () => {
    const names = new Set(Array.from({ length: 200 }, () => temporaryNameBeside("/x/detailedoutput.json")));
    expect(names.size).toBe(200);
    for (const name of names) expect(name.split("/").pop()).toMatch(TEMPORARY_NAME);
    const dir = folder();
    let calls = 0;
    // The first name "is taken" (EEXIST, as for a planted link): another is drawn.
    const made = createBeside(join(dir, "f"), (name) => {
      calls++;
      if (calls === 1) {
        const error: NodeJS.ErrnoException = new Error("exists");
        error.code = "EEXIST";
        throw error;
      }
      return name;
    });
    expect(calls).toBe(2);
    expect(made.value).toBe(made.path);
  });

  test("a planted link at the temporary name would be refused by the exclusive open", () => {
    const dir = folder();
    const victim = join(dir, "victim");
    writeFileSync(victim, "precious");
    const planted = temporaryNameBeside(join(dir, "f"));
    symlinkSync(victim, planted);
    expect(() => openSync(planted, "wx")).toThrow(/EEXIST/); // what createBeside relies on
    writeFileDurably(join(dir, "f"), "data");
    expect(readFileSync(victim, "utf8")).toBe("precious");
  });

  test("the streaming form commits whole files and discards on request", async () => {
    const dir = folder();
    const temporary = await temporaryFileBeside(join(dir, "download.bin"));
    await temporary.write(Buffer.from("part one, "));
    await temporary.write(Buffer.from("part two"));
    await temporary.commit(join(dir, "download.bin"), true);
    expect(readFileSync(join(dir, "download.bin"), "utf8")).toBe("part one, part two");
    const other = await temporaryFileBeside(join(dir, "other.bin"));
    await other.write(Buffer.from("half"));
    await other.discard();
    expect(readdirSync(dir)).toEqual(["download.bin"]);
  });

  test("a big file is synced in the background while it is written, one sync at a time, then committed whole", async () => {
    const dir = folder();
    let syncs = 0;
    let running = 0;
    let overlapped = false;
    // The real datasync, counted, and made slow so that writes go on while it runs.
    const syncData = async (file: import("node:fs/promises").FileHandle) => {
      syncs++;
      overlapped ||= running > 0;
      running++;
      await Bun.sleep(20);
      await file.datasync();
      running--;
    };
    const temporary = await temporaryFileBeside(join(dir, "big.bin"), undefined, { every: 1024, syncData });
    const pieces = Array.from({ length: 40 }, (_, i) => Buffer.alloc(512, 65 + (i % 26)));
    // Out of order, as parts arrive: the odd pieces first, then the even ones.
    for (const i of [...pieces.keys()].sort((a, b) => (a % 2) - (b % 2) || b - a)) {
      await temporary.writeAt(pieces[i]!, i * 512);
      await Bun.sleep(5); // a network's pace: a sync takes about four writes' time
    }
    await temporary.commit(join(dir, "big.bin"), true);
    expect(readFileSync(join(dir, "big.bin"))).toEqual(Buffer.concat(pieces));
    expect(syncs).toBeGreaterThan(1); // 20 KiB written, a sync asked for after each KiB while none runs
    expect(syncs).toBeLessThan(20);
    expect(overlapped).toBe(false);
  });

  test("whole files appended in order (downloaded parts) land back to back, count toward the background sync, and nothing else is touched", async () => {
    const dir = folder();
    let syncs = 0;
    const temporary = await temporaryFileBeside(join(dir, "joined.bin"), undefined, { every: 3000, syncData: async (file) => (syncs++, file.datasync()) });
    const parts = [Buffer.alloc(2500, "a"), Buffer.alloc(0), Buffer.alloc(1, "b"), Buffer.alloc(4096, "c")];
    parts.forEach((bytes, i) => writeFileSync(join(dir, `part${i}`), bytes));
    const copied = [];
    for (let i = 0; i < parts.length; i++) copied.push(await temporary.appendFrom(join(dir, `part${i}`)));
    expect(copied).toEqual([2500, 0, 1, 4096]);
    expect(await temporary.size()).toBe(6597);
    await temporary.commit(join(dir, "joined.bin"), false);
    expect(readFileSync(join(dir, "joined.bin"))).toEqual(Buffer.concat(parts));
    expect(readFileSync(join(dir, "part3"))).toEqual(parts[3]!);
    expect(syncs).toBe(1); // 2500 + 0 + 1 bytes stay below 3000; the 4096 more pass it
  });

  test("a background sync that failed fails the commit, even when the commit's own sync succeeds", async () => {
    const dir = folder();
    // Stands in for the disk's write error (EIO cannot be made here); the kernel may report such
    // an error to one sync only, so the commit's fsync would not see it again.
    const syncData = async () => {
      throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
    };
    const temporary = await temporaryFileBeside(join(dir, "big.bin"), undefined, { every: 4, syncData });
    await temporary.write(Buffer.from("first bytes"));
    await temporary.write(Buffer.from("more bytes"));
    await expect(temporary.commit(join(dir, "big.bin"), true)).rejects.toThrow(/EIO/);
    expect(readdirSync(dir)).toEqual([]); // nothing committed, the temporary file removed
  });
});

describe("privateFolderBeside", () => {
  test("a new hidden folder at a random name beside the target, 0700 whatever the umask", () => {
    const dir = folder();
    const old = process.umask(0o277); // would leave 0500 on its own
    let made: string[];
    try {
      made = [privateFolderBeside(join(dir, "parts")), privateFolderBeside(join(dir, "parts"))];
    } finally {
      process.umask(old);
    }
    expect(made[0]).not.toBe(made[1]);
    for (const path of made) {
      expect(path.startsWith(join(dir, ".parts.opentoe-"))).toBe(true);
      expect(lstatSync(path).isDirectory()).toBe(true);
      expect(mode(path)).toBe(0o700);
    }
  });
});

describe("appendWhole", () => {
  test("appends and returns the new size", () => {
    const file = join(folder(), "journal");
    writeFileSync(file, "line 1\n");
    const fd = openSync(file, "a");
    try {
      expect(appendWhole(fd, Buffer.from("line 2\n"), 7)).toBe(14);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, "utf8")).toBe("line 1\nline 2\n");
  });
});

describe("a full disk (tmpfs mounted by the test)", () => {
  const disk = mountTinyDisk("durable", 64 * 1024);
  afterAll(() => disk.unmount());

  test.skipIf(!disk.mounted)("an append that does not fit leaves the file exactly as it was", () => {
    const file = join(disk.path, "journal");
    writeFileSync(file, "header\n");
    // Fill all but a little of the disk, so the next line fits only in part.
    execFileSync("sh", ["-c", `dd if=/dev/zero of=${join(disk.path, "filler")} bs=1k count=1000 2>/dev/null || true`]);
    const fd = openSync(file, "a");
    let thrown: NodeJS.ErrnoException | undefined;
    try {
      appendWhole(fd, Buffer.alloc(256 * 1024, "x"), fstatSync(fd).size);
    } catch (error) {
      thrown = error as NodeJS.ErrnoException;
    } finally {
      closeSync(fd);
    }
    expect(thrown?.code).toBe("ENOSPC");
    expect(readFileSync(file, "utf8")).toBe("header\n");
    rmSync(join(disk.path, "filler"));
  });

  test.skipIf(!disk.mounted)("a whole-file write that does not fit keeps the old content and leaves no temporary", () => {
    const file = join(disk.path, "record.json");
    writeFileDurably(file, "old");
    expect(() => writeFileDurably(file, Buffer.alloc(512 * 1024, "y"))).toThrow(/ENOSPC|no space/);
    expect(readFileSync(file, "utf8")).toBe("old");
    expect(readdirSync(disk.path).filter((n) => TEMPORARY_NAME.test(n))).toEqual([]);
    expect(existsSync(file)).toBe(true);
  });
});

describe("sweepTemporaries", () => {
  test("removes half-written temporaries and set-aside locks of a killed run, nothing else", () => {
    const dir = folder();
    const leftover = temporaryNameBeside(join(dir, "opentoe-execution.state"));
    writeFileSync(leftover, "half");
    writeFileSync(join(dir, "run.lock.stale-123-456"), "{}");
    writeFileSync(join(dir, "opentoe-execution.state"), "keep");
    writeFileSync(join(dir, "resume.sh"), "keep");
    symlinkSync("/etc/passwd", temporaryNameBeside(join(dir, "x")));
    expect(sweepTemporaries(dir)).toBe(3);
    expect(readdirSync(dir).sort()).toEqual(["opentoe-execution.state", "resume.sh"]);
    expect(readFileSync("/etc/passwd", "utf8").length).toBeGreaterThan(0); // a link is removed as a link
  });
});
