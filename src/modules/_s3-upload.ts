/**
 * @module modules/_s3-upload: which local files S3Upload sends and under which keys
 * (docs/modules.md#s3upload). Symlinked folders are not entered; a symlinked file is sent
 * with its target's content, as `aws s3 cp` does. Folders are listed by names as bytes and each
 * entry classified by lstat of its exact path (see "names as bytes" in _fs.ts), so a name that is
 * not UTF-8 never leads into the entry its lossy decoding names (a planted link to a folder whose
 * files would be sent); a file with such a name has no S3 key and stops the upload before anything
 * is sent.
 *
 * The files go up several at once (uploadAll) under the step's TransferLimit: at most
 * `concurrency` requests in flight and about `concurrency × partSize` bytes held by them; a file
 * larger than one part is a multipart upload whose parts draw on the same budget.
 */
import { lstatSync, statSync, type Stats } from "node:fs";
import { basename } from "node:path";
import { StepError } from "../errors.ts";
import type { S3UploadOptions } from "../model/ports.ts";
import { TransferLimit, type TransferSettings } from "../model/transfer-limit.ts";
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

/** S3 takes parts of 5 MiB and more (but the last), and at most 10,000 parts per object. */
const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

/** How one file of `size` bytes goes up. */
export interface FilePlan {
  /** More than one part: CreateMultipartUpload, parts, CompleteMultipartUpload. */
  multipart: boolean;
  partSize: number;
  /** Parts of this file in flight at once (1 for a single PutObject). */
  partConcurrency: number;
  /** Bytes a single PutObject holds while it is sent (the whole file); 0 for multipart. */
  bytes: number;
}

/**
 * Pure: one PutObject up to one part, otherwise multipart with parts of the configured size (at
 * least S3's 5 MiB, and large enough for 10,000 parts to hold the file) and as many in flight as
 * the concurrency allows, never more than there are parts.
 */
export function planFile(size: number, settings: Pick<TransferSettings, "partSize" | "concurrency">): FilePlan {
  const partSize = Math.max(settings.partSize, MIN_PART_SIZE, Math.ceil(size / MAX_PARTS));
  if (size <= partSize) return { multipart: false, partSize, partConcurrency: 1, bytes: size };
  return { multipart: true, partSize, partConcurrency: Math.max(1, Math.min(settings.concurrency, Math.ceil(size / partSize))), bytes: 0 };
}

/**
 * Sends `uploads` to `bucket`, several at once, and returns their s3:// URIs in the order planned.
 * - At most `settings.concurrency` files are being worked on at once. A single-request file first
 *   takes a lease of its size from the step's TransferLimit before it is read; the requests of a
 *   multipart file take theirs one by one inside the port, each part's before its bytes are read
 *   (aws/_multipart-upload.ts), so everything in flight, whole files and parts, is within the one
 *   limit on requests and bytes.
 * - The first failure stops the rest: no further file starts, multipart uploads under way are
 *   stopped (the port aborts them: S3 keeps no parts), and single-request files already on their
 *   way are let finish (a part's size at most), so the count of files uploaded is exact. That
 *   failure is the one reported, with the count. The step's signal (time limit, SIGTERM) stops
 *   everything at once; files stopped in flight then may or may not have reached S3 whole.
 * With concurrency 1 this is the serial path: one file after another, one part at a time.
 */
export async function uploadAll(
  uploads: readonly { file: string; key: string }[],
  bucket: string,
  base: Pick<S3UploadOptions, "expectedBucketOwner">,
  settings: TransferSettings,
  ctx: Pick<ModuleContext, "s3" | "signal">,
): Promise<string[]> {
  const limit = new TransferLimit(settings.concurrency, settings.maxBytes);
  // `stop`: the step's signal or the first failure — no new file starts, multipart uploads end.
  const stop = new AbortController();
  const follow = () => stop.abort(ctx.signal.reason);
  if (ctx.signal.aborted) follow();
  else ctx.signal.addEventListener("abort", follow, { once: true });
  let next = 0;
  let done = 0;
  let failure: { error: unknown; waiting: boolean } | undefined;
  const stopped = (key: string) => new StepError(`cannot upload to s3://${bucket}/${key}: stopped before it finished`);
  const one = async (upload: { file: string; key: string }) => {
    const plan = planFile(sizeOf(upload.file), settings);
    const options: S3UploadOptions = { ...base, partSize: plan.partSize, partConcurrency: plan.partConcurrency };
    if (plan.multipart) return ctx.s3.putFile(bucket, upload.key, upload.file, { ...options, signal: stop.signal, limit });
    const lease = await limit.acquire(plan.bytes, stop.signal).catch(() => {
      throw Object.assign(stopped(upload.key), { waiting: true });
    });
    try {
      await ctx.s3.putFile(bucket, upload.key, upload.file, { ...options, signal: ctx.signal });
    } finally {
      lease.release();
    }
  };
  const worker = async () => {
    while (!stop.signal.aborted && next < uploads.length) {
      const upload = uploads[next++]!;
      try {
        await one(upload);
        done++;
      } catch (error) {
        // A stop that ended a wait is reported only when nothing better is known.
        const waiting = (error as { waiting?: boolean }).waiting === true;
        if (failure === undefined || (failure.waiting && !waiting)) failure = { error, waiting };
        stop.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(settings.concurrency, uploads.length) }, worker));
  } finally {
    ctx.signal.removeEventListener("abort", follow);
  }
  // Stopped before every file had its turn, with nothing under way to say so: the first file
  // left out is named (a step never succeeds with files missing).
  if (failure === undefined && done < uploads.length) failure = { error: stopped(uploads[Math.min(next, uploads.length - 1)]!.key), waiting: true };
  if (failure !== undefined) {
    // Objects already sent stay in S3 (docs/modules.md#s3upload): say how many.
    const sent = done === 0 ? "" : ` (${done} of ${uploads.length} files were already uploaded)`;
    throw new StepError(`${messageOf(failure.error)}${sent}`);
  }
  return uploads.map((upload) => `s3://${bucket}/${upload.key}`);
}

/** The file's size now (the plan only; the upload reads whatever is there). */
function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch (error) {
    throw fsFailure(error, file);
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : "stopped before it finished";
}
