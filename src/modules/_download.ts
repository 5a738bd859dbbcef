/**
 * @module modules/_download: files that arrive as a stream (WebDownload, S3Download) — written to a
 * temporary file beside the target (safe-fs's streaming durable write) and put under the final
 * name only when complete and verified, so a failed, aborted or corrupt download never leaves a
 * partial file there; and digests of files on disk.
 */
import { createReadStream } from "node:fs";
import { createHash } from "node:crypto";

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
