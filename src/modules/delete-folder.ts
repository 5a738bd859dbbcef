/** @module modules/delete-folder: DeleteFolder — remove folders. */
import { Type } from "@sinclair/typebox";
import { lstatSync, realpathSync, rmdirSync, rmSync, unlinkSync } from "node:fs";
import { sep } from "node:path";
import { StepError } from "../errors.ts";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule, type InputOf, type ModuleContext } from "./_define.ts";
import { absolute, entryAt, forEachOperation, fsFailure, listFolder, refuseRoot, type FolderEntry, type FsPath } from "./_fs.ts";
import { NoOutput } from "./_inputs.ts";

/** One element of `inputs`. */
const inputSchema = () =>
  Fields({
    path: Text({ minLength: 1, description: "the folder to delete" }),
    force: Type.Optional(Flag({ default: false, description: "delete contents too (default false)" })),
  });

type Item = InputOf<typeof inputSchema>;

export default defineModule({
  name: "DeleteFolder",
  summary: "Deletes folders; a folder that is not empty needs force: true.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: inputSchema,
  output: NoOutput,
  async execute(items, ctx) {
    await forEachOperation(items, (item) => item.path, (item) => deleteFolder(item, ctx));
    return { outputs: {} };
  },
});

/**
 * `rmdir`, or `rm -r` with `force` (docs/modules.md#deletefolder). A folder that is not there is success (the log says so). Refused, before anything is deleted:
 * - an empty path, `/` and drive roots, also when reached through `..` or a symlinked parent;
 * - the run's working directory and every folder above it: relative paths of later steps (and of
 *   nested documents) are taken from there, and losing it is never what a document means;
 * - a file, and a symbolic link — even one to a folder: the link is not the folder, and deleting
 *   what it points to would leave the tree the user named (DeleteFile removes the link itself).
 * With `force`, links inside the tree are removed as links and never followed, so nothing outside
 * the folder is touched (fs.rmSync works from lstat and takes names as bytes, so a name that is not
 * UTF-8 is no way out either; test/modules/delete-folder.test.ts and hostile-names.test.ts check it).
 */
function deleteFolder(item: Item, ctx: ModuleContext): void {
  const written = item.path;
  if (written.trim() === "") throw new StepError("the path is empty");
  const target = absolute(ctx, written);
  refuseRoot(written, target);
  const stat = entryAt(target, written);
  if (stat === undefined) {
    ctx.log.info(`'${written}' does not exist; nothing to delete`);
    return;
  }
  if (stat.isSymbolicLink()) {
    throw new StepError(`'${written}' is a symbolic link, not a folder; DeleteFolder does not follow links (DeleteFile deletes the link itself)`);
  }
  if (!stat.isDirectory()) throw new StepError(`'${written}' is a file, not a folder (DeleteFile deletes files)`);
  refuseWorkingDirectory(target, written, ctx);
  if (item.force === true) removeTree(target, written);
  else removeEmpty(target, written);
  ctx.log.info(`deleted '${written}'`);
}

/**
 * Compares real paths, so `..`, symlinked parents and the root reached through them are seen for
 * what they are.
 */
function refuseWorkingDirectory(target: string, written: string, ctx: ModuleContext): void {
  const real = realPath(target, written);
  refuseRoot(written, real);
  let cwd: string;
  try {
    cwd = realpathSync(ctx.cwd);
  } catch {
    return; // the working directory is already gone: nothing left to protect
  }
  if (cwd === real || cwd.startsWith(real.endsWith(sep) ? real : real + sep)) {
    throw new StepError(`refusing to delete '${written}': it holds the working directory '${ctx.cwd}' that relative paths are taken from`);
  }
}

function realPath(path: string, written: string): string {
  try {
    return realpathSync(path);
  } catch (error) {
    throw fsFailure(error, written);
  }
}

function removeEmpty(target: string, written: string): void {
  try {
    rmdirSync(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") {
      throw new StepError(`folder '${written}' is not empty; set force: true to delete it with its contents`);
    }
    if (code === "ENOENT") return; // deleted meanwhile: what was asked for is true
    throw fsFailure(error, written);
  }
}

/**
 * The whole tree, native and fast (the benchmark compares it with `rm -r`). When that fails, the
 * runtimes name only the top folder (Bun) or a wrong entry (Node 20's ENOTDIR), so what is left is
 * deleted again entry by entry, which stops at the exact entry that cannot go and names it. What
 * was deleted before the failure stays deleted.
 */
function removeTree(target: string, written: string): void {
  try {
    rmSync(target, { recursive: true, force: false });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && entryAt(target, written) === undefined) return; // deleted meanwhile
  }
  const cursor = { relative: "" };
  try {
    removeEntries(target, cursor);
  } catch (error) {
    const shown = cursor.relative === "" ? written : `${written.replace(/[\\/]+$/, "")}/${cursor.relative}`;
    throw new StepError(`${fsFailure(error, shown).message}; part of '${written}' may already have been deleted`);
  }
}

interface Frame {
  path: FsPath;
  relative: string;
  entries: FolderEntry[];
  next: number;
}

/**
 * Post-order removal with an explicit stack (no recursion limit on deep trees). Names are read as
 * bytes and entries classified with lstat of their exact paths (see "names as bytes" in _fs.ts),
 * so a link is unlinked and never entered, and a name that is not UTF-8 is removed itself rather
 * than the entry its lossy decoding names. `cursor` names the entry being removed (as shown), for
 * the error message.
 */
function removeEntries(root: string, cursor: { relative: string }): void {
  const stack: Frame[] = [{ path: root, relative: "", entries: listFolder(root), next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.entries.length) {
      stack.pop();
      cursor.relative = top.relative;
      rmdirSync(top.path);
      continue;
    }
    const entry = top.entries[top.next++]!;
    cursor.relative = top.relative === "" ? entry.name : `${top.relative}/${entry.name}`;
    if (lstatSync(entry.path).isDirectory()) stack.push({ path: entry.path, relative: cursor.relative, entries: listFolder(entry.path), next: 0 });
    else unlinkSync(entry.path);
  }
}
