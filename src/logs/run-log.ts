/**
 * @module logs/run-log: where a run's words go.
 *
 * - application.log: every message, timestamped, debug level (docs/log-folder.md §5).
 * - console.log: everything shown on the terminal, including child output, byte for byte.
 * - the terminal: progress lines, child output, warnings and errors on stderr (stdout carries
 *   only the final JSON summary); with --trace the application.log messages too.
 * Files are written synchronously so their order matches what happened, even on a crash. Both are
 * private (0600) and opened without following links. A file that cannot be written (a full disk)
 * is not written again; the run is told once through `onWriteFailure`, and ends the step and the
 * run with that reason instead of crashing.
 */
import { closeSync } from "node:fs";
import { describeWriteError, openPrivateLog, writeAll } from "../safe-fs/durable.ts";
import type { Masker } from "./mask.ts";
import type { Palette } from "./terminal.ts";

export type Level = "DEBUG" | "INFO" | "WARN" | "ERROR";

export interface RunLogOptions {
  applicationLog: string;
  consoleLog: string;
  trace: boolean;
  palette: Palette;
  /** Terminal sinks (process.stderr/stdout); injectable for tests. */
  stderr?: (text: string) => void;
  stdout?: (text: string) => void;
  /** Told once, with a sentence, when a log file cannot be written any more. */
  onWriteFailure?: (reason: string) => void;
  /** The terminal can show a live status line (stderr is a terminal). */
  liveLine?: boolean;
  /**
   * Secrets to keep out of every text (terminal, both logs, the mirror). Program output reaches
   * `output()` already masked across its pieces (engine/document-run.ts); masking whole texts
   * here again catches everything else.
   */
  masker?: Masker;
}


export class RunLog {
  private app: number | undefined;
  private console: number | undefined;
  private failed = false;
  private closed = false;
  private readonly toStderr: (text: string) => void;
  private readonly toStdout: (text: string) => void;
  private mirror: ((text: string) => void) | undefined;
  /** Whether the last text on the terminal (and in console.log) ended its line. */
  private terminalAtLineStart = true;
  private consoleAtLineStart = true;
  private live_: string | undefined;
  private liveShown = false;

  constructor(private readonly options: RunLogOptions) {
    this.app = openPrivateLog(options.applicationLog);
    this.console = openPrivateLog(options.consoleLog);
    this.toStderr = options.stderr ?? ((text) => process.stderr.write(text));
    this.toStdout = options.stdout ?? ((text) => process.stdout.write(text));
  }

  get palette(): Palette {
    return this.options.palette;
  }

  debug(message: string): void {
    this.message("DEBUG", message);
  }
  info(message: string): void {
    this.message("INFO", message);
  }
  warn(message: string): void {
    this.message("WARN", message);
  }
  error(message: string): void {
    this.message("ERROR", message);
  }

  /**
   * A line for the person watching (one per step). `coloured` is the terminal form. It always
   * starts a line of its own: after output that did not end with a newline, one is added first.
   * A failure is written to application.log at ERROR level.
   */
  progress(plain: string, coloured = plain, level: Level = "INFO"): void {
    const [terminalBreak, consoleBreak] = [this.terminalAtLineStart ? "" : "\n", this.consoleAtLineStart ? "" : "\n"];
    this.toTerminal(`${terminalBreak}${coloured}\n`, `${consoleBreak}${plain}\n`);
    this.appLine(level, plain);
  }

  /**
   * The live status line (a terminal only: never in console.log): drawn at the bottom, redrawn in
   * place, taken away while anything else is written, and drawn only at the start of a line so it
   * never glues onto output that has not ended its line. Undefined removes it.
   */
  live(text: string | undefined): void {
    this.live_ = text;
    this.hideLive();
    this.showLive();
  }

  /** The end-of-run recap: on the terminal and in application.log, not in console.log. */
  recap(plain: readonly string[], coloured: readonly string[]): void {
    for (const line of plain) this.appLine("INFO", line);
    for (const line of coloured) this.terminalLine(line);
  }

  /** A line for the terminal alone (GitHub's ::group:: markers): not in console.log. */
  terminalLine(text: string): void {
    if (this.closed) return;
    this.hideLive();
    this.toStderr(`${this.terminalAtLineStart ? "" : "\n"}${this.masked(text)}\n`);
    this.terminalAtLineStart = true;
    this.showLive();
  }

  /** Child process output, as it arrives. */
  output(text: string): void {
    this.toTerminal(text, text);
  }

  /** The final summary: the last thing on stdout, and in console.log too. */
  summary(text: string): void {
    if (this.closed) return;
    const masked = this.masked(text);
    this.toStdout(masked);
    this.console = this.append(this.console, masked, "console.log");
  }

  /** Also hands every console.log text to `copy` (a CloudWatch stream); undefined stops it. */
  mirrorTo(copy: ((text: string) => void) | undefined): void {
    this.mirror = copy;
  }

  close(): void {
    if (this.closed) return;
    this.hideLive();
    this.closed = true;
    if (this.app !== undefined) closeSync(this.app);
    if (this.console !== undefined) closeSync(this.console);
  }

  private message(level: Level, message: string): void {
    this.appLine(level, message);
    if (level === "WARN" || level === "ERROR" || this.options.trace) {
      const c = this.options.palette;
      const label = level === "ERROR" ? c.red("error") : level === "WARN" ? c.yellow("warning") : c.dim(level.toLowerCase());
      const [terminalBreak, consoleBreak] = [this.terminalAtLineStart ? "" : "\n", this.consoleAtLineStart ? "" : "\n"];
      this.toTerminal(`${terminalBreak}${label}: ${message}\n`, `${consoleBreak}${level.toLowerCase()}: ${message}\n`);
    }
  }

  private toTerminal(coloured: string, plain: string): void {
    if (this.closed || plain === "") return;
    const text = this.masked(plain);
    this.hideLive();
    this.toStderr(coloured === plain ? text : this.masked(coloured));
    this.terminalAtLineStart = text.endsWith("\n");
    this.consoleAtLineStart = this.terminalAtLineStart;
    this.console = this.append(this.console, text, "console.log");
    this.mirror?.(text);
    this.showLive();
  }

  private hideLive(): void {
    if (!this.liveShown) return;
    this.toStderr("\r\u001b[2K");
    this.liveShown = false;
  }

  private showLive(): void {
    if (this.closed || this.live_ === undefined || !this.terminalAtLineStart || !this.options.liveLine) return;
    this.toStderr(this.live_);
    this.liveShown = true;
  }

  private appLine(level: Level, message: string): void {
    if (this.closed) return;
    this.app = this.append(this.app, `${new Date().toISOString()} ${level} ${this.masked(message).replace(/\n/g, "\n    ")}\n`, "application.log");
  }

  private masked(text: string): string {
    return this.options.masker === undefined ? text : this.options.masker.mask(text);
  }

  /** Appends to one log file; returns the descriptor, or undefined once the file has failed. */
  private append(fd: number | undefined, text: string, name: string): number | undefined {
    if (fd === undefined) return undefined;
    try {
      writeAll(fd, Buffer.from(text, "utf8"));
      return fd;
    } catch (error) {
      try {
        closeSync(fd);
      } catch {
        // the write's failure is what matters
      }
      const reason = `cannot write ${name}: ${describeWriteError(error)}`;
      this.toStderr(`error: ${reason}\n`);
      if (!this.failed) {
        this.failed = true;
        this.options.onWriteFailure?.(reason);
      }
      return undefined;
    }
  }
}
