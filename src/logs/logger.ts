/**
 * @module logs/logger: the one place that builds consola. Diagnostic and progress text goes to
 * stderr so stdout stays free for machine-readable output (`--output json`, the run summary).
 */
import { createConsola, type ConsolaInstance } from "consola";
import { colorEnabled } from "./terminal.ts";

export interface LoggerOptions {
  /** `--trace`: show debug lines too. */
  trace?: boolean;
}

export function createLogger(options: LoggerOptions = {}): ConsolaInstance {
  const color = colorEnabled(process.stderr);
  return createConsola({
    level: options.trace ? 4 : 3,
    stdout: process.stderr,
    stderr: process.stderr,
    formatOptions: { colors: color, date: false, compact: true },
  });
}

export type Logger = ConsolaInstance;
