/**
 * @module engine/document-sources: reading a document from where it lives (docs/cli.md §5) — a local
 * path, `s3://bucket/key` through the S3 port (with the expected bucket owner when given), or an
 * Image Builder component ARN through GetComponent in the ARN's region. Remote documents are read
 * no further than the document size limit. Used by `run` (top-level documents, config documents,
 * ExecuteDocument children) and by `validate`, so every command reads sources the same way.
 *
 * Remote calls have the AWS layer's time limits and retries (aws/_cause.ts) and stop with the
 * run's signal. A failure that trying again later could cure (no connection or answer, a time
 * limit, HTTP 5xx, throttling) is marked `transient`; `loadPatiently` retries those with backoff
 * for a resumed run that starts at boot, before the network may be up.
 */

import type { S3FailureFacts, S3Port } from "../model/ports.ts";
import { createImageBuilderPort, type ImageBuilderPort } from "../aws/imagebuilder.ts";
import { decodeDocument, failureFor, formatBytes, loadLocalDocument, MAX_DOCUMENT_BYTES, type LoadResult } from "../document/load.ts";
import { COMPONENT_ARN_FORM, isArnSource, parseComponentArn } from "../model/component-arn.ts";

export type DocumentLoader = (source: string, options?: { bucketOwner?: string }) => Promise<LoadResult>;

/** A load result; a failure may say that trying again later could cure it (see isTransientFailure). */
export type SourceLoadResult = LoadResult & { transient?: boolean };

export interface RemoteSourceOptions {
  /** GetComponent for ARNs; by default the SDK's, loaded on the first ARN. */
  imageBuilder?: ImageBuilderPort;
  /** Stops a fetch under way when the run is interrupted. */
  signal?: AbortSignal;
}

/**
 * JSON escapes can make a response up to six times the text it carries (`\u0001`), so any document
 * within the limit fits in this; the cap only stops an endpoint sending far more than that.
 */
const MAX_COMPONENT_RESPONSE_BYTES = 6 * MAX_DOCUMENT_BYTES + 64 * 1024;

export function documentLoader(s3: S3Port, bucketOwner?: string, remote: RemoteSourceOptions = {}): DocumentLoader {
  let imageBuilder = remote.imageBuilder;
  return async (source, options) => {
    if (/^s3:\/\//i.test(source)) return loadFromS3(s3, source, options?.bucketOwner || bucketOwner, remote.signal);
    if (isArnSource(source)) return loadFromImageBuilder((imageBuilder ??= createImageBuilderPort()), source, remote.signal);
    return loadLocalDocument(source);
  };
}

async function loadFromS3(s3: S3Port, source: string, bucketOwner: string | undefined, signal: AbortSignal | undefined): Promise<SourceLoadResult> {
  const fail = failureFor(source);
  const match = /^s3:\/\/([^/]+)\/(.+)$/i.exec(source);
  if (match === null) return fail("E_SOURCE_UNREADABLE", `failed to load document '${source}': not an s3://bucket/key URI`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    const body = await s3.getObject(match[1]!, match[2]!, { ...(bucketOwner ? { expectedBucketOwner: bucketOwner } : {}), ...(signal ? { signal } : {}) });
    for await (const chunk of body) {
      size += chunk.length;
      if (size > MAX_DOCUMENT_BYTES) return fail("E_SOURCE_TOO_LARGE", `failed to load document '${source}': it is larger than ${formatBytes(MAX_DOCUMENT_BYTES)}`);
      chunks.push(chunk);
    }
  } catch (error) {
    const failed = fail("E_SOURCE_UNREADABLE", `failed to load document '${source}': ${(error as Error).message}`);
    return (error as S3FailureFacts).transient === true ? { ...failed, transient: true } : failed;
  }
  return decodeDocument(Buffer.concat(chunks), fail);
}

/** GetComponent's `data` is the document; it passes the same size and text checks as a file. */
async function loadFromImageBuilder(port: ImageBuilderPort, source: string, signal: AbortSignal | undefined): Promise<SourceLoadResult> {
  const fail = failureFor(source);
  const parsed = parseComponentArn(source);
  if (!parsed.ok) {
    return fail("E_SOURCE_UNREADABLE", `failed to load document '${source}': not an Image Builder component ARN (${parsed.problem})`, `expected ${COMPONENT_ARN_FORM}`);
  }
  const fetched = await port.getComponentData(parsed.arn, { maxResponseBytes: MAX_COMPONENT_RESPONSE_BYTES, ...(signal ? { signal } : {}) });
  if (!fetched.ok) {
    const failed = fail("E_SOURCE_UNREADABLE", `failed to load document '${source}': ${fetched.reason}`);
    return fetched.transient === true ? { ...failed, transient: true } : failed;
  }
  const bytes = Buffer.from(fetched.data, "utf8");
  if (bytes.length > MAX_DOCUMENT_BYTES) {
    return fail("E_SOURCE_TOO_LARGE", `failed to load document '${source}': the component's document is ${formatBytes(bytes.length)}; the limit is ${formatBytes(MAX_DOCUMENT_BYTES)}`);
  }
  return decodeDocument(bytes, fail);
}

// --- patience at boot ---

/**
 * How long a patient load keeps trying. A resumed run starts at boot, when the network, DNS or
 * the instance's routes may not be up yet: remote documents that fail for a transient cause are
 * tried again, waiting firstDelayMs, then twice as long each time up to maxDelayMs, until budgetMs
 * has passed since the first try (the try under way then still finishes; each try has the AWS
 * layer's own limits). Everything else — local files, access denied, no such key or component,
 * an invalid document — fails at once, as does an interrupt.
 */
export interface Patience {
  /** Total time to keep trying, from the first try (default 5 minutes). */
  budgetMs?: number;
  /** The first wait (default 2 s); it doubles after each try. */
  firstDelayMs?: number;
  /** The longest wait (default 30 s). */
  maxDelayMs?: number;
  /** Told one line before each wait (without a newline); by default the caller's choice. */
  onRetry?: (line: string) => void;
}

export const PATIENCE_DEFAULTS = { budgetMs: 5 * 60_000, firstDelayMs: 2_000, maxDelayMs: 30_000 } as const;

/** Whether a failed load is marked as one that trying again later could cure. */
export function isTransientFailure(result: LoadResult): boolean {
  return !result.ok && (result as SourceLoadResult).transient === true;
}

/**
 * Runs `load` until it succeeds, fails for a cause that is not transient, the patience runs out
 * or `signal` is aborted; says each retry through `patience.onRetry` (else `say`). The last
 * failure is returned, saying how long it was tried.
 */
export async function loadPatiently(
  source: string,
  load: () => LoadResult | Promise<LoadResult>,
  patience: Patience,
  say: (line: string) => void,
  signal?: AbortSignal,
): Promise<LoadResult> {
  const budgetMs = patience.budgetMs ?? PATIENCE_DEFAULTS.budgetMs;
  const maxDelayMs = patience.maxDelayMs ?? PATIENCE_DEFAULTS.maxDelayMs;
  let delay = Math.min(patience.firstDelayMs ?? PATIENCE_DEFAULTS.firstDelayMs, maxDelayMs);
  const tell = patience.onRetry ?? say;
  const started = Date.now();
  for (let tries = 1; ; tries++) {
    const result = await load();
    if (result.ok || !isTransientFailure(result) || signal?.aborted) return result;
    const elapsed = Date.now() - started;
    const left = budgetMs - elapsed;
    if (left <= 0 || tries === MAX_PATIENT_TRIES) {
      if (tries === 1) return result;
      return { ...result, diagnostic: { ...result.diagnostic, message: `${result.diagnostic.message} (still failing after ${tries} tries over ${duration(elapsed)})` } };
    }
    const wait = Math.min(delay, left);
    tell(`cannot load document '${source}' yet (try ${tries}): ${result.diagnostic.message}; trying again in ${duration(wait)} (a resumed run waits up to ${duration(budgetMs)} for the network)`);
    if (!(await waitUnlessStopped(wait, signal))) return result;
    delay = Math.min(delay * 2, maxDelayMs);
  }
}

/** A loader that loads every source patiently (for callers outside prepareDocuments, e.g. --config). */
export function patientLoader(loader: DocumentLoader, patience: Patience, say: (line: string) => void, signal?: AbortSignal): DocumentLoader {
  return (source, options) => loadPatiently(source, () => loader(source, options), patience, say, signal);
}

/** A guard against a zero budget with zero delays spinning; far more tries than any real budget allows. */
const MAX_PATIENT_TRIES = 1000;

/** Resolves true after `ms`, or false as soon as `signal` is aborted (it never rejects). */
function waitUnlessStopped(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", stop);
      resolve(value);
    };
    const stop = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener("abort", stop, { once: true });
  });
}

function duration(ms: number): string {
  if (ms >= 60_000) {
    const minutes = Math.floor(ms / 60_000);
    const rest = Math.round((ms % 60_000) / 1000);
    return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
  }
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${Math.round(ms)} ms`;
}
