/**
 * @module logs/record-writer: keeps detailedoutput.json current while a run goes on.
 *
 * The engine asks for a rewrite after every step. A rewrite is a full JSON serialisation plus an
 * atomic replace, which on ext4 costs close to a millisecond for a large record — more than a
 * trivial step itself. So rewrites are coalesced: the first request after a quiet spell writes at
 * once; requests within MIN_INTERVAL_MS of a write are folded into one write at the end of that
 * interval. Real steps (seconds or more) are therefore each recorded as they finish, and a crash
 * loses at most MIN_INTERVAL_MS of status. flush() writes whatever is pending, synchronously.
 */
import type { ExecutionRecord } from "../model/record.ts";
import type { LogFolder } from "./log-folder.ts";

export const MIN_INTERVAL_MS = 200;

export class RecordWriter {
  private lastWrite = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly folder: LogFolder,
    private readonly record: ExecutionRecord,
    private readonly clock: () => number = () => performance.now(),
    /** A write that failed on the timer (nobody to throw to): told here instead. */
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** The record changed: write now, or soon if a write just happened. */
  request(): void {
    const since = this.clock() - this.lastWrite;
    if (since >= MIN_INTERVAL_MS) {
      try {
        this.flush();
      } catch (error) {
        this.onError(error);
      }
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      try {
        this.flush();
      } catch (error) {
        this.onError(error);
      }
    }, MIN_INTERVAL_MS - since);
    // A pending rewrite must not keep the process alive; the end of the run flushes anyway.
    (this.timer as { unref?: () => void }).unref?.();
  }

  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.folder.saveRecord(this.record);
    this.lastWrite = this.clock();
  }
}
