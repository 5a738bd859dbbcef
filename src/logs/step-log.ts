/**
 * @module logs/step-log: one log file per step, `steps/<phase>/<step>.log` in the log folder — the
 * step's resolved inputs (each loop iteration's as it starts), then what its programs printed,
 * every line marked `[stdout]` or `[stderr]`, then how it ended. For triage: console.log
 * interleaves every step; this file is one step alone. Private (0600), opened without following
 * links, appended as the step goes; text arrives already masked (logs/mask.ts). A file that
 * cannot be written is given up quietly: console.log and application.log remain the record.
 */
import { closeSync } from "node:fs";
import { openPrivateLog, writeAll } from "../safe-fs/durable.ts";


export class StepLog {
  private fd: number | undefined;
  /** Per stream: the text of a line not yet ended, so markers go at the start of lines. */
  private readonly open: Record<"stdout" | "stderr", boolean> = { stdout: false, stderr: false };
  private last: "stdout" | "stderr" | undefined;

  constructor(
    path: string,
    header: string,
    /** Masks secret values (the inputs are written here as the module got them). */
    private readonly mask: (text: string) => string,
  ) {
    try {
      this.fd = openPrivateLog(path);
    } catch {
      this.fd = undefined;
    }
    this.write(`# ${header}\n`);
  }

  /** A module call starts: its resolved inputs (JSON). */
  inputs(iteration: string | undefined, inputs: unknown): void {
    this.endLine();
    this.write(this.mask(`# inputs${iteration === undefined ? "" : ` (${iteration})`}: ${JSON.stringify(inputs)}\n`));
  }

  /** Program output: each line marked with its stream. */
  output(stream: "stdout" | "stderr", text: string): void {
    if (text === "") return;
    if (this.last !== undefined && this.last !== stream) this.endLine();
    let out = "";
    for (const piece of text.split(/(?<=\n)/)) {
      if (!this.open[stream]) out += `[${stream}] `;
      out += piece;
      this.open[stream] = !piece.endsWith("\n");
    }
    this.last = stream;
    this.write(out);
  }

  /** How the step ended; closes the file. */
  end(line: string): void {
    this.endLine();
    this.write(`# ${line}\n`);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** A stream stopped mid-line before something else is written: the line is ended there. */
  private endLine(): void {
    for (const stream of ["stdout", "stderr"] as const) {
      if (!this.open[stream]) continue;
      this.write("\n");
      this.open[stream] = false;
    }
  }

  private write(text: string): void {
    if (this.fd === undefined) return;
    try {
      writeAll(this.fd, Buffer.from(text, "utf8"));
    } catch {
      try {
        closeSync(this.fd);
      } catch {
        // the write's failure is what counts
      }
      this.fd = undefined;
    }
  }
}
