/**
 * @module engine/deps: every side effect the engine needs, passed in from the command layer so
 * tests can substitute the parts that cannot exist here (a reboot, a Windows registry). Two
 * groups: `ports` reach the machine and the network; `presentation` is how people see the run.
 */
import type { ExecRequest, ExecResult, Probe, S3Port } from "../model/ports.ts";
import type { Diagnostic } from "../errors.ts";
import type { ShellKit } from "../modules/index.ts";
import type { PlatformName } from "../model/platform.ts";
import type { LoadResult } from "../document/load.ts";
import type { SourceMap } from "../document/source-map.ts";
import type { Palette } from "../logs/terminal.ts";
import type { HostPorts } from "./host-values.ts";

/** How a reboot asked for by a step is carried out (docs/reboot.md §3; modes in engine/host-reboot.ts). */
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

/** The machine, its processes and files, AWS, the clock. */
export interface EnginePorts {
  platform: PlatformName;
  /** Current working directory, the base of relative document paths (docs/cli.md §5). */
  cwd: string;
  /** Aborted when awstoe is interrupted (SIGINT/SIGTERM); within a run, also when it halts. */
  signal: AbortSignal;
  exec(request: ExecRequest): Promise<ExecResult>;
  shell: ShellKit;
  /** What conditions ask about the machine (files, hashes, programs on PATH); only looks. */
  probe: Probe;
  /** Reads a document source: a local path, an s3:// URI or a component ARN (engine/document-sources.ts). */
  loadDocument(source: string, options?: { bucketOwner?: string }): LoadResult | Promise<LoadResult>;
  s3: S3Port;
  /** The environment, the machine's names, instance metadata, Parameter Store: host references. */
  host: HostPorts;
  reboot: RebootPort;
  now(): Date;
  /** New execution ids for nested documents. */
  newId(): string;
}

/** What people see: the terminal, its colours, rendered diagnostics. */
export interface Presentation {
  /** The terminal: people's text to stderr, the summary to stdout. */
  terminal: { stdout(text: string): void; stderr(text: string): void };
  palette: Palette;
  /**
   * A person watches a terminal: one line per step (when it ends). Otherwise — CI logs, files —
   * a line when each step starts too, so output can be matched to its step.
   */
  interactive: boolean;
  /** GitHub Actions (GITHUB_ACTIONS=true): each step's output is folded in a ::group::. */
  github: boolean;
  /** Off a terminal, a step quiet for this long gets a "still running" line (0: never). */
  heartbeatMs: number;
  /** Renders diagnostics of a document for a person (the CLI's renderer). */
  renderDiagnostics(diagnostics: Diagnostic[], map: SourceMap | undefined): string;
}

export interface EngineDeps {
  ports: EnginePorts;
  presentation: Presentation;
}
