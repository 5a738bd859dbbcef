/**
 * @module modules/_s3-upload: which local files S3Upload sends and under which keys
 * (modules.md §3 S3Upload table). Symlinked folders are not entered; a symlinked file is sent
 * with its target's content, as `aws s3 cp` does.
 */
import { readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { StepError } from "../errors.ts";
import type { ModuleContext } from "./_define.ts";
import { absolute, fsFailure, isWindows, splitWildcard } from "./_fs.ts";
import { parseS3Uri } from "./_inputs.ts";

export interface S3UploadItem {
  source: string;
  destination: string;
  recurse: boolean;
  expectedBucketOwner?: string;
}

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
      const path = join(folder, entry.name);
      const kind = kindOf(path, entry.isSymbolicLink());
      if (kind === "file") found.push({ file: path, relative: entry.name });
      else if (kind === "folder" && item.recurse) found.push(...walk(path, `${entry.name}/`, item.source));
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

function list(folder: string, written: string) {
  try {
    return readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    throw fsFailure(error, written);
  }
}

function kindOf(path: string, symlink: boolean): "file" | "folder" | "other" {
  try {
    const info = statSync(path);
    if (info.isFile()) return "file";
    return info.isDirectory() && !symlink ? "folder" : "other";
  } catch {
    return "other";
  }
}

/** Every file below `folder` (iteratively), keys relative to it with `/` separators. */
function walk(folder: string, prefix: string, written: string): { file: string; relative: string }[] {
  const out: { file: string; relative: string }[] = [];
  const pending = [{ folder, prefix }];
  while (pending.length > 0) {
    const { folder: current, prefix: rel } = pending.shift()!;
    for (const entry of list(current, written)) {
      const path = join(current, entry.name);
      const kind = kindOf(path, entry.isSymbolicLink());
      if (kind === "file") out.push({ file: path, relative: `${rel}${entry.name}` });
      else if (kind === "folder") pending.push({ folder: path, prefix: `${rel}${entry.name}/` });
    }
  }
  return out;
}
