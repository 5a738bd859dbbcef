/**
 * @module modules/_text-file: what CreateFile, AppendFile, ReadFile and SetFileEncoding share —
 * finding the file a path names (symlinks followed, folders refused) and rewriting a file's bytes
 * atomically without losing its permission bits or owner.
 */
import { accessSync, chmodSync, chownSync, constants, lstatSync, realpathSync, statSync, type Stats } from "node:fs";
import { StepError } from "../errors.ts";
import type { ModuleContext } from "./_define.ts";
import { absolute, endsWithSeparator, fsFailure, isWindows, refuseRoot, writeAtomically } from "./_fs.ts";

/** A regular file that exists: where its bytes really live (symlinks resolved) and its stat. */
export interface ExistingFile {
  path: string;
  stat: Stats;
}

/**
 * The absolute path of a file path as written. A trailing separator names a folder (docs/modules.md §2),
 * which none of the text modules can write or read, so it is refused before anything happens.
 */
export function filePath(ctx: Pick<ModuleContext, "cwd" | "platform">, written: string): string {
  if (endsWithSeparator(written, isWindows(ctx))) {
    throw new StepError(`'${written}' ends with a path separator, so it names a folder, not a file`);
  }
  const resolved = absolute(ctx, written);
  refuseRoot(written, resolved);
  return resolved;
}

/**
 * The file at `resolved`, or undefined when nothing is there. Symlinks are followed, as writing
 * through `echo > link` would: the link stays and its target gets the bytes. A link to nothing is
 * an error rather than a silent creation somewhere the user did not name.
 */
export function findFile(resolved: string, written: string): ExistingFile | undefined {
  let stat: Stats;
  try {
    stat = statSync(resolved);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw fsFailure(error, written);
    if (isSymlink(resolved)) throw new StepError(`'${written}' is a symbolic link to something that does not exist`);
    return undefined;
  }
  if (stat.isDirectory()) throw new StepError(`'${written}' is a folder, not a file`);
  if (!stat.isFile()) throw new StepError(`'${written}' is not a regular file`);
  return { path: realpathSync(resolved), stat };
}

/** The file at `resolved`, which must exist. */
export function requireFile(resolved: string, written: string): ExistingFile {
  const file = findFile(resolved, written);
  if (file === undefined) throw new StepError(`'${written}' does not exist`);
  return file;
}

/**
 * Refuses a file this process may not write, before anything changes. The atomic rename only needs
 * the folder to be writable, so without this a read-only file would be replaced anyway (no effect
 * for root, for whom every file is writable).
 */
export function requireWritable(file: ExistingFile, written: string): void {
  try {
    accessSync(file.path, constants.W_OK);
  } catch (error) {
    throw fsFailure(error, written);
  }
}

/** What a rewritten file should end up with; anything left out is kept from the file it replaces. */
export interface Metadata {
  /** Owner and group ids; -1 keeps that one. */
  ids?: { uid: number; gid: number };
  /** Exact permission bits, set with chmod (not masked by the umask). */
  mode?: number;
}

/**
 * Replaces an existing file's bytes so a crash leaves the old or the new content (writeAtomically),
 * then gives the new inode the old one's owner, group and mode unless `wanted` says otherwise —
 * replacing a file must not make it root's or change who may read it. The temporary file is created
 * with permission bits no wider than the final ones, so the new content is never more exposed.
 */
export function replaceFile(file: ExistingFile, bytes: Uint8Array, wanted: Metadata, ownersApply: boolean): void {
  const mode = wanted.mode ?? file.stat.mode & 0o7777;
  writeAtomically(file.path, bytes, mode & 0o777);
  const ids = ownersApply ? { uid: pick(wanted.ids?.uid, file.stat.uid), gid: pick(wanted.ids?.gid, file.stat.gid) } : undefined;
  finish(file.path, ids, mode);
}

/**
 * Sets owner then mode: chown clears setuid/setgid bits, so the mode must come after it. Owner ids
 * already in place are not set again (an ordinary user may not chown even to the same owner on some
 * systems).
 */
export function finish(path: string, ids: { uid: number; gid: number } | undefined, mode: number | undefined): void {
  if (ids !== undefined) {
    const now = statSync(path);
    const uid = ids.uid === now.uid ? -1 : ids.uid;
    const gid = ids.gid === now.gid ? -1 : ids.gid;
    if (uid !== -1 || gid !== -1) chownSync(path, uid, gid);
  }
  if (mode !== undefined) chmodSync(path, mode);
}

function pick(wanted: number | undefined, current: number): number {
  return wanted === undefined || wanted === -1 ? current : wanted;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Runs one file operation, wording any file-system error about the path as the user wrote it. */
export function aboutPath<T>(written: string, operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    throw fsFailure(error, written);
  }
}

/** decodeText's "the file is not valid …" with the file named, for single-element steps too. */
export function nameTheFile(error: unknown, written: string): unknown {
  if (error instanceof StepError && error.message.startsWith("the file ")) {
    return new StepError(`'${written}'${error.message.slice("the file".length)}`);
  }
  return error;
}
