/**
 * @module modules/_tree: what the owner and permission modules share — finding the file or folder
 * a path names (checked before anything changes) and walking a folder's tree without ever leaving
 * it through a symbolic link.
 */
import { lstatSync, readdirSync, realpathSync, statSync, type Dirent, type Stats } from "node:fs";
import { StepError } from "../errors.ts";
import type { ModuleContext } from "./_define.ts";
import { absolute, endsWithSeparator, fsFailure, isWindows, refuseRoot } from "./_fs.ts";

export type EntryKind = "folder" | "file" | "symlink" | "other";

export interface TreeEntry {
  /** Absolute path, below the real path of the tree's folder. */
  path: string;
  /** Path from the tree's folder, `/`-separated; "" for the folder itself. */
  relative: string;
  kind: EntryKind;
}

/**
 * The path of an existing file (anything but a folder) for the Set*File* modules. A symlink counts
 * as what it points to — those modules change the target — so a link to a folder is a folder and a
 * link to nothing is an error rather than a silent no-op.
 */
export function existingFile(ctx: Pick<ModuleContext, "cwd" | "platform">, written: string, folderModule: string): string {
  if (written.trim() === "") throw new StepError("the path is empty");
  if (endsWithSeparator(written, isWindows(ctx))) {
    throw new StepError(`'${written}' ends with a path separator, so it names a folder, not a file (${folderModule} changes folders)`);
  }
  const resolved = absolute(ctx, written);
  if (statOf(resolved, written).isDirectory()) throw new StepError(`'${written}' is a folder, not a file (${folderModule} changes folders)`);
  return resolved;
}

/**
 * The real path of an existing folder for the Set*Folder* modules. A symlink given as the folder is
 * followed — the user named it, as in `chown -R link/` — and the folder it leads to is the tree;
 * links found inside the tree are never followed. A recursive change of the root folder (`/`, or a
 * link to it) is refused: no one means to give every file on the machine one owner or mode.
 */
export function existingFolder(ctx: Pick<ModuleContext, "cwd" | "platform">, written: string, fileModule: string, recursive: boolean): string {
  if (written.trim() === "") throw new StepError("the path is empty");
  const resolved = absolute(ctx, written);
  if (!statOf(resolved, written).isDirectory()) throw new StepError(`'${written}' is a file, not a folder (${fileModule} changes files)`);
  let real: string;
  try {
    real = realpathSync(resolved);
  } catch (error) {
    throw fsFailure(error, written);
  }
  if (recursive) refuseRoot(written, real);
  return real;
}

/** stat (symlinks followed), with a missing path and a dangling link told apart. */
function statOf(resolved: string, written: string): Stats {
  try {
    return statSync(resolved);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && isSymlink(resolved)) {
      throw new StepError(`'${written}' is a symbolic link to something that does not exist`);
    }
    throw fsFailure(error, written);
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Calls `change` for everything inside `root` (when `recursive`) and then for `root` itself;
 * `change` returns false for an entry it left alone (so the failure message counts right).
 *
 * - Iterative, with one stack frame per open folder, so depth is limited only by the system's path
 *   length, never by the JavaScript stack.
 * - Symlinks inside the tree are reported as `symlink` and never descended into; what `change` does
 *   with them (lchown, or nothing) is its business.
 * - A folder is reported after its contents (post-order): a mode that takes away the folder's
 *   search bit (e.g. 0644) must not lock out the walk before the folder's entries are done — this
 *   matters for non-root users; root may enter any folder.
 *
 * The first error stops the walk. Changes already made stay (undoing them could fail the same
 * way), and the message says how many were made. Not protected against: someone swapping an entry
 * for a symlink between the listing and the change — node:fs has no openat/fchmodat, so chmod and
 * the listing of a swapped folder would follow it (lchown would not). The tree is assumed not to
 * be rearranged by someone hostile while awstoe works on it.
 */
export function changeTree(root: string, written: string, recursive: boolean, change: (entry: TreeEntry) => boolean): void {
  const cursor = { relative: "" };
  let changed = 0;
  try {
    if (recursive) {
      walk(root, cursor, (entry) => {
        if (change(entry)) changed++;
      });
    }
    cursor.relative = "";
    change({ path: root, relative: "", kind: "folder" });
  } catch (error) {
    const failure = fsFailure(error, shown(written, cursor.relative));
    throw new StepError(recursive ? `${failure.message}; ${alreadyDone(changed, written)}` : failure.message);
  }
}

function alreadyDone(changed: number, written: string): string {
  if (changed === 0) return "nothing in it had been changed";
  return `${changed} ${changed === 1 ? "item" : "items"} inside '${written}' had already been changed`;
}

/** A path inside the tree as the user would write it: their folder path, then the relative part. */
function shown(written: string, relative: string): string {
  if (relative === "") return written;
  return `${written.replace(/\/+$/, "")}/${relative}`;
}

interface Frame {
  path: string;
  relative: string;
  entries: Dirent[];
  next: number;
}

/**
 * Visits every entry below `root` (not `root` itself), folders after their contents. `cursor`
 * always holds the entry being worked on, so a failure can name it.
 */
function walk(root: string, cursor: { relative: string }, visit: (entry: TreeEntry) => void): void {
  const stack: Frame[] = [{ path: root, relative: "", entries: readdirSync(root, { withFileTypes: true }), next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.entries.length) {
      stack.pop();
      cursor.relative = top.relative;
      if (stack.length > 0) visit({ path: top.path, relative: top.relative, kind: "folder" });
      continue;
    }
    const dirent = top.entries[top.next++]!;
    const path = top.path.endsWith("/") ? top.path + dirent.name : `${top.path}/${dirent.name}`;
    const relative = top.relative === "" ? dirent.name : `${top.relative}/${dirent.name}`;
    cursor.relative = relative;
    const kind = kindOf(dirent, path);
    if (kind === "folder") stack.push({ path, relative, entries: readdirSync(path, { withFileTypes: true }), next: 0 });
    else visit({ path, relative, kind });
  }
}

/**
 * The entry's kind without following it. Some file systems do not report types in listings
 * (DT_UNKNOWN); then lstat tells.
 */
function kindOf(dirent: Dirent, path: string): EntryKind {
  return classify(dirent) ?? classify(lstatSync(path)) ?? "other";
}

function classify(entry: Dirent | Stats): EntryKind | undefined {
  if (entry.isSymbolicLink()) return "symlink";
  if (entry.isDirectory()) return "folder";
  if (entry.isFile()) return "file";
  if (entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice()) return "other";
  return undefined;
}
