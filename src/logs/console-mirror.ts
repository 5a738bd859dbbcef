/**
 * @module logs/console-mirror: a remote copy of console.log (CloudWatch Logs, cli.md §9) as seen
 * by the run — an interface only, so the engine never loads an SDK.
 */

export interface ConsoleMirror {
  /** Where the copy goes, for messages ("CloudWatch Logs group 'g', stream 's'"). */
  readonly description: string;
  /** Makes the destination ready (creates the stream). Rejects with a sentence when it cannot be used. */
  open(): Promise<void>;
  /** Queues console text as it is written. Never throws and never waits on the network. */
  write(text: string): void;
  /**
   * Sends everything still queued and stops. Resolves with undefined when every line arrived,
   * otherwise with one sentence saying what was lost and why (after retries).
   */
  close(): Promise<string | undefined>;
}
