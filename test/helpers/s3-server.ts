/**
 * @module test/helpers/s3-server: a real S3-compatible server on 127.0.0.1 for tests: s3rver
 * (files in a temp folder) behind a small proxy that verifies AWS Signature V4 (test/helpers/sigv4)
 * — s3rver itself accepts any secret — so requests made by the unmodified AWS SDK are checked the
 * way S3 checks them. Nothing leaves loopback.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// s3rver ships CommonJS without types.
// @ts-expect-error no type declarations
import S3rver from "s3rver";
import { parseAuthorization, signatureMatches } from "./sigv4.ts";

export const ACCESS_KEY_ID = "S3RVER";
export const SECRET_ACCESS_KEY = "S3RVER";

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
  const proxy = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const recorded = record(request, url);
      requests.push(recorded);
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
      return fetch(`http://127.0.0.1:${backendPort}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        duplex: "half",
        redirect: "manual",
      });
    },
  });
  return {
    endpoint: `http://127.0.0.1:${proxy.port}`,
    get rejected() {
      return state.rejected;
    },
    get listRequests() {
      return state.listRequests;
    },
    requests,
    async close() {
      proxy.stop(true);
      await new Promise<void>((resolve) => backend.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
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
  return { method: request.method, bucket: decode(bucket), key: decode(rest.join("/")), query: url.search.replace(/^\?/, ""), anonymous, headers: Object.fromEntries(request.headers) };
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
  const body = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${prefix}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${token === null ? "" : `<ContinuationToken>${token}</ContinuationToken>`}${next}${page.map((e) => e.xml).join("")}</ListBucketResult>`;
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
