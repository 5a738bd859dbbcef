/**
 * @module cli/_raw-argv: the command line's arguments as the bytes they were given in.
 *
 * `process.argv` is decoded as UTF-8 and anything that is not UTF-8 becomes U+FFFD, silently: a
 * path `caf\xe9.yaml` (Latin-1) arrives as `caf�.yaml` and is then reported missing, or, worse, a
 * folder with that name is created. On Linux the undecoded bytes are in /proc/self/cmdline, so
 * arguments that are not UTF-8 can be found and refused with the bytes shown. Elsewhere (no /proc,
 * or a command line that does not line up with argv) nothing can be told and nothing is reported.
 */
import { readFileSync } from "node:fs";
import { printable } from "./_render.ts";

/**
 * The arguments among `args` (process.argv.slice(2), or any tail of it) whose bytes are not
 * UTF-8: index in `args` → the argument shown with each offending byte as `\xNN`.
 * Empty when every argument is UTF-8 or when the raw command line cannot be read or matched.
 */
export function nonUtf8Arguments(
  args: readonly string[],
  readCmdline: () => Uint8Array | undefined = procCmdline,
): Map<number, string> {
  const found = new Map<number, string>();
  // Bytes that are not UTF-8 always decode to U+FFFD: without one there is nothing to find, and
  // the command line is not read (reading /proc/self/cmdline costs start-up a few ms).
  if (!args.some((arg) => arg.includes("\ufffd"))) return found;
  const raw = rawTail(args, readCmdline);
  if (raw === undefined) return found;
  raw.forEach((bytes, i) => {
    if (!isUtf8(bytes)) found.set(i, showBytes(bytes));
  });
  return found;
}

function procCmdline(): Uint8Array | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    return readFileSync("/proc/self/cmdline");
  } catch {
    return undefined;
  }
}

/**
 * The last `args.length` NUL-separated entries of the raw command line, if each one decodes to the
 * argument it stands for (a non-UTF-8 entry must have come out with a U+FFFD in it). Anything
 * else — a runtime that rewrote its argv, a wrapper — means the bytes cannot be trusted.
 */
function rawTail(args: readonly string[], readCmdline: () => Uint8Array | undefined): Uint8Array[] | undefined {
  if (args.length === 0) return undefined;
  const cmdline = readCmdline();
  if (cmdline === undefined || cmdline.length === 0) return undefined;
  const entries: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < cmdline.length; i++) {
    if (cmdline[i] === 0) {
      entries.push(cmdline.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < cmdline.length) entries.push(cmdline.subarray(start)); // no trailing NUL
  if (entries.length < args.length) return undefined;
  const tail = entries.slice(entries.length - args.length);
  const decoder = new TextDecoder("utf-8");
  for (let i = 0; i < tail.length; i++) {
    const bytes = tail[i]!;
    const arg = args[i]!;
    if (decoder.decode(bytes) === arg) continue;
    if (!isUtf8(bytes) && arg.includes("\ufffd")) continue;
    return undefined;
  }
  return tail;
}

export function isUtf8(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; ) {
    const length = sequenceLength(bytes, i);
    if (length === 0) return false;
    i += length;
  }
  return true;
}

/**
 * The bytes as text: UTF-8 sequences as their characters, every byte that is not part of one as
 * `\xNN`, and control characters escaped as printable() does.
 */
export function showBytes(bytes: Uint8Array): string {
  const decoder = new TextDecoder("utf-8");
  let out = "";
  let run = 0; // start of the current stretch of valid UTF-8
  for (let i = 0; i < bytes.length; ) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    out += printable(decoder.decode(bytes.subarray(run, i))) + `\\x${bytes[i]!.toString(16).padStart(2, "0")}`;
    i += 1;
    run = i;
  }
  return out + printable(decoder.decode(bytes.subarray(run)));
}

/** Length of the well-formed UTF-8 sequence at `i` (Unicode table 3-7), or 0 if there is none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < bytes.length && bytes[i + k]! >= lo && bytes[i + k]! <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xe1 && b0 <= 0xec) || b0 === 0xee || b0 === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
