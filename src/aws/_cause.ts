/**
 * @module aws/_cause: the causes any AWS call can fail for, whatever the service — no credentials,
 * no region, an endpoint out of reach, access denied, a refused signature, an unknown access key,
 * a stop — recognised and worded in one place, so S3, CloudWatch Logs and Image Builder say the
 * same thing for the same trouble. Each service supplies what to do in its own terms
 * (ServiceWords) and keeps the causes only it has; a cause it gives no words for is left to it.
 */

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
const UNREACHABLE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|socket|connect/i;

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
  if (statusOf(error) === undefined && UNREACHABLE.test(`${errorCode(error) ?? ""} ${message}`)) return unreachableCause(error, words);
  return undefined;
}

/** The clause for a request that got no HTTP answer, naming the network error's code where it has one. */
export function unreachableCause(error: unknown, words: Pick<ServiceWords, "endpoint" | "tries">): string {
  return `${words.endpoint} could not be reached (${errorCode(error) ?? firstLine(error)})${words.tries ?? ""}`;
}

/** The SDK error's name, or its code where the name is only "Error"; "" when it has neither. */
export function errorName(error: unknown): string {
  const e = error as { name?: unknown; code?: unknown } | undefined;
  return typeof e?.name === "string" && e.name !== "Error" ? e.name : typeof e?.code === "string" ? e.code : "";
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

/** The first line of an error's message (or of any other value as text), trimmed. */
export function firstLine(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  return (typeof message === "string" ? message : String(error)).split("\n")[0]!.trim();
}
