/**
 * @module test/helpers/s3-server: a real S3-compatible server on 127.0.0.1 for tests: s3rver
 * (files in a temp folder) behind a small proxy that verifies AWS Signature V4 (test/helpers/sigv4)
 * — s3rver itself accepts any secret — so requests made by the unmodified AWS SDK are checked the
 * way S3 checks them. Nothing leaves loopback.
 *
 * Like S3, it can limit each connection's throughput (`bytesPerSecondPerConnection`): every
 * request and response body streamed through the proxy is paced to that rate, so on one machine a
 * transfer over N connections is N times faster than one stream, as it is against S3, where one
 * connection gets some tens of MB/s. Tests and benchmarks use THROTTLED_RATE (16 MB/s, 16·10^6
 * bytes per second). Each request is recorded with when it arrived and when its answer was
 * finished, so a test can count how many were in flight at once (peakConcurrency) instead of
 * timing anything. The proxy also answers If-Match (s3rver ignores it): a GET or HEAD whose
 * If-Match is not the object's ETag gets 412 PreconditionFailed, as S3 answers it. It keeps the
 * multipart uploads still open and answers ListMultipartUploads and AbortMultipartUpload from
 * them (s3rver has neither), so a test can check that a stopped upload left nothing behind.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { tmpdir } from "node:os";
import { join } from "node:path";
// s3rver ships CommonJS without types.
// @ts-expect-error no type declarations
import S3rver from "s3rver";
import { parseAuthorization, signatureMatches } from "./sigv4.ts";

export const ACCESS_KEY_ID = "S3RVER";
export const SECRET_ACCESS_KEY = "S3RVER";
/** The per-connection rate the tests and benchmarks give the throttled server: 16 MB/s. */
export const THROTTLED_RATE = 16_000_000;

export interface LocalS3 {
  /** The endpoint clients use (the verifying proxy). */
  endpoint: string;
  /** Requests the proxy refused for a bad signature. */
  rejected: number;
  /** ListObjectsV2 requests served (pages). */
  listRequests: number;
  /** Every request that reached the proxy, in the order it arrived (refused ones too). */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** One request as the proxy saw it arrive. */
export interface RecordedRequest {
  method: string;
  bucket: string;
  /** The object key, decoded; "" for a request on the bucket itself. */
  key: string;
  /** The query string without its "?" ("" when there is none), e.g. "uploadId=…&partNumber=1". */
  query: string;
  /** Carried no signature (neither an Authorization header nor a presigned X-Amz-Signature). */
  anonymous: boolean;
  /** The request's headers, names in lower case. */
  headers: Record<string, string>;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** performance.now() when its answer was sent whole (or abandoned); undefined until then. */
  endedAt?: number;
  /** The answer's HTTP status; undefined until it is known. */
  status?: number;
}

/**
 * The most requests (among those `which` selects) that were in flight at the same moment — from
 * arrival to the last byte of the answer. A request still in flight counts until now.
 */
export function peakConcurrency(requests: readonly RecordedRequest[], which: (request: RecordedRequest) => boolean = () => true): number {
  const events: [number, number][] = [];
  for (const r of requests) {
    if (!which(r)) continue;
    events.push([r.startedAt, 1], [r.endedAt ?? Number.POSITIVE_INFINITY, -1]);
  }
  // Ends sort before starts at the same instant: back-to-back requests do not overlap.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, step] of events) peak = Math.max(peak, (now += step));
  return peak;
}

export interface LocalS3Options {
  /**
   * Objects per ListObjectsV2 page, whatever the client asks for (S3 decides page sizes too), so
   * pagination can be tested with a handful of objects instead of more than 1000.
   */
  pageSize?: number;
  /**
   * Owner account of each bucket. s3rver has no accounts, so the proxy answers a request whose
   * x-amz-expected-bucket-owner header names another account with 403 AccessDenied, as S3 does.
   */
  owners?: Record<string, string>;
  /**
   * Buckets whose objects anyone may read, as a public-read bucket policy (s3:GetObject for "*")
   * allows: an unsigned GET or HEAD of an object in one of them is passed on without a signature
   * check. Listing, writing and every other bucket still need a valid signature.
   */
  publicRead?: string[];
  /**
   * Sees every request that passed the signature check, before it is passed on: a Response it
   * returns (s3Error makes S3's error answers) is sent instead, as an IAM policy denying the
   * request would answer; undefined passes the request on. It may take its time (to hold a
   * request while a test does something else).
   */
  intercept?: (request: RecordedRequest) => Response | undefined | Promise<Response | undefined>;
  /**
   * Bytes per second each request body and each answer body may move at (one request at a time
   * per connection, so this is the connection's rate); unlimited when left out. THROTTLED_RATE
   * (16 MB/s) is what tests and benchmarks use.
   */
  bytesPerSecondPerConnection?: number;
}

/** An error answer the way S3 words it. */
export function s3Error(status: number, code: string, message: string): Response {
  return new Response(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`, { status, headers: { "content-type": "application/xml" } });
}

export async function startLocalS3(buckets: string[], options: LocalS3Options = {}): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), "opentoe-s3-"));
  const backend = new S3rver({ address: "127.0.0.1", port: 0, directory, silent: true, configureBuckets: buckets.map((name) => ({ name })) });
  const { port: backendPort } = (await backend.run()) as { port: number };
  const state = { rejected: 0, listRequests: 0 };
  const requests: RecordedRequest[] = [];
  const multipart = new Map<string, { bucket: string; key: string }>();
  // node:http rather than Bun.serve: Bun.serve sends every streamed answer chunked, dropping its
  // Content-Length, which S3 always sends (and the SDK reports as ContentLength).
  const proxy = createServer((incoming, outgoing) => void serve(incoming, outgoing));
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const proxyPort = (proxy.address() as AddressInfo).port;
  async function serve(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const url = new URL(incoming.url ?? "/", `http://127.0.0.1:${proxyPort}`);
    const headers = new Headers();
    for (const [name, value] of Object.entries(incoming.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    const hasBody = incoming.method !== "GET" && incoming.method !== "HEAD";
    const request = new Request(url.href, { method: incoming.method, headers, body: hasBody ? (Readable.toWeb(incoming) as ReadableStream<Uint8Array>) : null, duplex: "half" } as RequestInit);
    const recorded = record(request, url);
    requests.push(recorded);
    let answer: Response;
    try {
      answer = await handle(request, url, recorded);
    } catch (error) {
      answer = s3Error(500, "InternalError", (error as Error).message);
    }
    recorded.status = answer.status;
    const answerHeaders: Record<string, string> = {};
    for (const [name, value] of answer.headers) if (!["transfer-encoding", "connection", "keep-alive"].includes(name)) answerHeaders[name] = value;
    outgoing.writeHead(answer.status, answerHeaders);
    if (answer.body === null || incoming.method === "HEAD") {
      await answer.body?.cancel();
      recorded.endedAt = performance.now();
      outgoing.end();
      return;
    }
    const reader = paced(answer.body, options.bytesPerSecondPerConnection).getReader();
    // An answer has ended for its client once its last byte is written: a client that knows the
    // length sends its next request on the connection then, before the stream here reports its end.
    const length = Number(answer.headers.get("content-length") ?? Number.NaN);
    let written = 0;
    const gone = () => void reader.cancel().catch(() => undefined);
    outgoing.once("close", gone);
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        written += next.value.length;
        const last = written >= length;
        if (!outgoing.write(next.value)) {
          await new Promise<void>((resolve) => {
            const on = () => {
              outgoing.off("drain", on).off("close", on);
              resolve();
            };
            outgoing.on("drain", on).on("close", on);
          });
        }
        if (last) recorded.endedAt = performance.now();
        if (outgoing.destroyed) break;
      }
      outgoing.end();
    } catch {
      outgoing.destroy();
    } finally {
      outgoing.off("close", gone);
      recorded.endedAt ??= performance.now();
    }
  }
  async function handle(request: Request, url: URL, recorded: RecordedRequest): Promise<Response> {
    const publicRead = recorded.anonymous && (request.method === "GET" || request.method === "HEAD") && recorded.key !== "" && (options.publicRead ?? []).includes(recorded.bucket);
    if (!publicRead && !(await signatureValid(request, url))) {
      state.rejected++;
      return new Response(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>`, { status: 403, headers: { "content-type": "application/xml" } });
    }
    const bucket = decodeURIComponent(url.pathname.split("/")[1] ?? "");
    const expectedOwner = request.headers.get("x-amz-expected-bucket-owner");
    if (expectedOwner !== null && options.owners?.[bucket] !== undefined && options.owners[bucket] !== expectedOwner) {
      return new Response(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`, { status: 403, headers: { "content-type": "application/xml" } });
    }
    const intercepted = await options.intercept?.(recorded);
    if (intercepted !== undefined) return intercepted;
    if (request.method === "GET" && url.searchParams.get("list-type") === "2" && !url.searchParams.has("delimiter")) {
      state.listRequests++;
      return listPage(backendPort, bucket, url, options.pageSize ?? 1000);
    }
    // s3rver has neither ListMultipartUploads nor AbortMultipartUpload: the proxy keeps the open
    // uploads itself (created, not yet completed or aborted) and answers both.
    const uploadId = url.searchParams.get("uploadId");
    if (request.method === "GET" && recorded.key === "" && url.searchParams.has("uploads")) return listUploads(bucket, multipart);
    if (request.method === "DELETE" && uploadId !== null) {
      if (!multipart.delete(uploadId)) return s3Error(404, "NoSuchUpload", "The specified upload does not exist.");
      return new Response(null, { status: 204 });
    }
    const answer = await fetch(`http://127.0.0.1:${backendPort}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: request.body === null || options.bytesPerSecondPerConnection === undefined ? request.body : paced(request.body, options.bytesPerSecondPerConnection),
      duplex: "half",
      redirect: "manual",
      decompress: false,
    } as RequestInit);
    // If-Match on an object read: compared with the ETag of the very answer about to be sent,
    // so an object replaced in between can never pass with the new content.
    const ifMatch = request.headers.get("if-match");
    if (ifMatch !== null && (request.method === "GET" || request.method === "HEAD") && answer.ok && ifMatch !== "*" && ifMatch !== answer.headers.get("etag")) {
      await answer.body?.cancel();
      return s3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
    }
    if (request.method === "POST" && answer.ok && url.searchParams.has("uploads")) {
      const created = /<UploadId>([^<]+)<\/UploadId>/.exec(await answer.clone().text())?.[1];
      if (created !== undefined) multipart.set(created, { bucket, key: recorded.key });
    }
    if (request.method === "POST" && answer.ok && uploadId !== null) multipart.delete(uploadId);
    return answer;
  }
  return {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    get rejected() {
      return state.rejected;
    },
    get listRequests() {
      return state.listRequests;
    },
    requests,
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      // The proxy's kept-alive connections to s3rver would hold its close() for the server's
      // keep-alive time (5 s, as long as a test hook may take): cut them too.
      (backend as unknown as { httpServer?: { closeAllConnections?(): void } }).httpServer?.closeAllConnections?.();
      await new Promise<void>((resolve) => backend.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** ListMultipartUploads' answer: the uploads of `bucket` still open (one page, keys in order). */
function listUploads(bucket: string, open: Map<string, { bucket: string; key: string }>): Response {
  const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const uploads = [...open].filter(([, upload]) => upload.bucket === bucket).sort(([, a], [, b]) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const body = uploads.map(([id, { key }]) => `<Upload><Key>${escape(key)}</Key><UploadId>${id}</UploadId></Upload>`).join("");
  return new Response(`<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>${escape(bucket)}</Bucket><IsTruncated>false</IsTruncated>${body}</ListMultipartUploadsResult>`, { headers: { "content-type": "application/xml" } });
}

/** A path-style request (`/bucket/key`) as recorded in LocalS3.requests. */
function record(request: Request, url: URL): RecordedRequest {
  const [, bucket = "", ...rest] = url.pathname.split("/");
  const anonymous = request.headers.get("authorization") === null && !url.searchParams.has("X-Amz-Signature");
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text; // not valid escapes: recorded as sent
    }
  };
  return { method: request.method, bucket: decode(bucket), key: decode(rest.join("/")), query: url.search.replace(/^\?/, ""), anonymous, headers: Object.fromEntries(request.headers), startedAt: performance.now() };
}

/** Largest piece sent at once by a paced stream, so the rate is smooth at the millisecond scale. */
const PACE_SLICE = 64 * 1024;

/**
 * `body` passed through at no more than `rate` bytes per second (the budget starts at the first
 * read), in pieces of at most PACE_SLICE bytes.
 */
function paced(body: ReadableStream<Uint8Array>, rate: number | undefined): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let start: number | undefined;
  let sent = 0;
  let pending: Uint8Array | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (pending === undefined || pending.length === 0) {
            const next = await reader.read();
            if (next.done) {
              controller.close();
              return;
            }
            pending = next.value;
          }
          const piece = rate === undefined ? pending : pending.subarray(0, PACE_SLICE);
          pending = pending.subarray(piece.length);
          if (rate !== undefined) {
            start ??= performance.now();
            const due = start + ((sent + piece.length) / rate) * 1000;
            const wait = due - performance.now();
            if (wait > 1) await Bun.sleep(wait);
            sent += piece.length;
          }
          controller.enqueue(piece);
        } catch (error) {
          controller.error(error);
        }
      },
      cancel(reason) {
        return reader.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * ListObjectsV2 answered by the proxy from s3rver's complete listing. s3rver pages in the order
 * its folders come off the disk (not sorted on ext4) and names its token cipher "des", which Bun
 * does not know — so its own pagination skips keys here. S3 lists keys in UTF-8 binary order and
 * its continuation tokens are opaque; ours are the base64 of the last key sent.
 */
async function listPage(backendPort: number, bucket: string, url: URL, pageSize: number): Promise<Response> {
  const prefix = url.searchParams.get("prefix") ?? "";
  const token = url.searchParams.get("continuation-token");
  const after = token === null ? (url.searchParams.get("start-after") ?? "") : Buffer.from(token, "base64").toString("utf8");
  const max = Math.min(pageSize, Number(url.searchParams.get("max-keys") ?? 1000));
  const answer = await fetch(`http://127.0.0.1:${backendPort}/${encodeURIComponent(bucket)}?list-type=2&max-keys=1000&prefix=${encodeURIComponent(prefix)}`);
  // An error (NoSuchBucket) goes back as s3rver gave it, as S3 would answer it.
  if (!answer.ok) return new Response(await answer.text(), { status: answer.status, headers: { "content-type": answer.headers.get("content-type") ?? "application/xml" } });
  const full = await answer.text();
  if (/<IsTruncated>true<\/IsTruncated>/.test(full)) throw new Error("test S3 server: more than 1000 keys under one prefix is not supported");
  const unescape = (text: string) => text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
  const entries = [...full.matchAll(/<Contents>[\s\S]*?<\/Contents>/g)]
    .map((m) => ({ xml: m[0], key: unescape(/<Key>([\s\S]*?)<\/Key>/.exec(m[0])![1]!) }))
    .filter((e) => e.key > after)
    .sort((x, y) => Buffer.compare(Buffer.from(x.key), Buffer.from(y.key)));
  const page = entries.slice(0, max);
  const truncated = entries.length > page.length;
  const next = truncated ? `<NextContinuationToken>${Buffer.from(page.at(-1)!.key).toString("base64")}</NextContinuationToken>` : "";
  // encoding-type=url: keys (and the prefix) URL-encoded with "+" for a space, as S3 sends them.
  const urlEncoded = url.searchParams.get("encoding-type") === "url";
  const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const shown = (text: string) => (urlEncoded ? encodeURIComponent(text).replace(/%20/g, "+").replace(/%2F/g, "/") : escape(text));
  const contents = page.map((e) => e.xml.replace(/<Key>[\s\S]*?<\/Key>/, `<Key>${shown(e.key)}</Key>`)).join("");
  const body = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${shown(prefix)}</Prefix>${urlEncoded ? "<EncodingType>url</EncodingType>" : ""}<KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${token === null ? "" : `<ContinuationToken>${token}</ContinuationToken>`}${next}${contents}</ListBucketResult>`;
  return new Response(body, { headers: { "content-type": "application/xml" } });
}

/** A request signed with the test key and secret, the way S3 checks it (path not escaped twice). */
async function signatureValid(request: Request, url: URL): Promise<boolean> {
  const auth = parseAuthorization(request.headers.get("authorization"));
  if (auth === undefined || auth.accessKeyId !== ACCESS_KEY_ID) return false;
  return signatureMatches(request, url, undefined, SECRET_ACCESS_KEY, auth);
}

/** Points the SDK's own chain (as awstoe uses it) at the local server; returns the undo. */
export function useLocalS3(s3: LocalS3): () => void {
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_REGION: "us-east-1" });
  return () => {
    process.env = saved;
  };
}

/** A plain SDK client for arranging and inspecting the test bucket. */
export async function testClient(s3: LocalS3) {
  const { S3Client } = await import("@aws-sdk/client-s3");
  return new S3Client({ endpoint: s3.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY } });
}
