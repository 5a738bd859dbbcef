import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProbe, findProgram } from "../../src/platform/probe.ts";

const posixOnly = process.platform === "win32" ? test.skip : test;

let root: string;
let bin: string;
let other: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "opentoe-probe-"));
  bin = join(root, "bin");
  other = join(root, "other");
  mkdirSync(bin);
  mkdirSync(other);
  writeFileSync(join(root, "abc.txt"), "abc");
  writeFileSync(join(root, "empty.txt"), "");
  writeFileSync(join(bin, "mytool"), "#!/bin/sh\necho hi\n");
  chmodSync(join(bin, "mytool"), 0o755);
  writeFileSync(join(bin, "notexec"), "plain text\n");
  chmodSync(join(bin, "notexec"), 0o644);
  mkdirSync(join(bin, "adir"));
  chmodSync(join(bin, "adir"), 0o755);
  writeFileSync(join(other, "tool.EXE"), "MZ");
  writeFileSync(join(other, "script.cmd"), "@echo off");
  // Large enough to take several 64 KiB chunks.
  writeFileSync(join(root, "big.bin"), Buffer.alloc(300_000, "a"));
  if (process.platform !== "win32") {
    symlinkSync(join(root, "abc.txt"), join(root, "link-to-file"));
    symlinkSync(root, join(root, "link-to-folder"));
    symlinkSync(join(root, "missing"), join(root, "dangling"));
  }
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("binaryExists (POSIX)", () => {
  posixOnly("finds an executable file on PATH", () => {
    const probe = createProbe({ PATH: `/nonexistent:${bin}` }, "linux");
    expect(probe.binaryExists("mytool")).toBe(true);
    expect(findProgram("mytool", { PATH: `/nonexistent:${bin}` }, false)).toBe(join(bin, "mytool"));
  });
  posixOnly("a file without the execute bit, a folder, or a missing name is not a program", () => {
    const probe = createProbe({ PATH: bin }, "linux");
    // root may execute-check differently only for files with some x bit; 0644 has none.
    expect(probe.binaryExists("notexec")).toBe(false);
    expect(probe.binaryExists("adir")).toBe(false);
    expect(probe.binaryExists("nothing-here")).toBe(false);
    expect(probe.binaryExists("")).toBe(false);
  });
  posixOnly("only the given PATH is searched", () => {
    expect(createProbe({ PATH: other }, "linux").binaryExists("mytool")).toBe(false);
    expect(createProbe({}, "linux").binaryExists("mytool")).toBe(false);
  });
  posixOnly("relative and empty PATH entries are skipped", () => {
    const probe = createProbe({ PATH: ":.:bin" }, "linux");
    const cwd = process.cwd();
    process.chdir(root);
    try {
      expect(probe.binaryExists("mytool")).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });
  posixOnly("a name with a slash is checked where it points", () => {
    const probe = createProbe({ PATH: "" }, "linux");
    expect(probe.binaryExists(join(bin, "mytool"))).toBe(true);
    expect(probe.binaryExists(join(bin, "notexec"))).toBe(false);
  });
});

describe("binaryExists (Windows rules)", () => {
  // The Windows search (';'-separated Path, PATHEXT, no execute bit) runs on any host: only the
  // list rules follow the platform argument, the files are real. None of these has an x bit.
  test("PATHEXT extensions are tried, and the variable name ignores case", () => {
    const probe = createProbe({ Path: `C:\\nowhere;${other}`, PathExt: ".COM;.EXE;.BAT;.CMD" }, "win32");
    expect(probe.binaryExists("script")).toBe(true);
    expect(probe.binaryExists("missing")).toBe(false);
  });
  test("a name ending in a PATHEXT extension is tried as written", () => {
    const probe = createProbe({ PATH: other }, "win32");
    expect(probe.binaryExists("script.cmd")).toBe(true);
    expect(probe.binaryExists("tool.EXE")).toBe(true);
  });
  test("the default PATHEXT is .COM;.EXE;.BAT;.CMD", () => {
    const probe = createProbe({ PATH: other }, "win32");
    expect(probe.binaryExists("script")).toBe(true);
    expect(findProgram("script", { PATH: other, PATHEXT: ".BAT" }, true)).toBeUndefined();
  });
  test("a file with another extension is not a program", () => {
    expect(createProbe({ PATH: bin }, "win32").binaryExists("notexec")).toBe(false);
    expect(createProbe({ PATH: other, PATHEXT: ".TXT" }, "win32").binaryExists("script")).toBe(false);
  });
});

describe("fileExists / folderExists", () => {
  const probe = createProbe({}, process.platform);
  test("a regular file", () => {
    expect(probe.fileExists(join(root, "abc.txt"))).toBe(true);
    expect(probe.folderExists(join(root, "abc.txt"))).toBe(false);
  });
  test("a folder", () => {
    expect(probe.folderExists(root)).toBe(true);
    expect(probe.fileExists(root)).toBe(false);
  });
  test("nothing there", () => {
    expect(probe.fileExists(join(root, "missing"))).toBe(false);
    expect(probe.folderExists(join(root, "missing"))).toBe(false);
    expect(probe.fileExists("")).toBe(false);
    expect(probe.folderExists("")).toBe(false);
  });
  posixOnly("symlinks are followed; a dangling one is nothing", () => {
    expect(probe.fileExists(join(root, "link-to-file"))).toBe(true);
    expect(probe.folderExists(join(root, "link-to-folder"))).toBe(true);
    expect(probe.fileExists(join(root, "dangling"))).toBe(false);
  });
});

describe("fileDigest", () => {
  const probe = createProbe({}, process.platform);
  const abc = () => join(root, "abc.txt");
  test("known digests of 'abc', lowercase hex", () => {
    expect(probe.fileDigest(abc(), "md5")).toBe("900150983cd24fb0d6963f7d28e17f72");
    expect(probe.fileDigest(abc(), "sha1")).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    expect(probe.fileDigest(abc(), "sha256")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(probe.fileDigest(abc(), "sha512")).toBe(
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    );
  });
  test("an empty file", () => {
    expect(probe.fileDigest(join(root, "empty.txt"), "sha256")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
  test("a file larger than one chunk matches hashing it whole", async () => {
    const { createHash } = await import("node:crypto");
    const expected = createHash("sha256").update(Buffer.alloc(300_000, "a")).digest("hex");
    expect(probe.fileDigest(join(root, "big.bin"), "sha256")).toBe(expected);
  });
  test("a missing file or a folder is undefined", () => {
    expect(probe.fileDigest(join(root, "missing"), "md5")).toBeUndefined();
    expect(probe.fileDigest(root, "md5")).toBeUndefined();
  });
});

describe("relative paths", () => {
  test("are the run's, from its working folder, not this process's", () => {
    const dir = mkdtempSync(join(tmpdir(), "opentoe-probe-cwd-"));
    try {
      writeFileSync(join(dir, "here.txt"), "x");
      mkdirSync(join(dir, "sub"));
      const probe = createProbe(process.env, process.platform, dir);
      expect(probe.fileExists("here.txt")).toBe(true);
      expect(probe.folderExists("sub")).toBe(true);
      expect(probe.fileDigest("here.txt", "sha256")).toBe(createHash("sha256").update("x").digest("hex"));
      expect(createProbe(process.env, process.platform, tmpdir()).fileExists("here.txt")).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
