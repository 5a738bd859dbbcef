/** @module engine/host-deps: the real side effects of this machine, as the engine's dependencies. */
import { randomUUID } from "node:crypto";
import { documentLoader } from "./document-sources.ts";
import type { Diagnostic } from "../errors.ts";
import type { SourceMap } from "../document/source-map.ts";
import type { Palette } from "../logs/terminal.ts";
import { createImageBuilderPort } from "../aws/imagebuilder.ts";
import { createS3Port } from "../aws/s3.ts";
import { createAccountPort } from "../aws/account.ts";
import { createMetadataPort } from "../aws/imds.ts";
import { createParameterPort } from "../aws/ssm.ts";
import { hostName, osInfo } from "../platform/os-info.ts";
import { hostPlatform } from "../platform/host.ts";
import { runProcess } from "../platform/process.ts";
import { createProbe } from "../platform/probe.ts";
import * as shell from "../platform/shell.ts";
import type { EngineDeps, EnginePorts, Presentation, RebootPort } from "./deps.ts";
import { HEARTBEAT_DEFAULT_SECONDS } from "./step-watch.ts";

export interface HostDepsOptions {
  signal: AbortSignal;
  palette: Palette;
  renderDiagnostics(diagnostics: Diagnostic[], map: SourceMap | undefined): string;
  cwd?: string;
  interactive?: boolean;
  /** How reboots are carried out; by default a reboot is refused (tools that never reboot). */
  reboot?: RebootPort;
  terminal?: Presentation["terminal"];
  /** Expected owner of buckets holding s3:// documents (--document-s3-bucket-owner). */
  documentS3BucketOwner?: string;
}

export function hostDeps(options: HostDepsOptions): EngineDeps {
  // Bound to the run's signal: an interrupt stops every S3 call, also those made outside steps
  // (s3:// documents, the log upload), whether or not the caller passes a signal of its own.
  const s3 = createS3Port({ signal: options.signal });
  const cwd = options.cwd ?? process.cwd();
  const platform = hostPlatform();
  const ports: EnginePorts = {
    platform,
    cwd,
    signal: options.signal,
    exec: runProcess,
    shell,
    probe: createProbe(process.env, process.platform, cwd),
    loadDocument: documentLoader(s3, options.documentS3BucketOwner, { imageBuilder: createImageBuilderPort(), signal: options.signal }),
    s3,
    host: {
      env: process.env,
      hostname: hostName,
      os: osInfo(platform),
      metadata: createMetadataPort(),
      parameters: createParameterPort({ signal: options.signal }),
      account: createAccountPort(),
    },
    reboot: options.reboot ?? noReboot,
    now: () => new Date(),
    newId: randomUUID,
  };
  const presentation: Presentation = {
    terminal: options.terminal ?? { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) },
    palette: options.palette,
    interactive: options.interactive ?? process.stderr.isTTY === true,
    github: process.env.GITHUB_ACTIONS === "true",
    heartbeatMs: heartbeatMs(process.env.AWSTOE_HEARTBEAT_SECONDS),
    renderDiagnostics: options.renderDiagnostics,
  };
  return { ports, presentation };
}

/** AWSTOE_HEARTBEAT_SECONDS: a whole number of seconds (0 turns heartbeats off); default 30 s. */
function heartbeatMs(text: string | undefined): number {
  const seconds = text !== undefined && /^\d+$/.test(text.trim()) ? Number(text) : HEARTBEAT_DEFAULT_SECONDS;
  return seconds * 1000;
}

/** For callers that never reboot (dry runs): a reboot request fails the execution with this. */
const noReboot: RebootPort = {
  exitCode: 194,
  clearTrigger: async () => undefined,
  reboot: async () => {
    throw new Error("this command does not restart the machine");
  },
};
