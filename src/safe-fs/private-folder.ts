/**
 * @module safe-fs/private-folder: folders that only the running user may change.
 *
 * The state folder holds the resume journal and the script a boot trigger runs as root; the log
 * folder holds parameter values and step output. Whoever can replace such a folder, or any folder
 * above it, can feed root a forged journal or a script of their own. So a private folder is
 * created with mode 0700, and awstoe refuses one when it, or any folder on its path, is owned by
 * another user (root excepted) or writable by group or others without the sticky bit (the sticky
 * bit is what makes /tmp safe to be a parent: others can add entries but not move ours).
 *
 * Both the path as written and its real path are checked, so a symlink on the way counts only when
 * its owner may be trusted and where it leads is checked too. Windows keeps permissions in ACLs
 * that these rules do not describe: nothing is checked there.
 */
import { chmodSync, lstatSync, mkdirSync, realpathSync, type Stats } from "node:fs";
import { dirname, parse, resolve, sep } from "node:path";
import { PARENT_FOLDER_MODE, PRIVATE_FOLDER_MODE } from "./durable.ts";

/** Thrown when a folder may not be trusted; its message names the folder and the reason. */
export class UntrustedFolderError extends Error {
  constructor(
    readonly folder: string,
    readonly reason: string,
  ) {
    super(`'${folder}' ${reason}`);
  }
}

export interface PrivateFolderOptions {
  /** The effective user id to trust besides root; default: this process's. */
  uid?: number;
  /** Create the folder (and missing parents) when it is not there; default true. */
  create?: boolean;
}

/**
 * Makes sure `path` is a private folder of the running user and returns its absolute path.
 * Creates it (0700) and missing parents when needed; narrows an existing folder of ours to 0700.
 * Throws UntrustedFolderError (or the file system's error when it cannot be created).
 */
export function ensurePrivateFolder(path: string, options: PrivateFolderOptions = {}): string {
  const folder = resolve(path);
  if (process.platform === "win32") {
    if (options.create !== false) mkdirSync(folder, { recursive: true });
    return folder;
  }
  const uid = options.uid ?? process.geteuid?.() ?? 0;
  // Parents first: a folder created below an untrusted parent would be no safer.
  checkPathToFolder(dirname(folder), uid);
  if (options.create !== false) {
    // Parents other than the folder itself get 0755 (never more, whatever the umask); only the last one is private.
    mkdirSync(dirname(folder), { recursive: true, mode: PARENT_FOLDER_MODE });
    try {
      mkdirSync(folder, { mode: PRIVATE_FOLDER_MODE });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  checkPathToFolder(dirname(folder), uid); // parents that were just made
  const own = lstatSync(folder);
  if (own.isSymbolicLink()) throw new UntrustedFolderError(folder, "is a symbolic link; it must be a real folder");
  if (!own.isDirectory()) throw new UntrustedFolderError(folder, "is not a folder");
  if (own.uid !== uid) throw new UntrustedFolderError(folder, `belongs to ${userName(own.uid)}, not to ${userName(uid)} who runs awstoe`);
  if ((own.mode & 0o077) !== 0) chmodSync(folder, PRIVATE_FOLDER_MODE);
  return folder;
}

/**
 * Checks every existing folder from the root down to `folder` (as written and as really found),
 * stopping at the first that does not exist yet.
 */
export function checkPathToFolder(folder: string, uid: number): void {
  checkChain(resolve(folder), uid);
  let real: string | undefined;
  try {
    real = realpathSync(existingPart(resolve(folder)));
  } catch {
    return;
  }
  checkChain(real, uid);
}

function checkChain(folder: string, uid: number): void {
  const root = parse(folder).root;
  const parts = folder.slice(root.length).split(sep).filter((p) => p !== "");
  let current = root;
  for (const part of ["", ...parts]) {
    current = part === "" ? root : resolve(current, part);
    let stats: Stats;
    try {
      stats = lstatSync(current);
    } catch {
      return; // not created yet: what is below it does not exist either
    }
    if (stats.uid !== 0 && stats.uid !== uid) {
      throw new UntrustedFolderError(current, `belongs to ${userName(stats.uid)}; awstoe keeps private files only below folders of root or of ${userName(uid)} who runs it`);
    }
    if (stats.isSymbolicLink()) continue; // where it leads is checked through the real path
    if (!stats.isDirectory()) return; // the caller's own operation reports a file in the way
    const othersMayWrite = (stats.mode & 0o022) !== 0;
    const sticky = (stats.mode & 0o1000) !== 0;
    if (othersMayWrite && !sticky) {
      throw new UntrustedFolderError(current, `can be changed by other users (mode ${(stats.mode & 0o7777).toString(8).padStart(4, "0")}), so they could replace what awstoe keeps below it`);
    }
  }
}

/**
 * Checks that a program or script that will run as root can only be replaced by root or `uid`:
 * the folders on its path, a link's owner, and the file it really is (owner, no group/other write).
 */
export function checkTrustedFile(path: string, uid: number): void {
  const file = resolve(path);
  checkPathToFolder(dirname(file), uid);
  const seen = lstatSync(file);
  const real = seen.isSymbolicLink() ? realpathSync(file) : file;
  if (real !== file) checkPathToFolder(dirname(real), uid);
  for (const [where, stats] of [[file, seen], [real, lstatSync(real)]] as const) {
    if (stats.uid !== 0 && stats.uid !== uid) throw new UntrustedFolderError(where, `belongs to ${userName(stats.uid)}, who could replace what awstoe runs as ${userName(uid)}`);
    if (!stats.isSymbolicLink() && (stats.mode & 0o022) !== 0) throw new UntrustedFolderError(where, "can be changed by other users, who could replace what awstoe runs");
  }
}

/** The longest prefix of `path` that exists (the root at least). */
function existingPart(path: string): string {
  let current = path;
  for (;;) {
    try {
      lstatSync(current);
      return current;
    } catch {
      const up = dirname(current);
      if (up === current) return current;
      current = up;
    }
  }
}

function userName(uid: number): string {
  return uid === 0 ? "root" : `user id ${uid}`;
}
