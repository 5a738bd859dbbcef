/**
 * @module aws/log-batches: console text → CloudWatch Logs events → PutLogEvents batches, with no
 * SDK, timer or clock of its own (aws/cloudwatch.ts passes the time in and does the sending).
 *
 * - A line's timestamp is the time its first character was written; timestamps never go
 *   backwards (a clock stepped back repeats the last one), because a batch must be in order.
 * - "\r\n" counts as a line end. Empty lines are skipped: the service refuses empty messages and
 *   an invented placeholder would change the text.
 * - A line longer than one event (262,118 bytes of UTF-8) is split into consecutive events of the
 *   same timestamp at character boundaries, so nothing is cut away; a line still being written is
 *   cut the same way once it outgrows one event.
 * - Lone UTF-16 surrogates are sent as U+FFFD, as UTF-8 would carry them anyway.
 * - A batch is the longest run of waiting events with at most 10,000 events, 1,048,576 bytes
 *   counting 26 bytes per event, and less than 24 hours from its first to its last event.
 * - The events waiting are capped in bytes; events beyond the cap are dropped and counted.
 * - Losses are counted in console lines, not events: a split line counts once, whatever happened
 *   to how many of its pieces.
 */
import { Buffer } from "node:buffer";

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

export interface LogEvent {
  timestamp: number;
  message: string;
  /** UTF-8 bytes plus the per-event overhead. */
  size: number;
  /** Which console line this is (pieces of a split line share it). */
  line: number;
  /** True when this event is one piece of a split line. */
  piece: boolean;
}

/** Why a line did not arrive: the queue was full, a request failed or was refused in part, time ran out, the copy stopped. */
export type LossCause = "overflow" | "failed" | "rejected" | "deadline" | "stopped";

/** Lines lost, by cause; each line is counted once, under the first cause it was lost for. */
export class LossTally {
  readonly byCause: Record<LossCause, number> = { overflow: 0, failed: 0, rejected: 0, deadline: 0, stopped: 0 };
  total = 0;
  private lastLine = 0;
  private readonly splitLines = new Set<number>();
  private frozen = false;

  count(event: LogEvent, cause: LossCause): void {
    if (this.frozen) return;
    if (event.piece) {
      if (this.splitLines.has(event.line)) return;
      this.splitLines.add(event.line);
    } else if (event.line === this.lastLine) return;
    this.lastLine = event.line;
    this.byCause[cause]++;
    this.total++;
  }

  /** The counts are final (reported): later news, from a request being aborted, changes nothing. */
  freeze(): void {
    this.frozen = true;
  }
}

/**
 * Console text in, batches out. Events wait in order; `nextBatch` takes the front. After `stop`,
 * nothing more is queued: what waits and what comes later count as lost ("stopped").
 */
export class LogEventQueue {
  readonly losses = new LossTally();

  // The line being written.
  private partial = "";
  private partialSince = 0;
  /** The number of a line that already sent pieces and is not finished yet. */
  private partialLine: number | undefined;
  private lines = 0;
  private lastTimestamp = 0;

  // events[head..] wait to be sent.
  private events: LogEvent[] = [];
  private head = 0;
  private bytes = 0;
  private stopped = false;

  /** `maxBytes`: bytes of events (overhead included) that may wait. */
  constructor(private readonly maxBytes: number) {}

  /** Console lines seen so far; a split line is one. */
  get lineCount(): number {
    return this.lines;
  }

  /** Events waiting to be sent. */
  get waiting(): number {
    return this.events.length - this.head;
  }

  /** Takes console text written at `now` (milliseconds since the epoch). */
  write(text: string, now: number): void {
    if (text === "") return;
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
  }

  /** Nothing more will be written: a last line without its line end is queued as it is. */
  endLastLine(): void {
    if (this.partial !== "" || this.partialLine !== undefined) this.enqueueLine(this.partial, this.partialSince, true);
    this.partial = "";
  }

  /** Whether the waiting events fill a batch (by count or bytes), so waiting for more gains nothing. */
  batchFull(): boolean {
    return this.waiting >= PUT_LOG_EVENTS_LIMITS.batchEvents || this.bytes >= PUT_LOG_EVENTS_LIMITS.batchBytes;
  }

  /** Takes the longest run of waiting events that PutLogEvents accepts in one request; none when nothing waits. */
  nextBatch(): LogEvent[] {
    const first = this.events[this.head];
    if (first === undefined) return [];
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
    this.bytes -= bytes;
    // Drop the sent front now and then, so a long run does not keep every event it ever sent.
    if (this.head > 4096 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  /** Empties the queue, counting what waited as lost for `cause` (or forgetting it, without one). */
  drop(cause?: LossCause): void {
    if (cause !== undefined) for (let i = this.head; i < this.events.length; i++) this.losses.count(this.events[i]!, cause);
    this.events = [];
    this.head = 0;
    this.bytes = 0;
  }

  /** The copy has stopped: what waits, and every later line, is lost as "stopped". */
  stop(): void {
    this.stopped = true;
    this.drop("stopped");
  }

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

  private enqueueEvent(event: LogEvent): void {
    if (this.stopped) return this.losses.count(event, "stopped");
    if (this.bytes + event.size > this.maxBytes) return this.losses.count(event, "overflow");
    this.events.push(event);
    this.bytes += event.size;
  }
}

/** The part of PutLogEvents' answer that names events the service would not take. */
export interface RejectedInfo {
  tooNewLogEventStartIndex?: number;
  tooOldLogEventEndIndex?: number;
  expiredLogEventEndIndex?: number;
}

/** The events of `batch` that the service refused as too old, expired or too new. */
export function rejectedEvents(batch: readonly LogEvent[], info: RejectedInfo | undefined): LogEvent[] {
  if (info === undefined) return [];
  // Both "old" indexes end (exclusively) a run at the front; "new" starts a run at the back.
  const oldEnd = Math.min(batch.length, Math.max(info.tooOldLogEventEndIndex ?? 0, info.expiredLogEventEndIndex ?? 0));
  const newStart = Math.max(oldEnd, Math.min(batch.length, info.tooNewLogEventStartIndex ?? batch.length));
  return [...batch.slice(0, oldEnd), ...batch.slice(newStart)];
}

/** A UTF-16 surrogate without its partner. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Replaces lone surrogates (which UTF-8 cannot carry) with U+FFFD. Not String#toWellFormed: the
 * Node bundle (the 386 fallback, docs/cli.md §14) must run on Node 18, which lacks it.
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
    const pair = isSurrogatePairAt(text, i);
    const width = pair ? 4 : utf8Width(text.charCodeAt(i));
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

function isSurrogatePairAt(text: string, i: number): boolean {
  const unit = text.charCodeAt(i);
  return unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
}

/** UTF-8 bytes of one UTF-16 code unit that is not part of a pair (a lone surrogate takes 3, as U+FFFD). */
function utf8Width(unit: number): number {
  if (unit < 0x80) return 1;
  if (unit < 0x800) return 2;
  return 3;
}
