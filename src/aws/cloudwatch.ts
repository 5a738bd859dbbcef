/**
 * @module aws/cloudwatch: the ConsoleMirror on CloudWatch Logs (cli.md §9) — every console.log line
 * becomes one log event in an existing group's stream, sent in batches with PutLogEvents.
 *
 * The SDK is imported on open(), so runs without CloudWatch never load it. Credentials, region
 * and endpoint come from the SDK's chain (environment, shared config/profiles, web identity,
 * container and instance roles; AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_CLOUDWATCH_LOGS); the region
 * option overrides the chain's region. The SDK's own retries are off: this file retries, so that
 * one bound covers a whole flush and a dead endpoint cannot hold the run's end for long.
 *
 * Decisions (the spec is silent):
 * - A line's timestamp is Date.now() when its first character was written; timestamps never go
 *   backwards (a clock stepped back repeats the last one), because a batch must be in order.
 * - "\r\n" counts as a line end. Empty lines are skipped: the service refuses empty messages and
 *   an invented placeholder would change the text.
 * - A line longer than one event (262,118 bytes of UTF-8) is split into consecutive events of the
 *   same timestamp at character boundaries, so nothing is cut away.
 * - Lone UTF-16 surrogates are sent as U+FFFD, as UTF-8 would carry them anyway.
 * - Batches: at most 10,000 events, 1,048,576 bytes counting 26 bytes per event, and less than
 *   24 hours from first to last event. A batch leaves when it is full or about a second after
 *   the first line waiting for it; one PutLogEvents is in flight at a time so order holds.
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
import { Buffer } from "node:buffer";

import { commonCause, errorName, firstLine, statusOf, unreachableCause, type ServiceWords } from "./_cause.ts";

type Sdk = typeof import("@aws-sdk/client-cloudwatch-logs");
type Client = InstanceType<Sdk["CloudWatchLogsClient"]>;

/** PutLogEvents limits from the CloudWatch Logs API reference. */
export const PUT_LOG_EVENTS_LIMITS = {
  batchBytes: 1_048_576,
  /** Bytes the service adds to each event's UTF-8 message when it counts a batch. */
  eventOverhead: 26,
  batchEvents: 10_000,
  /** Largest event, overhead included (the 256 KB quota; newer documents allow more). */
  eventBytes: 262_144,
  spanMs: 24 * 3600_000,
} as const;

/** Largest message, in UTF-8 bytes, that fits one event. */
export const MAX_MESSAGE_BYTES = PUT_LOG_EVENTS_LIMITS.eventBytes - PUT_LOG_EVENTS_LIMITS.eventOverhead;

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

interface QueuedEvent {
  timestamp: number;
  message: string;
  /** UTF-8 bytes plus the per-event overhead. */
  size: number;
  /** Which console line this is (pieces of a split line share it). */
  line: number;
  /** True when this event is one piece of a split line. */
  piece: boolean;
}

type LossCause = "overflow" | "failed" | "rejected" | "deadline" | "stopped";
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

  // Line assembly.
  private partial = "";
  private partialSince = 0;
  private partialLine: number | undefined;
  private lines = 0;
  private lastTimestamp = 0;

  // Queue: events[head..] wait to be sent.
  private events: QueuedEvent[] = [];
  private head = 0;
  private queuedBytes = 0;

  // Sending.
  private inFlight: QueuedEvent[] | undefined;
  private flushAll = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private degraded = false;
  private stopCause: string | undefined;
  private readonly deadline = new AbortController();
  private drained: (() => void) | undefined;

  // Losses, counted in lines.
  private readonly lost: Record<LossCause, number> = { overflow: 0, failed: 0, rejected: 0, deadline: 0, stopped: 0 };
  private lostTotal = 0;
  private lastLostLine = 0;
  private readonly lostPieceLines = new Set<number>();
  private lastFailure: string | undefined;
  /** Attempts the last request took (for messages). */
  private attempts = 0;
  /** Set when close() has reported: late news from an aborted request changes nothing. */
  private finalized = false;

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
      this.dropQueue();
      this.client?.destroy();
      throw new Error(bound.signal.aborted ? `CreateLogStream got no answer within ${seconds(this.settings.deadlineMs)} from ${this.endpoint()}` : this.failureSentence(error, "CreateLogStream"));
    } finally {
      clearTimeout(timer);
    }
    if (this.phase !== "opening") return; // closed while opening: close() already counted everything
    this.phase = "open";
    this.schedule();
  }

  write(text: string): void {
    if (text === "" || this.phase === "failed" || this.phase === "closing" || this.phase === "closed") return;
    const now = this.settings.now();
    if (this.partial === "") this.partialSince = now;
    let start = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      const line = this.partial + text.slice(start, end);
      this.partial = "";
      this.enqueueLine(line.endsWith("\r") ? line.slice(0, -1) : line, this.partialSince, true);
      this.partialSince = now;
      start = end + 1;
    }
    if (start < text.length) {
      this.partial += text.slice(start);
      this.cutOverlongPartial();
    }
    this.schedule();
  }

  close(): Promise<string | undefined> {
    this.closing ??= this.finish().catch((error: unknown) => `the copy to ${this.description} stopped unexpectedly: ${firstLine(error)}`);
    return this.closing;
  }

  // ---- line assembly ---------------------------------------------------------------------

  /**
   * Turns a complete line into events; with `complete` false, `text` is the front of a line still
   * being written (cut off because it outgrew one event), and the rest will follow.
   */
  private enqueueLine(text: string, written: number, complete: boolean): void {
    const continuing = this.partialLine !== undefined;
    if (text === "" && !continuing) return;
    const line = continuing ? this.partialLine! : ++this.lines;
    this.partialLine = complete ? undefined : line;
    if (text === "") return;
    const pieces = splitUtf8(wellFormed(text), MAX_MESSAGE_BYTES);
    const piece = continuing || !complete || pieces.length > 1;
    const timestamp = (this.lastTimestamp = Math.max(this.lastTimestamp, written));
    for (const message of pieces) {
      this.enqueueEvent({ timestamp, message, size: Buffer.byteLength(message, "utf8") + PUT_LOG_EVENTS_LIMITS.eventOverhead, line, piece });
    }
  }

  /** A line without its end yet cannot grow without bound: full events are cut off its front. */
  private cutOverlongPartial(): void {
    if (this.partial.length * 3 <= MAX_MESSAGE_BYTES || Buffer.byteLength(this.partial, "utf8") <= MAX_MESSAGE_BYTES) return;
    // Not made well-formed here: the text may end in half a surrogate pair whose other half
    // comes with the next write (enqueueLine cleans the pieces it sends).
    const pieces = splitUtf8(this.partial, MAX_MESSAGE_BYTES);
    this.partial = pieces.pop()!;
    this.enqueueLine(pieces.join(""), this.partialSince, false);
  }

  private enqueueEvent(event: QueuedEvent): void {
    if (this.stopCause !== undefined) return this.countLost(event, "stopped");
    if (this.queuedBytes + event.size > this.settings.maxQueuedBytes) return this.countLost(event, "overflow");
    this.events.push(event);
    this.queuedBytes += event.size;
  }

  // ---- sending ---------------------------------------------------------------------------

  /** Starts a send when a batch is full, otherwise makes sure a flush is due within the interval. */
  private schedule(): void {
    if (this.phase !== "open" && this.phase !== "closing") return;
    if (this.inFlight !== undefined || this.queued() === 0) return;
    if (this.phase === "closing" || this.flushAll || this.batchFull()) {
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
    while (this.queued() > 0 && this.stopCause === undefined && !this.deadline.signal.aborted) {
      if (this.phase !== "closing" && !this.flushAll && !this.batchFull()) break;
      this.inFlight = this.takeBatch();
      await this.deliver(this.inFlight);
      this.inFlight = undefined;
    }
    if (this.queued() === 0) this.flushAll = false;
    if (this.stopCause !== undefined) this.dropQueue("stopped");
    if (this.phase === "closing" && (this.queued() === 0 || this.deadline.signal.aborted)) this.drained?.();
    else this.schedule();
  }

  private batchFull(): boolean {
    return this.queued() >= PUT_LOG_EVENTS_LIMITS.batchEvents || this.queuedBytes >= PUT_LOG_EVENTS_LIMITS.batchBytes;
  }

  private queued(): number {
    return this.events.length - this.head;
  }

  /** The longest run of queued events that PutLogEvents accepts in one request. */
  private takeBatch(): QueuedEvent[] {
    const first = this.events[this.head]!;
    let end = this.head;
    let bytes = 0;
    while (end < this.events.length && end - this.head < PUT_LOG_EVENTS_LIMITS.batchEvents) {
      const event = this.events[end]!;
      if (bytes + event.size > PUT_LOG_EVENTS_LIMITS.batchBytes || event.timestamp - first.timestamp >= PUT_LOG_EVENTS_LIMITS.spanMs) break;
      bytes += event.size;
      end++;
    }
    const batch = this.events.slice(this.head, end);
    this.head = end;
    this.queuedBytes -= bytes;
    // Drop the sent front now and then, so a long run does not keep every event it ever sent.
    if (this.head > 4096 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  /** Sends one batch with retries; whatever does not arrive is counted, never thrown. */
  private async deliver(batch: QueuedEvent[]): Promise<void> {
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
      this.countRejected(batch, output.rejectedLogEventsInfo);
    } catch (error) {
      if (this.deadline.signal.aborted) {
        for (const event of batch) this.countLost(event, "deadline");
        return;
      }
      for (const event of batch) this.countLost(event, "failed");
      this.lastFailure = this.failureSentence(error, "PutLogEvents");
      const verdict = verdictOf(error);
      if (verdict === "fatal") this.stopCause = this.lastFailure;
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
        await sleep(backoff(attempt, this.settings.retryBaseMs), bound);
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

  private countRejected(batch: QueuedEvent[], info: { tooNewLogEventStartIndex?: number; tooOldLogEventEndIndex?: number; expiredLogEventEndIndex?: number } | undefined): void {
    if (info === undefined) return;
    // Both "old" indexes end (exclusively) a run at the front; "new" starts a run at the back.
    const oldEnd = Math.min(batch.length, Math.max(info.tooOldLogEventEndIndex ?? 0, info.expiredLogEventEndIndex ?? 0));
    const newStart = Math.max(oldEnd, Math.min(batch.length, info.tooNewLogEventStartIndex ?? batch.length));
    for (let i = 0; i < oldEnd; i++) this.countLost(batch[i]!, "rejected");
    for (let i = newStart; i < batch.length; i++) this.countLost(batch[i]!, "rejected");
  }

  // ---- closing ---------------------------------------------------------------------------

  private async finish(): Promise<string | undefined> {
    const before = this.phase;
    this.phase = "closing";
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.partial !== "" || this.partialLine !== undefined) this.enqueueLine(this.partial, this.partialSince, true);
    this.partial = "";
    if (before === "failed") {
      // open() already said why; nothing was sent and nothing more is reported.
      this.dropQueue();
      this.phase = "closed";
      return undefined;
    }
    if (before !== "open") {
      this.lastFailure = "the stream was never opened";
      this.stopCause = this.lastFailure;
      this.dropQueue("stopped");
    }
    const timer = setTimeout(() => this.deadline.abort(), this.settings.deadlineMs);
    try {
      if (this.queued() > 0 || this.inFlight !== undefined) {
        const drained = new Promise<void>((resolve) => (this.drained = resolve));
        this.schedule();
        await Promise.race([drained, abortion(this.deadline.signal)]);
      }
    } finally {
      clearTimeout(timer);
    }
    // Past the bound, the batch in flight (its request is being aborted) counts as lost too.
    for (const event of this.inFlight ?? []) this.countLost(event, "deadline");
    this.dropQueue(this.stopCause !== undefined ? "stopped" : "deadline");
    this.finalized = true;
    this.phase = "closed";
    this.deadline.abort();
    this.client?.destroy();
    return this.lossReport();
  }

  /** Counts every queued event as lost for `cause` (or forgets them silently) and empties the queue. */
  private dropQueue(cause?: LossCause): void {
    if (cause !== undefined) for (let i = this.head; i < this.events.length; i++) this.countLost(this.events[i]!, cause);
    this.events = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  private countLost(event: QueuedEvent, cause: LossCause): void {
    if (this.finalized) return;
    if (event.piece) {
      if (this.lostPieceLines.has(event.line)) return;
      this.lostPieceLines.add(event.line);
    } else if (event.line === this.lastLostLine) return;
    this.lastLostLine = event.line;
    this.lost[cause]++;
    this.lostTotal++;
  }

  private lossReport(): string | undefined {
    if (this.lostTotal === 0) return undefined;
    const parts: string[] = [];
    const { overflow, failed, rejected, deadline, stopped } = this.lost;
    if (overflow > 0) parts.push(`${count(overflow)} dropped because sending fell more than ${mebibytes(this.settings.maxQueuedBytes)} behind`);
    if (failed > 0) parts.push(`${count(failed)} not delivered (${this.lastFailure ?? "PutLogEvents failed"})`);
    if (stopped > 0) parts.push(`${count(stopped)} not sent because ${failed > 0 ? "of that" : (this.stopCause ?? "the copy stopped")}`);
    if (rejected > 0) parts.push(`${count(rejected)} refused by the service as too old or too far in the future (check this machine's clock)`);
    if (deadline > 0) parts.push(`${count(deadline)} still waiting when the ${seconds(this.settings.deadlineMs)} allowed for the final upload ran out`);
    return `${count(this.lostTotal)} of ${count(this.lines)} console lines did not reach ${this.description}: ${parts.join("; ")}.`;
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

  /** An SDK error as one clause naming the operation and the cause — never an SDK dump. */
  private failureSentence(error: unknown, operation: "CreateLogStream" | "PutLogEvents"): string {
    const { group, stream } = this.options;
    const region = this.region ?? "the configured region";
    const name = errorName(error);
    const status = statusOf(error);
    const message = firstLine(error);
    const own: Record<string, string> = {
      ResourceNotFoundException:
        operation === "CreateLogStream"
          ? `log group '${group}' does not exist in ${region}; create it first (aws logs create-log-group --log-group-name ${group}${this.region ? ` --region ${this.region}` : ""}) or name an existing group`
          : `log group '${group}' or its stream '${stream}' no longer exists`,
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
    if (cause === undefined && error instanceof RequestTimeout) cause = `no answer from ${this.endpoint()} within ${seconds(this.settings.requestTimeoutMs)}`;
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
    super(`no answer within ${seconds(ms)}`);
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

function sleep(ms: number, bound: AbortSignal): Promise<void> {
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

/** A UTF-16 surrogate without its partner. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Replaces lone surrogates (which UTF-8 cannot carry) with U+FFFD. Not String#toWellFormed: the
 * Node bundle (the 386 fallback, cli.md §14) must run on Node 18, which lacks it.
 */
function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, "\uFFFD");
}

/** Splits text into pieces of at most `maxBytes` UTF-8 bytes without cutting a character. */
export function splitUtf8(text: string, maxBytes: number): string[] {
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, "utf8") <= maxBytes) return [text];
  const pieces: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < text.length; ) {
    const unit = text.charCodeAt(i);
    const pair = unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    const width = pair ? 4 : unit < 0x80 ? 1 : unit < 0x800 ? 2 : 3;
    if (bytes + width > maxBytes) {
      pieces.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += width;
    i += pair ? 2 : 1;
  }
  pieces.push(text.slice(start));
  return pieces;
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function mebibytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MiB` : `${bytes} bytes`;
}
