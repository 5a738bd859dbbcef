/**
 * @module modules/_s3-download: S3Download's work — one object to a file, or every object under
 * `prefix/*` into a folder, each streamed through a temporary file and renamed into place.
 *
 * A prefix download is planned before anything is written: every key must name a path inside the
 * destination folder (no `..`, no absolute or drive-letter keys), and no key may need another's
 * file to be a folder (`a.txt` and `a.txt/b`). A key ending in `/` is a folder (what the S3
 * console's "Create folder" makes): the prefix's own marker is skipped, any other one just creates
 * its folder. While writing, every path component below the destination is checked with lstat: a
 * symbolic link there (planted, or left by an earlier download) is refused, never written through,
 * and missing folders are made one at a time and checked the same way. (Node has no openat(), so
 * a link swapped in between the check and the write by someone who can already write inside the
 * destination is not caught; the destination is the document's choice, and the temporary file
 * itself is created exclusively, which never follows a link.)
 *
 * How the bytes come (docs/modules.md#s3download): with OPENTOE_S3_MAX_CONCURRENCY above 1 (the
 * default, 10), an object larger than one part (OPENTOE_S3_PART_SIZE, default 8 MiB) is fetched as
 * ranged GETs in parallel (modules/_s3-parts.ts), a smaller one in one GET, and a prefix's objects
 * several at a time — all under one TransferLimit per item: at most that many requests in flight
 * and concurrency × part size bytes held. The first object that fails stops the others (their
 * temporary files removed), and the message says how many were done. Finished objects are
 * listed in the step's log in the planned (key) order, not in the order they happened to end.
 * With OPENTOE_S3_MAX_CONCURRENCY=1 everything is one stream per object, one object at a time.
 */
import { existsSync, lstatSync, mkdirSync, readlinkSync, statSync, type Stats } from "node:fs";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { StepError } from "../errors.ts";
import type { ModuleContext } from "./_define.ts";
import type { S3DownloadItem } from "./s3-download.ts";
import type { S3FailureFacts, S3ObjectInfo, S3Port } from "../model/ports.ts";
import { TransferLimit, transferSettings } from "../model/transfer-limit.ts";
import { temporaryFileBeside } from "../safe-fs/durable.ts";
import { fetchParts } from "./_s3-parts.ts";
import { absolute, fsFailure } from "./_fs.ts";
import { parseS3Uri } from "./_inputs.ts";

/** Objects one prefix download may fetch (docs/modules.md#s3download: 1000, inferred). */
export const MAX_PREFIX_OBJECTS = 1000;

export async function downloadItem(item: S3DownloadItem, ctx: ModuleContext): Promise<void> {
  const uri = parseS3Uri(item.source);
  if (uri === undefined || uri.key === "") throw new StepError(`'${item.source}' is not an S3 object URI (s3://bucket/key)`);
  const options = { ...(item.expectedBucketOwner ? { expectedBucketOwner: item.expectedBucketOwner } : {}), signal: ctx.signal };
  const target = absolute(ctx, item.destination);
  const transfer = parallelTransfer(ctx.s3);
  if (!uri.key.endsWith("*")) {
    if (!existsSync(dirname(target))) throw new StepError(`destination folder does not exist: '${dirname(item.destination) || "."}'`);
    await fetchTo(ctx, uri.bucket, uri.key, target, item, options, transfer);
    return;
  }
  const prefix = uri.key.slice(0, -1);
  if (transfer !== undefined) return downloadPrefix(ctx, uri.bucket, prefix, target, item, options, transfer);
  const keys = await ctx.s3.listKeys(uri.bucket, prefix, MAX_PREFIX_OBJECTS, options);
  if (keys.length === 0) throw new StepError(`no objects under s3://${uri.bucket}/${prefix}`);
  const plan = planPrefix(target, prefix, keys);
  mkdirSync(target, { recursive: true });
  let done = 0;
  for (const entry of plan) {
    try {
      if (entry.folder) makeFolders(target, entry.parts, entry.key, item.destination);
      else {
        makeFolders(target, entry.parts.slice(0, -1), entry.key, item.destination);
        refuseLink(target, entry.parts, entry.key, item.destination);
        await fetchTo(ctx, uri.bucket, entry.key, entry.path, { ...item, destination: relative(ctx.cwd, entry.path) }, options);
        done++;
      }
    } catch (error) {
      const files = plan.filter((e) => !e.folder).length;
      throw new StepError(`${(error as Error).message} (${done} of ${files} objects under the prefix were already downloaded)`);
    }
  }
  const skipped = keys.length - plan.length;
  ctx.log.info(`downloaded ${done} object(s) from s3://${uri.bucket}/${prefix}${skipped > 0 ? ` (the prefix's own folder marker skipped)` : ""}`);
}

/** What a parallel download needs: the ranged operations of the port, the settings, one budget. */
interface Transfer {
  s3: Required<Pick<S3Port, "listObjects" | "headObject" | "getObjectRange">>;
  partSize: number;
  concurrency: number;
  limit: TransferLimit;
}

/** The parallel transfer for one item, or undefined for one stream (concurrency 1, or a port without ranges). */
function parallelTransfer(s3: S3Port): Transfer | undefined {
  const settings = transferSettings(process.env);
  if (settings.concurrency <= 1 || !s3.listObjects || !s3.headObject || !s3.getObjectRange) return undefined;
  return { s3: s3 as Transfer["s3"], partSize: settings.partSize, concurrency: settings.concurrency, limit: new TransferLimit(settings.concurrency, settings.maxBytes) };
}

/**
 * A prefix, several objects at a time: the same plan and per-object checks as one at a time, at
 * most `concurrency` objects in progress, their requests under the item's one budget. The first
 * failure stops the others and is reported after all of them have stopped.
 */
async function downloadPrefix(ctx: ModuleContext, bucket: string, prefix: string, target: string, item: S3DownloadItem, options: { expectedBucketOwner?: string; signal: AbortSignal }, transfer: Transfer): Promise<void> {
  const listed = await transfer.s3.listObjects(bucket, prefix, MAX_PREFIX_OBJECTS, options);
  if (listed.length === 0) throw new StepError(`no objects under s3://${bucket}/${prefix}`);
  const sizes = new Map(listed.map((object) => [object.key, object.size]));
  const plan = planPrefix(target, prefix, listed.map((object) => object.key));
  mkdirSync(target, { recursive: true });
  const stop = new AbortController();
  const follow = () => stop.abort(ctx.signal.reason);
  if (ctx.signal.aborted) follow();
  else ctx.signal.addEventListener("abort", follow, { once: true });
  const objects = new TransferLimit(transfer.concurrency, Number.POSITIVE_INFINITY);
  const finished = new Set<PlannedKey>();
  let first: unknown;
  try {
    await Promise.all(
      plan.map((entry) =>
        objects
          .run(
            0,
            async () => {
              if (entry.folder) makeFolders(target, entry.parts, entry.key, item.destination);
              else {
                makeFolders(target, entry.parts.slice(0, -1), entry.key, item.destination);
                refuseLink(target, entry.parts, entry.key, item.destination);
                await fetchTo(ctx, bucket, entry.key, entry.path, { ...item, destination: relative(ctx.cwd, entry.path) }, { ...options, signal: stop.signal }, transfer, sizes.get(entry.key));
                finished.add(entry);
              }
            },
            stop.signal,
          )
          .catch((error: unknown) => {
            first ??= error;
            stop.abort(error);
          }),
      ),
    );
  } finally {
    ctx.signal.removeEventListener("abort", follow);
  }
  const files = plan.filter((e) => !e.folder).length;
  if (first !== undefined) {
    throw new StepError(`${stoppedOr(first, bucket, `${prefix}*`).message} (${finished.size} of ${files} objects under the prefix were downloaded; the others were stopped or not started)`);
  }
  for (const entry of plan) if (finished.has(entry)) ctx.log.info(`downloaded s3://${bucket}/${entry.key} to '${relative(ctx.cwd, entry.path)}'`);
  const skipped = listed.length - plan.length;
  ctx.log.info(`downloaded ${finished.size} object(s) from s3://${bucket}/${prefix}${skipped > 0 ? ` (the prefix's own folder marker skipped)` : ""}`);
}

/** One key of a prefix download: the file (or folder) it becomes, as path parts below the destination. */
interface PlannedKey {
  key: string;
  parts: string[];
  path: string;
  /** The key ends with `/`: a folder marker, which makes a folder and downloads nothing. */
  folder: boolean;
}

/**
 * Every key's place below `folder`, checked before anything is written: keys that would leave the
 * folder are refused, the prefix's own folder marker is dropped, and a key whose path runs through
 * another key's file (`a.txt` and `a.txt/b`, or a file `a` and a folder marker `a/`) is an error
 * naming both.
 */
export function planPrefix(folder: string, prefix: string, keys: readonly string[]): PlannedKey[] {
  const plan: PlannedKey[] = [];
  for (const key of keys) {
    const rest = key.slice(prefix.length);
    const isFolder = key.endsWith("/");
    if (isFolder && rest.split(/[\\/]/).every((p) => p === "")) continue; // the prefix's own marker
    const path = insideFolder(folder, rest, key);
    plan.push({ key, parts: relative(folder, path).split(sep), path, folder: isFolder });
  }
  const files = new Map<string, string>();
  for (const entry of plan) {
    if (entry.folder) continue;
    const name = entry.parts.join("/");
    const other = files.get(name);
    if (other !== undefined) throw new StepError(`objects '${other}' and '${entry.key}' would both be written to '${name}'; nothing was downloaded`);
    files.set(name, entry.key);
  }
  for (const entry of plan) {
    const folders = entry.folder ? entry.parts.length : entry.parts.length - 1;
    for (let n = 1; n <= folders; n++) {
      const name = entry.parts.slice(0, n).join("/");
      const file = files.get(name);
      if (file !== undefined) {
        throw new StepError(
          `objects '${file}' and '${entry.key}' cannot both be downloaded: '${name}' would have to be a file for the first and a folder for the second; nothing was downloaded`,
        );
      }
    }
  }
  return plan;
}

/**
 * Makes the folders `parts` below `root` one at a time, refusing any that is (or is replaced by)
 * a symbolic link or is not a folder.
 */
function makeFolders(root: string, parts: readonly string[], key: string, destination: string): void {
  let current = root;
  for (const part of parts) {
    current = join(current, part);
    let stats = lstatOrUndefined(current, destination);
    if (stats === undefined) {
      try {
        mkdirSync(current);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw fsFailure(error, shown(destination, root, current));
      }
      stats = lstatOrUndefined(current, destination);
    }
    if (stats?.isSymbolicLink()) throw linkRefused(key, root, current, destination);
    if (stats === undefined || !stats.isDirectory()) {
      throw new StepError(`cannot download '${key}': '${shown(destination, root, current)}' is a file, not a folder`);
    }
  }
}

/** Refuses a symbolic link at the file's own name (the folders above it were checked already). */
function refuseLink(root: string, parts: readonly string[], key: string, destination: string): void {
  const path = join(root, ...parts);
  if (lstatOrUndefined(path, destination)?.isSymbolicLink()) throw linkRefused(key, root, path, destination);
}

function lstatOrUndefined(path: string, destination: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fsFailure(error, destination);
  }
}

function linkRefused(key: string, root: string, link: string, destination: string): StepError {
  let to = "";
  try {
    to = ` (to '${readlinkSync(link)}')`;
  } catch {
    // gone meanwhile: the message still names the path
  }
  return new StepError(
    `refusing object key '${key}': '${shown(destination, root, link)}' inside the destination folder is a symbolic link${to}; S3Download does not write through links`,
  );
}

/** A path below the destination folder as the document wrote the destination. */
function shown(destination: string, root: string, path: string): string {
  const below = relative(root, path);
  return below === "" ? destination : join(destination, below);
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

/**
 * One object to `target`. With a parallel transfer: an object larger than one part (its size from
 * the listing, or HeadObject) goes as ranged parts, a smaller one as one GET holding a lease for
 * its size; without one, one GET.
 */
async function fetchTo(ctx: ModuleContext, bucket: string, key: string, target: string, item: S3DownloadItem, options: { expectedBucketOwner?: string; signal: AbortSignal }, transfer?: Transfer, listedSize?: number): Promise<void> {
  if (existsSync(target)) {
    if (statSync(target).isDirectory()) throw new StepError(`'${item.destination}' is a folder; give a file path as destination`);
    if (!item.overwrite) {
      throw new StepError(`File already exists and "overwrite" property for "destination" file is set to false. Cannot download. ('${item.destination}')`);
    }
  }
  if (transfer === undefined) return fetchWhole(ctx, bucket, key, target, item, options);
  const { limit, partSize } = transfer;
  let info: S3ObjectInfo | undefined;
  let headFailed = false;
  if (listedSize === undefined || listedSize > partSize) {
    try {
      info = await limit.run(0, () => transfer.s3.headObject(bucket, key, options), options.signal);
    } catch (error) {
      // A HEAD answer has no body, so a refusal arrives without its reason (AccessDenied,
      // SignatureDoesNotMatch …): one plain GET then says why, in the usual words.
      if (options.signal.aborted || (error as S3FailureFacts).transient) throw stoppedOr(error, bucket, key);
      headFailed = true;
    }
  }
  // No ETag (some S3-compatible stores): nothing to pin the parts to one version, so one GET.
  if (info === undefined || info.size <= partSize || headFailed || info.etag === "") {
    try {
      await limit.run(info?.size ?? listedSize ?? 0, () => fetchWhole(ctx, bucket, key, target, item, options), options.signal);
    } catch (error) {
      throw stoppedOr(error, bucket, key);
    }
    return;
  }
  const temporary = await temporaryFileBeside(target);
  try {
    const checked = await fetchParts({ s3: transfer.s3, bucket, key, info, partSize, limit, options, file: temporary });
    await temporary.commit(target, item.overwrite);
    ctx.log.debug(`s3://${bucket}/${key}: ${Math.ceil(info.size / partSize)} parts of ${partSize} bytes; checked: ${checked}`);
  } catch (error) {
    await temporary.discard();
    if (error instanceof StepError || options.signal.aborted) throw stoppedOr(error, bucket, key);
    throw new StepError(`cannot download s3://${bucket}/${key} to '${item.destination}': ${(error as Error).message}`);
  }
}

/**
 * `error` as a StepError: a stop while waiting for the budget (the signal's own reason, whatever
 * it is) is worded like a stop of a request.
 */
function stoppedOr(error: unknown, bucket: string, key: string): StepError {
  if (error instanceof StepError) return error;
  return new StepError(`cannot download s3://${bucket}/${key}: stopped before it finished`);
}

/** One GET streamed into a temporary file, committed when complete. */
async function fetchWhole(ctx: ModuleContext, bucket: string, key: string, target: string, item: S3DownloadItem, options: { expectedBucketOwner?: string; signal: AbortSignal }): Promise<void> {
  const body = await ctx.s3.getObject(bucket, key, options);
  const temporary = await temporaryFileBeside(target);
  try {
    for await (const chunk of body) await temporary.write(chunk);
    await temporary.commit(target, item.overwrite);
  } catch (error) {
    await temporary.discard();
    if (error instanceof StepError) throw error;
    throw new StepError(`cannot download s3://${bucket}/${key} to '${item.destination}': ${(error as Error).message}`);
  }
}
