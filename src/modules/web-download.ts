/**
 * @module modules/web-download: WebDownload — fetch files over HTTP or HTTPS.
 *
 * One connection per file, on purpose (issue #18). S3Download reads big objects as parallel
 * ranges because S3 caps each connection: against the loopback S3 capped at 16 MB/s per
 * connection, 192 MiB took 13 s in one stream and 2.7–4.3 s in ten ranged streams (the rest of
 * the gap is the 2-core machine's CPU, shared with the server). Web servers and CDNs mostly give
 * one connection their full speed, and ranges are where they disagree: no Accept-Ranges, weak or
 * missing ETags (nothing to pin the parts to one version), a changed file answered whole with
 * 200, per-client connection caps that refuse or throttle the extra connections. One stream also
 * keeps the `checksum` computed as the bytes arrive, with no read-back, and matches curl on
 * loopback (scripts/bench-download.ts). Ranges for a server that advertises them on a large file
 * could come later behind a setting, measured against a real CDN.
 */
import { Type } from "@sinclair/typebox";
import { mkdirSync } from "node:fs";
import http, { type ClientRequest, type IncomingMessage } from "node:http";
import https from "node:https";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { StepError } from "../errors.ts";
import { Choice, Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule, literalText, type InputIssue, type InputOf, type ModuleContext } from "./_define.ts";
import { fileDigest, hashName } from "./_download.ts";
import { temporaryFileBeside, type TemporaryFile } from "../safe-fs/durable.ts";
import { absolute, endsWithSeparator, entryAt, forEachOperation, fsFailure, isWindows } from "./_fs.ts";

export const CHECKSUM_ALGORITHMS = ["MD5", "SHA1", "SHA256", "SHA512"] as const;
const DIGEST_HEX_LENGTH: Record<string, number> = { MD5: 32, SHA1: 40, SHA256: 64, SHA512: 128 };

/** One element of `inputs`. */
const inputSchema = () =>
  Fields({
    source: Text({ minLength: 1, description: "http:// or https:// URL" }),
    destination: Text({ minLength: 1, description: "file path, or a folder when it ends with a path separator" }),
    overwrite: Type.Optional(Flag({ default: true, description: "replace an existing file (default true)" })),
    checksum: Type.Optional(Text({ description: "expected hex digest of the file" })),
    algorithm: Type.Optional(Choice(CHECKSUM_ALGORITHMS, { caseInsensitive: true, templates: true, description: "MD5, SHA1, SHA256 or SHA512" })),
    ignoreCertificateErrors: Type.Optional(Flag({ default: false, description: "skip TLS certificate checks for this download" })),
  });

type Item = InputOf<typeof inputSchema>;

export default defineModule({
  name: "WebDownload",
  summary: "Downloads files from HTTP(S) URLs, with retries and optional checksum verification.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: inputSchema,
  output: () => Fields({ destination: Text({ description: "the downloaded files' paths, one per line" }) }),
  check(input) {
    const issues: InputIssue[] = [];
    const source = literalText(input.source);
    if (source !== undefined && !isHttpUrl(source)) {
      issues.push({ path: ["source"], message: `'${source}' is not an http:// or https:// URL` });
    }
    const hasChecksum = input.checksum !== undefined;
    const hasAlgorithm = input.algorithm !== undefined;
    if (hasChecksum !== hasAlgorithm) {
      issues.push({
        path: [hasChecksum ? "checksum" : "algorithm"],
        severity: "warning",
        message: `${hasChecksum ? "checksum" : "algorithm"} without ${hasChecksum ? "algorithm" : "checksum"}: the download will not be verified`,
        hint: "give both checksum and algorithm to verify the file",
      });
    }
    const checksum = literalText(input.checksum);
    const algorithm = literalText(input.algorithm)?.toUpperCase();
    if (checksum !== undefined && algorithm !== undefined && DIGEST_HEX_LENGTH[algorithm] !== undefined) {
      const want = DIGEST_HEX_LENGTH[algorithm]!;
      if (!/^[0-9a-fA-F]*$/.test(checksum) || checksum.length !== want) {
        issues.push({ path: ["checksum"], message: `an ${algorithm} checksum is ${want} hex digits; '${checksum}' is not` });
      }
    }
    return issues;
  },
  async execute(items, ctx) {
    const paths: string[] = [];
    await forEachOperation(items, (item) => item.source, async (item) => {
      paths.push(await downloadElement(item, ctx));
    });
    return { outputs: { destination: paths.join("\n") } };
  },
});

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

// --- execution ---
//
// Choices where the spec leaves room (docs/modules.md#webdownload), each the one a careful user would expect:
// - Tries: each element gets DOWNLOAD_TRIES tries, waiting RETRY_BASE_MS × 1, 2, 4, 8 between
//   them (1 s, 2 s, 4 s, 8 s), independent of the step's maxAttempts. The base can be changed
//   with the environment variable AWSTOE_WEBDOWNLOAD_RETRY_BASE_MS (milliseconds; tests use it).
//   Retried: network errors (DNS, refused, reset, timeout), HTTP 5xx, 408 and 429, a body cut
//   short and a checksum mismatch. Not retried: other statuses, certificate errors, too many
//   redirects, a bad redirect, local file errors, and a stop (step timeout or interrupt).
// - Redirects (301, 302, 303, 307, 308) are followed up to MAX_REDIRECTS times; http→https is
//   fine, https→http is refused (it would drop the protection the document asked for).
//   ignoreCertificateErrors applies to every hop of that element's download and nothing else.
// - A folder destination takes the file name from the source URL as written (not from a redirect
//   target, which is only known after downloading), percent-decoded. An empty name, `.`, `..`, or
//   a name containing `/` or `\\` (on every platform, so a document behaves the same everywhere),
//   or NUL, is an error. `..` inside a longer name (`a..b.tar`) is an ordinary name.
// - The download goes to a hidden temporary file beside the target and is renamed into place
//   when complete and verified: a failed try or a checksum mismatch deletes the downloaded file
//   and leaves an existing destination file as it was. Replacing a file keeps its permission bits.
//   overwrite: false is checked before downloading and again at the final step (a file that
//   appeared meanwhile is not replaced).
// - No data for IDLE_TIMEOUT_MS (60 s; AWSTOE_WEBDOWNLOAD_IDLE_TIMEOUT_MS) is a timeout (retried);
//   there is no limit on the total time other than the step's timeoutSeconds.
// - The output lists absolute paths (as ListFiles does), one per element, joined with "\\n".

/** Tries per element (the first one and four retries). */
export const DOWNLOAD_TRIES = 5;
/** The first wait between tries; it doubles after each try. */
export const RETRY_BASE_MS = 1000;
export const RETRY_BASE_ENV = "AWSTOE_WEBDOWNLOAD_RETRY_BASE_MS";
/** A connection that sends nothing for this long has failed. */
export const IDLE_TIMEOUT_MS = 60_000;
export const IDLE_TIMEOUT_ENV = "AWSTOE_WEBDOWNLOAD_IDLE_TIMEOUT_MS";
export const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** A milliseconds setting from the environment, or the default when unset or not a whole number. */
function millisecondsFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : fallback;
}

/** Why one try failed, worded for a person, and whether another try could help. */
class TryFailure extends Error {
  constructor(message: string, readonly retry: boolean) {
    super(message);
  }
}

/** The file one element writes: absolute path to work with, and as written for messages. */
interface Target {
  path: string;
  written: string;
}

interface Verification {
  algorithm: string;
  expected: string;
}

async function downloadElement(item: Item, ctx: ModuleContext): Promise<string> {
  let prepared: Prepared;
  try {
    prepared = await prepare(item, ctx);
  } catch (error) {
    if (error instanceof StepError) throw new StepError(`downloading '${item.source}' failed: ${error.message}`);
    throw error;
  }
  const { source, target, options } = prepared;
  if (!prepared.skip) await withRetries(item.source, ctx, () => downloadOnce(source, target, options, ctx));
  return target.path;
}

interface Prepared {
  source: URL;
  target: Target;
  options: TryOptions;
  /** The existing file already has the expected digest. */
  skip: boolean;
}

/** Everything decided before the first request: the file, the checks on what is there, its folder. */
async function prepare(item: Item, ctx: ModuleContext): Promise<Prepared> {
  const source = parseSource(item.source);
  const target = targetOf(item, source, ctx);
  const verification = verificationOf(item, ctx);
  const overwrite = item.overwrite;
  const existing = entryAt(target.path, target.written);
  // `=== true`: a reference the engine could not resolve still arrives as its text, and text must
  // not turn certificate checks off.
  const options: TryOptions = { verification, overwrite, mode: existing?.isFile() ? existing.mode & 0o7777 : undefined, insecure: item.ignoreCertificateErrors === true };
  if (existing?.isDirectory()) {
    throw new StepError(`a folder already exists at '${target.written}'; end the destination with a path separator to download into it`);
  }
  if (existing !== undefined && !overwrite) throw new StepError(`'${target.written}' already exists and overwrite is false`);
  if (existing !== undefined && verification !== undefined && (await hasDigest(target, verification, ctx))) {
    ctx.log.info(`'${target.written}' already has the expected ${verification.algorithm} checksum; not downloading '${item.source}' again`);
    return { source, target, options, skip: true };
  }
  try {
    mkdirSync(dirname(target.path), { recursive: true });
  } catch (error) {
    throw fsFailure(error, dirname(target.written));
  }
  return { source, target, options, skip: false };
}

function parseSource(source: string): URL {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new StepError(`'${source}' is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new StepError(`'${source}' is not an http:// or https:// URL`);
  return url;
}

/** The destination file: the path written, or for a folder the URL's last path segment inside it. */
function targetOf(item: Item, source: URL, ctx: ModuleContext): Target {
  if (!endsWithSeparator(item.destination, isWindows(ctx))) return { path: absolute(ctx, item.destination), written: item.destination };
  const name = fileNameOf(item.source, source);
  return { path: join(absolute(ctx, item.destination), name), written: `${item.destination}${name}` };
}

function fileNameOf(written: string, source: URL): string {
  const last = source.pathname.slice(source.pathname.lastIndexOf("/") + 1);
  let name: string;
  try {
    name = decodeURIComponent(last);
  } catch {
    throw new StepError(`cannot take a file name from '${written}': '${last}' is not valid percent-encoding; give a file path as destination`);
  }
  if (name === "") throw new StepError(`cannot take a file name from '${written}': its path does not end with a name; give a file path as destination`);
  if (name === "." || name === ".." || /[/\\\0]/.test(name)) {
    throw new StepError(`cannot take a file name from '${written}': '${name}' is not a safe file name; give a file path as destination`);
  }
  return name;
}

/** Checksum and algorithm when both are given; with only one, a warning and no verification. */
function verificationOf(item: Item, ctx: ModuleContext): Verification | undefined {
  const checksum = item.checksum?.trim();
  const algorithm = item.algorithm?.trim().toUpperCase();
  if (checksum === undefined && algorithm === undefined) return undefined;
  if (checksum === undefined || checksum === "" || algorithm === undefined || algorithm === "") {
    ctx.log.warn(`'${item.source}': checksum and algorithm must both be given to verify the download; it will not be verified`);
    return undefined;
  }
  if (!(CHECKSUM_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new StepError(`unknown checksum algorithm '${item.algorithm}' (use MD5, SHA1, SHA256 or SHA512)`);
  }
  return { algorithm, expected: checksum.toLowerCase() };
}

async function hasDigest(target: Target, verification: Verification, ctx: ModuleContext): Promise<boolean> {
  try {
    return (await fileDigest(target.path, verification.algorithm, ctx.signal)) === verification.expected;
  } catch (error) {
    if (ctx.signal.aborted) throw new StepError(`stopped while reading '${target.written}' (step timeout or interrupt)`);
    throw fsFailure(error, target.written);
  }
}

// --- tries ---

async function withRetries(written: string, ctx: ModuleContext, attempt: () => Promise<void>): Promise<void> {
  const base = millisecondsFromEnv(RETRY_BASE_ENV, RETRY_BASE_MS);
  for (let tryNumber = 1; ; tryNumber++) {
    try {
      await attempt();
      return;
    } catch (error) {
      const failure = error instanceof TryFailure ? error : undefined;
      const tries = tryNumber === 1 ? "" : ` after ${tryNumber} tries`;
      if (error instanceof StepError) throw new StepError(`downloading '${written}' failed${tries}: ${error.message}`);
      if (failure === undefined) throw error;
      if (!failure.retry || tryNumber === DOWNLOAD_TRIES || ctx.signal.aborted) {
        throw new StepError(`downloading '${written}' failed${tries}: ${failure.message}`);
      }
      const wait = base * 2 ** (tryNumber - 1);
      ctx.log.warn(`downloading '${written}': try ${tryNumber} of ${DOWNLOAD_TRIES} failed (${failure.message}); trying again in ${wait / 1000} s`);
      await pause(wait, ctx.signal, written);
    }
  }
}

function pause(ms: number, signal: AbortSignal, written: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      reject(new StepError(`downloading '${written}' was stopped (step timeout or interrupt)`));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      resolve();
    }, ms);
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  });
}

// --- one try ---

interface TryOptions {
  verification: Verification | undefined;
  overwrite: boolean;
  mode: number | undefined;
  insecure: boolean;
}

/**
 * One GET with its redirects, streamed into a temporary file (hashed on the way) that is renamed
 * into place when complete and verified. Anything else removes the temporary file.
 */
async function downloadOnce(source: URL, target: Target, options: TryOptions, ctx: ModuleContext): Promise<void> {
  const exchange = new Exchange(ctx.signal, millisecondsFromEnv(IDLE_TIMEOUT_ENV, IDLE_TIMEOUT_MS), options.insecure);
  let temporary: TemporaryFile | undefined;
  try {
    const { response, url } = await exchange.follow(source);
    try {
      temporary = await temporaryFileBeside(target.path, options.mode);
    } catch (error) {
      throw fsFailure(error, target.written);
    }
    const hash = options.verification === undefined ? undefined : createHash(hashName(options.verification.algorithm));
    const received = await exchange.receive(response, url, async (chunk) => {
      hash?.update(chunk);
      try {
        await temporary!.write(chunk);
      } catch (error) {
        throw fsFailure(error, target.written);
      }
    });
    const redirected = url.href === source.href ? "" : ` (redirected to '${url.href}')`;
    const length = response.headers["content-length"];
    if (length !== undefined && /^\d+$/.test(length) && Number(length) !== received) {
      throw new TryFailure(`the connection closed after ${received} of ${length} bytes${redirected}`, true);
    }
    if (hash !== undefined && options.verification !== undefined) {
      const actual = hash.digest("hex");
      if (actual !== options.verification.expected) {
        throw new TryFailure(
          `${options.verification.algorithm} checksum mismatch: expected ${options.verification.expected}, got ${actual}${redirected}; the downloaded file was deleted`,
          true,
        );
      }
    }
    await commit(temporary, target, options.overwrite);
    temporary = undefined;
    ctx.log.info(`downloaded ${received} bytes from '${url.href}' to '${target.written}'`);
  } finally {
    exchange.close();
    await temporary?.discard();
  }
}

async function commit(temporary: TemporaryFile, target: Target, overwrite: boolean): Promise<void> {
  try {
    await temporary.commit(target.path, overwrite);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new StepError(`'${target.written}' appeared during the download and overwrite is false; the download was deleted`);
    }
    throw fsFailure(error, target.written);
  }
}

/**
 * The HTTP side of one try: requests (one per redirect hop), the idle timer, the step's signal,
 * and network errors worded for people. Whatever ends the exchange first (a stop, a timeout) is
 * remembered, because a destroyed request reports itself differently on each runtime.
 */
class Exchange {
  private request: ClientRequest | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ended: TryFailure | undefined;
  private readonly onAbort = () => this.end(new TryFailure("the download was stopped (step timeout or interrupt)", false));

  constructor(private readonly signal: AbortSignal, private readonly idleMs: number, private readonly insecure: boolean) {
    if (signal.aborted) this.onAbort();
    else signal.addEventListener("abort", this.onAbort, { once: true });
  }

  /** GETs `source`, following redirects, until a 200 response, whose body is not read yet. */
  async follow(source: URL): Promise<{ response: IncomingMessage; url: URL }> {
    let url = source;
    for (let redirects = 0; ; redirects++) {
      const response = await this.get(url);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (REDIRECT_STATUSES.has(status) && location !== undefined) {
        this.request?.destroy();
        if (redirects === MAX_REDIRECTS) throw new TryFailure(`more than ${MAX_REDIRECTS} redirects (the last one from '${url.href}' to '${location}')`, false);
        url = nextUrl(url, location);
        continue;
      }
      if (status !== 200) {
        this.request?.destroy();
        const where = url.href === source.href ? "" : ` (redirected to '${url.href}')`;
        const retry = status >= 500 || status === 408 || status === 429;
        throw new TryFailure(`the server answered HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ""}${where}`, retry);
      }
      return { response, url };
    }
  }

  /**
   * Reads the body, handing each chunk on; returns the byte count. The next chunk is taken only
   * when `onChunk` (hash and the awaited file write) has finished: the response is consumed by
   * `for await`, and while its buffer is full the runtime stops reading the socket, so a disk
   * slower than the network slows the server down instead of filling memory. Measured with the
   * compiled awstoe and every write() delayed (test/e2e/web-download-memory.test.ts): peak RSS
   * ~95 MB for 200 MB, as with a fast disk, and the server at most a few MB (socket buffers)
   * ahead of the file. Do not switch to 'data' events without pausing the stream.
   */
  async receive(response: IncomingMessage, url: URL, onChunk: (chunk: Buffer) => Promise<void>): Promise<number> {
    let received = 0;
    try {
      for await (const chunk of response) {
        if (this.ended !== undefined) break;
        this.touch();
        await onChunk(chunk as Buffer);
        received += (chunk as Buffer).length;
      }
    } catch (error) {
      if (error instanceof StepError) throw error;
      throw this.ended ?? networkFailure(error, url, "while receiving the body");
    }
    if (this.ended !== undefined) throw this.ended;
    return received;
  }

  close(): void {
    clearTimeout(this.timer);
    this.signal.removeEventListener("abort", this.onAbort);
    this.request?.destroy();
  }

  private get(url: URL): Promise<IncomingMessage> {
    if (this.ended !== undefined) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      const secure = url.protocol === "https:";
      const headers = { "user-agent": "opentoe-webdownload", "accept-encoding": "identity" };
      // A private agent carries rejectUnauthorized: false, so no other request shares the setting
      // or a connection made with it.
      const agent = secure && this.insecure ? new https.Agent({ rejectUnauthorized: false, keepAlive: false }) : undefined;
      const request = (secure ? https : http).request(url, { method: "GET", headers, ...(agent ? { agent, rejectUnauthorized: false } : {}) }, resolve);
      this.request = request;
      request.on("error", (error) => reject(this.ended ?? networkFailure(error, url, "")));
      this.touch();
      request.end();
    });
  }

  /** (Re)starts the idle timer: no response or data for idleMs ends the exchange. */
  private touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.end(new TryFailure(`timed out: no data for ${this.idleMs / 1000} s`, true)), this.idleMs);
  }

  private end(failure: TryFailure): void {
    this.ended ??= failure;
    clearTimeout(this.timer);
    this.request?.destroy(failure);
  }
}

function nextUrl(from: URL, location: string): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new TryFailure(`'${from.href}' redirected to an invalid URL '${location}'`, false);
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") {
    throw new TryFailure(`'${from.href}' redirected to '${next.href}', which is not an http:// or https:// URL`, false);
  }
  if (from.protocol === "https:" && next.protocol === "http:") {
    throw new TryFailure(`'${from.href}' redirected from https to plain http ('${next.href}'); refusing the downgrade`, false);
  }
  return next;
}

const CERTIFICATE_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME|HOSTNAME_MISMATCH/;

/** A network error as a sentence: DNS, refused, reset, timeout, TLS. */
function networkFailure(error: unknown, url: URL, when: string): TryFailure {
  if (error instanceof TryFailure) return error;
  const code = String((error as NodeJS.ErrnoException | undefined)?.code ?? "");
  const message = (error as Error | undefined)?.message ?? String(error);
  const host = url.host;
  const suffix = when === "" ? "" : ` ${when}`;
  if (/^(ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL|EAI_NODATA)$/.test(code)) return new TryFailure(`DNS lookup of '${url.hostname}' failed (${code})${suffix}`, true);
  if (code === "ECONNREFUSED") return new TryFailure(`connection to ${host} refused${suffix}`, true);
  if (code === "ECONNRESET" || code === "EPIPE" || message === "aborted" || /socket hang up/i.test(message)) {
    return new TryFailure(`connection to ${host} reset${suffix}`, true);
  }
  if (code === "ETIMEDOUT") return new TryFailure(`connection to ${host} timed out${suffix}`, true);
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return new TryFailure(`${host} is unreachable (${code})${suffix}`, true);
  if (CERTIFICATE_CODE.test(code)) {
    return new TryFailure(`TLS error: the certificate of ${host} was not accepted (${message}, ${code}); set ignoreCertificateErrors: true only for a server you trust`, false);
  }
  if (/TLS|SSL|EPROTO/i.test(code) || /tls|ssl/i.test(message)) return new TryFailure(`TLS error with ${host}: ${message}${code ? ` (${code})` : ""}`, true);
  return new TryFailure(`${message}${code && !message.includes(code) ? ` (${code})` : ""}${suffix}`, true);
}
