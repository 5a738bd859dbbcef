/**
 * @module document/load: read a document source into text, refusing what cannot be a document
 * (missing, a folder, empty, too large, binary, not UTF-8) with a diagnostic instead of a crash.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import type { Diagnostic, DiagnosticCode } from "../errors.ts";

/** Largest document we read. Image Builder itself caps inline component data far lower. */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

export type LoadResult = { ok: true; text: string } | { ok: false; diagnostic: Diagnostic };

/** Reads a local document. Remote sources (s3://, ARNs) are loaded by the aws layer. */
export function loadLocalDocument(source: string): LoadResult {
  const fail = failureFor(source);
  if (/^s3:\/\//i.test(source) || /^arn:/i.test(source)) {
    return fail("E_SOURCE_UNSUPPORTED", `cannot load '${source}': S3 and Image Builder ARN sources are not supported by this build yet`, "download the document and pass its local path");
  }
  let bytes: Buffer;
  try {
    const info = statSync(source);
    if (info.isDirectory()) return fail("E_SOURCE_UNREADABLE", `'${source}' is a folder, not a document`, "pass the path of a .yaml file inside it");
    if (!info.isFile()) return fail("E_SOURCE_UNREADABLE", `'${source}' is not a regular file`);
    if (info.size > MAX_DOCUMENT_BYTES) {
      return fail("E_SOURCE_TOO_LARGE", `document is ${formatBytes(info.size)}; the limit is ${formatBytes(MAX_DOCUMENT_BYTES)}`, "component documents are small YAML files; check that this is the right file");
    }
    bytes = readBounded(source);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return fail("E_SOURCE_MISSING", `document '${source}' does not exist`, "check the path; relative paths are taken from the current folder");
    if (code === "EACCES" || code === "EPERM") return fail("E_SOURCE_UNREADABLE", `no permission to read '${source}'`);
    if (code === "E2BIG") return fail("E_SOURCE_TOO_LARGE", `document is larger than ${formatBytes(MAX_DOCUMENT_BYTES)}`);
    return fail("E_SOURCE_UNREADABLE", `cannot read '${source}': ${(error as Error).message}`);
  }
  return decodeDocument(bytes, fail);
}

/** Reads at most the limit + 1 bytes, so a file that grows while we read cannot exhaust memory. */
function readBounded(path: string): Buffer {
  const fd = openSync(path, "r");
  try {
    const size = Math.min(fstatSync(fd).size, MAX_DOCUMENT_BYTES) + 1;
    const buffer = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const read = readSync(fd, buffer, filled, size - filled, null);
      if (read === 0) break;
      filled += read;
    }
    if (filled > MAX_DOCUMENT_BYTES) throw Object.assign(new Error("too large"), { code: "E2BIG" });
    return buffer.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

export type Fail = (code: DiagnosticCode, message: string, hint?: string, line?: number, column?: number) => LoadResult;

/** Builds failed LoadResults for one source. */
export function failureFor(source: string): Fail {
  return (code, message, hint, line, column) => ({
    ok: false,
    diagnostic: {
      code, severity: "error", message, file: source, path: "",
      ...(hint === undefined ? {} : { hint }),
      ...(line === undefined ? {} : { line, column }),
    },
  });
}

/** Bytes → text: UTF-8 (BOM dropped) or UTF-16 with a BOM; anything else is refused with its position. */
export function decodeDocument(bytes: Uint8Array, fail: Fail): LoadResult {
  if (bytes.length === 0) return fail("E_SOURCE_EMPTY", "document is empty", "a component needs at least schemaVersion and phases");
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { ok: true, text: new TextDecoder("utf-16le").decode(bytes.subarray(2)) };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { ok: true, text: new TextDecoder("utf-16be").decode(bytes.subarray(2)) };
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    const { line, column } = positionOfByte(bytes, nul);
    return fail("E_SOURCE_BINARY", "this is a binary file, not a YAML document (it contains NUL bytes)", "pass the component's .yaml file", line, column);
  }
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
    if (text.trim() === "") return fail("E_SOURCE_EMPTY", "document contains only white space", "a component needs at least schemaVersion and phases");
    return { ok: true, text };
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const { line, column } = positionOfByte(bytes, bad);
    return fail("E_SOURCE_ENCODING", `document is not valid UTF-8 (byte 0x${bytes[bad]!.toString(16).padStart(2, "0")} at offset ${bad})`, "save the file as UTF-8", line, column);
  }
}

function positionOfByte(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0) return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(i, i + length));
    } catch {
      return i;
    }
    i += length;
  }
  return Math.max(0, bytes.length - 1);
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
