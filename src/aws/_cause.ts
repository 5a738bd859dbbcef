/**
 * @module aws/_cause: the causes any AWS call can fail for, whatever the service — no credentials,
 * no region, an endpoint out of reach, access denied, a refused signature, an unknown access key,
 * a stop — recognised and worded in one place, so S3, CloudWatch Logs and Image Builder say the
 * same thing for the same trouble. Each service supplies what to do in its own terms
 * (ServiceWords) and keeps the causes only it has; a cause it gives no words for is left to it.
 *
 * Also the time limits every S3 and Image Builder call has (CloudWatch Logs keeps its own), and
 * which failures are worth trying again later (isTransient), so those failures come in bounded
 * time and a patient caller knows what to wait out.
 */
import { firstLine } from "../errors.ts";

// --- time limits ---
//
// Chosen so that a stalled or black-holed endpoint cannot hang awstoe, while a slow but working
// link (a large object over a thin pipe) is never cut off:
// - CONNECT_TIMEOUT_MS (10 s): setting up the TCP connection.
// - IDLE_TIMEOUT_MS (30 s): no byte sent or received on an open request — no answer to a request,
//   or a body that stops arriving. There is no limit on a request that keeps moving.
//   AWSTOE_AWS_IDLE_TIMEOUT_MS (milliseconds) changes it; the tests use it.
// - Attempts: the SDK's standard retry strategy — 3 attempts (AWS_MAX_ATTEMPTS or a profile's
//   max_attempts changes it), exponential backoff with jitter (~0.1 s, 0.2 s … up to 20 s), for
//   network errors, timeouts, HTTP 5xx and throttling.
// So one call that never gets an answer fails after about 3 × 30 s (the SDK arms its socket timer
// up to 3 s late; 3 × 10 s when no connection can be made) plus a second of backoff: under 2
// minutes. An abort signal (the run's SIGINT/SIGTERM) stops a call at once, whatever the limits.

/** Setting up a connection may take this long. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** A request that sends or receives nothing for this long has failed (and is retried). */
export const IDLE_TIMEOUT_MS = 30_000;
export const IDLE_TIMEOUT_ENV = "AWSTOE_AWS_IDLE_TIMEOUT_MS";

/** The idle limit in force: AWSTOE_AWS_IDLE_TIMEOUT_MS when it is a positive whole number, else IDLE_TIMEOUT_MS. */
export function idleTimeoutMs(): number {
  const raw = process.env[IDLE_TIMEOUT_ENV]?.trim();
  return raw !== undefined && /^\d+$/.test(raw) && Number(raw) > 0 ? Number(raw) : IDLE_TIMEOUT_MS;
}

/** Milliseconds as a person reads them: "30 s", "1.5 s", "200 ms". */
export function durationText(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${ms} ms`;
}

/** How one service finishes the shared clauses. */
export interface ServiceWords {
  /** What could not be reached: "the S3 endpoint", an endpoint URL. */
  endpoint: string;
  /** Follows the unreachable clause, e.g. " after 3 attempts". */
  tries?: string;
  /** How to configure a region, in "no AWS region is configured (…)". */
  regionHint?: string;
  /** What the credentials need, in "access denied (…)". */
  accessHint?: string;
  /** The whole clause for an access key id the service does not know. */
  unknownKey?: string;
  /** The whole clause for a call stopped by its abort signal. */
  stopped?: string;
  /** What to check when the endpoint cannot be reached or does not answer, e.g. "check the network and AWS_ENDPOINT_URL_S3". */
  networkHint?: string;
}

const NO_CREDENTIALS = "no AWS credentials were found (environment, shared files, or instance role)";
const BAD_SIGNATURE = "the request signature was refused (check the secret access key)";

/** Error names (or codes) the SDK gives each shared cause, across the services' protocols. */
const NAMED: Record<string, (words: ServiceWords) => string | undefined> = {
  CredentialsProviderError: () => NO_CREDENTIALS,
  SignatureDoesNotMatch: () => BAD_SIGNATURE,
  InvalidSignatureException: () => BAD_SIGNATURE,
  AccessDenied: (words) => words.accessHint && `access denied (${words.accessHint})`,
  AccessDeniedException: (words) => words.accessHint && `access denied (${words.accessHint})`,
  InvalidAccessKeyId: (words) => words.unknownKey,
  UnrecognizedClientException: (words) => words.unknownKey,
  InvalidClientTokenId: (words) => words.unknownKey,
  AbortError: (words) => words.stopped,
};

/** What a connection that never got an HTTP answer says in its code or message. */
const UNREACHABLE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EPIPE|socket|connect/i;

/** Names (or codes) of answers that say "not now": throttling and the services' own transient errors. */
const TRANSIENT_NAMES = new Set([
  "TimeoutError", "RequestTimeout", "RequestTimeoutException",
  "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
  "RequestThrottled", "RequestThrottledException", "SlowDown", "CallRateLimitExceededException", "BandwidthLimitExceeded",
  "ServiceUnavailable", "ServiceUnavailableException", "InternalError", "InternalFailure", "ServiceException",
]);

/**
 * The clause for a failure every service shares, finished with `words`, or undefined when the
 * cause is the service's own (or one it gives no words for).
 */
export function commonCause(error: unknown, words: ServiceWords): string | undefined {
  const name = errorName(error);
  const named = Object.hasOwn(NAMED, name) ? NAMED[name]!(words) : undefined;
  if (named) return named;
  const message = firstLine(error);
  if (words.regionHint !== undefined && /region is missing/i.test(message)) return `no AWS region is configured (${words.regionHint})`;
  if (name === "TimeoutError" && statusOf(error) === undefined) return timeoutCause(error, words);
  if (statusOf(error) === undefined && UNREACHABLE.test(`${errorCode(error) ?? ""} ${message}`)) return unreachableCause(error, words);
  return undefined;
}

/** The clause for a request that got no HTTP answer, naming the network error's code where it has one. */
export function unreachableCause(error: unknown, words: Pick<ServiceWords, "endpoint" | "tries" | "networkHint">): string {
  const why = errorCode(error) ?? networkCode(error) ?? firstLine(error);
  return `${words.endpoint} could not be reached (${why})${words.tries ?? ""}${words.networkHint ? `; ${words.networkHint}` : ""}`;
}

/** The clause for a request stopped by one of the time limits above. */
function timeoutCause(error: unknown, words: Pick<ServiceWords, "endpoint" | "tries" | "networkHint">): string {
  return `${words.endpoint} ${whichTimeout(firstLine(error))}${words.tries ?? ""}${words.networkHint ? `; ${words.networkHint}` : ""}`;
}

/** Which limit ran out, from the message of the SDK's HTTP handler. */
function whichTimeout(message: string): string {
  if (/establish a connection/i.test(message)) return `could not be reached (no connection within ${durationText(CONNECT_TIMEOUT_MS)})`;
  if (/no data/i.test(message)) return `stopped sending data (nothing for ${durationText(idleTimeoutMs())})`;
  return `did not answer (nothing for ${durationText(idleTimeoutMs())})`;
}

/**
 * Whether trying again later could succeed: no connection or no answer (refused, reset, DNS,
 * a time limit), HTTP 5xx, 408 or 429, throttling. Not a stop, missing or refused credentials,
 * access denied, a missing object or any other answer about the request itself.
 */
export function isTransient(error: unknown): boolean {
  const name = errorName(error);
  if (name === "AbortError" || Object.hasOwn(NAMED, name)) return false;
  if (TRANSIENT_NAMES.has(name)) return true;
  const status = statusOf(error);
  if (status !== undefined) return status >= 500 || status === 408 || status === 429;
  if (/region is missing/i.test(firstLine(error))) return false;
  return networkCode(error) !== undefined || UNREACHABLE.test(`${errorCode(error) ?? ""} ${firstLine(error)}`);
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT"]);

/** A network error code (ECONNREFUSED, …) on the error or its causes (undici puts it on `cause`). */
function networkCode(error: unknown, depth = 0): string | undefined {
  const code = errorCode(error);
  if (code !== undefined && NETWORK_CODES.has(code)) return code;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause !== undefined && cause !== null && depth < 5 ? networkCode(cause, depth + 1) : undefined;
}

/** The SDK error's name, or its code where the name is only "Error"; "" when it has neither. */
export function errorName(error: unknown): string {
  const e = error as { name?: unknown; code?: unknown } | undefined;
  if (typeof e?.name === "string" && e.name !== "Error") return e.name;
  if (typeof e?.code === "string") return e.code;
  return "";
}

/** A Node network error's code (ECONNREFUSED, ...), when it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The HTTP status the service answered with; undefined when no answer came. */
export function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

