/**
 * @module modules/_s3-download: S3Download's work — one object to a file, or every object under
 * `prefix/*` into a folder, each streamed through a temporary file and renamed into place.
 * An object key that would land outside the destination folder is refused, never written.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { StepError } from "../errors.ts";
import type { ModuleContext } from "./_define.ts";
import { temporaryBeside } from "./_download.ts";
import { absolute } from "./_fs.ts";
import { parseS3Uri } from "./_inputs.ts";

/** Objects one prefix download may fetch (modules.md §3: 1000, inferred). */
export const MAX_PREFIX_OBJECTS = 1000;

export interface S3DownloadItem {
  source: string;
  destination: string;
  expectedBucketOwner?: string;
  overwrite: boolean;
}

export async function downloadItem(item: S3DownloadItem, ctx: ModuleContext): Promise<void> {
  const uri = parseS3Uri(item.source);
  if (uri === undefined || uri.key === "") throw new StepError(`'${item.source}' is not an S3 object URI (s3://bucket/key)`);
  const options = { ...(item.expectedBucketOwner ? { expectedBucketOwner: item.expectedBucketOwner } : {}), signal: ctx.signal };
  const target = absolute(ctx, item.destination);
  if (!uri.key.endsWith("*")) {
    if (!existsSync(dirname(target))) throw new StepError(`destination folder does not exist: '${dirname(item.destination) || "."}'`);
    await fetchTo(ctx, uri.bucket, uri.key, target, item, options);
    return;
  }
  const prefix = uri.key.slice(0, -1);
  const keys = await ctx.s3.listKeys(uri.bucket, prefix, MAX_PREFIX_OBJECTS, options);
  if (keys.length === 0) throw new StepError(`no objects under s3://${uri.bucket}/${prefix}`);
  mkdirSync(target, { recursive: true });
  let done = 0;
  for (const key of keys) {
    const file = insideFolder(target, key.slice(prefix.length), key);
    try {
      if (key.endsWith("/")) mkdirSync(file, { recursive: true });
      else {
        mkdirSync(dirname(file), { recursive: true });
        await fetchTo(ctx, uri.bucket, key, file, { ...item, destination: relative(ctx.cwd, file) }, options);
      }
    } catch (error) {
      throw new StepError(`${(error as Error).message} (${done} of ${keys.length} objects under the prefix were already downloaded)`);
    }
    done++;
  }
  ctx.log.info(`downloaded ${done} object(s) from s3://${uri.bucket}/${prefix}`);
}

/** The local path for a key below the prefix; refuses `..`, absolute keys and drive letters. */
export function insideFolder(folder: string, rest: string, key: string): string {
  const parts = rest.split(/[\\/]/).filter((p) => p !== "");
  const unsafe = isAbsolute(rest) || /^[A-Za-z]:/.test(rest) || rest.startsWith("/") || rest.startsWith("\\") || parts.some((p) => p === ".." || p === ".");
  const path = join(folder, ...parts);
  if (unsafe || parts.length === 0 || !(path === folder || path.startsWith(folder + sep))) {
    throw new StepError(`refusing object key '${key}': it would be written outside the destination folder`);
  }
  return path;
}

async function fetchTo(ctx: ModuleContext, bucket: string, key: string, target: string, item: S3DownloadItem, options: { expectedBucketOwner?: string; signal: AbortSignal }): Promise<void> {
  if (existsSync(target)) {
    if (statSync(target).isDirectory()) throw new StepError(`'${item.destination}' is a folder; give a file path as destination`);
    if (!item.overwrite) {
      throw new StepError(`File already exists and "overwrite" property for "destination" file is set to false. Cannot download. ('${item.destination}')`);
    }
  }
  const body = await ctx.s3.getObject(bucket, key, options);
  const temporary = await temporaryBeside(target);
  try {
    for await (const chunk of body) await temporary.write(chunk);
    await temporary.commit(target, item.overwrite);
  } catch (error) {
    await temporary.discard();
    if (error instanceof StepError) throw error;
    throw new StepError(`cannot download s3://${bucket}/${key} to '${item.destination}': ${(error as Error).message}`);
  }
}
