/**
 * @module engine/deps: every side effect the engine needs, passed in from the command layer so
 * tests can substitute the parts that cannot exist here (a reboot, a Windows registry).
 */
import type { ExecRequest, ExecResult, Probe, S3Port } from "../model/ports.ts";
import type { Diagnostic } from "../errors.ts";

import type { ShellKit } from "../modules/index.ts";
import type { PlatformName } from "../model/platform.ts";

import type { LoadResult } from "../document/load.ts";
import type { SourceMap } from "../document/source-map.ts";
import type { Palette } from "../logs/terminal.ts";

/** How a reboot asked for by a step is carried out (cli.md §10; modes in engine/host-reboot.ts). */
export interface RebootPort {
  /** 194 (Linux, macOS) or 3010 (Windows): awstoe exits with it once the reboot is under way or handed over. */
  readonly exitCode: number;
  /** Removes the boot trigger an earlier run left for this state directory; says what it removed. */
  clearTrigger(stateDirectory: string): Promise<string | undefined>;
  /**
   * Carries the reboot out — restarts the machine (installing the trigger that resumes this
   * execution), or hands it to the caller — and says what happened. Rejects when it cannot.
   */
  reboot(executionId: string, stateDirectory: string): Promise<string>;
}

export interface EngineDeps {
  platform: PlatformName;
  probe: Probe;
  exec(request: ExecRequest): Promise<ExecResult>;
  shell: ShellKit;
  s3: S3Port;
  /** Reads a document source (local path today; s3:// and ARNs with the AWS layer). */
  loadDocument(source: string, options?: { bucketOwner?: string }): LoadResult | Promise<LoadResult>;
  now(): Date;
  /** New execution ids for nested documents. */
  newId(): string;
  /** Aborted when awstoe is interrupted (SIGINT/SIGTERM). */
  signal: AbortSignal;
  palette: Palette;
  /**
   * A person watches a terminal: one line per step (when it ends). Otherwise — CI logs, files —
   * a line when each step starts too, so output can be matched to its step.
   */
  interactive: boolean;
  /** Renders diagnostics of a document for a person (the CLI's renderer). */
  renderDiagnostics(diagnostics: Diagnostic[], map: SourceMap | undefined): string;
  /** Current working directory, the base of relative document paths (README Q9). */
  cwd: string;
  reboot: RebootPort;
  /** The terminal: people's text to stderr, the summary to stdout. */
  terminal: { stdout(text: string): void; stderr(text: string): void };
}
