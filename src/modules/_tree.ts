/**
 * @module modules/_tree: what the owner and permission modules share — finding the file or folder
 * a path names (checked before anything changes) and walking a folder's tree without ever leaving
 * it through a symbolic link.
 */
import { lstatSync, realpathSync, statSync, type Stats } from "node:fs";
import { StepError } from "../errors.ts";
import type { ModuleContext } from "./_define.ts";
import { absolute, endsWithSeparator, fsFailure, isWindows, listFolder, refuseRoot, type FolderEntry, type FsPath } from "./_fs.ts";

export type EntryKind = "folder" | "file" | "symlink" | "other";

export interface TreeEntry {
  /**
   * Absolute path, below the real path of the tree's folder, by exact bytes where a name in it is
   * not UTF-8 (see "names as bytes" in _fs.ts): the path to act on.
   */
  path: FsPath;
  /** Path from the tree's folder, `/`-separated, as shown to people; "" for the folder itself. */
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
 * - Names are read as bytes and every entry is classified by lstat of its exact path (see "names
 *   as bytes" in _fs.ts): a name that is not UTF-8 is changed itself, never the entry its lossy
 *   decoding would name (which may be a planted link out of the tree).
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
  path: FsPath;
  relative: string;
  entries: FolderEntry[];
  next: number;
}

/**
 * Visits every entry below `root` (not `root` itself), folders after their contents. `cursor`
 * always holds the entry being worked on, so a failure can name it.
 */
function walk(root: string, cursor: { relative: string }, visit: (entry: TreeEntry) => void): void {
  const stack: Frame[] = [{ path: root, relative: "", entries: listFolder(root), next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.entries.length) {
      stack.pop();
      cursor.relative = top.relative;
      if (stack.length > 0) visit({ path: top.path, relative: top.relative, kind: "folder" });
      continue;
    }
    const entry = top.entries[top.next++]!;
    const relative = top.relative === "" ? entry.name : `${top.relative}/${entry.name}`;
    cursor.relative = relative;
    const kind = kindOf(entry.path);
    if (kind === "folder") stack.push({ path: entry.path, relative, entries: listFolder(entry.path), next: 0 });
    else visit({ path: entry.path, relative, kind });
  }
}

/** The entry's own kind (lstat: a link is a link), from its exact path rather than the listing. */
function kindOf(path: FsPath): EntryKind {
  const stats = lstatSync(path);
  if (stats.isSymbolicLink()) return "symlink";
  if (stats.isDirectory()) return "folder";
  if (stats.isFile()) return "file";
  return "other";
}
