/** @module modules/list-files: ListFiles — list files in a folder. */
import { Type } from "@sinclair/typebox";
import { lstatSync, statSync, type Stats } from "node:fs";
import { StepError } from "../errors.ts";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule, type InputOf, type ModuleContext } from "./_define.ts";
import { absolute, forEachOperation, fsFailure, isWindows, listFolder, shownPath, wildcardRegex, type FolderEntry, type FsPath } from "./_fs.ts";

/** One element of `inputs`. */
const inputSchema = () =>
  Fields({
    path: Text({ minLength: 1, description: "the folder" }),
    fileNamePattern: Type.Optional(Text({ description: "file names to include; * is a wildcard (default all)" })),
    recursive: Type.Optional(Flag({ default: false, description: "look in sub-folders too (default false)" })),
  });

type Item = InputOf<typeof inputSchema>;

export default defineModule({
  name: "ListFiles",
  summary: "Lists files (not folders) in a folder whose names match a pattern; output files, comma-separated.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: inputSchema,
  output: () => Fields({
    files: Text({ description: "full paths, comma-separated, sorted; a byte of a name that is not UTF-8 is shown as \\xHH (such a path is for reading, not for later steps)" }),
  }),
  async execute(items, ctx) {
    const lists: Listed[][] = [];
    await forEachOperation(items, (item) => item.path, (item) => {
      lists.push(listFiles(item, ctx));
    });
    // Each element's files sorted, elements in the order written (docs/modules.md#listfiles: "join all
    // results"); an element that found nothing adds nothing, not an empty entry.
    const listed = lists.flat();
    warnNotText(listed.filter((file) => !file.exact).map((file) => file.shown), ctx);
    const files = listed.map((file) => file.shown);
    const withComma = files.filter((file) => file.includes(","));
    if (withComma.length > 0) {
      ctx.log.warn(`${withComma.length} listed path(s) contain a comma, which also separates the paths in 'files': ${withComma.slice(0, 5).join(" | ")}`);
    }
    return { outputs: { files: files.join(",") } };
  },
});

/** A file found: its path as shown, and whether that is its exact path. */
interface Listed {
  shown: string;
  exact: boolean;
}

/**
 * A path whose names are not all UTF-8 cannot be given to a later step as text: it is listed as
 * shown (each such byte as \xHH, see "names as bytes" in _fs.ts) and the log says so, rather than
 * being left out of the list without a word.
 */
function warnNotText(shown: string[], ctx: ModuleContext): void {
  if (shown.length === 0) return;
  ctx.log.warn(
    `${shown.length} listed path(s) have names that are not valid UTF-8; 'files' shows each such byte as \\xHH, ` +
      `so these paths do not name the files for later steps: ${shown.slice(0, 5).join(" | ")}`,
  );
}

/**
 * The files in one folder (and its sub-folders with `recursive`) whose names match the pattern,
 * as absolute paths — the folder as written, made absolute from the working directory, joined with
 * the names below it (not resolved through symlinks, so the paths start where the user pointed),
 * sorted by code unit so the order does not depend on the locale.
 * - "Files" are regular files and symbolic links to regular files; folders, links to folders,
 *   dangling links and special files (devices, FIFOs, sockets) are not listed.
 * - The folder given may itself be a link to a folder (the user named it); links to folders found
 *   inside are never entered, so a link loop cannot hang the listing nor lead out of the tree.
 * - `*` matches any run of characters, hidden names included; an empty pattern means all files,
 *   like no pattern. The pattern applies to names, so a separator in it is an error.
 * - Names are read as bytes and each entry is classified by lstat of its exact path, so a name that
 *   is not UTF-8 is listed as the file it is (shown with \xHH bytes), never confused with the entry
 *   its lossy decoding names; the pattern is matched against the shown name.
 */
function listFiles(item: Item, ctx: ModuleContext): Listed[] {
  const written = item.path;
  if (written.trim() === "") throw new StepError("the path is empty");
  const regex = nameRegex(item.fileNamePattern, ctx);
  const root = absolute(ctx, written);
  const stat = statOf(root, written);
  if (!stat.isDirectory()) throw new StepError(`'${written}' is a file, not a folder`);
  const found: Listed[] = [];
  const folders: FsPath[] = [root];
  while (folders.length > 0) {
    const folder = folders.pop()!;
    for (const entry of entriesOf(folder, root, written)) {
      const kind = kindOf(entry.path);
      if (kind === "folder") {
        if (item.recursive === true) folders.push(entry.path);
      } else if (kind === "file" && regex.test(entry.name)) {
        found.push({ shown: shownPath(entry.path), exact: typeof entry.path === "string" });
      }
    }
  }
  return found.sort((a, b) => (a.shown < b.shown ? -1 : a.shown > b.shown ? 1 : 0));
}

function nameRegex(pattern: string | undefined, ctx: ModuleContext): RegExp {
  if (pattern === undefined || pattern === "") return /^/;
  if (pattern.includes("/") || (isWindows(ctx) && pattern.includes("\\"))) {
    throw new StepError(`fileNamePattern '${pattern}' must be a file name, without path separators`);
  }
  return wildcardRegex(pattern);
}

function statOf(path: string, written: string): Stats {
  try {
    return statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOTDIR") throw new StepError(`a part of '${written}' is a file, not a folder`);
    throw fsFailure(error, written);
  }
}

function entriesOf(folder: FsPath, root: string, written: string): FolderEntry[] {
  try {
    return listFolder(folder);
  } catch (error) {
    // A sub-folder that cannot be read would silently shorten the list: fail and name it.
    const shown = folder === root ? written : `${written.replace(/[\\/]+$/, "")}/${shownPath(folder).slice(root.length + 1)}`;
    throw fsFailure(error, shown);
  }
}

/**
 * A folder found inside (never a link to one), a file (a regular file or a link to one), or
 * something not listed — from lstat of the exact entry, not from the listing.
 */
function kindOf(path: FsPath): "folder" | "file" | "other" {
  let stat: Stats;
  try {
    stat = lstatSync(path);
  } catch {
    return "other"; // gone since the listing
  }
  if (stat.isDirectory()) return "folder";
  if (stat.isFile()) return "file";
  return stat.isSymbolicLink() && linkedFile(path) ? "file" : "other";
}

function linkedFile(path: FsPath): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false; // dangling, or a loop of links
  }
}
