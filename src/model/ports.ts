/**
 * @module model/ports: the interfaces through which the pure layers reach the world — running a
 * program, S3, the CloudWatch copy of the console, the machine questions of conditions. Types
 * only: platform/, aws/ and logs/ implement them, modules and the engine receive them, so no
 * layer needs another's implementation to name them.
 */

// --- running programs (implemented by platform/process.ts) ---

export interface ExecRequest {
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the whole process tree after this many ms; undefined = no limit. */
  timeoutMs?: number;
  /** Aborting kills the process tree too (used for SIGINT/SIGTERM to awstoe). */
  signal?: AbortSignal;
  /** Called with each chunk of output as it arrives, decoded as UTF-8 across chunk boundaries. */
  onOutput?: (stream: "stdout" | "stderr", text: string) => void;
  /** Most bytes of each stream kept in memory for the result (default CAPTURE_LIMIT_BYTES). */
  captureLimit?: number;
  /** Text written to the child's stdin, then closed; default: stdin is /dev/null (ignored). */
  input?: string;
  /**
   * Windows only: `args` go on the command line exactly as given, joined by spaces, without the
   * C-runtime quoting applied by default — for programs that parse their raw command line by
   * rules of their own (msiexec). The caller owns all quoting then. Ignored elsewhere.
   */
  windowsVerbatimArguments?: boolean;
  /**
   * Called once the program has started, with its pid — on POSIX also the id of the new process
   * group it leads — so the engine can journal it and stop a group a crashed awstoe left behind.
   */
  onSpawn?: (pid: number) => void;
}

export interface ExecResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The LAST captureLimit bytes of the stream (its tail), decoded as UTF-8. */
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  timedOut: boolean;
  aborted: boolean;
  /** Set when the program could not be started (ENOENT, EACCES, ENOEXEC …): a readable reason. */
  spawnError?: string;
  /**
   * The program exited on its own, but its output was still open DRAIN_AFTER_EXIT_MS later:
   * processes it started hold the pipes and were left running. awstoe stopped reading then, so
   * their later output is lost (a write to it gets EPIPE, or SIGPIPE, which ends a program that
   * does not handle it). Absent in results not made by runProcess.
   */
  leftRunning?: boolean;
  durationMs: number;
}

// --- S3 (implemented by aws/s3.ts) ---

export interface S3Options {
  expectedBucketOwner?: string;
  signal?: AbortSignal;
}

/** How one file goes up (modules/_s3-upload.ts plans it); the SDK's defaults when left out. */
export interface S3UploadOptions extends S3Options {
  /** Bytes per part of a multipart upload (at least 5 MiB, S3's minimum). */
  partSize?: number;
  /** Parts of this file in flight at once. */
  partConcurrency?: number;
  /**
   * Every request of a multipart upload (create, each part with its size, complete) waits for a
   * lease from this budget and holds it until answered; the clean-up after a stop does not.
   */
  limit?: TransferBudget;
}

/** The part of model/transfer-limit.ts's TransferLimit the port uses: one slot and `bytes`, until released. */
export interface TransferBudget {
  acquire(bytes: number, signal?: AbortSignal): Promise<{ release(): void }>;
}

/**
 * What the port's failures (a StepError naming the object and the cause) may carry besides their
 * message: `transient` when trying again later could succeed — no connection or no answer, a
 * time limit, HTTP 5xx, throttling — and not for access denied, a missing object or a stop.
 */
export interface S3FailureFacts {
  transient?: boolean;
  /** The object is no longer the one the transfer started with (If-Match failed: 412). */
  changed?: boolean;
}

/** What HeadObject says of an object, as S3Download's ranged download needs it. */
export interface S3ObjectInfo {
  size: number;
  /** As S3 sends it, quotes included: what each part's If-Match names. */
  etag: string;
  /** Hex MD5 of the whole content, when the ETag is one (single-part upload, no SSE-KMS/SSE-C). */
  md5?: string;
  /** A checksum of the whole object S3 keeps (asked for with ChecksumMode), base64 as S3 gives it. */
  checksum?: { algorithm: "SHA256" | "SHA1" | "CRC32"; value: string };
}

/** One object of a listing. */
export interface S3Listed {
  key: string;
  size: number;
}

/** Every call has time limits and retries of its own (aws/s3.ts), and stops when `signal` is aborted. */
export interface S3Port {
  /** The object's bytes as a stream (never buffered whole). */
  getObject(bucket: string, key: string, options: S3Options): Promise<AsyncIterable<Uint8Array>>;
  /** Keys under a prefix, all pages, stopping with an error past `limit`. */
  listKeys(bucket: string, prefix: string, limit: number, options: S3Options): Promise<string[]>;
  // The three below are what S3Download's ranged, parallel download needs (modules/_s3-parts.ts);
  // a port without them (a test stand-in) gets one stream per object.
  /** listKeys with each object's size. */
  listObjects?(bucket: string, prefix: string, limit: number, options: S3Options): Promise<S3Listed[]>;
  /** Size, ETag and whole-object checksums of one object (HeadObject). */
  headObject?(bucket: string, key: string, options: S3Options): Promise<S3ObjectInfo>;
  /**
   * Bytes `start`..`end` (inclusive) of the object whose ETag is `ifMatch`, as a stream; a failure
   * with `changed` when the object was replaced, and when the server's answer is not that range.
   */
  getObjectRange?(bucket: string, key: string, range: { start: number; end: number; ifMatch: string }, options: S3Options): Promise<AsyncIterable<Uint8Array>>;
  /**
   * Whether getObjectRangeToFile can write this bucket's ranges natively (the runtime copies the
   * answer into the file; no bytes pass through JavaScript). A port without it never can.
   */
  writesRangesNatively?(bucket: string): Promise<boolean>;
  /**
   * getObjectRange's bytes written into a new file at `path` (created exclusively, 0600); resolves
   * with how many were written. Only where writesRangesNatively said so.
   */
  getObjectRangeToFile?(bucket: string, key: string, range: { start: number; end: number; ifMatch: string }, path: string, options: S3Options): Promise<number>;
  /**
   * Uploads a local file (multipart when large), streaming it from disk. A stopped or failed
   * multipart upload is aborted (AbortMultipartUpload) before this rejects, so S3 keeps no parts.
   */
  putFile(bucket: string, key: string, file: string, options: S3UploadOptions): Promise<void>;
}

// --- the remote copy of console.log (implemented by aws/cloudwatch.ts) ---

export interface ConsoleMirror {
  /** Where the copy goes, for messages ("CloudWatch Logs group 'g', stream 's'"). */
  readonly description: string;
  /** Makes the destination ready (creates the stream). Rejects with a sentence when it cannot be used. */
  open(): Promise<void>;
  /** Queues console text as it is written. Never throws and never waits on the network. */
  write(text: string): void;
  /**
   * Sends everything still queued and stops. Resolves with undefined when every line arrived,
   * otherwise with one sentence saying what was lost and why (after retries).
   */
  close(): Promise<string | undefined>;
}

// --- what `if` and Assert may ask the machine (implemented by platform/probe.ts) ---

export interface Probe {
  binaryExists(name: string): boolean;
  fileExists(path: string): boolean;
  folderExists(path: string): boolean;
  /** Lower- or upper-case hex digest; undefined when the file is missing or unreadable. */
  fileDigest(path: string, algorithm: DigestAlgorithm): string | undefined;
}

export type DigestAlgorithm = "md5" | "sha1" | "sha256" | "sha512";

// --- instance metadata (implemented by aws/imds.ts) ---

/** What the instance metadata service says of the instance a run is on (IMDSv2 only). */
export interface MetadataPort {
  /**
   * The text at `latest/meta-data/<path>` (`instance-id`, `placement/region`). Rejects with an
   * Error whose message is one sentence naming the path and why (not on EC2 / unreachable, 404,
   * IMDS disabled by AWS_EC2_METADATA_DISABLED, a time limit).
   */
  get(path: string, signal?: AbortSignal): Promise<string>;
  /** accountId and region from the instance identity document; undefined when there is no IMDS to ask. */
  identity(signal?: AbortSignal): Promise<{ accountId: string; region: string } | undefined>;
}

// --- Parameter Store (implemented by aws/ssm.ts) ---

export interface ParameterValue {
  value: string;
  type: "String" | "StringList" | "SecureString";
  /** SecureString, or a Secrets Manager secret read through /aws/reference/secretsmanager/. */
  secret: boolean;
}

export interface ParameterPort {
  /**
   * The parameter, decrypted. Rejects with an Error whose message is one sentence naming the
   * parameter and saying what to do (not found, access denied — which permission, throttled after
   * retries, no credentials, unreachable endpoint).
   */
  get(name: string, signal?: AbortSignal): Promise<ParameterValue>;
}

/** Where the run is, as the AWS SDK's configuration sees it (for context:accountId/region off EC2). */
export interface AccountPort {
  /** The configured region (AWS_REGION, AWS_DEFAULT_REGION, the profile), or undefined. */
  region(): Promise<string | undefined>;
  /** The account of the current credentials (STS GetCallerIdentity). Rejects with one sentence. */
  accountId(signal?: AbortSignal): Promise<string>;
}
