/**
 * @module aws/s3-direct: the S3 requests transfers are made of — HeadObject, GetObject (whole or
 * one range), ListObjectsV2 and a one-request PutObject — as SigV4-signed fetch calls, without the
 * S3 client. The client brings ~40 MB of code into memory and a middleware stack per request;
 * with it, an awstoe downloading a prefix used more memory than `aws s3 cp` before the first byte
 * (scripts/bench-s3.ts). The credentials and the region still come from the SDK's own chain
 * (@aws-sdk/credential-provider-node, the shared config files), and the signature from its signer.
 *
 * Only configurations this module addresses exactly are taken: the standard endpoints of the
 * commercial, GovCloud and China partitions, or an endpoint given by AWS_ENDPOINT_URL_S3 /
 * AWS_ENDPOINT_URL (path-style, as S3-compatible stores expect). FIPS, dual-stack, a profile with
 * its own endpoint or s3 settings (other than addressing_style), access point ARNs, directory buckets and
 * OPENTOE_S3_DIRECT=0 leave every request to the SDK client (aws/s3.ts), as does a run without a
 * region, so the SDK words that.
 *
 * Each request: signed just before it is sent (fresh credentials), up to 3 attempts with
 * exponential backoff for what isTransient counts as "try again later" (as the SDK's standard
 * retry mode), no answer within the idle limit is a TimeoutError, a body read through the same
 * idle watch (or, for a body Bun writes into a file itself, the file's growth watched), and S3's
 * error answers turned into errors shaped like the SDK's (name = S3's Code,
 * $metadata.httpStatusCode, $metadata.attempts), so aws/s3.ts words both paths alike.
 */
import { createHash, createHmac } from "node:crypto";
import { timeoutError, watchAttempt, watchedBody } from "./_idle.ts";
import { isTransient, idleTimeoutMs } from "./_cause.ts";
import { parseError } from "./_s3-xml.ts";
import { canWriteResponsesNatively, isDiskError, writeResponseToNewFile } from "../safe-fs/durable.ts";

export interface DirectRequest {
  method: "GET" | "HEAD" | "PUT";
  bucket: string;
  /** Left out for a request on the bucket itself (a listing). */
  key?: string;
  query?: Record<string, string>;
  /** Lower-case names; every one is signed. */
  headers?: Record<string, string>;
  body?: Uint8Array;
  signal?: AbortSignal;
}

export interface DirectS3 {
  /** Whether this bucket can be addressed here (not an ARN, not a directory bucket). */
  handles(bucket: string): boolean;
  /**
   * The answer to a request S3 accepted (2xx); anything else rejects with an SDK-shaped error.
   * Its body, when it has one, must be read or cancelled.
   */
  send(request: DirectRequest): Promise<Response>;
  /**
   * Under Bun: `send`, then the answer's body written by the runtime itself into a new file at
   * `path` (created exclusively, 0600), never passing through JavaScript buffers; resolves with
   * the bytes written. `accept` sees the answer first and may refuse it by throwing (nothing is
   * written then). No new byte on disk within the idle limit is a TimeoutError. Undefined under
   * Node, whose fetch cannot do this, and on Windows.
   */
  sendToFile?(request: DirectRequest, path: string, accept: (response: Response) => void): Promise<number>;
}

const MAX_ATTEMPTS = 3;
const BACKOFF_BASE_MS = 100;
/** A one-request upload may take the idle limit plus one second per 32 KiB before it counts as stuck. */
const UPLOAD_BYTES_PER_SECOND = 32 * 1024;
const EMPTY_SHA256 = createHash("sha256").digest("hex");
/**
 * Profile settings that change how S3 is addressed or reached: the SDK client handles those. The one
 * exception is `s3.addressing_style`, which the direct path follows itself (see addressingStyle).
 */
const PROFILE_SETTINGS_LEFT_TO_THE_SDK = /^(endpoint_url|services|s3|use_fips_endpoint|use_dualstack_endpoint|sigv4a_signing_region_set)(\.|$)/;
const ADDRESSING_STYLE = "s3.addressing_style";

type Env = Record<string, string | undefined>;

/**
 * The direct path for this configuration, or undefined when the SDK client must do the work
 * (see the module comment). Loads the credential chain and the signer, not the S3 client.
 */
export async function openDirectS3(env: Env): Promise<DirectS3 | undefined> {
  if (env.OPENTOE_S3_DIRECT === "0" || typeof fetch !== "function") return undefined;
  if ([env.AWS_USE_FIPS_ENDPOINT, env.AWS_USE_DUALSTACK_ENDPOINT].some(isTrue)) return undefined;
  const [{ defaultProvider }, { SignatureV4 }, config] = await Promise.all([
    import("@aws-sdk/credential-provider-node"),
    import("@smithy/signature-v4"),
    import("@smithy/core/config"),
  ]);
  const files = await config.loadSharedConfigFiles();
  const profile = files.configFile[env.AWS_PROFILE || "default"] ?? {};
  if (Object.keys(profile).some((name) => name !== ADDRESSING_STYLE && PROFILE_SETTINGS_LEFT_TO_THE_SDK.test(name))) return undefined;
  const style = addressingStyle(profile[ADDRESSING_STYLE]);
  if (style === null) return undefined;
  const endpoint = configuredEndpoint(env);
  if (endpoint === null) return undefined;
  const region = await config.loadConfig(config.NODE_REGION_CONFIG_OPTIONS, config.NODE_REGION_CONFIG_FILE_OPTIONS)().catch(() => undefined);
  if (!region || !/^[a-z0-9-]+$/.test(region) || /^(us-iso|eu-iso)/.test(region)) return undefined;
  const signer = new SignatureV4({ service: "s3", region, credentials: defaultProvider(), sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
  const idleMs = idleTimeoutMs();
  const once = async (request: DirectRequest, url: URL, raw: boolean): Promise<Answer> => {
    const headers: Record<string, string> = { host: url.host, "x-amz-content-sha256": request.body ? sha256Hex(request.body) : EMPTY_SHA256, ...request.headers };
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, name) => (query[name] = value));
    const signed = await signer.sign({ method: request.method, protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined, path: url.pathname, query, headers });
    const { host: _host, ...sent } = signed.headers as Record<string, string>;
    return fetchWatched(url, { method: request.method, headers: sent, ...(request.body ? { body: request.body } : {}) }, request.signal, idleMs + (request.body ? (request.body.byteLength / UPLOAD_BYTES_PER_SECOND) * 1000 : 0), idleMs, raw);
  };
  /** `once` with up to MAX_ATTEMPTS tries while the failure is one that may pass. */
  const retried = async (request: DirectRequest, raw: boolean): Promise<Answer> => {
    const url = addressOf(request, endpoint, region, style);
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(request, url, raw);
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || request.signal?.aborted || !isTransient(error)) throw withAttempts(error, attempt);
        await pause(BACKOFF_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random()), request.signal);
      }
    }
  };
  return {
    handles: (bucket) => !bucket.startsWith("arn:") && !bucket.endsWith("--x-s3") && /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket),
    send: async (request) => (await retried(request, false)).response,
    ...(!canWriteResponsesNatively()
      ? {}
      : {
          async sendToFile(request, path, accept) {
            const { response, attempt, release } = await retried(request, true);
            try {
              try {
                accept(response);
              } catch (error) {
                await response.body?.cancel().catch(() => undefined);
                throw error;
              }
              return await writeNatively(response, path, idleMs, attempt, request.signal);
            } finally {
              release();
            }
          },
        }),
  };
}

/** An accepted answer; `raw`: its body not yet watched, with the attempt that controls it. */
interface Answer {
  response: Response;
  attempt: AbortController;
  release: () => void;
}

/** How often the size of a file being written natively is looked at, at most (the idle watch). */
const NATIVE_WATCH_MS = 1000;

/**
 * The body written by the runtime into a new file at `path` (exclusive, 0600). The idle limit is
 * kept by watching the file grow: nothing new within `idleMs` aborts the attempt with a
 * TimeoutError. A failure of the network is marked as one; one of the disk keeps its code.
 */
async function writeNatively(response: Response, path: string, idleMs: number, attempt: AbortController, signal: AbortSignal | undefined): Promise<number> {
  let size = 0;
  let quietSince = Date.now();
  const watch = (now: number) => {
    if (now !== size) {
      size = now;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= idleMs) attempt.abort(timeoutError(`no data for ${idleMs} ms`));
  };
  try {
    return await writeResponseToNewFile(path, response, Math.max(10, Math.min(NATIVE_WATCH_MS, idleMs / 4)), watch);
  } catch (error) {
    if (signal?.aborted) throw Object.assign(new Error("stopped"), { name: "AbortError" });
    if (attempt.signal.aborted) throw attempt.signal.reason;
    if (isDiskError(error) || (error as { code?: unknown }).code === "EEXIST") throw error;
    throw Object.assign(new Error(`the answer broke off: ${(error as Error)?.message ?? String(error)}`), { code: "ECONNRESET", cause: error });
  }
}

/**
 * The profile's `s3.addressing_style`: "path" forces path-style addressing; "virtual", "auto" or
 * none keep the default; anything else is null and left to the SDK, which then reports it.
 */
function addressingStyle(value: string | undefined): "path" | "default" | null {
  if (value === undefined || value === "auto" || value === "virtual") return "default";
  return value === "path" ? "path" : null;
}

/** AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL as a URL; undefined for none; null for one that is not an http(s) URL (the SDK then says so). */
function configuredEndpoint(env: Env): URL | undefined | null {
  if (isTrue(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)) return undefined;
  const given = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  if (!given) return undefined;
  try {
    const url = new URL(given);
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

/**
 * The request's URL. A configured endpoint: path-style under it. Otherwise the regional endpoint,
 * virtual-hosted (`bucket.s3.region.amazonaws.com`) for names without dots, path-style for names
 * with dots (a dotted name breaks the certificate's wildcard) or when the profile asks for
 * `addressing_style = path`. Every byte of the key outside
 * RFC 3986's unreserved set and `/` is percent-encoded, as S3 signs the path as sent.
 */
export function addressOf(request: Pick<DirectRequest, "bucket" | "key" | "query">, endpoint: URL | undefined, region: string, style: "path" | "default" = "default"): URL {
  const key = request.key === undefined ? "" : encodeKey(request.key);
  let url: URL;
  if (endpoint !== undefined) {
    url = new URL(endpoint.href);
    url.pathname = `${url.pathname.replace(/\/+$/, "")}/${request.bucket}/${key}`;
  } else {
    const host = `s3.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
    url = request.bucket.includes(".") || style === "path" ? new URL(`https://${host}/${request.bucket}/${key}`) : new URL(`https://${request.bucket}.${host}/${key}`);
  }
  for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
  return url;
}

function encodeKey(key: string): string {
  return key
    .split("/")
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join("/");
}

/**
 * fetch with the idle limit: no answer within `headersMs` is a TimeoutError ("no answer …"), and
 * the body is watched the same way per read. The caller's signal aborts it at any point.
 * A non-2xx answer is read (at most 64 KiB) and rejected as an SDK-shaped error.
 */
async function fetchWatched(url: URL, init: RequestInit, signal: AbortSignal | undefined, headersMs: number, idleMs: number, raw: boolean): Promise<Answer> {
  const { attempt, release, answered, timedOut } = watchAttempt(signal, headersMs, idleMs);
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: attempt.signal, redirect: "manual" });
  } catch (error) {
    release();
    if (timedOut()) throw timeoutError(`no answer for ${idleMs} ms`);
    throw signal?.aborted ? Object.assign(new Error("stopped"), { name: "AbortError" }) : error;
  } finally {
    answered();
  }
  if (response.status < 200 || response.status > 299) {
    const text = await readSome(response).catch(() => "");
    release();
    throw serviceError(response, text);
  }
  if (raw) return { response, attempt, release };
  if (response.body === null) {
    release();
    return { response, attempt, release };
  }
  return { response: new Response(watchedBody(response.body, idleMs, attempt, release), { status: response.status, headers: response.headers }), attempt, release };
}

async function readSome(response: Response): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < 64 * 1024) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
  return Buffer.concat(chunks).toString("utf8");
}

/** What the SDK names an answer without an error body (HEAD), by status. */
const STATUS_NAMES: Record<number, string> = { 301: "PermanentRedirect", 307: "TemporaryRedirect", 400: "BadRequest", 403: "Forbidden", 404: "NotFound", 412: "PreconditionFailed", 416: "InvalidRange", 500: "InternalError", 503: "ServiceUnavailable" };

/** S3's error answer as an error shaped like the SDK's, so aws/s3.ts words both paths alike. */
export function serviceError(response: Response, text: string): Error {
  const { code, message } = parseError(text);
  const name = code ?? STATUS_NAMES[response.status] ?? `Http${response.status}`;
  const region = response.headers.get("x-amz-bucket-region");
  const wrongRegion = response.status === 301 && region ? ` (the bucket is in ${region}; set AWS_REGION=${region})` : "";
  return Object.assign(new Error(`${message ?? name}${wrongRegion}`), {
    name,
    $fault: response.status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: response.status },
  });
}

function withAttempts(error: unknown, attempts: number): unknown {
  if (error !== null && typeof error === "object") {
    const metadata = ((error as { $metadata?: object }).$metadata ?? {}) as object;
    Object.assign(error, { $metadata: { ...metadata, attempts } });
  }
  return error;
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(true|1)$/i.test(value.trim());
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The hash the signer asks for (a class: `new (secret?)`), on node:crypto. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", typeof secret === "string" ? secret : ArrayBuffer.isView(secret) ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength) : new Uint8Array(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === "string" ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}
