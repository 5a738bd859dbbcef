/**
 * @module aws/s3: the S3Port on the AWS SDK for JavaScript v3. The SDK is imported on first use,
 * so commands that never touch S3 start without loading it. Credentials, region and endpoint come
 * from the SDK's own chain (environment, shared config/profiles, web identity, container and
 * instance roles; AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 / a profile's endpoint_url). With an
 * endpoint override, path-style addressing is used, which S3-compatible stores expect.
 */
import type { S3Listed, S3ObjectInfo, S3Options, S3Port, TransferBudget } from "../model/ports.ts";
import { readFile, stat } from "node:fs/promises";
import { firstLine, StepError } from "../errors.ts";
import { timeoutError, watchAttempt, watchedBody } from "./_idle.ts";
import { parseListPage, type ListPage } from "./_s3-xml.ts";
import { openDirectS3, type DirectS3 } from "./s3-direct.ts";
import { isDiskError } from "../safe-fs/durable.ts";
import { uploadInParts } from "./_multipart-upload.ts";
import { commonCause, CONNECT_TIMEOUT_MS, idleTimeoutMs, isTransient, statusOf } from "./_cause.ts";

type Sdk = typeof import("@aws-sdk/client-s3");
type Client = InstanceType<Sdk["S3Client"]>;
type FetchHandlerClass = typeof import("@smithy/fetch-http-handler").FetchHttpHandler;

export interface S3PortOptions {
  /**
   * Stops every call of this port when aborted — the run's signal (SIGINT/SIGTERM) — besides each
   * call's own signal, so nothing the port does outlives an interrupt.
   */
  signal?: AbortSignal;
}

/** How long the clean-up of a multipart upload may take once the upload was stopped. */
const ABORT_CLEANUP_MS = 2_000;
/**
 * How long a CreateMultipartUpload may take. A stop does not cut it short: S3 may already have
 * created the upload when the request is cut, and an upload id never received could not be
 * aborted (its parts would be kept, and billed, until a lifecycle rule removes them).
 */
const CREATE_UPLOAD_MS = 10_000;
/** Upload parts: 8 MiB unless the caller says otherwise (as `aws s3 cp`); S3 takes no less than 5 MiB. */
const DEFAULT_UPLOAD_PART_SIZE = 8 * 1024 * 1024;
const MIN_UPLOAD_PART_SIZE = 5 * 1024 * 1024;

/**
 * Every call has the limits of aws/_cause.ts: 10 s to connect, 30 s without a byte
 * (AWSTOE_AWS_IDLE_TIMEOUT_MS), the SDK's standard retries (3 attempts, exponential backoff) for
 * network errors, timeouts, 5xx and throttling — and stops at once when its signal or the port's
 * is aborted. Failures are one sentence naming the object (s3Failure), marked `transient` when
 * trying again later could help.
 */
export function createS3Port(portOptions: S3PortOptions = {}): S3Port {
  let loaded: Promise<{ sdk: Sdk; client: Client; downloads: Client }> | undefined;
  const connect = () =>
    (loaded ??= Promise.all([import("@aws-sdk/client-s3"), import("@smithy/fetch-http-handler")]).then(async ([sdk, { FetchHttpHandler }]) => {
      const forcePathStyle = await endpointOverridden(sdk);
      const idle = idleTimeoutMs();
      return {
        sdk,
        // node:http: connection limit, and socket inactivity in either direction (an upload that
        // stops moving, an answer that never comes).
        client: new sdk.S3Client({ forcePathStyle, requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: idle } }),
        // Object bodies come through fetch: under Bun, the node:http client grew by 50–85 MB while
        // streaming a 512 MB object (peak RSS 160–167 MB); through fetch the peak stayed at
        // ~113 MB at the same speed (scripts/bench-download.ts). The fetch handler's own
        // requestTimeout leaves the request open when it fires (the process could not exit), so
        // the idle limit is applied by watchedFetch, which aborts the request itself.
        downloads: new sdk.S3Client({ forcePathStyle, requestHandler: watchedFetch(FetchHttpHandler, idle) }),
      };
    }));
  // The common requests go direct when the configuration allows (aws/s3-direct.ts); a failure to
  // set that up leaves everything to the SDK client, whose own errors then say what is wrong.
  let directLoaded: Promise<DirectS3 | undefined> | undefined;
  const direct = async (bucket: string) => {
    const found = await (directLoaded ??= openDirectS3(process.env).catch(() => undefined));
    return found?.handles(bucket) ? found : undefined;
  };
  const signalFor = (options: S3Options) => callSignal(portOptions.signal, options.signal);
  /** How a stop is worded: an interrupt of the whole run says so. */
  const stopped = () => (portOptions.signal?.aborted ? `stopped before it finished: awstoe was interrupted${reasonOf(portOptions.signal)}` : undefined);
  return {
    async getObject(bucket, key, options) {
      const { signal, release } = signalFor(options);
      try {
        const straight = await direct(bucket);
        if (straight) {
          const answer = await straight.send({ method: "GET", bucket, key, headers: ownerHeader(options), signal });
          return worded(answer.body ?? emptyBody(), bucket, key, stopped, release);
        }
        const { sdk, downloads: client } = await connect();
        const result = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key, ...owner(options) }), { abortSignal: signal as never });
        return worded(result.Body as AsyncIterable<Uint8Array>, bucket, key, stopped, release);
      } catch (error) {
        release();
        throw s3Failure(error, "download", bucket, key, stopped());
      }
    },
    async putFile(bucket, key, file, options) {
      const { signal, release } = signalFor(options);
      if (signal?.aborted) {
        release();
        throw s3Failure(stopError(), "upload to", bucket, key, stopped());
      }
      // The upload's own stop: the caller's signal, or the first request of it that fails, so
      // the other parts end at once instead of being sent for nothing.
      const stop = new AbortController();
      const follow = () => stop.abort(signal?.reason);
      signal?.addEventListener("abort", follow, { once: true });
      const failed: { first?: unknown } = {};
      const partSize = Math.max(options.partSize ?? DEFAULT_UPLOAD_PART_SIZE, MIN_UPLOAD_PART_SIZE);
      try {
        const size = (await stat(file)).size;
        if (size > partSize) {
          const { sdk, client } = await connect();
          await uploadInParts({ sdk, sender: uploadClient(client, sdk, stop, failed, options.limit), bucket, key, file, size, partSize, concurrency: options.partConcurrency ?? 4, owner: owner(options), limit: options.limit, stop });
          return;
        }
        // Up to one part: one PutObject of the bytes read whole, read once the step's budget has
        // room for them.
        const lease = await options.limit?.acquire(size, stop.signal);
        try {
          const bytes = await readFile(file, { signal: stop.signal });
          const straight = await direct(bucket);
          if (straight) {
            await straight.send({ method: "PUT", bucket, key, body: bytes, headers: ownerHeader(options), signal: stop.signal });
            return;
          }
          const { sdk, client } = await connect();
          await uploadClient(client, sdk, stop, failed, options.limit).send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.byteLength, ...owner(options) }));
        } finally {
          lease?.release();
        }
      } catch (error) {
        throw s3Failure(failed.first ?? (stop.signal.aborted ? stopError() : error), "upload to", bucket, key, stopped());
      } finally {
        signal?.removeEventListener("abort", follow);
        release();
      }
    },
    async headObject(bucket, key, options) {
      const { signal, release } = signalFor(options);
      try {
        const straight = await direct(bucket);
        if (straight) return objectInfo(headFields((await straight.send({ method: "HEAD", bucket, key, headers: { "x-amz-checksum-mode": "ENABLED", ...ownerHeader(options) }, signal })).headers));
        const { sdk, client } = await connect();
        const head = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED", ...owner(options) }), { abortSignal: signal as never });
        return objectInfo(head);
      } catch (error) {
        throw s3Failure(error, "download", bucket, key, stopped());
      } finally {
        release();
      }
    },
    async getObjectRange(bucket, key, range, options) {
      const { signal, release } = signalFor(options);
      try {
        const asked = `bytes=${range.start}-${range.end}`;
        const straight = await direct(bucket);
        let answer: { status?: number; contentRange?: string; body?: AsyncIterable<Uint8Array> };
        if (straight) {
          const sent = await straight.send({ method: "GET", bucket, key, headers: { range: asked, "if-match": range.ifMatch, ...ownerHeader(options) }, signal });
          answer = { status: sent.status, contentRange: sent.headers.get("content-range") ?? undefined, body: sent.body ?? undefined };
        } else {
          const { sdk, downloads: client } = await connect();
          const result = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key, Range: asked, IfMatch: range.ifMatch, ...owner(options) }), { abortSignal: signal as never });
          answer = { status: result.$metadata.httpStatusCode, contentRange: result.ContentRange, body: result.Body as AsyncIterable<Uint8Array> | undefined };
        }
        const refused = notTheRange(answer.status, answer.contentRange, range, bucket, key);
        if (refused) {
          await (answer.body as { cancel?: () => Promise<void> } | undefined)?.cancel?.().catch(() => undefined);
          throw refused;
        }
        return worded(answer.body ?? emptyBody(), bucket, key, stopped, release);
      } catch (error) {
        release();
        throw s3Failure(error, "download", bucket, key, stopped());
      }
    },
    writesRangesNatively: async (bucket) => (await direct(bucket))?.sendToFile !== undefined,
    async getObjectRangeToFile(bucket, key, range, path, options) {
      const { signal, release } = signalFor(options);
      try {
        const straight = await direct(bucket);
        if (straight?.sendToFile === undefined) throw new Error("ranges cannot be written natively here (writesRangesNatively said so)");
        const headers = { range: `bytes=${range.start}-${range.end}`, "if-match": range.ifMatch, ...ownerHeader(options) };
        return await straight.sendToFile({ method: "GET", bucket, key, headers, signal }, path, (answer) => {
          const refused = notTheRange(answer.status, answer.headers.get("content-range") ?? undefined, range, bucket, key);
          if (refused) throw refused;
        });
      } catch (error) {
        if (isDiskError(error)) throw error; // the caller knows where the file was going
        throw s3Failure(error, "download", bucket, key, stopped());
      } finally {
        release();
      }
    },
    async listKeys(bucket, prefix, limit, options) {
      return (await this.listObjects!(bucket, prefix, limit, options)).map((object) => object.key);
    },
    async listObjects(bucket, prefix, limit, options) {
      const { signal, release } = signalFor(options);
      const keys: S3Listed[] = [];
      let token: string | undefined;
      const tokens = new Set<string>();
      try {
        const straight = await direct(bucket);
        const pageAt = async (after: string | undefined): Promise<ListPage> => {
          if (straight) {
            const query: Record<string, string> = { "list-type": "2", prefix, "encoding-type": "url", ...(after !== undefined ? { "continuation-token": after } : {}) };
            return parseListPage(await (await straight.send({ method: "GET", bucket, query, headers: ownerHeader(options), signal })).text());
          }
          const { sdk, client } = await connect();
          const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: after, ...owner(options) }), { abortSignal: signal as never });
          const objects = (page.Contents ?? []).flatMap((object) => (object.Key !== undefined ? [{ key: object.Key, size: object.Size ?? 0 }] : []));
          return { objects, truncated: page.IsTruncated === true, ...(page.NextContinuationToken ? { next: page.NextContinuationToken } : {}) };
        };
        do {
          const page = await pageAt(token);
          keys.push(...page.objects);
          if (keys.length > limit) throw new StepError(`s3://${bucket}/${prefix} holds more than ${limit} objects; download fewer at a time`);
          token = page.truncated ? page.next : undefined;
          // A broken or hostile server could page forever (a repeated token, or pages without
          // keys that never end): every token must be new, and a truncated page must carry one.
          if (page.truncated && !token) throw new StepError(`cannot list s3://${bucket}/${prefix}: the server said the listing goes on but sent no continuation token`);
          if (token !== undefined && tokens.has(token)) {
            throw new StepError(`cannot list s3://${bucket}/${prefix}: the server sent the continuation token '${token.slice(0, 80)}' again after ${tokens.size + 1} pages, so the listing would never end`);
          }
          if (token !== undefined) tokens.add(token);
        } while (token !== undefined);
      } catch (error) {
        if (error instanceof URIError || (error instanceof Error && error.message.startsWith("the listing has"))) throw new StepError(`cannot list s3://${bucket}/${prefix}: the server's answer could not be read (${error.message})`);
        throw s3Failure(error, "list", bucket, prefix, stopped());
      } finally {
        release();
      }
      return keys;
    },
  };
}

/**
 * One signal for one call, aborted when either `a` (the port's) or `b` (the call's) is; `release`
 * detaches it from them when the call is over, so a long-lived run signal does not collect a
 * listener per call. (AbortSignal.any is missing before Node 18.17; the Node bundle runs on 18.3.)
 */
function callSignal(a: AbortSignal | undefined, b: AbortSignal | undefined): { signal: AbortSignal | undefined; release: () => void } {
  if (!a || !b) return { signal: a ?? b, release: () => undefined };
  const both = new AbortController();
  const fromA = () => both.abort(a.reason);
  const fromB = () => both.abort(b.reason);
  if (a.aborted) fromA();
  else if (b.aborted) fromB();
  a.addEventListener("abort", fromA, { once: true });
  b.addEventListener("abort", fromB, { once: true });
  return {
    signal: both.signal,
    release: () => {
      a.removeEventListener("abort", fromA);
      b.removeEventListener("abort", fromB);
    },
  };
}

/**
 * Why an answer to a ranged GET is not that range, or undefined when it is. A server that ignores
 * Range answers 200 with everything: never written as a part.
 */
function notTheRange(status: number | undefined, contentRange: string | undefined, range: { start: number; end: number }, bucket: string, key: string): StepError | undefined {
  if (status === 206 && contentRange?.startsWith(`bytes ${range.start}-${range.end}/`)) return undefined;
  return new StepError(`cannot download s3://${bucket}/${key}: the server answered the request for bytes ${range.start}-${range.end} with ${contentRange ? `'${contentRange}'` : `HTTP ${status} and no range`} (a store without ranged reads: set OPENTOE_S3_MAX_CONCURRENCY=1 for one stream per object)`);
}

function stopError(): Error {
  return Object.assign(new Error("stopped"), { name: "AbortError" });
}

/** The body, with a failure while reading it worded like any other (and marked transient when it is). */
async function* worded(body: AsyncIterable<Uint8Array>, bucket: string, key: string, stopped: () => string | undefined, release: () => void): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch (error) {
    throw s3Failure(error, "download", bucket, key, stopped());
  } finally {
    release();
  }
}

/** " (SIGTERM)" for a signal aborted with that reason; "" when it has none worth showing. */
function reasonOf(signal: AbortSignal): string {
  const reason = signal.reason as unknown;
  const text = reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "";
  return /^SIG[A-Z]+$/.test(text) ? ` (${text})` : "";
}

/**
 * The client an upload's requests go through. Every request carries `stop`. With a budget, a
 * request without a body (create, complete) first waits for a request slot and holds it until
 * answered; one with a body is covered by the lease its caller took before reading the bytes. The first request that fails for a reason of its own is kept in
 * `failed` and stops the others. The clean-up of a multipart upload (AbortMultipartUpload) takes
 * no lease and gets ABORT_CLEANUP_MS of its own, so it is tried even after a stop without
 * holding up the exit for long. CreateMultipartUpload, once sent, is let finish (CREATE_UPLOAD_MS)
 * so that a stop always has the upload id to abort.
 */
function uploadClient(client: Client, sdk: Sdk, stop: AbortController, failed: { first?: unknown }, limit: TransferBudget | undefined): Client {
  const bound = Object.create(client) as Client;
  const send = async (command: Parameters<Client["send"]>[0], options?: object) => {
    if (command instanceof sdk.AbortMultipartUploadCommand) return client.send(command as never, { ...options, abortSignal: AbortSignal.timeout(ABORT_CLEANUP_MS) as never });
    // A request that carries bytes is covered by the lease its caller took before reading them;
    // the others (create, complete) take a request slot of their own.
    const carriesBytes = (command.input as { Body?: unknown }).Body !== undefined;
    const lease = carriesBytes ? undefined : await limit?.acquire(0, stop.signal);
    try {
      if (command instanceof sdk.CreateMultipartUploadCommand) {
        if (stop.signal.aborted) throw stopError();
        return await client.send(command as never, { ...options, abortSignal: AbortSignal.timeout(CREATE_UPLOAD_MS) as never });
      }
      return await client.send(command as never, { ...options, abortSignal: stop.signal as never });
    } catch (error) {
      if (!stop.signal.aborted) {
        failed.first ??= error;
        stop.abort(error);
      }
      throw error;
    } finally {
      lease?.release();
    }
  };
  Object.defineProperty(bound, "send", { value: send });
  return bound;
}

/**
 * The SDK's fetch handler with the idle limit on every attempt: no response headers within
 * `idleMs` is a TimeoutError (which the SDK retries), and the body fails the same way when no
 * data arrives for `idleMs` while it is being read (time spent by a slow reader does not count).
 * Either way the request itself is aborted, so no connection is left behind. The caller's signal
 * aborts it too, also while the body is being read.
 */
function watchedFetch(Base: FetchHandlerClass, idleMs: number): InstanceType<FetchHandlerClass> {
  type Handle = InstanceType<FetchHandlerClass>["handle"];
  class Watched extends Base {
    override async handle(request: Parameters<Handle>[0], options: Parameters<Handle>[1] = {}): ReturnType<Handle> {
      const { attempt, release, answered, timedOut } = watchAttempt(options.abortSignal as AbortSignal | undefined, idleMs, idleMs);
      try {
        const out = await super.handle(request, { ...options, abortSignal: attempt.signal as never });
        answered();
        const body = out.response.body as unknown;
        if (body instanceof ReadableStream) out.response.body = watchedBody(body as ReadableStream<Uint8Array>, idleMs, attempt, release);
        else release();
        return out;
      } catch (error) {
        answered();
        release();
        throw timedOut() ? timeoutError(`no answer for ${idleMs} ms`) : error;
      }
    }
  }
  return new Watched({});
}

/**
 * Whether the SDK's chain names an endpoint of its own for S3 — AWS_ENDPOINT_URL_S3,
 * AWS_ENDPOINT_URL, or the profile's `endpoint_url` (also under `services`). S3-compatible stores
 * behind such an endpoint expect path-style addresses (`host/bucket/key`), since `bucket.host`
 * names rarely resolve for them. The SDK resolves this itself; a throwaway client asks it.
 */
export async function endpointOverridden(sdk: Sdk): Promise<boolean> {
  const probe = new sdk.S3Client({});
  try {
    const configured = (probe.config as { serviceConfiguredEndpoint?: () => Promise<string | undefined> }).serviceConfiguredEndpoint;
    return (await configured?.().catch(() => undefined)) !== undefined;
  } finally {
    probe.destroy();
  }
}

function owner(options: S3Options): { ExpectedBucketOwner?: string } {
  return options.expectedBucketOwner ? { ExpectedBucketOwner: options.expectedBucketOwner } : {};
}

/** The same check as a header of a direct request. */
function ownerHeader(options: S3Options): Record<string, string> {
  return options.expectedBucketOwner ? { "x-amz-expected-bucket-owner": options.expectedBucketOwner } : {};
}

/** A direct HEAD answer's headers as the SDK's HeadObject output fields objectInfo reads. */
function headFields(headers: Headers): Parameters<typeof objectInfo>[0] {
  const field = (name: string) => headers.get(name) ?? undefined;
  const length = Number(headers.get("content-length") ?? "0");
  return {
    ContentLength: Number.isSafeInteger(length) ? length : 0,
    ETag: field("etag"),
    ServerSideEncryption: field("x-amz-server-side-encryption"),
    SSECustomerAlgorithm: field("x-amz-server-side-encryption-customer-algorithm"),
    ChecksumType: field("x-amz-checksum-type"),
    ChecksumSHA256: field("x-amz-checksum-sha256"),
    ChecksumSHA1: field("x-amz-checksum-sha1"),
    ChecksumCRC32: field("x-amz-checksum-crc32"),
  };
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

/**
 * HeadObject's answer as the port gives it. The ETag is the content's MD5 only for an object
 * uploaded in one piece (no "-N" suffix) and not encrypted with SSE-KMS or SSE-C, whose ETags are
 * not digests. A checksum is kept only when it covers the whole object (a COMPOSITE checksum of a
 * multipart upload, "…-N", is a checksum of the parts' checksums).
 */
function objectInfo(head: { ContentLength?: number; ETag?: string; ServerSideEncryption?: string; SSECustomerAlgorithm?: string; ChecksumType?: string; ChecksumSHA256?: string; ChecksumSHA1?: string; ChecksumCRC32?: string }): S3ObjectInfo {
  const etag = head.ETag ?? "";
  const info: S3ObjectInfo = { size: head.ContentLength ?? 0, etag };
  const plain = /^"?([0-9a-f]{32})"?$/i.exec(etag);
  const encrypted = (head.ServerSideEncryption ?? "").startsWith("aws:kms") || head.SSECustomerAlgorithm !== undefined;
  if (plain !== null && !encrypted) info.md5 = plain[1]!.toLowerCase();
  if (head.ChecksumType !== "COMPOSITE") {
    const whole = (value: string | undefined) => value !== undefined && !value.includes("-");
    if (whole(head.ChecksumSHA256)) info.checksum = { algorithm: "SHA256", value: head.ChecksumSHA256! };
    else if (whole(head.ChecksumSHA1)) info.checksum = { algorithm: "SHA1", value: head.ChecksumSHA1! };
    else if (whole(head.ChecksumCRC32)) info.checksum = { algorithm: "CRC32", value: head.ChecksumCRC32! };
  }
  return info;
}

/** An SDK error as one sentence naming the object, the operation and the cause — never an SDK dump. */
export function s3Failure(error: unknown, operation: string, bucket: string, key: string, stopped = "stopped before it finished"): StepError {
  if (error instanceof StepError) return error;
  const e = error as { name?: string; code?: string; $metadata?: { attempts?: number } };
  const status = statusOf(error);
  const attempts = e.$metadata?.attempts;
  const tries = attempts !== undefined && attempts > 1 ? ` after ${attempts} attempts` : "";
  const ownCauses: Record<string, string> = {
    NoSuchKey: "no such key",
    NotFound: "no such key",
    NoSuchBucket: `bucket '${bucket}' does not exist`,
    PreconditionFailed: "the object changed during the download (its ETag is not the one it had when the download started); nothing was written",
  };
  const name = e.name ?? e.code ?? "";
  const cause =
    ownCauses[name] ??
    commonCause(error, {
      endpoint: "the S3 endpoint",
      regionHint: "set AWS_REGION or a profile's region",
      accessHint: "check the credentials' permissions and expectedBucketOwner",
      unknownKey: "the access key id is not known to S3",
      stopped,
      tries,
      networkHint: "check the network, proxy settings and the S3 endpoint (AWS_ENDPOINT_URL_S3, a profile's endpoint_url, the region)",
    }) ??
    `${name || "error"}${status ? ` (HTTP ${status})` : ""}${status !== undefined && status >= 500 ? tries : ""}: ${firstLine(error)}`;
  const failure = new StepError(`cannot ${operation} s3://${bucket}/${key}: ${cause}`);
  // Trying again later could help (the network, a time limit, 5xx, throttling): patient callers retry.
  if (isTransient(error)) Object.assign(failure, { transient: true });
  if (name === "PreconditionFailed" || status === 412) Object.assign(failure, { changed: true });
  return failure;
}
