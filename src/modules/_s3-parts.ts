/**
 * @module modules/_s3-parts: one big S3 object downloaded as ranged GETs in parallel, the way
 * `aws s3 cp` does it (docs/modules.md#s3download).
 *
 * The object's size and ETag come from HeadObject; the bytes are cut into parts (planParts: the
 * part size, default 8 MiB) and every part is a GET of its range with If-Match on that ETag, so a
 * part of a replaced object is refused by S3 (412) instead of being mixed with parts of the old
 * one. Every part holds a lease of the step's TransferLimit for its size while in flight: at most
 * `concurrency` requests and `concurrency × part size` bytes.
 *
 * Where the port can (writesRangesNatively: the direct S3 path under Bun), each part's answer is
 * written by the runtime into a file of its own in a private folder beside the temporary file, and
 * the parts are appended to the temporary file in order by the kernel (InOrderAssembler); no byte
 * passes through JavaScript. That took a 1 GiB download from ~98 MB peak RSS and ~6 s of CPU to
 * ~85 MB and ~4.5 s (scripts/bench-s3.ts), since Bun's fetch otherwise hands every few KiB over as
 * a new buffer for the collector to find. Parts run at most PARTS_AHEAD_PER_REQUEST × requests
 * ahead of the next one to append, which bounds the extra disk a slow first part can cause.
 * Elsewhere (Node, the SDK client's path, Windows) each part is streamed to its offset of the
 * temporary file (positional writes) as it arrives, so a slow disk slows the reads instead of
 * piling up memory. A part that fails for a reason that may pass
 * (network, time limit, 5xx, a short answer) is tried again on its own, PART_ATTEMPTS times in all
 * with a growing pause; the others go on. The first part that fails for good stops the rest.
 *
 * Checked before the file is committed: the size on disk is HeadObject's, and the content matches
 * the object's whole-object checksum when S3 keeps one (SHA-256, SHA-1 or CRC32 of a single-part
 * upload, or a full-object CRC32), otherwise its ETag when that is the MD5 of the content (an
 * object uploaded in one piece, not SSE-KMS/SSE-C). The digest reads the file back in order while
 * the download goes on (each time the parts written so far form a longer run from the start), from
 * the page cache, 256 KiB at a time. Multipart ETags, composite checksums, CRC32C and CRC64NVME are
 * not checked (size and If-Match only).
 */
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import * as zlib from "node:zlib";
import { StepError } from "../errors.ts";
import type { S3FailureFacts, S3ObjectInfo, S3Options, S3Port } from "../model/ports.ts";
import type { TransferLimit } from "../model/transfer-limit.ts";
import { describeWriteError, isDiskError, privateFolderBeside, type TemporaryFile } from "../safe-fs/durable.ts";

/** Attempts per part, and the pause before the second (doubled each time, with jitter). */
export const PART_ATTEMPTS = 4;
const FIRST_PAUSE_MS = 200;
/**
 * How much the in-order digest reads back at a time: 256 KiB, a peak RSS ~3 MB lower than 1 MiB
 * for the same CPU and wall time (1 GiB download, scripts/bench-s3.ts).
 */
const DIGEST_READ = 256 * 1024;
/**
 * A part's bytes are gathered into writes of up to this size (one pwrite per 256 KiB rather than
 * one per network chunk of a few KiB: each write is a trip to the I/O thread pool).
 */
const WRITE_BATCH = 256 * 1024;
/**
 * Every network chunk is a new buffer that is garbage once copied, and Bun's collector, which
 * weighs buffers' memory lightly, let ~70 MB of them pile up during a 1 GiB download with 10 parts
 * in flight (peak RSS 165 MB). A collection after every 4 MiB received brings the peak to 91–100 MB
 * (every 8 MiB: 112 MB) for about 1.5 s of CPU per GiB, without changing the wall time
 * (scripts/bench-s3.ts). Reading into our own buffers instead is not possible: Bun's fetch bodies
 * have no BYOB reader.
 */
const COLLECT_EVERY = 4 * 1024 * 1024;
/**
 * Parts written natively may run ahead of the next one to append by this many per request the
 * limit allows (2 × 10 × 8 MiB = 160 MiB of disk at most, beside the temporary file).
 */
const PARTS_AHEAD_PER_REQUEST = 2;

/** Bytes `start`..`end` (inclusive) of the object. */
export interface PartRange {
  index: number;
  start: number;
  end: number;
}

/** The object cut into parts of `partSize` bytes (the last one shorter); none for 0 bytes. */
export function planParts(size: number, partSize: number): PartRange[] {
  if (!(partSize >= 1)) throw new RangeError(`part size must be ≥ 1, not ${partSize}`);
  const parts: PartRange[] = [];
  for (let start = 0, index = 0; start < size; start += partSize, index++) parts.push({ index, start, end: Math.min(start + partSize, size) - 1 });
  return parts;
}

/** The pause before attempt `attempt + 1`: 200 ms, 400 ms, 800 ms …, ±25 %. */
export function retryPause(attempt: number, random: () => number = Math.random): number {
  return FIRST_PAUSE_MS * 2 ** (attempt - 1) * (0.75 + random() / 2);
}

export interface RangedDownload {
  s3: Required<Pick<S3Port, "getObjectRange">> & Pick<S3Port, "writesRangesNatively" | "getObjectRangeToFile">;
  bucket: string;
  key: string;
  info: S3ObjectInfo;
  partSize: number;
  limit: TransferLimit;
  /** expectedBucketOwner, and the step's signal (time limit, interrupt). */
  options: S3Options & { signal: AbortSignal };
  /** The exclusive temporary file the parts go into; the caller commits or discards it. */
  file: TemporaryFile;
}

/**
 * Fetches every part into `file` and checks the result; resolves with what was checked ("size,
 * MD5") or rejects with a StepError after every part has stopped (nothing writes to the file any
 * more, so the caller can discard it at once).
 */
export async function fetchParts(download: RangedDownload): Promise<string> {
  const { info, options } = download;
  const parts = planParts(info.size, download.partSize);
  const stop = new AbortController();
  const follow = () => stop.abort(options.signal.reason);
  if (options.signal.aborted) follow();
  else options.signal.addEventListener("abort", follow, { once: true });
  const digest = await InOrderDigest.open(download.file.path, info, parts);
  let first: unknown;
  const failed = (error: unknown) => {
    first ??= error;
    stop.abort(error);
  };
  const native = parts.length > 0 && download.s3.getObjectRangeToFile !== undefined && (await download.s3.writesRangesNatively?.(download.bucket)) === true;
  const assembler = native ? new InOrderAssembler(download.file, parts, download.limit.maxRequests * PARTS_AHEAD_PER_REQUEST, (index) => digest?.written(index), failed) : undefined;
  try {
    if (assembler !== undefined) {
      await Promise.all(parts.map((part) => fetchPartToFile(download, part, assembler, stop.signal).then(() => assembler.arrived(part.index), failed)));
      await assembler.finished();
    } else {
      // Write buffers, reused from part to part: at most one per request in flight.
      const spare: Buffer[] = [];
      const batch = Math.min(download.partSize, WRITE_BATCH);
      const received = collectorEvery(COLLECT_EVERY);
      const buffers = { take: () => spare.pop() ?? Buffer.allocUnsafe(batch), give: (buffer: Buffer) => void spare.push(buffer) };
      await Promise.all(parts.map((part) => fetchPart(download, part, stop.signal, buffers, received).then(() => digest?.written(part.index), failed)));
    }
    if (first !== undefined) throw first;
    const size = await download.file.size();
    if (size !== info.size) throw new StepError(`cannot download s3://${download.bucket}/${download.key}: ${size} bytes arrived, the object has ${info.size}; nothing was written`);
    const checked = await digest?.verify(stop.signal);
    if (checked !== undefined && !checked.ok) {
      throw new StepError(`cannot download s3://${download.bucket}/${download.key}: the bytes that arrived do not match the object's ${checked.what}; nothing was written`);
    }
    return checked === undefined ? "size" : `size, ${checked.what}`;
  } finally {
    options.signal.removeEventListener("abort", follow);
    stop.abort();
    await assembler?.close();
    await digest?.close();
  }
}

/**
 * One part written natively into a file of its own (the assembler's), tried again on its own
 * while its failure may pass; it starts only once the assembler has room for it.
 */
async function fetchPartToFile(download: RangedDownload, part: PartRange, assembler: InOrderAssembler, signal: AbortSignal): Promise<void> {
  const { s3, bucket, key, info } = download;
  const length = part.end - part.start + 1;
  await assembler.room(part.index, signal);
  const path = assembler.partPath(part.index);
  const work = async () => {
    if (signal.aborted) throw signal.reason;
    const written = await s3.getObjectRangeToFile!(bucket, key, { start: part.start, end: part.end, ifMatch: info.etag }, path, { ...download.options, signal });
    if (written !== length) {
      const how = written > length ? "was longer than asked" : `ended after ${written} of ${length} bytes`;
      throw Object.assign(new StepError(`cannot download s3://${bucket}/${key}: the answer for bytes ${part.start}-${part.end} ${how}`), { transient: written < length });
    }
  };
  // A failed try leaves no part file behind (the next one creates it exclusively); a full disk is
  // worded for the destination, not for the hidden folder.
  await triedOnItsOwn(download, length, signal, work, async (error) => {
    await rm(path, { force: true });
    return isDiskError(error) ? new StepError(`cannot download s3://${bucket}/${key}: cannot write into '${dirname(download.file.path)}': ${describeWriteError(error)}`) : error;
  });
}

/**
 * `work` under a lease of `length` bytes, tried again while its failure may pass (transient, not a
 * changed object, not stopped), PART_ATTEMPTS times in all with growing pauses. `afterFailure`
 * cleans up after a failed try and may reword its error.
 */
async function triedOnItsOwn(download: RangedDownload, length: number, signal: AbortSignal, work: () => Promise<void>, afterFailure: (error: unknown) => Promise<unknown> = async (error) => error): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await download.limit.run(length, work, signal);
      return;
    } catch (caught) {
      const error = await afterFailure(caught);
      if (signal.aborted || !(error as S3FailureFacts).transient || (error as S3FailureFacts).changed || attempt >= PART_ATTEMPTS) throw error;
      await pause(retryPause(attempt), signal);
    }
  }
}

/**
 * Parts written into files of their own, in a private folder beside the temporary file, appended
 * to it in order as soon as the run from the start allows (the kernel copies; each part's file
 * is removed once appended). A part may start only while fewer than `ahead` parts separate it
 * from the next one to append, so a slow first part holds at most that many parts on disk.
 */
class InOrderAssembler {
  readonly #folder: string;
  readonly #done: boolean[];
  #next = 0;
  #appending: Promise<void> = Promise.resolve();
  #waiters: { index: number; wake: () => void }[] = [];
  #failed: { error: unknown } | undefined;

  constructor(
    readonly file: TemporaryFile,
    readonly parts: readonly PartRange[],
    readonly ahead: number,
    readonly appended: (index: number) => void,
    readonly fail: (error: unknown) => void,
  ) {
    this.#folder = privateFolderBeside(join(dirname(file.path), "parts"));
    this.#done = parts.map(() => false);
  }

  partPath(index: number): string {
    return join(this.#folder, String(index));
  }

  /** Resolves once part `index` may start (or at once when stopped: the part then sees the signal). */
  room(index: number, signal: AbortSignal): Promise<void> {
    if (index < this.#next + this.ahead || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = { index, wake: () => (signal.removeEventListener("abort", waiter.wake), resolve()) };
      signal.addEventListener("abort", waiter.wake, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Part `index` is in its file: append what now runs on from the start. */
  arrived(index: number): void {
    this.#done[index] = true;
    this.#appending = this.#appending.then(() => this.#appendReady());
  }

  async #appendReady(): Promise<void> {
    while (this.#failed === undefined && this.#next < this.parts.length && this.#done[this.#next]) {
      const index = this.#next;
      try {
        const copied = await this.file.appendFrom(this.partPath(index));
        const part = this.parts[index]!;
        if (copied !== part.end - part.start + 1) throw new Error(`part ${index} had ${copied} bytes, not ${part.end - part.start + 1}`);
        await rm(this.partPath(index), { force: true });
      } catch (error) {
        this.#failed = { error: new StepError(`cannot put the downloaded parts together in '${this.file.path}': ${describeWriteError(error)}`) };
        this.fail(this.#failed.error);
        return;
      }
      this.#next++;
      this.appended(index);
      const ready = this.#waiters.filter((w) => w.index < this.#next + this.ahead);
      this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
      for (const waiter of ready) waiter.wake();
    }
  }

  /** Once every part has arrived: all of them appended, or the failure that stopped it. */
  async finished(): Promise<void> {
    await this.#appending;
    if (this.#failed !== undefined) throw this.#failed.error;
  }

  /** Waits for the append under way and removes the folder with any parts left in it. */
  async close(): Promise<void> {
    this.#failed ??= { error: new Error("closed") };
    await this.#appending.catch(() => undefined);
    for (const waiter of this.#waiters) waiter.wake();
    await rm(this.#folder, { recursive: true, force: true });
  }
}

/** One part, written at its offset, tried again on its own while its failure may pass. */
async function fetchPart(download: RangedDownload, part: PartRange, signal: AbortSignal, buffers: { take(): Buffer; give(buffer: Buffer): void }, arrived: (bytes: number) => void): Promise<void> {
  const { s3, bucket, key, info } = download;
  const length = part.end - part.start + 1;
  await triedOnItsOwn(download, length, signal, async () => {
    const body = await s3.getObjectRange(bucket, key, { start: part.start, end: part.end, ifMatch: info.etag }, { ...download.options, signal });
    const buffer = buffers.take();
    try {
      let received = 0;
      let filled = 0;
      let at = part.start; // where the buffer's bytes go
      const flush = async () => {
        await download.file.writeAt(buffer.subarray(0, filled), at);
        at += filled;
        filled = 0;
      };
      for await (const chunk of body) {
        if (received + chunk.length > length) throw new StepError(`cannot download s3://${bucket}/${key}: the answer for bytes ${part.start}-${part.end} was longer than asked`);
        received += chunk.length;
        arrived(chunk.length);
        for (let used = 0; used < chunk.length; ) {
          const n = Math.min(buffer.length - filled, chunk.length - used);
          buffer.set(chunk.subarray(used, used + n), filled);
          filled += n;
          used += n;
          if (filled === buffer.length) await flush();
        }
      }
      if (filled > 0) await flush();
      if (received !== length) {
        throw Object.assign(new StepError(`cannot download s3://${bucket}/${key}: the answer for bytes ${part.start}-${part.end} ended after ${received} of ${length} bytes`), { transient: true });
      }
    } finally {
      buffers.give(buffer);
    }
  });
}

/** Counts bytes received and runs a collection (under Bun; Node needs none) after every `bytes`. */
function collectorEvery(bytes: number): (received: number) => void {
  const gc = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun?.gc;
  let since = 0;
  return (received) => {
    since += received;
    if (since < bytes || gc === undefined) return;
    since = 0;
    gc(true);
  };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve(); // the caller's next request sees the aborted signal
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

type Checker = { what: string; update(bytes: Uint8Array): void; matches(): boolean };

/** The whole-object check S3 allows for this object, preferring its own checksum to the ETag. */
function checkerFor(info: S3ObjectInfo): Checker | undefined {
  const checksum = info.checksum;
  // zlib.crc32 is Node ≥ 20.15 and Bun; the Node bundle may run on an older Node: MD5 then.
  const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  if (checksum?.algorithm === "CRC32" && crc32 !== undefined) {
    let value = 0;
    return {
      what: "CRC32 checksum",
      update: (bytes) => (value = crc32(bytes, value)),
      matches: () => {
        const expected = Buffer.alloc(4);
        expected.writeUInt32BE(value >>> 0);
        return expected.toString("base64") === checksum.value;
      },
    };
  }
  const hashOf = (algorithm: string, what: string, expected: string, encoding: "hex" | "base64"): Checker => {
    const hash = createHash(algorithm);
    return { what, update: (bytes) => hash.update(bytes), matches: () => hash.digest(encoding) === expected };
  };
  if (checksum !== undefined && checksum.algorithm !== "CRC32") return hashOf(checksum.algorithm.toLowerCase(), `${checksum.algorithm.replace("SHA", "SHA-")} checksum`, checksum.value, "base64");
  if (info.md5 !== undefined) return hashOf("md5", "MD5 (its ETag)", info.md5, "hex");
  return undefined;
}

/**
 * Reads the temporary file back in order, as far as the parts written so far reach from its
 * start, feeding the digest; one read at a time, alongside the download.
 */
class InOrderDigest {
  readonly #done: boolean[];
  #nextPart = 0;
  #hashed = 0;
  #running: Promise<void> = Promise.resolve();
  #failed: unknown;
  #buffer: Buffer | undefined;

  private constructor(
    readonly handle: import("node:fs/promises").FileHandle,
    readonly checker: Checker,
    readonly parts: readonly PartRange[],
    readonly size: number,
  ) {
    this.#done = parts.map(() => false);
  }

  static async open(path: string, info: S3ObjectInfo, parts: readonly PartRange[]): Promise<InOrderDigest | undefined> {
    const checker = checkerFor(info);
    if (checker === undefined) return undefined;
    const { open } = await import("node:fs/promises");
    return new InOrderDigest(await open(path, "r"), checker, parts, info.size);
  }

  /** Part `index` is on disk: read on as far as the run from the start now reaches. */
  written(index: number): void {
    this.#done[index] = true;
    while (this.#nextPart < this.parts.length && this.#done[this.#nextPart]) this.#nextPart++;
    const upTo = this.#nextPart >= this.parts.length ? this.size : this.parts[this.#nextPart]!.start;
    this.#running = this.#running.then(() => this.#readTo(upTo));
  }

  async #readTo(upTo: number): Promise<void> {
    if (this.#failed !== undefined) return;
    // One buffer for the whole download (the reads take turns): a new one per part was 128 of
    // 256 KiB per GiB for the collector to find.
    const buffer = (this.#buffer ??= Buffer.allocUnsafe(Math.min(DIGEST_READ, Math.max(1, this.size))));
    try {
      while (this.#hashed < upTo) {
        const { bytesRead } = await this.handle.read(buffer, 0, Math.min(buffer.length, upTo - this.#hashed), this.#hashed);
        if (bytesRead <= 0) throw new Error(`the temporary file ended at ${this.#hashed} bytes`);
        this.checker.update(buffer.subarray(0, bytesRead));
        this.#hashed += bytesRead;
      }
    } catch (error) {
      this.#failed = error;
    }
  }

  /** Once every part is written: whether the content matches. */
  async verify(signal: AbortSignal): Promise<{ what: string; ok: boolean }> {
    await this.#running;
    if (signal.aborted) throw signal.reason;
    if (this.#failed !== undefined) throw new StepError(`cannot check the downloaded file: ${(this.#failed as Error).message}`);
    return { what: this.checker.what, ok: this.#hashed === this.size && this.checker.matches() };
  }

  async close(): Promise<void> {
    await this.#running.catch(() => undefined);
    await this.handle.close().catch(() => undefined);
  }
}
