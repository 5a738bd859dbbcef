/** @module logs/atomic: replace a file's content so a crash leaves either the old or the new text. */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";

/**
 * Write to a temporary file beside `path`, then rename it over `path`: a crash of awstoe leaves
 * either the old or the new content. `durable` also flushes to disk first (fsync), which is what
 * survives power loss or a reboot — needed for resume state, not for a log rewritten every step.
 */
export function writeFileAtomic(path: string, text: string, durable = false): void {
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, "w");
  try {
    writeSync(fd, text);
    if (durable) fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
}
