/**
 * @module engine/log-upload: copying the finished log folder to S3 (docs/cli.md §8) as
 * `s3://<bucket>/<prefix>/<TOE_folder>/<relative path>`. Every file is tried even when some fail,
 * so one refused object does not cost the rest — except when a file failed for a transient cause
 * (the endpoint cannot be reached or does not answer, 5xx, throttling) after the S3 port's own
 * retries, or the run was interrupted: the files not yet started are then not tried, so a stalled
 * endpoint costs one request's limits (aws/_cause.ts: under 2 minutes), not one per file.
 * The outcome is one sentence for the log.
 */
import type { S3FailureFacts, S3Port } from "../model/ports.ts";
import { readdirSync } from "node:fs";
import { basename, join, relative, sep } from "node:path";

import { TEMPORARY_NAME } from "../safe-fs/durable.ts";

export interface LogUploadTarget {
  bucket: string;
  keyPrefix: string;
  owner?: string;
}

export interface LogUploadResult {
  /** `s3://bucket/prefix/TOE_…` — the summary's logUrl when every file arrived. */
  url: string;
  uploaded: number;
  /** One sentence per file that could not be uploaded (or was not tried), the real failures first. */
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
  /** Why the files not yet started are not tried. */
  let halted: string | undefined;
  const keyOf = (file: string) => `${base}/${relative(folder, file).split(sep).join("/")}`;
  const worker = async () => {
    while (next < files.length) {
      if (signal?.aborted) halted ??= "awstoe was interrupted";
      if (halted !== undefined) return;
      const file = files[next++]!;
      try {
        await s3.putFile(target.bucket, keyOf(file), file, { ...(target.owner ? { expectedBucketOwner: target.owner } : {}), ...(signal ? { signal } : {}) });
        uploaded++;
      } catch (error) {
        failures.push((error as Error).message);
        if ((error as S3FailureFacts).transient === true) halted ??= "the endpoint failed for an earlier file";
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, files.length) }, worker));
  for (const file of files.slice(next)) failures.push(`s3://${target.bucket}/${keyOf(file)} was not tried: ${halted ?? "stopped"}`);
  return { url: `s3://${target.bucket}/${base}`, uploaded, failures };
}

/**
 * Every regular file below `folder`, in a stable order (symlinks are not followed or sent), but
 * not awstoe's own working files: the disk-space reserve (`.opentoe-…`) and half-written
 * temporaries (safe-fs TEMPORARY_NAME), which are no part of the logs.
 */
function filesUnder(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path));
    else if (entry.isFile() && !entry.name.startsWith(".opentoe-") && !TEMPORARY_NAME.test(entry.name)) found.push(path);
  }
  return found;
}
