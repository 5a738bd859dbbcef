/**
 * Known byte sequences for the text-encoding modules' tests: one sample text in every encoding
 * awstoe accepts, written out by hand (not produced by the code under test), and every spelling
 * of `encoding` with the encoding it means (modules.md §0).
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** ASCII, a 2-byte UTF-8 letter, a 3-byte one, and one outside the BMP (a surrogate pair in UTF-16). */
export const SAMPLE = "hé€😀";

export type Encoded = "utf8" | "utf16le" | "utf16be" | "utf32le" | "utf32be";

export const SAMPLE_BYTES: Record<Encoded, number[]> = {
  utf8: [0x68, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80],
  utf16le: [0x68, 0x00, 0xe9, 0x00, 0xac, 0x20, 0x3d, 0xd8, 0x00, 0xde],
  utf16be: [0x00, 0x68, 0x00, 0xe9, 0x20, 0xac, 0xd8, 0x3d, 0xde, 0x00],
  utf32le: [0x68, 0x00, 0x00, 0x00, 0xe9, 0x00, 0x00, 0x00, 0xac, 0x20, 0x00, 0x00, 0x00, 0xf6, 0x01, 0x00],
  utf32be: [0x00, 0x00, 0x00, 0x68, 0x00, 0x00, 0x00, 0xe9, 0x00, 0x00, 0x20, 0xac, 0x00, 0x01, 0xf6, 0x00],
};

export const BOM_BYTES: Record<Encoded, number[]> = {
  utf8: [0xef, 0xbb, 0xbf],
  utf16le: [0xff, 0xfe],
  utf16be: [0xfe, 0xff],
  utf32le: [0xff, 0xfe, 0x00, 0x00],
  utf32be: [0x00, 0x00, 0xfe, 0xff],
};

/** Every accepted spelling (the spec's table, plus case variants) → what it means. */
export const SPELLINGS: [string, Encoded][] = [
  ["utf8", "utf8"], ["utf-8", "utf8"], ["UTF-8", "utf8"], ["UTF8", "utf8"],
  ["utf16", "utf16le"], ["utf-16", "utf16le"], ["utf16-LE", "utf16le"], ["utf-16-LE", "utf16le"], ["UTF-16-le", "utf16le"],
  ["utf16-BE", "utf16be"], ["utf-16-BE", "utf16be"], ["utf16-be", "utf16be"],
  ["utf32", "utf32le"], ["utf-32", "utf32le"], ["utf32-LE", "utf32le"], ["utf-32-LE", "utf32le"], ["UTF32", "utf32le"],
  ["utf32-BE", "utf32be"], ["utf-32-BE", "utf32be"], ["Utf-32-Be", "utf32be"],
];

export const ENCODED: Encoded[] = ["utf8", "utf16le", "utf16be", "utf32le", "utf32be"];

/** A fresh temporary folder and a function that removes it (for afterAll). */
export function tempFolder(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "opentoe-text-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Permission bits, owner and group of a path, as stat reports them. */
export function meta(path: string): { mode: number; uid: number; gid: number; ino: number } {
  const s = statSync(path);
  return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, ino: s.ino };
}
