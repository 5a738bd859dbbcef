/**
 * The pure side of the CloudWatch Logs mirror (src/aws/log-batches.ts): console text into events,
 * events into PutLogEvents batches within the service limits, and losses counted in lines. No SDK,
 * no server, no timers: the time is passed in.
 */
import { describe, expect, test } from "bun:test";
import { LogEventQueue, LossTally, MAX_MESSAGE_BYTES, PUT_LOG_EVENTS_LIMITS, rejectedEvents, splitUtf8, type LogEvent } from "../../src/aws/log-batches.ts";

const LOTS = 1024 ** 3;
const DAY = 24 * 3600_000;

/** Every batch the queue gives until it is empty. */
function allBatches(queue: LogEventQueue): LogEvent[][] {
  const batches: LogEvent[][] = [];
  while (queue.waiting > 0) batches.push(queue.nextBatch());
  return batches;
}

const messages = (events: LogEvent[]) => events.map((e) => e.message);

describe("lines into events", () => {
  test("one event per line; \\r\\n ends a line; empty lines are skipped and not counted", () => {
    const queue = new LogEventQueue(LOTS);
    queue.write("first\r\n\r\n\nsecond\n", 1000);
    expect(messages(queue.nextBatch())).toEqual(["first", "second"]);
    expect(queue.lineCount).toBe(2);
  });

  test("a line's timestamp is when its first character was written", () => {
    const queue = new LogEventQueue(LOTS);
    queue.write("par", 100);
    queue.write("tial\nnext", 200);
    queue.write(" line\n", 300);
    expect(queue.nextBatch().map((e) => [e.message, e.timestamp])).toEqual([
      ["partial", 100],
      ["next line", 200],
    ]);
  });

  test("timestamps never go backwards when the clock does", () => {
    const queue = new LogEventQueue(LOTS);
    queue.write("a\n", 5000);
    queue.write("b\n", 4000);
    queue.write("c\n", 6000);
    expect(queue.nextBatch().map((e) => e.timestamp)).toEqual([5000, 5000, 6000]);
  });

  test("a line longer than one event is split into events of one line and one timestamp, nothing cut away", () => {
    const queue = new LogEventQueue(LOTS);
    const line = "é".repeat(MAX_MESSAGE_BYTES); // two bytes each: about two events' worth
    queue.write(`${line}\n`, 42);
    const events = queue.nextBatch();
    expect(events.length).toBe(2);
    expect(events.map((e) => e.message).join("")).toBe(line);
    for (const event of events) {
      expect(event).toMatchObject({ timestamp: 42, line: 1, piece: true });
      expect(event.size).toBe(Buffer.byteLength(event.message) + PUT_LOG_EVENTS_LIMITS.eventOverhead);
      expect(event.size).toBeLessThanOrEqual(PUT_LOG_EVENTS_LIMITS.eventBytes);
    }
    expect(queue.lineCount).toBe(1);
  });

  test("a line still being written is cut into full events as it grows; the rest comes at its end", () => {
    const queue = new LogEventQueue(LOTS);
    queue.write("x".repeat(MAX_MESSAGE_BYTES + 10), 1);
    expect(queue.waiting).toBe(1);
    queue.write("yz", 2);
    queue.endLastLine();
    const events = queue.nextBatch();
    expect(events.map((e) => e.message.length)).toEqual([MAX_MESSAGE_BYTES, 12]);
    expect(events.every((e) => e.line === 1 && e.piece && e.timestamp === 1)).toBe(true);
  });

  test("endLastLine queues a last line without its line end", () => {
    const queue = new LogEventQueue(LOTS);
    queue.write("done\nno newline", 7);
    queue.endLastLine();
    expect(messages(queue.nextBatch())).toEqual(["done", "no newline"]);
  });

  test("lone surrogates are sent as U+FFFD; pairs stay", () => {
    const queue = new LogEventQueue(LOTS);
    queue.write("a\uD800b 🚀\n", 1);
    expect(messages(queue.nextBatch())).toEqual(["a\uFFFDb 🚀"]);
  });

  test("splitUtf8 never cuts a character and fills each piece", () => {
    expect(splitUtf8("aé🚀", 3)).toEqual(["aé", "🚀"]);
    expect(splitUtf8("\uD800x", 3)).toEqual(["\uD800", "x"]);
  });
});

describe("batches within the PutLogEvents limits", () => {
  test("at most 10,000 events", () => {
    const queue = new LogEventQueue(LOTS);
    queue.write("line\n".repeat(PUT_LOG_EVENTS_LIMITS.batchEvents + 1), 1);
    expect(queue.batchFull()).toBe(true);
    expect(allBatches(queue).map((b) => b.length)).toEqual([PUT_LOG_EVENTS_LIMITS.batchEvents, 1]);
  });

  test("at most 1,048,576 bytes, counting 26 per event", () => {
    const queue = new LogEventQueue(LOTS);
    const message = "m".repeat(1000);
    const fit = Math.floor(PUT_LOG_EVENTS_LIMITS.batchBytes / (1000 + 26));
    queue.write(`${message}\n`.repeat(fit + 1), 1);
    expect(queue.batchFull()).toBe(true);
    const batches = allBatches(queue);
    expect(batches.map((b) => b.length)).toEqual([fit, 1]);
    expect(batches[0]!.reduce((sum, e) => sum + e.size, 0)).toBeLessThanOrEqual(PUT_LOG_EVENTS_LIMITS.batchBytes);
  });

  test("less than 24 hours from the first event to the last", () => {
    const queue = new LogEventQueue(LOTS);
    queue.write("a\n", 0);
    queue.write("b\n", DAY - 1);
    queue.write("c\n", DAY);
    expect(allBatches(queue).map(messages)).toEqual([["a", "b"], ["c"]]);
  });

  test("events keep their order across batches", () => {
    const queue = new LogEventQueue(LOTS);
    const lines = Array.from({ length: 25_000 }, (_, i) => `line ${i}`);
    queue.write(lines.map((l) => `${l}\n`).join(""), 1);
    expect(allBatches(queue).flat().map((e) => e.message)).toEqual(lines);
  });

  test("a batch that is not full yet says so; an empty queue gives an empty batch", () => {
    const queue = new LogEventQueue(LOTS);
    expect(queue.nextBatch()).toEqual([]);
    queue.write("one\n", 1);
    expect(queue.batchFull()).toBe(false);
    expect(queue.nextBatch().length).toBe(1);
    expect(queue.waiting).toBe(0);
  });
});

describe("losses, counted in lines", () => {
  test("events beyond the byte cap are dropped and counted as overflow", () => {
    const queue = new LogEventQueue(3 * (1 + PUT_LOG_EVENTS_LIMITS.eventOverhead));
    queue.write("a\nb\nc\nd\n", 1);
    expect(messages(queue.nextBatch())).toEqual(["a", "b", "c"]);
    expect(queue.losses.byCause.overflow).toBe(1);
    expect(queue.losses.total).toBe(1);
  });

  test("a split line that is lost counts once", () => {
    const queue = new LogEventQueue(LOTS);
    queue.write(`${"x".repeat(MAX_MESSAGE_BYTES * 2 + 1)}\nshort\n`, 1);
    expect(queue.waiting).toBe(4);
    queue.drop("failed");
    expect(queue.losses.byCause.failed).toBe(2);
    expect(queue.waiting).toBe(0);
  });

  test("a line is counted under the first cause only", () => {
    const tally = new LossTally();
    const event: LogEvent = { timestamp: 1, message: "m", size: 27, line: 1, piece: false };
    tally.count(event, "failed");
    tally.count(event, "deadline");
    expect(tally.byCause).toMatchObject({ failed: 1, deadline: 0 });
    expect(tally.total).toBe(1);
  });

  test("after freeze nothing more is counted", () => {
    const tally = new LossTally();
    tally.freeze();
    tally.count({ timestamp: 1, message: "m", size: 27, line: 1, piece: false }, "deadline");
    expect(tally.total).toBe(0);
  });

  test("drop without a cause forgets the queue silently", () => {
    const queue = new LogEventQueue(LOTS);
    queue.write("a\nb\n", 1);
    queue.drop();
    expect(queue.waiting).toBe(0);
    expect(queue.losses.total).toBe(0);
  });

  test("after stop, what waited and every later line are lost as stopped", () => {
    const queue = new LogEventQueue(LOTS);
    queue.write("a\nb\n", 1);
    queue.stop();
    queue.write("c\n", 2);
    expect(queue.waiting).toBe(0);
    expect(queue.losses.byCause.stopped).toBe(3);
    expect(queue.lineCount).toBe(3);
  });

  test("rejectedEvents: the too-old or expired front and the too-new back of a batch", () => {
    const queue = new LogEventQueue(LOTS);
    queue.write("0\n1\n2\n3\n4\n", 1);
    const batch = queue.nextBatch();
    expect(rejectedEvents(batch, undefined)).toEqual([]);
    expect(messages(rejectedEvents(batch, { tooOldLogEventEndIndex: 1, expiredLogEventEndIndex: 2, tooNewLogEventStartIndex: 4 }))).toEqual(["0", "1", "4"]);
    expect(messages(rejectedEvents(batch, { tooOldLogEventEndIndex: 9, tooNewLogEventStartIndex: 2 }))).toEqual(["0", "1", "2", "3", "4"]);
  });
});
