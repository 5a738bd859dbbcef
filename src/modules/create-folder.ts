/** @module modules/create-folder: CreateFolder — make folders and their parents. */
import { Type } from "@sinclair/typebox";
import { lstatSync, mkdirSync, statSync, type Stats } from "node:fs";
import { dirname } from "node:path";
import { StepError } from "../errors.ts";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule, type InputOf, type ModuleContext } from "./_define.ts";
import { absolute, forEachOperation, fsFailure, isWindows, refuseRoot } from "./_fs.ts";
import { NoOutput, Permissions } from "./_inputs.ts";
import { ownership, parseMode } from "./_owner.ts";
import { finish, type Metadata } from "./_text-file.ts";

/** A new folder without `permissions` gets what `mkdir` gives: 0777 less the umask (docs/modules.md#createfolder). */
const NEW_FOLDER_MODE = 0o777;

/** One element of `inputs`. */
const inputSchema = () =>
  Fields({
    path: Text({ minLength: 1, description: "the folder to create" }),
    owner: Type.Optional(Text({ minLength: 1, description: "user name or id (not on Windows)" })),
    group: Type.Optional(Text({ minLength: 1, description: "group name or id (not on Windows)" })),
    permissions: Type.Optional(Permissions("octal mode such as 0755 (not on Windows)")),
    overwrite: Type.Optional(Flag({ default: true, description: "accept an existing folder (default true)" })),
  });

type Item = InputOf<typeof inputSchema>;

export default defineModule({
  name: "CreateFolder",
  summary: "Creates folders and missing parents; existing folders keep their contents.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: inputSchema,
  output: NoOutput,
  notOnWindows: ["owner", "group", "permissions"],
  async execute(items, ctx) {
    await forEachOperation(items, (item) => item.path, (item) => createFolder(item, ctx));
    return { outputs: {} };
  },
});

/**
 * Like `mkdir -p`, then owner, group and exact permissions for the named folder only — parents
 * created on the way get the defaults (root's, 0777 less the umask), as `mkdir -p -m` does.
 * An existing folder is accepted with `overwrite: true` and its contents are never touched
 * (docs/modules.md#createfolder); owner/group/permissions given are applied to it. A symlink to a folder counts as the
 * folder (as for `mkdir -p`), so the folder it leads to gets them.
 */
function createFolder(item: Item, ctx: ModuleContext): void {
  const written = item.path;
  if (written.trim() === "") throw new StepError("the path is empty");
  const target = absolute(ctx, written);
  // Everything that can be wrong with the inputs is found before the disk is touched.
  const wanted = metadata(item, ctx);
  const existing = folderAt(target, written);
  if (existing !== undefined) {
    if (item.overwrite === false) throw new StepError(`'${written}' already exists and overwrite is false`);
    // The root always exists and "creating" it is harmless, but no one means to give `/` (or a
    // drive root) a new owner or mode through CreateFolder.
    if (wanted.ids !== undefined || wanted.mode !== undefined) refuseRoot(written, target);
    apply(target, written, wanted);
    return;
  }
  makeParents(target, written);
  try {
    // Created with permission bits no wider than the final ones, so the folder is never more open
    // than asked for, even for the moment before chmod.
    mkdirSync(target, { mode: (wanted.mode ?? NEW_FOLDER_MODE) & 0o777 });
  } catch (error) {
    // Someone else created it between the check and now: it is then an existing folder.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST" || folderAt(target, written) === undefined) throw failure(error, written);
    if (item.overwrite === false) throw new StepError(`'${written}' already exists and overwrite is false`);
  }
  apply(target, written, wanted);
}

function metadata(item: Item, ctx: ModuleContext): Metadata {
  // The validator refuses these on Windows; a resolved reference cannot bring them back in.
  if (isWindows(ctx)) return {};
  const wanted: Metadata = {};
  const ids = ownership(item.owner, item.group);
  if (ids !== undefined) wanted.ids = ids;
  if (item.permissions !== undefined) wanted.mode = parseMode(item.permissions);
  return wanted;
}

/** The folder at `target` (symlinks followed), undefined when nothing is there; anything else fails. */
function folderAt(target: string, written: string): Stats | undefined {
  let stat: Stats;
  try {
    stat = statSync(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") throw new StepError(`a part of '${written}' is a file, not a folder`);
    if (code !== "ENOENT") throw fsFailure(error, written);
    if (isDanglingLink(target)) throw new StepError(`'${written}' is a symbolic link to something that does not exist`);
    return undefined;
  }
  if (!stat.isDirectory()) throw new StepError(`'${written}' already exists and is a file, not a folder`);
  return stat;
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function makeParents(target: string, written: string): void {
  try {
    mkdirSync(dirname(target), { recursive: true });
  } catch (error) {
    throw failure(error, written);
  }
}

/** mkdir reports a file in the way as EEXIST or ENOTDIR; "already exists" would mislead. */
function failure(error: unknown, written: string): StepError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EEXIST" || code === "ENOTDIR") return new StepError(`a part of '${written}' is a file, not a folder`);
  return fsFailure(error, written);
}

/** Owner first, then mode: chown clears setgid bits, and an exact mode must survive it. */
function apply(target: string, written: string, wanted: Metadata): void {
  if (wanted.ids === undefined && wanted.mode === undefined) return;
  try {
    finish(target, wanted.ids, wanted.mode);
  } catch (error) {
    throw fsFailure(error, written);
  }
}
