/** @module modules/delete-file: DeleteFile — remove files, optionally matched by a * pattern. */
import { unlinkSync } from "node:fs";
import { StepError } from "../errors.ts";
import { Fields, Text } from "../model/schema-kit.ts";
import { defineModule, literalText, type InputIssue, type InputOf, type ModuleContext } from "./_define.ts";
import {
  absolute, endsWithSeparator, entryAt, forEachOperation, fsFailure, isWindows, listFolder, refuseRoot, splitWildcard, type FolderEntry, type FsPath, type Wildcard,
} from "./_fs.ts";
import { NoOutput } from "./_inputs.ts";

/** One element of `inputs`. */
const inputSchema = () => Fields({ path: Text({ minLength: 1, description: "the file, or a pattern with * in its name" }) });

type Item = InputOf<typeof inputSchema>;

export default defineModule({
  name: "DeleteFile",
  summary: "Deletes files; a * in the last segment deletes every matching file in that folder.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: inputSchema,
  output: NoOutput,
  check(input, env) {
    const path = literalText(input.path);
    const issues: InputIssue[] = [];
    if (path !== undefined && wildcardInFolder(path, env.platform === "windows")) {
      issues.push({ path: ["path"], message: "a * wildcard may only appear in the file name", needle: "*" });
    }
    return issues;
  },
  async execute(items, ctx) {
    await forEachOperation(items, (item) => item.path, (item) => deleteFile(item, ctx));
    return { outputs: {} };
  },
});

function wildcardInFolder(path: string, windows: boolean): boolean {
  return path.split(windows ? /[\\/]/ : /\//).slice(0, -1).some((segment) => segment.includes("*"));
}

/** The most file names one log line lists; a pattern may match thousands. */
const LOGGED_NAMES = 20;

/**
 * One file, or every file in one folder whose name matches the `*` pattern (docs/modules.md#deletefile).
 * A file that is not there, or a pattern that matches nothing, is success (docs/modules.md#deletefile) — the log
 * says so, so a typo does not pass unnoticed. Folders are never deleted: a folder named exactly is
 * a failure, folders matching a pattern are left alone. A symbolic link is deleted as a link; what
 * it points to is never touched.
 */
function deleteFile(item: Item, ctx: ModuleContext): void {
  const written = item.path;
  if (written.trim() === "") throw new StepError("the path is empty");
  const windows = isWindows(ctx);
  // A reference may have produced what validation would have refused.
  if (wildcardInFolder(written, windows)) throw new StepError(`'${written}': a * wildcard may only appear in the file name`);
  const wildcard = splitWildcard(written, windows);
  if (wildcard !== undefined) {
    deleteMatching(wildcard, written, ctx);
    return;
  }
  const target = absolute(ctx, written);
  refuseRoot(written, target);
  if (endsWithSeparator(written, windows)) {
    throw new StepError(`'${written}' ends with a path separator, so it names a folder, not a file (DeleteFolder deletes folders)`);
  }
  const stat = entryAt(target, written);
  if (stat === undefined) {
    ctx.log.info(`'${written}' does not exist; nothing to delete`);
    return;
  }
  if (stat.isDirectory()) throw new StepError(`'${written}' is a folder, not a file (DeleteFolder deletes folders)`);
  // Named exactly, anything but a folder goes, as with `rm`: a file, a link, a stale socket.
  remove(target, written);
  ctx.log.info(`deleted '${written}'`);
}

function remove(path: FsPath, written: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    // Gone already (another process): what was asked for is true.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw fsFailure(error, written);
  }
}

/**
 * Regular files and symbolic links in the folder whose names match; folders and special files
 * (devices, FIFOs, sockets) are not "files matching a pattern" and stay. `*` matches any run of
 * characters including a leading dot, so `*` also takes hidden files (docs/modules.md §2 gives `*` no
 * exception for them). Not recursive. A failure names the file and says how many were deleted.
 * Names are read as bytes and matched as shown (see "names as bytes" in _fs.ts), and each file is
 * deleted by its exact name: a name that is not UTF-8 is deleted itself, not the entry its lossy
 * decoding would name.
 */
function deleteMatching(wildcard: Wildcard, written: string, ctx: ModuleContext): void {
  const folder = absolute(ctx, wildcard.folder);
  const matches = matchingFiles(folder, wildcard, written);
  if (matches.length === 0) {
    ctx.log.info(`no file matches '${written}'; nothing to delete`);
    return;
  }
  for (const [index, entry] of matches.entries()) {
    try {
      remove(entry.path, shownPath(wildcard, entry.name));
    } catch (error) {
      const done = index === 0 ? "none of them had been deleted" : `${index} of them had already been deleted`;
      throw new StepError(`${(error as Error).message}; ${matches.length} files matched '${written}' and ${done}`);
    }
  }
  const names = matches.map((entry) => entry.name);
  const listed = names.slice(0, LOGGED_NAMES).join(", ") + (names.length > LOGGED_NAMES ? `, … (${names.length - LOGGED_NAMES} more)` : "");
  ctx.log.info(`deleted ${names.length} ${names.length === 1 ? "file" : "files"} matching '${written}': ${listed}`);
}

function matchingFiles(folder: string, wildcard: Wildcard, written: string): FolderEntry[] {
  let entries: FolderEntry[];
  try {
    entries = listFolder(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // No folder, no matching file: the same success as a missing file.
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw fsFailure(error, wildcard.folder === "." ? "." : wildcard.folder);
  }
  return entries
    .filter((entry) => wildcard.regex.test(entry.name) && deletable(entry.path, shownPath(wildcard, entry.name)))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A regular file or a link, as lstat of the exact entry says (gone since the listing: no). */
function deletable(path: FsPath, shown: string): boolean {
  const stat = entryAt(path, shown);
  return stat !== undefined && (stat.isFile() || stat.isSymbolicLink());
}

/** A matched file as the user would write it: their folder as written, then the name as shown. */
function shownPath(wildcard: Wildcard, name: string): string {
  return wildcard.folder === "." ? name : `${wildcard.folder}${name}`;
}
