/**
 * @module logs/run-log: where a run's words go.
 *
 * - application.log: every message, timestamped, debug level (cli.md §7).
 * - console.log: everything shown on the terminal, including child output, byte for byte.
 * - the terminal: progress lines, child output, warnings and errors on stderr (stdout carries
 *   only the final JSON summary); with --trace the application.log messages too.
 * Files are written synchronously so their order matches what happened, even on a crash.
 */
import { closeSync, openSync, writeSync } from "node:fs";
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
}

export class RunLog {
  private readonly app: number;
  private readonly console: number;
  private closed = false;
  private readonly toStderr: (text: string) => void;
  private readonly toStdout: (text: string) => void;
  private mirror: ((text: string) => void) | undefined;

  constructor(private readonly options: RunLogOptions) {
    this.app = openSync(options.applicationLog, "a");
    this.console = openSync(options.consoleLog, "a");
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

  /** A line for the person watching (one per step). `coloured` is the terminal form. */
  progress(plain: string, coloured = plain): void {
    this.toTerminal(`${coloured}\n`, `${plain}\n`);
    this.appLine("INFO", plain);
  }

  /** Child process output, as it arrives. */
  output(text: string): void {
    this.toTerminal(text, text);
  }

  /** The final summary: the last thing on stdout, and in console.log too. */
  summary(text: string): void {
    if (this.closed) return;
    this.toStdout(text);
    writeSync(this.console, text);
  }

  /** Also hands every console.log text to `copy` (a CloudWatch stream); undefined stops it. */
  mirrorTo(copy: ((text: string) => void) | undefined): void {
    this.mirror = copy;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.app);
    closeSync(this.console);
  }

  private message(level: Level, message: string): void {
    this.appLine(level, message);
    if (level === "WARN" || level === "ERROR" || this.options.trace) {
      const c = this.options.palette;
      const label = level === "ERROR" ? c.red("error") : level === "WARN" ? c.yellow("warning") : c.dim(level.toLowerCase());
      this.toTerminal(`${label}: ${message}\n`, `${level.toLowerCase()}: ${message}\n`);
    }
  }

  private toTerminal(coloured: string, plain: string): void {
    if (this.closed) return;
    this.toStderr(coloured);
    writeSync(this.console, plain);
    this.mirror?.(plain);
  }

  private appLine(level: Level, message: string): void {
    if (this.closed) return;
    writeSync(this.app, `${new Date().toISOString()} ${level} ${message.replace(/\n/g, "\n    ")}\n`);
  }
}
