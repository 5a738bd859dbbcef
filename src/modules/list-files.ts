/** @module modules/list-files: ListFiles — list files in a folder. */
import { Type } from "@sinclair/typebox";
import { lstatSync, readdirSync, statSync, type Dirent, type Stats } from "node:fs";
import { join } from "node:path";
import { StepError } from "../errors.ts";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule, type ModuleContext } from "./_define.ts";
import { absolute, forEachOperation, fsFailure, isWindows, wildcardRegex } from "./_fs.ts";

interface ListFilesInput {
  path: string;
  fileNamePattern?: string;
  recursive?: boolean;
}

export default defineModule({
  name: "ListFiles",
  summary: "Lists files (not folders) in a folder whose names match a pattern; output files, comma-separated.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: Fields({
    path: Text({ minLength: 1, description: "the folder" }),
    fileNamePattern: Type.Optional(Text({ description: "file names to include; * is a wildcard (default all)" })),
    recursive: Type.Optional(Flag({ default: false, description: "look in sub-folders too (default false)" })),
  }),
  output: Fields({ files: Text({ description: "full paths, comma-separated, sorted" }) }),
  async execute(input, ctx) {
    const items = input as ListFilesInput[];
    const lists: string[][] = [];
    await forEachOperation(items, (item) => item.path, (item) => {
      lists.push(listFiles(item, ctx));
    });
    // Each element's files sorted, elements in the order written (modules.md §4: "join all
    // results"); an element that found nothing adds nothing, not an empty entry.
    const files = lists.flat();
    const withComma = files.filter((file) => file.includes(","));
    if (withComma.length > 0) {
      ctx.log.warn(`${withComma.length} listed path(s) contain a comma, which also separates the paths in 'files': ${withComma.slice(0, 5).join(" | ")}`);
    }
    return { outputs: { files: files.join(",") } };
  },
});

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
 */
function listFiles(item: ListFilesInput, ctx: ModuleContext): string[] {
  const written = item.path;
  if (written.trim() === "") throw new StepError("the path is empty");
  const regex = nameRegex(item.fileNamePattern, ctx);
  const root = absolute(ctx, written);
  const stat = statOf(root, written);
  if (!stat.isDirectory()) throw new StepError(`'${written}' is a file, not a folder`);
  const found: string[] = [];
  const folders = [root];
  while (folders.length > 0) {
    const folder = folders.pop()!;
    for (const entry of entriesOf(folder, root, written)) {
      const path = join(folder, entry.name);
      const kind = kindOf(entry, path);
      if (kind === "folder") {
        if (item.recursive === true) folders.push(path);
      } else if (kind === "file" && regex.test(entry.name)) {
        found.push(path);
      }
    }
  }
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
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

function entriesOf(folder: string, root: string, written: string): Dirent[] {
  try {
    return readdirSync(folder, { withFileTypes: true });
  } catch (error) {
    // A sub-folder that cannot be read would silently shorten the list: fail and name it.
    const shown = folder === root ? written : `${written.replace(/[\\/]+$/, "")}/${folder.slice(root.length + 1)}`;
    throw fsFailure(error, shown);
  }
}

/**
 * A folder found inside (never a link to one), a file (a regular file or a link to one), or
 * something not listed. Listings that do not say the type are asked with stat.
 */
function kindOf(entry: Dirent, path: string): "folder" | "file" | "other" {
  if (entry.isDirectory()) return "folder";
  if (entry.isFile()) return "file";
  if (entry.isSymbolicLink()) return linkedFile(path) ? "file" : "other";
  if (entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice()) return "other";
  try {
    const stat = lstatSync(path);
    if (stat.isDirectory()) return "folder";
    if (stat.isFile()) return "file";
    return stat.isSymbolicLink() && linkedFile(path) ? "file" : "other";
  } catch {
    return "other"; // gone since the listing
  }
}

function linkedFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false; // dangling, or a loop of links
  }
}
