/**
 * @module modules/_download: files that arrive as a stream (WebDownload; a download module may
 * reuse it) — written to a temporary file beside the target and put under the final name only when
 * complete and verified, so a failed, aborted or corrupt download never leaves a partial file
 * there. The streaming counterpart of the kit's writeAtomically(): the same hidden random name
 * `.<name>.opentoe-<16 hex digits>.tmp`, opened exclusively, so a link planted at a guessable
 * name in a shared folder cannot redirect root's write.
 */
import { createReadStream } from "node:fs";
import { link, open, rename, rm, type FileHandle } from "node:fs/promises";
import { createHash, randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";

/** A file being written beside its target; `commit` puts it in place, `discard` removes it. */
export interface TemporaryFile {
  readonly path: string;
  /** Writes the whole chunk (the caller awaits it, which is the stream's back-pressure). */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Flushes, closes and moves the file to `target`. `replace: false` never replaces an existing
   * file, even one that appeared during the download (hard link, then unlink: EEXIST reaches the
   * caller, the temporary file is removed).
   */
  commit(target: string, replace: boolean): Promise<void>;
  /** Closes and removes the file; safe to call more than once and after a failed commit. */
  discard(): Promise<void>;
}

/** Opens a new, empty temporary file in the target's folder (which must exist). */
export async function temporaryBeside(target: string, mode?: number): Promise<TemporaryFile> {
  let path = "";
  let handle: FileHandle | undefined;
  for (let tries = 0; handle === undefined; tries++) {
    path = join(dirname(target), `.${basename(target)}.opentoe-${randomBytes(8).toString("hex")}.tmp`);
    try {
      handle = await open(path, "wx", mode);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || tries > 5) throw error;
    }
  }
  // The creation mode is filtered by the umask; an explicit mode (an existing file's) is meant as is.
  if (mode !== undefined) await handle.chmod(mode);
  let open_: FileHandle | undefined = handle;
  const close = async () => {
    const current = open_;
    open_ = undefined;
    await current?.close();
  };
  const discard = async () => {
    try {
      await close();
    } catch {
      // closing failed (the file is being removed anyway)
    }
    await rm(path, { force: true });
  };
  return {
    path,
    discard,
    async write(chunk) {
      let written = 0;
      while (written < chunk.length) written += (await open_!.write(chunk, written, chunk.length - written)).bytesWritten;
    },
    async commit(target, replace) {
      try {
        await open_!.sync();
        await close();
        if (replace) {
          await rename(path, target);
        } else {
          await link(path, target);
          await rm(path, { force: true });
        }
      } catch (error) {
        await discard();
        throw error;
      }
    },
  };
}

/** Node's name of a digest algorithm as the modules spell it (MD5, SHA1, SHA256, SHA512). */
export function hashName(algorithm: string): string {
  return algorithm.toLowerCase().replace(/-/g, "");
}

/** The hex digest of a file, read as a stream (no whole-file buffer). */
export async function fileDigest(path: string, algorithm: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash(hashName(algorithm));
  for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
