/**
 * @module aws/_multipart-upload: one file bigger than a part sent as an S3 multipart upload, the
 * parts read from the file at their offsets and sent several at once.
 *
 * Why not @aws-sdk/lib-storage (used before): it reads the next part before it hands over the
 * current one, so every upload held one part more than the step's transfer budget knew about
 * (about twice the budget with many files in flight). Here a part's lease of the budget is taken
 * before its bytes are read and given back when S3 has answered for it, so the budget is the
 * bound on what uploads hold in memory.
 *
 * The requests go through the caller's sender (aws/s3.ts uploadClient: the upload's stop, the
 * first failure stopping the rest, the time limits of the create and of the clean-up). A failed or
 * stopped upload is aborted (AbortMultipartUpload) before this returns, so no parts are left
 * stored, and billed, behind it. Checksums: when the client computes request checksums by default
 * (the SDK's WHEN_SUPPORTED), the upload is created with CRC32 as lib-storage does, and each
 * part's checksum from S3's answer is repeated in the completion, as S3 then requires.
 */
import { open, type FileHandle } from "node:fs/promises";
import type { TransferBudget } from "../model/ports.ts";

type Sdk = typeof import("@aws-sdk/client-s3");
type Client = InstanceType<Sdk["S3Client"]>;
type CompletedPart = NonNullable<NonNullable<import("@aws-sdk/client-s3").CompleteMultipartUploadCommandInput["MultipartUpload"]>["Parts"]>[number];

export interface MultipartJob {
  sdk: Sdk;
  /** Sends every request of the upload (see the module comment). */
  sender: Client;
  bucket: string;
  key: string;
  file: string;
  size: number;
  partSize: number;
  /** Parts in flight at once. */
  concurrency: number;
  /** ExpectedBucketOwner, when given. */
  owner: { ExpectedBucketOwner?: string };
  limit?: TransferBudget;
  /** The upload's stop: aborted by the caller's signal or by the first failed request. */
  stop: AbortController;
}

const CHECKSUM_FIELDS = ["ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256"] as const;

export async function uploadInParts(job: MultipartJob): Promise<void> {
  const { sdk, sender, bucket, key, owner } = job;
  const byDefault = await (sender.config as { requestChecksumCalculation?: () => Promise<string> }).requestChecksumCalculation?.();
  const created = await sender.send(new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...owner, ...(byDefault === "WHEN_SUPPORTED" ? { ChecksumAlgorithm: "CRC32" } : {}) }));
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error("S3 started the multipart upload without giving its upload id");
  const handle = await open(job.file, "r");
  try {
    const parts = await sendParts(job, uploadId, handle);
    await sender.send(new sdk.CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts }, ...owner }));
  } catch (error) {
    await sender.send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, ...owner })).catch(() => undefined);
    throw error;
  } finally {
    await handle.close();
  }
}

/** Every part sent, `concurrency` at a time; settles when none is in flight any more. */
async function sendParts(job: MultipartJob, uploadId: string, handle: FileHandle): Promise<CompletedPart[]> {
  const { sdk, sender, bucket, key, owner, stop, partSize, size } = job;
  const count = Math.ceil(size / partSize);
  const parts: CompletedPart[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count && !stop.signal.aborted) {
      const index = next++;
      const start = index * partSize;
      const length = Math.min(partSize, size - start);
      const lease = await job.limit?.acquire(length, stop.signal);
      try {
        const bytes = await readPart(handle, start, length, job.file);
        const answer = await sender.send(new sdk.UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: index + 1, Body: bytes, ContentLength: length, ...owner }));
        if (!answer.ETag) throw new Error(`S3 accepted part ${index + 1} without giving its ETag`);
        const part: CompletedPart = { PartNumber: index + 1, ETag: answer.ETag };
        for (const field of CHECKSUM_FIELDS) if (answer[field]) part[field] = answer[field];
        parts[index] = part;
      } finally {
        lease?.release();
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(Math.max(1, job.concurrency), count) }, worker));
  const failure = settled.find((result) => result.status === "rejected");
  if (failure) throw failure.reason;
  if (stop.signal.aborted) throw stop.signal.reason;
  return parts;
}

/** Exactly `length` bytes from `start`; a file that became shorter since it was measured is an error. */
async function readPart(handle: FileHandle, start: number, length: number, file: string): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(length);
  for (let filled = 0; filled < length; ) {
    const { bytesRead } = await handle.read(bytes, filled, length - filled, start + filled);
    if (bytesRead === 0) throw new Error(`'${file}' became shorter while it was being uploaded`);
    filled += bytesRead;
  }
  return bytes;
}
