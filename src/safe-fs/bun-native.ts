/**
 * @module safe-fs/bun-native: the one place that reaches for Bun's own API. The compiled binary
 * runs on Bun, the 386 fallback on Node with the same code, so it is looked up at run time and
 * every caller has a node:* path for when it is missing.
 *
 * Used for two copies that Bun does without handing bytes to JavaScript: a fetch Response written
 * into a file (the body moved by the runtime, not as a new buffer every few KiB for the collector
 * to find), and one file appended to another (copy_file_range). Not on Windows, where writing
 * into a descriptor this way has not been tried.
 */

/** What awstoe uses of Bun: `write(destination, source)` and `file(descriptor or path)`. */
export interface BunNative {
  write(destination: BunFileRef, source: Response | BunFileRef): Promise<number>;
  file(at: number | string): BunFileRef;
}

export interface BunFileRef {
  readonly size: number;
}

/** Bun's API when awstoe runs on Bun (not on Windows); undefined on Node. */
export function bunNative(): BunNative | undefined {
  if (process.platform === "win32") return undefined;
  return (globalThis as { Bun?: BunNative }).Bun;
}
