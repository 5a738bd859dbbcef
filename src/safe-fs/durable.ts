/**
 * @module safe-fs/durable: the one way awstoe puts a file in place.
 *
 * awstoe runs as root in folders other users can often write to (/tmp, a shared log directory),
 * so every write that replaces or creates a file follows one sequence:
 *
 *   1. a temporary name beside the target with 64 random bits in it, created exclusively
 *      (O_CREAT|O_EXCL, which never follows a symlink): a name planted by someone else is
 *      never written through, another name is drawn;
 *   2. every byte written (write() may write less than asked on a nearly full disk; a write that
 *      makes no progress is reported as ENOSPC instead of looping);
 *   3. fsync of the file, close, rename over the target, fsync of the folder, so the rename
 *      survives a power cut as well.
 *
 * Folder fsync policy: file systems that cannot sync a folder (some network and FUSE file
 * systems answer EINVAL, ENOTSUP or EBADF) are accepted, since the file itself is on disk;
 * Windows cannot open folders at all and journals renames itself. Any other error is thrown.
 *
 * Errors are the file system's own (NodeJS.ErrnoException): callers word them for the person,
 * because only they know what the file was for.
 */
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, ftruncateSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { bunNative } from "./bun-native.ts";

/*
 * node:crypto and node:fs/promises are loaded when first needed, not with this file: every action
 * module imports it, and in Bun node:crypto brings in the stream classes, which cost `validate` of
 * a one-step document about 13 ms of its start-up (ARCHITECTURE.md "Start-up").
 */
const cryptoModule = (): typeof import("node:crypto") => require("node:crypto") as typeof import("node:crypto");
const fsPromises = (): typeof import("node:fs/promises") => require("node:fs/promises") as typeof import("node:fs/promises");

function randomHex(bytes: number): string {
  return cryptoModule().randomBytes(bytes).toString("hex");
}

/** How often a taken random name is redrawn before giving up (64 random bits: never, in practice). */
const NAME_TRIES = 8;
/**
 * A temporary file starts moving its bytes to the disk in the background after every this many
 * written (at most one such sync at a time), so that commit's own sync has only the rest left:
 * for a 1 GiB download, commit took 0.54 s without it and the download ended that much later
 * than `aws s3 cp`, which does not sync (scripts/bench-s3.ts).
 */
export const WRITE_BACK_EVERY = 64 * 1024 * 1024;

/** Files awstoe writes for itself (records, state, logs) are readable by their owner only. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Opens a private log file of ours for appending (created 0600 when missing), never through a
 * link planted at its name: every write lands at its end, whole lines in order.
 */
export function openPrivateLog(path: string): number {
  return openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0), PRIVATE_FILE_MODE);
}
/** Folders awstoe makes for itself (log folder, state folder) likewise. */
export const PRIVATE_FOLDER_MODE = 0o700;
/**
 * Missing parents awstoe makes on the way (the log directory, the folders above a state folder):
 * 0755 whatever the umask, so a umask of 000 never gives a folder others may change — one that
 * awstoe would then refuse to keep its state below.
 */
export const PARENT_FOLDER_MODE = 0o755;

/** What temporaryNameBeside makes: `.<name>.opentoe-<16 hex digits>.tmp`. */
export const TEMPORARY_NAME = /^\..*\.opentoe-[0-9a-f]{16}\.tmp$/s;

/**
 * Removes what a killed awstoe left half-written in a folder only it uses (the locked state
 * folder): entries with the temporary-name pattern, and lock files a takeover set aside. Links
 * are removed as links; folders are left alone. Returns how many went.
 */
export function sweepTemporaries(folder: string, also: RegExp = /^run\.lock\.stale-\d+-\d+$/): number {
  let removed = 0;
  for (const name of readdirSync(folder)) {
    if (!TEMPORARY_NAME.test(name) && !also.test(name)) continue;
    const path = join(folder, name);
    if (lstatSync(path).isDirectory()) continue;
    rmSync(path, { force: true });
    removed++;
  }
  return removed;
}

/** A hidden random name beside `target` (same folder, so the final rename stays on one file system). */
export function temporaryNameBeside(target: string): string {
  // 100 bytes of the name leave room for the suffix within the 255-byte limit of most file systems.
  const name = basename(target).slice(0, 100);
  return join(dirname(target), `.${name}.opentoe-${randomHex(8)}.tmp`);
}

/**
 * Makes a new entry at a random name beside `target` with `create`, which must fail with EEXIST
 * on an existing name (an exclusive open, mkdir, symlink, exclusive copy); returns the name and
 * what `create` returned.
 */
export function createBeside<T>(target: string, create: (temporary: string) => T): { path: string; value: T } {
  for (let tries = 1; ; tries++) {
    const path = temporaryNameBeside(target);
    try {
      return { path, value: create(path) };
    } catch (error) {
      if (code(error) !== "EEXIST" || tries >= NAME_TRIES) throw error;
    }
  }
}

/** A new file at a random name beside `target`, opened exclusively for writing, with `mode` exactly. */
export function openExclusiveBeside(target: string, mode: number = PRIVATE_FILE_MODE): { path: string; fd: number } {
  const { path, value: fd } = createBeside(target, (name) => openSync(name, "wx", mode));
  if (process.platform !== "win32") fchmodSync(fd, mode);
  return { path, fd };
}

/** Writes all of `bytes` at the descriptor's position; a write that makes no progress is ENOSPC. */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) {
    const n = writeSync(fd, bytes, written, bytes.length - written);
    if (n <= 0) throw noSpace();
    written += n;
  }
}

/**
 * writeAll for a promise-based file handle (streamed downloads): at the handle's position, or at
 * `position` in the file (pwrite) when given.
 */
async function writeAllAsync(handle: FileHandle, bytes: Uint8Array, position?: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position === undefined ? null : position + written);
    if (bytesWritten <= 0) throw noSpace();
    written += bytesWritten;
  }
}

/**
 * Appends `bytes` to a descriptor opened for appending whose file is `sizeBefore` bytes long, all
 * or nothing: when any part fails (a full disk after part of the line was written), the file is
 * cut back to `sizeBefore` and the error is thrown. Returns the new size.
 */
export function appendWhole(fd: number, bytes: Uint8Array, sizeBefore: number): number {
  try {
    writeAll(fd, bytes);
  } catch (error) {
    try {
      ftruncateSync(fd, sizeBefore);
    } catch {
      // the write's own error is the one to report
    }
    throw error;
  }
  return sizeBefore + bytes.length;
}

/** Flushes a folder's entries (a rename in it) to disk, under the policy in the module comment. */
export function syncFolder(folder: string): void {
  if (process.platform === "win32") return;
  const fd = openSync(folder, "r");
  try {
    fsyncSync(fd);
  } catch (error) {
    if (!FOLDER_SYNC_UNSUPPORTED.has(code(error) ?? "")) throw error;
  } finally {
    closeSync(fd);
  }
}
const FOLDER_SYNC_UNSUPPORTED = new Set(["EINVAL", "ENOTSUP", "EOPNOTSUPP", "EBADF"]);

export interface DurableWriteOptions {
  /**
   * The file's mode, exactly (not filtered by the umask); "new" gives what any new file gets
   * (0666 less the umask), for files written on a document's behalf. Default PRIVATE_FILE_MODE.
   */
  mode?: number | "new";
  /**
   * false skips both fsyncs, for throwaway files (a step's generated script, rewritten whenever
   * the step runs again) whose only need is the exclusive name and the whole-or-nothing rename.
   */
  flush?: boolean;
}

/**
 * Replaces (or creates) `path` with `data`: a crash, a kill, a power cut or a full disk leaves the
 * old content or the new one, never a mix, and never a write through a planted link.
 */
export function writeFileDurably(path: string, data: string | Uint8Array, options: DurableWriteOptions = {}): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const mode = options.mode ?? PRIVATE_FILE_MODE;
  const flush = options.flush !== false;
  const { path: temporary, value: fd } = createBeside(path, (name) => openSync(name, "wx", mode === "new" ? 0o666 : mode));
  let open_ = true;
  try {
    if (mode !== "new" && process.platform !== "win32") fchmodSync(fd, mode);
    writeAll(fd, bytes);
    if (flush) fsyncSync(fd);
    closeSync(fd);
    open_ = false;
    renameSync(temporary, path);
  } catch (error) {
    if (open_) closeQuietly(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  if (flush) syncFolder(dirname(path));
}

/** A file being written under a temporary name, to be committed into place or discarded. */
export interface TemporaryFile {
  readonly path: string;
  write(chunk: Uint8Array): Promise<void>;
  /** Writes all of `chunk` at `position` (parts arriving out of order); not mixed with write(). */
  writeAt(chunk: Uint8Array, position: number): Promise<void>;
  /**
   * Appends the whole of the file at `source` (parts downloaded into files of their own), copied
   * by the kernel where the runtime can (Bun: copy_file_range), at the file's position like
   * write(); resolves with the bytes appended.
   */
  appendFrom(source: string): Promise<number>;
  /** The file's size now (fstat). */
  size(): Promise<number>;
  /**
   * Flushes, closes and moves the file to `target`. `replace: false` never replaces an existing
   * file, even one that appeared meanwhile (hard link, then unlink: EEXIST reaches the caller).
   * On failure the temporary file is removed and the error thrown.
   */
  commit(target: string, replace: boolean): Promise<void>;
  /** Closes and removes the file; safe to call more than once and after a failed commit. */
  discard(): Promise<void>;
}

/** How a temporary file syncs in the background; both are for tests (the disk's failures cannot be made here). */
export interface WriteBackOptions {
  /** Bytes written between two background syncs (WRITE_BACK_EVERY). */
  every?: number;
  /** The background sync itself (FileHandle.datasync). */
  syncData?: (file: FileHandle) => Promise<void>;
}

/**
 * The streaming form of writeFileDurably: a new, empty temporary file beside `target`, with
 * `mode` exactly, or without one the mode any new file gets (0666 less the umask).
 */
export async function temporaryFileBeside(target: string, mode?: number, writeBack: WriteBackOptions = {}): Promise<TemporaryFile> {
  const every = writeBack.every ?? WRITE_BACK_EVERY;
  const syncData = writeBack.syncData ?? ((file: FileHandle) => file.datasync());
  let handle: FileHandle | undefined;
  let path = "";
  for (let tries = 1; handle === undefined; tries++) {
    path = temporaryNameBeside(target);
    try {
      handle = await fsPromises().open(path, "wx", mode ?? 0o666);
    } catch (error) {
      if (code(error) !== "EEXIST" || tries >= NAME_TRIES) throw error;
    }
  }
  // The creation mode is filtered by the umask; an explicit mode (an existing file's) is meant as is.
  if (mode !== undefined && process.platform !== "win32") await handle.chmod(mode);
  let current: FileHandle | undefined = handle;
  // The background sync: a failure is kept for commit, since the kernel may report a failed
  // write-back to one sync only, and the commit's sync could then succeed over lost bytes.
  let unsynced = 0;
  let writingBack: Promise<void> | undefined;
  let writeBackFailed: { error: unknown } | undefined;
  const wrote = (bytes: number) => {
    unsynced += bytes;
    if (unsynced < every || writingBack !== undefined || current === undefined) return;
    unsynced = 0;
    writingBack = syncData(current).then(
      () => void (writingBack = undefined),
      (error: unknown) => {
        writeBackFailed ??= { error };
        writingBack = undefined;
      },
    );
  };
  const close = async () => {
    const h = current;
    current = undefined;
    await writingBack;
    await h?.close();
  };
  const discard = async () => {
    try {
      await close();
    } catch {
      // the file is being removed anyway
    }
    await fsPromises().rm(path, { force: true });
  };
  return {
    path,
    discard,
    write: async (chunk) => {
      await writeAllAsync(current!, chunk);
      wrote(chunk.byteLength);
    },
    writeAt: async (chunk, position) => {
      await writeAllAsync(current!, chunk, position);
      wrote(chunk.byteLength);
    },
    appendFrom: async (source) => {
      const bytes = await appendFileTo(current!, source);
      wrote(bytes);
      return bytes;
    },
    size: async () => (await current!.stat()).size,
    async commit(target, replace) {
      try {
        await writingBack;
        if (writeBackFailed !== undefined) throw writeBackFailed.error;
        await current!.sync();
        await close();
        if (replace) await fsPromises().rename(path, target);
        else {
          await fsPromises().link(path, target);
          await fsPromises().rm(path, { force: true });
        }
        syncFolder(dirname(target));
      } catch (error) {
        await discard();
        throw error;
      }
    },
  };
}

/**
 * A new, empty folder at a random name beside `target`, mode 0700 exactly: what goes in it (the
 * parts of a download) cannot be replaced by another user, whatever the folder around it allows.
 */
export function privateFolderBeside(target: string): string {
  const { path } = createBeside(target, (name) => mkdirSync(name, { mode: PRIVATE_FOLDER_MODE }));
  if (process.platform === "win32") return path;
  // The umask may have taken owner bits away; set the mode through the folder itself (never
  // through a link someone could have put at the name since).
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    fchmodSync(fd, PRIVATE_FOLDER_MODE);
  } finally {
    closeSync(fd);
  }
  return path;
}

/** Copies all of `source` to `handle` at its position; the bytes copied. */
async function appendFileTo(handle: FileHandle, source: string): Promise<number> {
  const bun = bunNative();
  if (bun !== undefined) {
    const from = bun.file(source);
    const expected = from.size;
    const copied = await bun.write(bun.file(handle.fd), from);
    if (copied !== expected) throw new Error(`only ${copied} of the ${expected} bytes of '${source}' were copied`);
    return copied;
  }
  const input = await fsPromises().open(source, "r");
  try {
    const buffer = Buffer.allocUnsafe(APPEND_BUFFER);
    let copied = 0;
    for (;;) {
      const { bytesRead } = await input.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return copied;
      await writeAllAsync(handle, buffer.subarray(0, bytesRead));
      copied += bytesRead;
    }
  } finally {
    await input.close();
  }
}

/**
 * Whether writeResponseToNewFile can work here (Bun, not Windows): the body is then copied into
 * the file by the runtime. Node's fetch has no such path.
 */
export function canWriteResponsesNatively(): boolean {
  return bunNative() !== undefined;
}

/**
 * Writes the body of `response` into a new file at `path` (created exclusively, 0600), the bytes
 * moved by the runtime; resolves with how many. While it runs, `watch` is given the file's size
 * every `everyMs` (an idle limit is kept by watching the file grow). Rejects with the runtime's
 * error when the body or the disk fails; the file is left for the caller to remove.
 */
export async function writeResponseToNewFile(path: string, response: Response, everyMs: number, watch: (size: number) => void): Promise<number> {
  const bun = bunNative();
  if (bun === undefined) throw new Error("writeResponseToNewFile needs Bun (canWriteResponsesNatively)");
  let fd: number;
  try {
    fd = openSync(path, "wx", PRIVATE_FILE_MODE);
  } catch (error) {
    await response.body?.cancel().catch(() => undefined);
    throw error;
  }
  const timer = setInterval(() => watch(fstatSync(fd).size), everyMs);
  try {
    return await bun.write(bun.file(fd), response);
  } finally {
    clearInterval(timer);
    closeSync(fd);
  }
}

/** What appendFileTo reads at a time where the kernel cannot copy (Node). */
const APPEND_BUFFER = 256 * 1024;

/** A failure of the local disk (no space, quota, read-only, I/O, permissions, too large) rather than of a network answer. */
export function isDiskError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && /^(ENOSPC|EDQUOT|EROFS|EIO|EACCES|EPERM|EFBIG)$/.test(code);
}

/** A failed write in the words a person needs: the codes that mean "the disk" or "not yours", first. */
export function describeWriteError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === "ENOSPC") return "no space left on the device";
  if (code === "EDQUOT") return "the disk quota is used up";
  if (code === "EROFS") return "the file system is read-only";
  if (code === "EIO") return "an input/output error of the device";
  if (code === "ELOOP") return "it is a symbolic link";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  return (error as Error)?.message ?? String(error);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

function noSpace(): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error("ENOSPC: no space left on device, write");
  error.code = "ENOSPC";
  return error;
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
