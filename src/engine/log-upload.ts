/**
 * @module engine/log-upload: copying the finished log folder to S3 (cli.md §8) as
 * `s3://<bucket>/<prefix>/<TOE_folder>/<relative path>`. Every file is tried even when some fail,
 * so one refused object does not cost the rest; the outcome is one sentence for the log.
 */
import { readdirSync } from "node:fs";
import { basename, join, relative, sep } from "node:path";
import type { S3Port } from "../aws/s3-port.ts";

export interface LogUploadTarget {
  bucket: string;
  keyPrefix: string;
  owner?: string;
}

export interface LogUploadResult {
  /** `s3://bucket/prefix/TOE_…` — the summary's logUrl when every file arrived. */
  url: string;
  uploaded: number;
  /** One sentence per file that could not be uploaded. */
  failures: string[];
}

/** Uploads at most this many files at once: enough to hide latency, few enough for small hosts. */
const PARALLEL_UPLOADS = 4;

export async function uploadLogFolder(folder: string, target: LogUploadTarget, s3: S3Port, signal?: AbortSignal): Promise<LogUploadResult> {
  const base = [target.keyPrefix.replace(/^\/+|\/+$/g, ""), basename(folder)].filter((part) => part !== "").join("/");
  const files = filesUnder(folder);
  const failures: string[] = [];
  let uploaded = 0;
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++]!;
      const key = `${base}/${relative(folder, file).split(sep).join("/")}`;
      try {
        await s3.putFile(target.bucket, key, file, { ...(target.owner ? { expectedBucketOwner: target.owner } : {}), ...(signal ? { signal } : {}) });
        uploaded++;
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, files.length) }, worker));
  return { url: `s3://${target.bucket}/${base}`, uploaded, failures };
}

/** Every regular file below `folder`, in a stable order (symlinks are not followed or sent). */
function filesUnder(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}
