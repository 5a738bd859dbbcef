/**
 * @module aws/cloudwatch: the ConsoleMirror on CloudWatch Logs (docs/cli.md §9) — every console.log line
 * becomes one log event in an existing group's stream, sent in batches with PutLogEvents.
 *
 * This file is the sending side: the SDK, the timers and the retries. What goes into which event
 * and which batch (lines, splitting, timestamps, the service limits, the queue cap, counting
 * losses) is aws/log-batches.ts.
 *
 * The SDK is imported on open(), so runs without CloudWatch never load it. Credentials, region
 * and endpoint come from the SDK's chain (environment, shared config/profiles, web identity,
 * container and instance roles; AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_CLOUDWATCH_LOGS); the region
 * option overrides the chain's region. The SDK's own retries are off: this file retries, so that
 * one bound covers a whole flush and a dead endpoint cannot hold the run's end for long.
 *
 * Decisions (the spec is silent):
 * - A line's timestamp is Date.now() when its first character was written.
 * - A batch leaves when it is full or about a second after the first line waiting for it; one
 *   PutLogEvents is in flight at a time so order holds.
 * - Throttling, 5xx, timeouts and network errors are retried up to 5 attempts with exponential
 *   backoff and jitter; once a batch is given up, later batches get a single attempt until one
 *   succeeds. Refusals of a batch (invalid parameter) lose that batch only; a missing group or
 *   stream, refused credentials or access denied stop the copy.
 * - At most 32 MiB of events wait in memory; lines beyond that are dropped and counted.
 * - close() gives the remaining work 30 s (the bound also covers open()); what is still queued
 *   then is counted as lost. It resolves with one sentence counting lost lines by cause.
 * - When open() failed, the failure was already reported: later writes are discarded silently
 *   and close() resolves with undefined.
 * - Timers: the flush timer is unref'd (the run keeps the process alive); request, backoff and
 *   deadline timers stay referenced, because close() must not be cut short by an empty event
 *   loop, and close() clears them all before it resolves.
 */
import type { ConsoleMirror } from "../model/ports.ts";

import { commonCause, durationText, errorName, statusOf, unreachableCause, type ServiceWords } from "./_cause.ts";
import { firstLine } from "../errors.ts";
import { LogEventQueue, rejectedEvents, type LogEvent, type LossCause } from "./log-batches.ts";

export { MAX_MESSAGE_BYTES, splitUtf8 } from "./log-batches.ts";

type Sdk = typeof import("@aws-sdk/client-cloudwatch-logs");
type Client = InstanceType<Sdk["CloudWatchLogsClient"]>;

export interface CloudWatchMirrorOptions {
  group: string;
  stream: string;
  /** Overrides the SDK chain's region (--cw-log-region). */
  region?: string;
  /**
   * Environment for naming the endpoint in messages (AWS_ENDPOINT_URL_CLOUDWATCH_LOGS /
   * AWS_ENDPOINT_URL); the SDK itself reads process.env. Default process.env.
   */
  env?: NodeJS.ProcessEnv;
  /** How long a line may wait for more lines before its batch is sent. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Bytes of events (overhead included) that may wait in memory. Default 32 MiB. */
  maxQueuedBytes?: number;
  /** Bound on open() and on close() each. Default 30,000 ms. */
  deadlineMs?: number;
  /** Attempts per request for retryable failures. Default 5. */
  maxAttempts?: number;
  /** First backoff; doubles per attempt (with jitter), capped at 8 s. Default 250 ms. */
  retryBaseMs?: number;
  /** One request's time limit. Default 10,000 ms. */
  requestTimeoutMs?: number;
  /** Clock for event timestamps (tests). Default Date.now. */
  now?: () => number;
}

export function createCloudWatchMirror(options: CloudWatchMirrorOptions): ConsoleMirror {
  return new CloudWatchMirror(options);
}

type Verdict = "retry" | "batch" | "fatal";

interface Settings {
  flushIntervalMs: number;
  maxQueuedBytes: number;
  deadlineMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  requestTimeoutMs: number;
  now: () => number;
}

class CloudWatchMirror implements ConsoleMirror {
  private readonly settings: Settings;
  private readonly env: NodeJS.ProcessEnv;
  private region: string | undefined;
  private sdk: Sdk | undefined;
  private client: Client | undefined;

  private phase: "new" | "opening" | "open" | "failed" | "closing" | "closed" = "new";
  private closing: Promise<string | undefined> | undefined;
  private readonly queue: LogEventQueue;

  // Sending.
  private inFlight: LogEvent[] | undefined;
  private flushAll = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private degraded = false;
  private stopCause: string | undefined;
  private readonly deadline = new AbortController();
  private drained: (() => void) | undefined;
  private lastFailure: string | undefined;
  /** Attempts the last request took (for messages). */
  private attempts = 0;

  constructor(private readonly options: CloudWatchMirrorOptions) {
    this.env = options.env ?? process.env;
    this.region = options.region;
    this.settings = {
      flushIntervalMs: options.flushIntervalMs ?? 1000,
      maxQueuedBytes: options.maxQueuedBytes ?? 32 * 1024 * 1024,
      deadlineMs: options.deadlineMs ?? 30_000,
      maxAttempts: Math.max(1, options.maxAttempts ?? 5),
      retryBaseMs: options.retryBaseMs ?? 250,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      now: options.now ?? Date.now,
    };
    this.queue = new LogEventQueue(this.settings.maxQueuedBytes);
  }

  get description(): string {
    const where = `CloudWatch Logs group '${this.options.group}', stream '${this.options.stream}'`;
    return this.region ? `${where} in ${this.region}` : where;
  }

  async open(): Promise<void> {
    if (this.phase !== "new") throw new Error(`the copy to ${this.description} was already opened`);
    this.phase = "opening";
    const bound = new AbortController();
    const timer = setTimeout(() => bound.abort(), this.settings.deadlineMs);
    try {
      this.sdk = await import("@aws-sdk/client-cloudwatch-logs");
      this.client = new this.sdk.CloudWatchLogsClient({ maxAttempts: 1, ...(this.options.region ? { region: this.options.region } : {}) });
      this.region = await this.resolveRegion();
      const create = new this.sdk.CreateLogStreamCommand({ logGroupName: this.options.group, logStreamName: this.options.stream });
      try {
        await this.withRetries(() => this.sendOnce((signal) => this.client!.send(create, { abortSignal: signal }), bound.signal), this.settings.maxAttempts, bound.signal);
      } catch (error) {
        if (errorName(error) !== "ResourceAlreadyExistsException") throw error;
      }
    } catch (error) {
      this.phase = "failed";
      this.queue.drop();
      this.client?.destroy();
      throw new Error(bound.signal.aborted ? `CreateLogStream got no answer within ${durationText(this.settings.deadlineMs)} from ${this.endpoint()}` : this.failureSentence(error, "CreateLogStream"));
    } finally {
      clearTimeout(timer);
    }
    if (this.phase !== "opening") return; // closed while opening: close() already counted everything
    this.phase = "open";
    this.schedule();
  }

  write(text: string): void {
    if (text === "" || this.phase === "failed" || this.phase === "closing" || this.phase === "closed") return;
    this.queue.write(text, this.settings.now());
    this.schedule();
  }

  close(): Promise<string | undefined> {
    this.closing ??= this.finish().catch((error: unknown) => `the copy to ${this.description} stopped unexpectedly: ${firstLine(error)}`);
    return this.closing;
  }

  // ---- sending ---------------------------------------------------------------------------

  /** Starts a send when a batch is full, otherwise makes sure a flush is due within the interval. */
  private schedule(): void {
    if (this.phase !== "open" && this.phase !== "closing") return;
    if (this.inFlight !== undefined || this.queue.waiting === 0) return;
    if (this.phase === "closing" || this.flushAll || this.queue.batchFull()) {
      void this.pump();
      return;
    }
    if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.flushAll = true;
        void this.pump();
      }, this.settings.flushIntervalMs);
      // The run keeps the process alive; a pending flush must not.
      this.flushTimer.unref?.();
    }
  }

  /** Sends batches one at a time while they are due: full, the interval passed, or closing. */
  private async pump(): Promise<void> {
    if (this.inFlight !== undefined) return;
    while (this.queue.waiting > 0 && this.stopCause === undefined && !this.deadline.signal.aborted) {
      if (this.phase !== "closing" && !this.flushAll && !this.queue.batchFull()) break;
      this.inFlight = this.queue.nextBatch();
      await this.deliver(this.inFlight);
      this.inFlight = undefined;
    }
    if (this.queue.waiting === 0) this.flushAll = false;
    if (this.phase === "closing" && (this.queue.waiting === 0 || this.deadline.signal.aborted)) this.drained?.();
    else this.schedule();
  }

  /** Sends one batch with retries; whatever does not arrive is counted, never thrown. */
  private async deliver(batch: LogEvent[]): Promise<void> {
    const command = new this.sdk!.PutLogEventsCommand({
      logGroupName: this.options.group,
      logStreamName: this.options.stream,
      logEvents: batch.map((event) => ({ timestamp: event.timestamp, message: event.message })),
    });
    try {
      const attempts = this.degraded ? 1 : this.settings.maxAttempts;
      const send = (signal: AbortSignal) => this.client!.send(command, { abortSignal: signal });
      const output = await this.withRetries(() => this.sendOnce(send, this.deadline.signal), attempts, this.deadline.signal);
      this.degraded = false;
      this.loseAll(rejectedEvents(batch, output.rejectedLogEventsInfo), "rejected");
    } catch (error) {
      if (this.deadline.signal.aborted) {
        this.loseAll(batch, "deadline");
        return;
      }
      this.loseAll(batch, "failed");
      this.lastFailure = this.failureSentence(error, "PutLogEvents");
      const verdict = verdictOf(error);
      if (verdict === "fatal") this.stop(this.lastFailure);
      // After a batch was given up on, the next ones get one try each until one gets through.
      else if (verdict === "retry") this.degraded = true;
    }
  }

  /** Runs `send` until it succeeds, a failure is not worth retrying, attempts run out or `bound` fires. */
  private async withRetries<T>(send: () => Promise<T>, attempts: number, bound: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.attempts = attempt;
      try {
        return await send();
      } catch (error) {
        if (bound.aborted || attempt >= attempts || verdictOf(error) !== "retry") throw error;
        await waitUnlessAborted(backoff(attempt, this.settings.retryBaseMs), bound);
        if (bound.aborted) throw error;
      }
    }
  }

  /** One request, given up after the request time limit or when `bound` fires. */
  private async sendOnce<T>(request: (signal: AbortSignal) => Promise<T>, bound: AbortSignal): Promise<T> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.settings.requestTimeoutMs);
    const stop = () => controller.abort();
    bound.addEventListener("abort", stop, { once: true });
    if (bound.aborted) stop();
    try {
      return await request(controller.signal);
    } catch (error) {
      throw timedOut ? new RequestTimeout(this.settings.requestTimeoutMs) : error;
    } finally {
      clearTimeout(timer);
      bound.removeEventListener("abort", stop);
    }
  }

  /** The copy ends for `cause`: what waits, and every later line, is counted as not sent. */
  private stop(cause: string): void {
    this.stopCause = cause;
    this.queue.stop();
  }

  private loseAll(events: readonly LogEvent[], cause: LossCause): void {
    for (const event of events) this.queue.losses.count(event, cause);
  }

  // ---- closing ---------------------------------------------------------------------------

  private async finish(): Promise<string | undefined> {
    const before = this.phase;
    this.phase = "closing";
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.queue.endLastLine();
    if (before === "failed") {
      // open() already said why; nothing was sent and nothing more is reported.
      this.queue.drop();
      this.phase = "closed";
      return undefined;
    }
    if (before !== "open") {
      this.lastFailure = "the stream was never opened";
      this.stop(this.lastFailure);
    }
    const timer = setTimeout(() => this.deadline.abort(), this.settings.deadlineMs);
    try {
      if (this.queue.waiting > 0 || this.inFlight !== undefined) {
        const drained = new Promise<void>((resolve) => (this.drained = resolve));
        this.schedule();
        await Promise.race([drained, abortion(this.deadline.signal)]);
      }
    } finally {
      clearTimeout(timer);
    }
    // Past the bound, the batch in flight (its request is being aborted) counts as lost too.
    this.loseAll(this.inFlight ?? [], "deadline");
    this.queue.drop(this.stopCause !== undefined ? "stopped" : "deadline");
    this.queue.losses.freeze();
    this.phase = "closed";
    this.deadline.abort();
    this.client?.destroy();
    return this.lossReport();
  }

  private lossReport(): string | undefined {
    const losses = this.queue.losses;
    if (losses.total === 0) return undefined;
    const parts: string[] = [];
    const { overflow, failed, rejected, deadline, stopped } = losses.byCause;
    if (overflow > 0) parts.push(`${count(overflow)} dropped because sending fell more than ${mebibytes(this.settings.maxQueuedBytes)} behind`);
    if (failed > 0) parts.push(`${count(failed)} not delivered (${this.lastFailure ?? "PutLogEvents failed"})`);
    if (stopped > 0) parts.push(`${count(stopped)} not sent because ${failed > 0 ? "of that" : (this.stopCause ?? "the copy stopped")}`);
    if (rejected > 0) parts.push(`${count(rejected)} refused by the service as too old or too far in the future (check this machine's clock)`);
    if (deadline > 0) parts.push(`${count(deadline)} still waiting when the ${durationText(this.settings.deadlineMs)} allowed for the final upload ran out`);
    return `${count(losses.total)} of ${count(this.queue.lineCount)} console lines did not reach ${this.description}: ${parts.join("; ")}.`;
  }

  // ---- wording ---------------------------------------------------------------------------

  private async resolveRegion(): Promise<string | undefined> {
    try {
      return await this.client!.config.region();
    } catch {
      return undefined; // the request reports the missing region in its own words
    }
  }

  private endpoint(): string {
    return this.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS || this.env.AWS_ENDPOINT_URL || (this.region ? `logs.${this.region}.amazonaws.com` : "the CloudWatch Logs endpoint");
  }

  /** ResourceNotFoundException: on CreateLogStream the group is missing; later, the group or the stream went away. */
  private notFoundCause(operation: "CreateLogStream" | "PutLogEvents"): string {
    const { group, stream } = this.options;
    if (operation === "PutLogEvents") return `log group '${group}' or its stream '${stream}' no longer exists`;
    const regionOption = this.region ? ` --region ${this.region}` : "";
    return `log group '${group}' does not exist in ${this.region ?? "the configured region"}; create it first (aws logs create-log-group --log-group-name ${group}${regionOption}) or name an existing group`;
  }

  /** An SDK error as one clause naming the operation and the cause — never an SDK dump. */
  private failureSentence(error: unknown, operation: "CreateLogStream" | "PutLogEvents"): string {
    const { group } = this.options;
    const name = errorName(error);
    const status = statusOf(error);
    const message = firstLine(error);
    const own: Record<string, string> = {
      ResourceNotFoundException: this.notFoundCause(operation),
      MissingAuthenticationTokenException: "the request carried no credentials",
      ExpiredTokenException: "the session token has expired",
      ThrottlingException: `the service kept throttling the requests (${message})`,
    };
    const words: ServiceWords = {
      endpoint: this.endpoint(),
      regionHint: "pass --cw-log-region or set AWS_REGION",
      accessHint: `the credentials need logs:${operation} on log group '${group}'`,
      unknownKey: "the access key id is not known to CloudWatch Logs (check the credentials)",
    };
    let cause = own[name] ?? commonCause(error, words);
    if (cause === undefined && error instanceof RequestTimeout) cause = `no answer from ${this.endpoint()} within ${durationText(this.settings.requestTimeoutMs)}`;
    // Any other failure without an HTTP answer that is worth retrying is a connection that failed.
    if (cause === undefined && status === undefined && verdictOf(error) === "retry") cause = unreachableCause(error, words);
    cause ??= `${name || "error"}${status ? ` (HTTP ${status})` : ""}: ${message}`;
    const tries = this.attempts > 1 ? ` after ${this.attempts} attempts` : "";
    return `${operation} failed${tries}: ${cause}`;
  }
}

// ---- helpers ---------------------------------------------------------------------------------

class RequestTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${durationText(ms)}`);
    this.name = "RequestTimeout";
  }
}

/** Whether a failure is worth another attempt, costs one batch, or ends the copy. */
function verdictOf(error: unknown): Verdict {
  if (error instanceof RequestTimeout) return "retry";
  const name = errorName(error);
  const status = statusOf(error);
  if (/^(ThrottlingException|Throttling|TooManyRequestsException|ServiceUnavailableException|InternalFailure|RequestTimeout(Exception)?|ExpiredTokenException|OperationAbortedException)$/.test(name)) return "retry";
  if (/^(ResourceNotFoundException|AccessDeniedException|UnrecognizedClientException|InvalidSignatureException|MissingAuthenticationTokenException|CredentialsProviderError)$/.test(name)) return "fatal";
  if (/region is missing/i.test(firstLine(error))) return "fatal";
  if (status !== undefined) return status >= 500 || status === 429 ? "retry" : "batch";
  // No HTTP answer at all: a refused or reset connection, a timeout, a name that did not resolve.
  return "retry";
}

/** Exponential backoff with jitter: base·2^(n-1), between half and all of it, capped at 8 s. */
function backoff(attempt: number, base: number): number {
  const full = Math.min(8000, base * 2 ** (attempt - 1));
  return full / 2 + Math.random() * (full / 2);
}

/** Resolves after `ms`, or as soon as `bound` fires; never rejects. */
function waitUnlessAborted(ms: number, bound: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (bound.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      bound.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    bound.addEventListener("abort", done, { once: true });
  });
}

function abortion(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function mebibytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MiB` : `${bytes} bytes`;
}
