/**
 * @module model/transfer-limit: one budget for the S3 transfers of a step — how many requests may
 * be in flight at once and how many bytes they may hold in memory together. S3Download's parts
 * and objects (modules/_s3-download.ts) and S3Upload's files and parts draw on the same kind of
 * budget, so "10 requests, 80 MiB" holds however the work is split.
 *
 * A request asks for one slot and the bytes it may buffer (a part's size, an object's size); it
 * waits, in the order asked, until both are free, and gives both back when it ends. Waiters are
 * served strictly first come, first served, so a large request is not starved by a stream of
 * small ones. A request larger than the whole byte budget is let through alone (when nothing else
 * holds bytes), so nothing can wait forever. Waiting stops when the caller's signal is aborted.
 *
 * Pure bookkeeping, no I/O: the peaks it records (peakRequests, peakBytes) are what the tests
 * assert the memory bound with.
 */

import { StepError } from "../errors.ts";

/** Defaults, as the AWS CLI's `aws s3 cp`: 10 requests in flight, 8 MiB parts. */
export const DEFAULT_MAX_CONCURRENCY = 10;
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** Bounds of the environment's settings: parts up to 5 GiB (S3's own part limit), ≤ 100 requests. */
const MAX_PART_SIZE = 5 * 1024 ** 3;
const MAX_CONCURRENCY = 100;

/** How S3 transfers are split and how many run at once (docs/modules.md#s3download). */
export interface TransferSettings {
  /** Bytes per ranged GET (and per uploaded part). */
  partSize: number;
  /** Requests in flight at once; 1 means one object at a time in one stream (no ranges). */
  concurrency: number;
  /** Bytes all requests may hold at once: concurrency × partSize. */
  maxBytes: number;
}

/**
 * The settings from the environment: OPENTOE_S3_PART_SIZE (bytes, or a number with K/KiB, M/MiB,
 * G/GiB — binary units; default 8 MiB) and OPENTOE_S3_MAX_CONCURRENCY (1–100, default 10). A value
 * that is set but not understood is a StepError naming it, never silently the default.
 */
export function transferSettings(env: Record<string, string | undefined>): TransferSettings {
  const partSize = parseSetting(env, "OPENTOE_S3_PART_SIZE", DEFAULT_PART_SIZE, parseSize, 1, MAX_PART_SIZE, "a size in bytes, or with K/KiB, M/MiB or G/GiB (e.g. 8MiB)");
  const concurrency = parseSetting(env, "OPENTOE_S3_MAX_CONCURRENCY", DEFAULT_MAX_CONCURRENCY, (t) => (/^\d+$/.test(t) ? Number(t) : undefined), 1, MAX_CONCURRENCY, "a whole number");
  return { partSize, concurrency, maxBytes: partSize * concurrency };
}

function parseSetting(env: Record<string, string | undefined>, name: string, fallback: number, parse: (text: string) => number | undefined, min: number, max: number, what: string): number {
  const text = env[name]?.trim();
  if (text === undefined || text === "") return fallback;
  const value = parse(text);
  if (value === undefined || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new StepError(`${name}='${env[name]}' is not usable: give ${what} from ${min} to ${max.toLocaleString("en-US")}${name.endsWith("SIZE") ? " bytes" : ""}`);
  }
  return value;
}

/** "8388608", "8M", "8MiB", "512k", "1 GiB" → bytes; undefined when not a size. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+)\s*(?:([kmg])(?:i?b)?|b)?$/i.exec(text.trim());
  if (match === null) return undefined;
  const unit = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? "").toLowerCase()] ?? 1;
  return Number(match[1]) * unit;
}

/** What a granted request holds until it calls release(). */
export interface TransferLease {
  readonly bytes: number;
  /** Gives the slot and the bytes back; later calls do nothing. */
  release(): void;
}

interface Waiter {
  bytes: number;
  grant: (lease: TransferLease) => void;
}

export class TransferLimit {
  readonly maxRequests: number;
  readonly maxBytes: number;
  #requests = 0;
  #bytes = 0;
  #peakRequests = 0;
  #peakBytes = 0;
  readonly #queue: Waiter[] = [];

  /** `maxRequests` ≥ 1 requests and `maxBytes` ≥ 1 bytes at once. */
  constructor(maxRequests: number, maxBytes: number) {
    if (!(Number.isInteger(maxRequests) && maxRequests >= 1)) throw new RangeError(`maxRequests must be a whole number ≥ 1, not ${maxRequests}`);
    if (!(maxBytes >= 1)) throw new RangeError(`maxBytes must be ≥ 1, not ${maxBytes}`);
    this.maxRequests = maxRequests;
    this.maxBytes = maxBytes;
  }

  /** Requests holding a slot now. */
  get requests(): number {
    return this.#requests;
  }
  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }
  /** The most requests that held a slot at once. */
  get peakRequests(): number {
    return this.#peakRequests;
  }
  /** The most bytes held at once (at most maxBytes, or one request's own size when it was larger). */
  get peakBytes(): number {
    return this.#peakBytes;
  }
  /** Requests waiting for a slot or bytes. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * One slot and `bytes` of the budget, once they are free; rejects with the signal's reason
   * (leaving the queue) if it is aborted first.
   */
  acquire(bytes: number, signal?: AbortSignal): Promise<TransferLease> {
    const wanted = Math.max(0, bytes);
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.#queue.length === 0 && this.#fits(wanted)) return Promise.resolve(this.#grant(wanted));
    return new Promise<TransferLease>((resolve, reject) => {
      const waiter: Waiter = {
        bytes: wanted,
        grant: (lease) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(lease);
        },
      };
      const onAbort = () => {
        const at = this.#queue.indexOf(waiter);
        if (at >= 0) this.#queue.splice(at, 1);
        reject(abortReason(signal!));
        this.#serve(); // the head may have been the one blocking others
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  /** `work` with a lease held for its whole run (released however it ends). */
  async run<T>(bytes: number, work: (lease: TransferLease) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const lease = await this.acquire(bytes, signal);
    try {
      return await work(lease);
    } finally {
      lease.release();
    }
  }

  #fits(bytes: number): boolean {
    if (this.#requests >= this.maxRequests) return false;
    return this.#bytes + bytes <= this.maxBytes || this.#bytes === 0;
  }

  #grant(bytes: number): TransferLease {
    this.#requests++;
    this.#bytes += bytes;
    this.#peakRequests = Math.max(this.#peakRequests, this.#requests);
    this.#peakBytes = Math.max(this.#peakBytes, this.#bytes);
    let held = true;
    return {
      bytes,
      release: () => {
        if (!held) return;
        held = false;
        this.#requests--;
        this.#bytes -= bytes;
        this.#serve();
      },
    };
  }

  /** Grants waiters from the head of the queue while they fit. */
  #serve(): void {
    while (this.#queue.length > 0 && this.#fits(this.#queue[0]!.bytes)) {
      const waiter = this.#queue.shift()!;
      waiter.grant(this.#grant(waiter.bytes));
    }
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? Object.assign(new Error("stopped"), { name: "AbortError" });
}
