/**
 * @module modules/_fs: what the file-system modules share — paths as awstoe reads them (`/`
 * everywhere, `\` too on Windows; a trailing separator means "folder"), folder entries by their
 * exact bytes (names that are not UTF-8 shown with \xHH), `*` in the last segment, list
 * operations that stop at the first failure and say what was already done, atomic writes, text
 * encodings, and errors worded for people (paths as the user wrote them).
 */
import { lstatSync, readdirSync, type Stats } from "node:fs";
import { isAbsolute, join, parse, resolve, sep } from "node:path";
import { writeFileDurably } from "../safe-fs/durable.ts";
import { StepError } from "../errors.ts";
import type { ModuleContext } from "./_define.ts";

export { endsWithSeparator } from "./_inputs.ts";

// --- paths ---

export function isWindows(ctx: Pick<ModuleContext, "platform">): boolean {
  return ctx.platform === "windows";
}

/** The absolute path for a path as written (relative ones from the run's working directory). */
export function absolute(ctx: Pick<ModuleContext, "cwd" | "platform">, path: string): string {
  return isAbsolute(path) ? resolve(path) : resolve(ctx.cwd, path);
}

/**
 * Paths that no module may delete or overwrite as a whole: empty, a filesystem root, a drive root.
 * Throws a StepError naming the path as written.
 */
export function refuseRoot(written: string, resolved: FsPath): void {
  if (written.trim() === "") throw new StepError("the path is empty");
  // A root is always text; a path by bytes (a name in it is not UTF-8) is never one.
  if ((typeof resolved === "string" && parse(resolved).root === resolved) || /^[A-Za-z]:[\\/]?$/.test(written.trim())) {
    throw new StepError(`refusing to operate on the root folder '${written}'`);
  }
}

// --- names as bytes ---
//
// A file name on Linux and macOS is any bytes but `/` and NUL, not text. A listing read as text
// decodes bytes that are not UTF-8 to U+FFFD, so a folder `d\xff` would be listed as `d\uFFFD` —
// which may be another entry of the same folder, a symlink planted to lead out of the tree; and a
// name decoded that way names nothing at all. So folders are listed as bytes, every listed entry is
// acted on by its exact path (node:fs takes Buffer paths) and classified by lstat of that path,
// never by a decoded name or the listing's type.
//
// Shown names (messages, logs, ListFiles output, `*` matching): a name that is valid UTF-8 is
// shown as it is. In one that is not, each byte that is not part of a valid UTF-8 sequence is shown
// as `\x` and two lower-case hex digits (`d\xff`), as Python's "backslashreplace" does. A shown
// name is for people: used as a path it names another file (or none).

/** A path as node:fs takes it: text when every name in it is valid UTF-8, else the exact bytes. */
export type FsPath = string | Buffer;

/** One entry of a listed folder. */
export interface FolderEntry {
  /** The exact path: the folder's path and the name's bytes (text when that is exact). */
  path: FsPath;
  /** The name as shown (convention above). */
  name: string;
  /** The name's exact bytes. */
  bytes: Buffer;
}

/** The entries of a folder by their exact names, in the order the system lists them. */
export function listFolder(folder: FsPath): FolderEntry[] {
  return readdirSync(folder, { encoding: "buffer" }).map((bytes) => ({ path: childPath(folder, bytes), name: showBytes(bytes), bytes }));
}

/** `folder` joined with the exact name `name`; still text when both are exactly text. */
export function childPath(folder: FsPath, name: Buffer): FsPath {
  if (typeof folder === "string" && isUtf8(name)) return join(folder, name.toString("utf8"));
  const parent = typeof folder === "string" ? Buffer.from(folder, "utf8") : folder;
  const last = parent[parent.length - 1];
  const separated = last === SLASH || last === SEP;
  return Buffer.concat(separated ? [parent, name] : [parent, Buffer.from(sep), name]);
}

/** The folder part of a path (everything before its last name), of the same type. */
export function parentPath(path: FsPath): FsPath {
  if (typeof path === "string") return parse(path).dir;
  const cut = lastSeparator(path);
  return cut <= 0 ? path.subarray(0, cut + 1) : path.subarray(0, cut);
}

/** The last name of a path, as its exact bytes. */
export function lastName(path: FsPath): Buffer {
  if (typeof path === "string") return Buffer.from(parse(path).base, "utf8");
  return path.subarray(lastSeparator(path) + 1);
}

/** A path as shown to people (the convention above). */
export function shownPath(path: FsPath): string {
  return typeof path === "string" ? path : showBytes(path);
}

/** True when the bytes are valid UTF-8 (decoding and encoding again gives them back). */
export function isUtf8(bytes: Buffer): boolean {
  return Buffer.from(bytes.toString("utf8"), "utf8").equals(bytes);
}

/** Bytes as shown: UTF-8 text, each byte outside a valid sequence as `\xHH`. */
export function showBytes(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString("utf8");
  let shown = "";
  let start = 0; // start of the valid run not yet copied to `shown`
  for (let i = 0; i < bytes.length; ) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    shown += bytes.subarray(start, i).toString("utf8") + `\\x${bytes[i]!.toString(16).padStart(2, "0")}`;
    start = ++i;
  }
  return shown + bytes.subarray(start).toString("utf8");
}

const SLASH = 0x2f;
const SEP = sep.charCodeAt(0);

function lastSeparator(path: Buffer): number {
  return Math.max(path.lastIndexOf(SLASH), path.lastIndexOf(SEP));
}

/**
 * The length of the well-formed UTF-8 sequence starting at `i` (RFC 3629 §4: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or 0 when none starts there.
 */
function sequenceLength(bytes: Buffer, i: number): number {
  const lead = bytes[i]!;
  const follows = (k: number, low = 0x80, high = 0xbf) => i + k < bytes.length && bytes[i + k]! >= low && bytes[i + k]! <= high;
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return follows(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    const [low, high] = lead === 0xe0 ? [0xa0, 0xbf] : lead === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return follows(1, low, high) && follows(2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const [low, high] = lead === 0xf0 ? [0x90, 0xbf] : lead === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return follows(1, low, high) && follows(2) && follows(3) ? 4 : 0;
  }
  return 0;
}

// --- wildcards ---

export interface Wildcard {
  /** Folder part, as written (may be relative). */
  folder: string;
  /** The last segment with `*`. */
  pattern: string;
  regex: RegExp;
}

/** `dir/*.log` → folder and pattern, or undefined when the last segment has no `*`. */
export function splitWildcard(path: string, windows: boolean): Wildcard | undefined {
  const cut = Math.max(path.lastIndexOf("/"), windows ? path.lastIndexOf("\\") : -1);
  const pattern = path.slice(cut + 1);
  if (!pattern.includes("*")) return undefined;
  const folder = cut < 0 ? "." : path.slice(0, cut + 1);
  return { folder, pattern, regex: wildcardRegex(pattern) };
}

/** `*` matches any run of characters (no separator); everything else is literal. */
export function wildcardRegex(pattern: string): RegExp {
  const body = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${body}$`, "s");
}

/**
 * Entries of a folder whose names (as shown, see listFolder) match, sorted, filtered by kind as
 * lstat of the exact entry says (a symlink is neither a file nor a folder here).
 */
export function matchingEntries(folder: FsPath, regex: RegExp, kind: "file" | "folder"): FolderEntry[] {
  return listFolder(folder)
    .filter((entry) => regex.test(entry.name) && isKind(entry.path, kind))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function isKind(path: FsPath, kind: "file" | "folder"): boolean {
  const stats = entryAt(path, shownPath(path));
  return kind === "file" ? stats?.isFile() === true : stats?.isDirectory() === true;
}

// --- list operations ---

/**
 * Runs one operation per input element, in order. The first failure stops the list with a message
 * naming the element (1-based, as a person counts), its path, and what had already been done —
 * earlier operations are not undone (docs/modules.md §2).
 */
export async function forEachOperation<T>(items: readonly T[], label: (item: T) => string, operation: (item: T, index: number) => Promise<void> | void): Promise<void> {
  for (const [index, item] of items.entries()) {
    try {
      await operation(item, index);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Only about the other operations: the failing one may say itself what it had already done.
      const done = index === 0 ? "no other operation had run" : index === 1 ? "operation 1 had completed" : `operations 1–${index} had completed`;
      const where = items.length > 1 ? `operation ${index + 1} of ${items.length} (${label(item)}): ` : "";
      throw new StepError(`${where}${message}${items.length > 1 ? `; ${done}` : ""}`);
    }
  }
}

// --- writing ---

/**
 * Replaces `path` with `bytes` so that a crash, a kill or a full disk leaves the old content or the
 * new, never a mix, and never a write through a link planted at a guessable name: the durable
 * write of safe-fs. `mode` is filtered by the umask, as for any new file (modules set exact
 * permissions afterwards when the document asks for them).
 */
export function writeAtomically(path: string, bytes: Uint8Array, mode = 0o666): void {
  writeFileDurably(path, bytes, { mode: mode & ~process.umask() });
}

// --- encodings ---

export type Codec = "utf8" | "utf16le" | "utf16be" | "utf32le" | "utf32be";

/** The encoding input (any case, with or without the dash) → a codec. Validated earlier. */
export function codecOf(encoding: string | undefined): Codec {
  const name = (encoding ?? "utf8").toLowerCase().replace(/-/g, "");
  if (name === "utf8") return "utf8";
  if (name === "utf16" || name === "utf16le") return "utf16le";
  if (name === "utf16be") return "utf16be";
  if (name === "utf32" || name === "utf32le") return "utf32le";
  if (name === "utf32be") return "utf32be";
  throw new StepError(`unsupported encoding '${encoding}'`);
}

/** Text → bytes, without a byte order mark. */
export function encodeText(text: string, codec: Codec): Buffer {
  if (codec === "utf8") return Buffer.from(text, "utf8");
  if (codec === "utf16le") return Buffer.from(text, "utf16le");
  if (codec === "utf16be") return Buffer.from(text, "utf16le").swap16();
  const points = [...text].map((ch) => ch.codePointAt(0)!);
  const out = Buffer.alloc(points.length * 4);
  points.forEach((point, i) => (codec === "utf32le" ? out.writeUInt32LE(point, i * 4) : out.writeUInt32BE(point, i * 4)));
  return out;
}

const BOMS: Record<Codec, number[]> = {
  utf8: [0xef, 0xbb, 0xbf],
  utf16le: [0xff, 0xfe],
  utf16be: [0xfe, 0xff],
  utf32le: [0xff, 0xfe, 0x00, 0x00],
  utf32be: [0x00, 0x00, 0xfe, 0xff],
};

/** Bytes → text; a byte order mark matching the codec is dropped. Bytes that do not decode are an error. */
export function decodeText(bytes: Uint8Array, codec: Codec): string {
  const bom = BOMS[codec];
  const body = bom.every((b, i) => bytes[i] === b) ? bytes.subarray(bom.length) : bytes;
  try {
    if (codec === "utf8") return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
    if (codec === "utf16le") return new TextDecoder("utf-16le", { fatal: true, ignoreBOM: true }).decode(body);
    if (codec === "utf16be") return new TextDecoder("utf-16be", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw new StepError(`the file is not valid ${codec.toUpperCase().replace("UTF", "UTF-")} text`);
  }
  if (body.length % 4 !== 0) throw new StepError(`the file is not valid UTF-32 text (its length is not a multiple of 4)`);
  let text = "";
  for (let i = 0; i < body.length; i += 4) {
    const view = Buffer.from(body.buffer, body.byteOffset + i, 4);
    const point = codec === "utf32le" ? view.readUInt32LE(0) : view.readUInt32BE(0);
    if (point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff)) throw new StepError("the file is not valid UTF-32 text");
    text += String.fromCodePoint(point);
  }
  return text;
}

/** lstat of the path itself; undefined when nothing is there (or a part of the path is a file). */
export function entryAt(path: FsPath, written: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw fsFailure(error, written);
  }
}

// --- errors ---

/** A file-system error as a sentence about the path the user wrote. */
export function fsFailure(error: unknown, written: string): StepError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const text: Record<string, string> = {
    ENOENT: `'${written}' does not exist`,
    EACCES: `permission denied for '${written}'`,
    EPERM: `operation not permitted on '${written}'`,
    EISDIR: `'${written}' is a folder, not a file`,
    ENOTDIR: `a part of '${written}' is a file, not a folder`,
    EEXIST: `'${written}' already exists`,
    ENOTEMPTY: `folder '${written}' is not empty`,
    ENOSPC: `no space left on the device while writing '${written}'`,
    EROFS: `'${written}' is on a read-only file system`,
    ELOOP: `too many symbolic links in '${written}'`,
    EBUSY: `'${written}' is in use`,
  };
  if (error instanceof StepError) return error;
  return new StepError(code !== undefined && text[code] !== undefined ? text[code]! : `'${written}': ${(error as Error)?.message ?? String(error)}`);
}
