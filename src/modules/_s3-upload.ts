/**
 * @module modules/_s3-upload: which local files S3Upload sends and under which keys
 * (docs/modules.md#s3upload). Symlinked folders are not entered; a symlinked file is sent
 * with its target's content, as `aws s3 cp` does. Folders are listed by names as bytes and each
 * entry classified by lstat of its exact path (see "names as bytes" in _fs.ts), so a name that is
 * not UTF-8 never leads into the entry its lossy decoding names (a planted link to a folder whose
 * files would be sent); a file with such a name has no S3 key and stops the upload before anything
 * is sent.
 */
import { lstatSync, statSync, type Stats } from "node:fs";
import { basename } from "node:path";
import { StepError } from "../errors.ts";
import type { ModuleContext } from "./_define.ts";
import type { S3UploadItem } from "./s3-upload.ts";
import { absolute, fsFailure, isWindows, listFolder, splitWildcard, type FolderEntry, type FsPath } from "./_fs.ts";
import { parseS3Uri } from "./_inputs.ts";

/** Local file → object key, in upload order. */
export function plannedUploads(item: S3UploadItem, ctx: ModuleContext): { file: string; key: string }[] {
  const uri = parseS3Uri(item.destination);
  if (uri === undefined) throw new StepError(`'${item.destination}' is not an S3 URI (s3://bucket/key or s3://bucket/prefix/)`);
  const asFolder = uri.key === "" || uri.key.endsWith("/");
  const several = (files: { file: string; relative: string }[]) => {
    if (files.length === 0) throw new StepError(`no files match source '${item.source}'`);
    if (!asFolder) throw new StepError(`'${item.destination}' must end with '/' to receive several files`);
    return files.map(({ file, relative }) => ({ file, key: `${uri.key}${relative}` }));
  };
  const wildcard = splitWildcard(item.source, isWindows(ctx));
  if (wildcard !== undefined) {
    const folder = absolute(ctx, wildcard.folder);
    const found: { file: string; relative: string }[] = [];
    for (const entry of list(folder, wildcard.folder).filter((e) => wildcard.regex.test(e.name))) {
      const kind = kindOf(entry.path);
      if (kind === "file") found.push({ file: nameable(entry.path, shownIn(wildcard.folder, entry.name)), relative: entry.name });
      else if (kind === "folder" && item.recurse) found.push(...walk(entry.path, `${entry.name}/`, wildcard.folder));
    }
    return several(found);
  }
  const source = absolute(ctx, item.source);
  let info;
  try {
    info = statSync(source);
  } catch (error) {
    throw fsFailure(error, item.source);
  }
  if (info.isDirectory()) {
    if (!item.recurse) throw new StepError(`source '${item.source}' is a folder; set recurse to true`);
    return several(walk(source, "", item.source));
  }
  return [{ file: source, key: asFolder ? `${uri.key}${basename(source)}` : uri.key }];
}

function list(folder: FsPath, written: string): FolderEntry[] {
  try {
    return listFolder(folder).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    throw fsFailure(error, written);
  }
}

/** From lstat of the exact entry: a link counts as a file when it leads to one, never as a folder. */
function kindOf(path: FsPath): "file" | "folder" | "other" {
  const own = statOrUndefined(path, lstatSync);
  if (own?.isSymbolicLink()) return statOrUndefined(path, statSync)?.isFile() ? "file" : "other";
  if (own?.isFile()) return "file";
  return own?.isDirectory() ? "folder" : "other";
}

function statOrUndefined(path: FsPath, stat: typeof lstatSync | typeof statSync): Stats | undefined {
  try {
    return stat(path);
  } catch {
    return undefined; // gone since the listing, or a dangling link
  }
}

/**
 * The path of a file to send, as text. A name that is not UTF-8 has no S3 key that stands for it
 * (keys are UTF-8 text), and the upload opens files by a text path: refused, by its shown name.
 */
function nameable(path: FsPath, shown: string): string {
  if (typeof path === "string") return path;
  throw new StepError(`cannot upload '${shown}': its name is not valid UTF-8 (shown with \\xHH bytes), and an S3 key is UTF-8 text`);
}

/**
 * Every file below `folder` (iteratively), keys relative to it with `/` separators, starting with
 * `prefix`. `base` is the written folder that `prefix` is relative to, for messages.
 */
function walk(folder: FsPath, prefix: string, base: string): { file: string; relative: string }[] {
  const out: { file: string; relative: string }[] = [];
  const pending = [{ folder, prefix }];
  while (pending.length > 0) {
    const { folder: current, prefix: rel } = pending.shift()!;
    for (const entry of list(current, shownIn(base, rel))) {
      const kind = kindOf(entry.path);
      const relative = `${rel}${entry.name}`;
      if (kind === "file") out.push({ file: nameable(entry.path, shownIn(base, relative)), relative });
      else if (kind === "folder") pending.push({ folder: entry.path, prefix: `${relative}/` });
    }
  }
  return out;
}

/** A path below the written folder `base`, as the user would write it. */
function shownIn(base: string, relative: string): string {
  if (relative === "") return base;
  if (base === ".") return relative;
  return /[\\/]$/.test(base) ? base + relative : `${base}/${relative}`;
}
