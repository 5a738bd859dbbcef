import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { firstInvalidUtf8, loadLocalDocument, MAX_DOCUMENT_BYTES } from "../../src/document/load.ts";

const dir = mkdtempSync(join(tmpdir(), "opentoe-load-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, data: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

function code(path: string): string | undefined {
  const result = loadLocalDocument(path);
  return result.ok ? undefined : result.diagnostic.code;
}

describe("loadLocalDocument", () => {
  test("reads UTF-8 and drops a BOM", () => {
    const result = loadLocalDocument(write("bom.yaml", "\uFEFFschemaVersion: 1.0\n"));
    expect(result).toEqual({ ok: true, text: "schemaVersion: 1.0\n" });
  });
  test("reads UTF-16 with a byte order mark", () => {
    const body = Buffer.from("schemaVersion: 1.0\n", "utf16le");
    const result = loadLocalDocument(write("u16.yaml", Buffer.concat([Buffer.from([0xff, 0xfe]), body])));
    expect(result).toEqual({ ok: true, text: "schemaVersion: 1.0\n" });
  });
  test("each unusable source gets its own code", () => {
    mkdirSync(join(dir, "folder"));
    expect(code(join(dir, "missing.yaml"))).toBe("E_SOURCE_MISSING");
    expect(code(join(dir, "folder"))).toBe("E_SOURCE_UNREADABLE");
    expect(code(write("empty.yaml", ""))).toBe("E_SOURCE_EMPTY");
    expect(code(write("blank.yaml", " \n\t\n"))).toBe("E_SOURCE_EMPTY");
    expect(code(write("bin.yaml", new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2])))).toBe("E_SOURCE_BINARY");
    expect(code(write("latin1.yaml", new Uint8Array([0x61, 0x3a, 0x20, 0xe9, 0x0a])))).toBe("E_SOURCE_ENCODING");
    expect(code("s3://bucket/key.yaml")).toBe("E_SOURCE_UNSUPPORTED");
  });
  test("a file over the limit is refused without being read whole", () => {
    const path = join(dir, "big.yaml");
    writeFileSync(path, "");
    const { truncateSync } = require("node:fs") as typeof import("node:fs");
    truncateSync(path, MAX_DOCUMENT_BYTES + 1);
    const result = loadLocalDocument(path);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.diagnostic.code).toBe("E_SOURCE_TOO_LARGE");
      expect(result.diagnostic.message).toContain("4.0 MiB");
    }
  });
  test("an encoding error is placed at its line and column", () => {
    const result = loadLocalDocument(write("pos.yaml", Buffer.concat([Buffer.from("a: 1\nbb: "), Buffer.from([0xc3, 0x28])])));
    expect(result.ok).toBe(false);
    if (!result.ok) expect([result.diagnostic.line, result.diagnostic.column]).toEqual([2, 5]);
  });
  test("firstInvalidUtf8 finds overlong and truncated sequences", () => {
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xc0, 0xaf]))).toBe(1);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0x62, 0xe2, 0x82]))).toBe(2);
    expect(firstInvalidUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBe(0);
  });
});
