/** @module modules/create-symlink: CreateSymlink — make symbolic links (Linux, macOS). */
import { Type } from "@sinclair/typebox";
import { lstatSync, mkdirSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, type Stats } from "node:fs";
import { createBeside } from "../safe-fs/durable.ts";
import { basename, dirname, isAbsolute, join, relative, sep } from "node:path";
import { StepError } from "../errors.ts";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule, type InputOf, type ModuleContext } from "./_define.ts";
import { absolute, forEachOperation, fsFailure, refuseRoot } from "./_fs.ts";
import { NoOutput } from "./_inputs.ts";

/** One element of `inputs`. */
const inputSchema = () =>
  Fields({
    path: Text({ minLength: 1, description: "where the link is created" }),
    target: Text({ minLength: 1, description: "what the link points to (must exist)" }),
    force: Type.Optional(Flag({ default: false, description: "replace an existing link (default false)" })),
  });

type Item = InputOf<typeof inputSchema>;

export default defineModule({
  name: "CreateSymlink",
  summary: "Creates symbolic links pointing at existing targets.",
  platforms: ["linux", "macos"],
  shape: "list",
  input: inputSchema,
  output: NoOutput,
  async execute(items, ctx) {
    await forEachOperation(items, (item) => item.path, (item) => createSymlink(item, ctx));
    return { outputs: {} };
  },
});

/**
 * `ln -s target path`, with the checks of docs/modules.md#createsymlink:
 * - `path` (the link) is taken from the working directory when relative; a trailing separator is
 *   dropped (the link is named without it). `target` is stored exactly as written, so a relative
 *   target stays relative and is read from the link's folder, as the system will read it.
 * - The target must exist (a dangling link is an error, and so is a target reached only through a
 *   dangling link). It is checked before anything changes, and before parent folders are created.
 * - Something that is not a symlink at `path` is never replaced, even with `force`; an existing
 *   link is replaced only with `force`, atomically (a new link beside it renamed over it), so the
 *   path never stops existing — even when the link already points where asked, so a re-run without
 *   `force` fails as the spec says.
 */
function createSymlink(item: Item, ctx: ModuleContext): void {
  const written = item.path;
  if (written.trim() === "") throw new StepError("the path is empty");
  if (item.target.trim() === "") throw new StepError("the target is empty");
  const link = absolute(ctx, written);
  refuseRoot(written, link);
  requireTarget(link, item.target);
  const existing = entryAt(link, written);
  if (existing !== undefined) {
    if (!existing.isSymbolicLink()) {
      const what = existing.isDirectory() ? "a folder" : "a file";
      throw new StepError(`'${written}' already exists and is ${what}, not a symbolic link; CreateSymlink replaces only symbolic links, even with force`);
    }
    if (item.force !== true) {
      throw new StepError(`'${written}' is already a symbolic link (to '${currentTarget(link)}'); set force: true to replace it`);
    }
    replaceLink(link, item.target, written);
    return;
  }
  try {
    mkdirSync(dirname(link), { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTDIR") throw new StepError(`a part of '${written}' is a file, not a folder`);
    throw fsFailure(error, written);
  }
  try {
    symlinkSync(item.target, link);
  } catch (error) {
    throw fsFailure(error, written);
  }
}

/**
 * Fails unless `target` exists as the link will see it. With the link's folder in place, the
 * system itself resolves `<folder>/<target>` (so `..` after a symlinked folder goes where the link
 * will go). Folders still to be created will be plain, empty folders: the target's leading `..`
 * walk back up through them as text, and the rest is resolved by the system from the real path of
 * the deepest folder that exists.
 */
function requireTarget(link: string, target: string): void {
  const folder = dirname(link);
  const seen = isAbsolute(target) ? target : lookupPath(folder, target);
  try {
    if (seen === undefined) throw Object.assign(new Error("inside a folder still to be created"), { code: "ENOENT" });
    statSync(seen);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      const from = isAbsolute(target) ? "" : ` (looked for from '${folder}')`;
      throw new StepError(`target '${target}' does not exist${from}`);
    }
    if (code === "ELOOP") throw new StepError(`target '${target}' is a loop of symbolic links`);
    throw fsFailure(error, target);
  }
}

/**
 * Where the system will look for a relative `target` from `folder`; undefined when that is inside
 * folders still to be created (new folders are empty, so nothing is there).
 */
function lookupPath(folder: string, target: string): string | undefined {
  let existing = folder;
  while (!isFolder(existing)) {
    const parent = dirname(existing);
    if (parent === existing) return `${folder}/${target}`;
    existing = parent;
  }
  if (existing === folder) return `${folder}/${target}`;
  const missing = relative(existing, folder).split(sep);
  const segments = target.split("/");
  let next = 0;
  for (; next < segments.length && missing.length > 0; next++) {
    const segment = segments[next]!;
    if (segment === "..") missing.pop();
    else if (segment !== "" && segment !== ".") return undefined;
  }
  let real: string;
  try {
    real = realpathSync(existing);
  } catch {
    return `${folder}/${target}`;
  }
  // A target that ends in a folder to be created (`ln -s .. new/sub/link`) will exist by then.
  if (missing.length > 0) return real;
  const rest = segments.slice(next).join("/");
  return rest === "" ? real : `${real}/${rest}`;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** What is at `link` itself, or undefined for nothing — unlike _fs.entryAt, a file where a folder should be is an error here (the link could not be made). */
function entryAt(link: string, written: string): Stats | undefined {
  try {
    return lstatSync(link);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ENOTDIR") throw new StepError(`a part of '${written}' is a file, not a folder`);
    throw fsFailure(error, written);
  }
}

function currentTarget(link: string): string {
  try {
    return readlinkSync(link);
  } catch {
    return "?";
  }
}

/**
 * A new link under a random name beside the old one, renamed over it: rename replaces a symlink
 * atomically, so readers see the old link or the new one, never neither. symlink() fails rather
 * than reuse a name someone planted.
 */
function replaceLink(link: string, target: string, written: string): void {
  let temporary: string;
  try {
    temporary = createBeside(link, (name) => symlinkSync(target, name)).path;
  } catch (error) {
    throw fsFailure(error, written);
  }
  try {
    renameSync(temporary, link);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw fsFailure(error, written);
  }
}
