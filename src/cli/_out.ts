/**
 * @module cli/_out: writing the command's text straight to file descriptors 1 and 2.
 *
 * Creating `process.stdout`/`process.stderr` costs Bun about a dozen milliseconds (Node's stream
 * machinery), a fifth of what `awstoe validate` of a small document takes. Short-lived commands
 * write synchronously instead: every byte, in order, before the process ends. A descriptor left
 * non-blocking by whoever shares it (EAGAIN) is waited on briefly; a reader that went away (EPIPE)
 * ends the output quietly, like a closed pipe does for the streams.
 */
import { writeSync } from "node:fs";

const pause = new Int32Array(new SharedArrayBuffer(4));

function writeAllTo(fd: 1 | 2, text: string): void {
  const bytes = Buffer.from(text, "utf8");
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(fd, bytes, written, bytes.length - written);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") {
        Atomics.wait(pause, 0, 0, 5); // the reader is slow: wait a little, then write the rest
        continue;
      }
      if (code === "EPIPE") return;
      throw error;
    }
  }
}

export const writeOut = (text: string): void => writeAllTo(1, text);
export const writeErr = (text: string): void => writeAllTo(2, text);

/**
 * Whether a descriptor is a terminal. Loading `node:tty` costs Bun about 12 ms (it builds the
 * terminal stream classes) for a one-line question; the runtime's own binding answers it without
 * them (Node has it too). node:tty remains the fallback should a runtime lack the binding.
 */
export function isTerminal(fd: number): boolean {
  try {
    const binding = (process as unknown as { binding?: (name: string) => { isTTY?: (fd: number) => boolean } }).binding?.("tty_wrap");
    if (typeof binding?.isTTY === "function") return binding.isTTY(fd) === true;
  } catch {
    // no binding here: ask node:tty
  }
  return (require("node:tty") as typeof import("node:tty")).isatty(fd);
}

/** What colour decisions need of stderr, without creating process.stderr. */
export const stderrTerminal = (): { isTTY: boolean } => ({ isTTY: isTerminal(2) });
