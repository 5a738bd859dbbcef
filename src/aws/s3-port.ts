/** @module aws/s3-port: what modules may ask of S3 — the interface only, so modules import no SDK. */

export interface S3Options {
  expectedBucketOwner?: string;
  signal?: AbortSignal;
}

/**
 * What the port's failures (a StepError naming the object and the cause) may carry besides their
 * message: `transient` when trying again later could succeed — no connection or no answer, a
 * time limit, HTTP 5xx, throttling — and not for access denied, a missing object or a stop.
 */
export interface S3FailureFacts {
  transient?: boolean;
}

/** Every call has time limits and retries of its own (aws/s3.ts), and stops when `signal` is aborted. */
export interface S3Port {
  /** The object's bytes as a stream (never buffered whole). */
  getObject(bucket: string, key: string, options: S3Options): Promise<AsyncIterable<Uint8Array>>;
  /** Keys under a prefix, all pages, stopping with an error past `limit`. */
  listKeys(bucket: string, prefix: string, limit: number, options: S3Options): Promise<string[]>;
  /** Uploads a local file (multipart when large), streaming it from disk. */
  putFile(bucket: string, key: string, file: string, options: S3Options): Promise<void>;
}
