/** @module cli/run: `awstoe run` — run component documents and leave a log folder behind. */
import { randomUUID } from "node:crypto";
import { defineCommand } from "citty";
import { loadLocalDocument } from "../document/load.ts";
import type { EngineDeps } from "../engine/deps.ts";
import { runExecution } from "../engine/run.ts";
import { ExitCode } from "../errors.ts";
import { isSuccessful } from "../model/status.ts";
import { paletteFor } from "../logs/terminal.ts";
import { hostPlatform } from "../platform/host.ts";
import { killAllRunning, runProcess } from "../platform/process.ts";
import { createProbe } from "../platform/probe.ts";
import * as shell from "../platform/shell.ts";
import { documentsArgs, traceArgs } from "./_args.ts";
import { renderDiagnostic } from "./_render.ts";
import { runOptions } from "./_run-options.ts";

export const runArgs = {
  ...documentsArgs,
  phases: { type: "string", alias: "p", valueHint: "build,validate", description: "Comma-separated phases to run (default: all, in document order)" },
  parameters: { type: "string", valueHint: "name=value,…", description: "Parameter values for every document (not with --config)" },
  "execution-id": { type: "string", alias: "i", valueHint: "id", description: "Execution id used in the log folder name and outputs (default: a new UUID)" },
  "log-directory": { type: "string", alias: "l", valueHint: "dir", description: "Folder in which the TOE_… log folder is created (default: current folder)" },
  "state-directory": { type: "string", alias: "s", valueHint: "dir", description: "Where reboot/resume state is kept (default: <log-directory>/TOE_state)" },
  "log-s3-bucket-name": { type: "string", alias: "b", valueHint: "bucket", description: "Upload the log folder to this S3 bucket when the run ends" },
  "log-s3-key-prefix": { type: "string", alias: "k", valueHint: "prefix", description: "Key prefix for the S3 log upload" },
  "log-s3-bucket-owner": { type: "string", valueHint: "account-id", description: "Expected owner account of the log bucket" },
  "cw-log-group": { type: "string", valueHint: "group", description: "CloudWatch Logs group to stream the console output to" },
  "cw-log-stream": { type: "string", valueHint: "stream", description: "CloudWatch Logs stream (with --cw-log-group)" },
  "cw-log-region": { type: "string", valueHint: "region", description: "Region for CloudWatch Logs (default: the SDK's)" },
  "cw-ignore-failures": { type: "boolean", description: "Keep running when CloudWatch Logs delivery fails" },
  ...traceArgs,
} as const;

export default defineCommand({
  meta: { name: "run", description: "Validate, then run component documents; prints a JSON summary on stdout" },
  args: runArgs,
  async run({ args }): Promise<number> {
    const options = runOptions(args as Record<string, string | boolean | undefined>);
    const palette = paletteFor(process.stderr);
    if (!("documents" in options)) {
      process.stderr.write(`${options.diagnostics.map((d) => renderDiagnostic(d, options.map, palette)).join("\n\n")}\n`);
      return ExitCode.failed;
    }
    for (const [flag, given] of [["--log-s3-bucket-name", options.logS3], ["--cw-log-group", options.cloudWatch], ["--document-s3-bucket-owner", options.documentS3BucketOwner]] as const) {
      if (given !== undefined) process.stderr.write(`awstoe: warning: ${flag} is accepted but not yet acted on in this version; logs stay in the local log folder\n`);
    }
    const interrupt = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      process.stderr.write(`\nawstoe: ${signal} received: stopping the running step\n`);
      interrupt.abort(new Error(signal));
      killAllRunning("SIGTERM");
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      const deps: EngineDeps = {
        platform: hostPlatform(),
        probe: createProbe(),
        exec: runProcess,
        shell,
        loadDocument: loadLocalDocument,
        now: () => new Date(),
        newId: randomUUID,
        signal: interrupt.signal,
        palette,
        renderDiagnostics: (diagnostics, map) => diagnostics.map((d) => renderDiagnostic(d, map, palette)).join("\n\n"),
        cwd: process.cwd(),
      };
      const { summary } = await runExecution(
        { documents: options.documents, parameters: options.parameters, phases: options.phases, executionId: options.executionId, logDirectory: options.logDirectory, trace: options.trace },
        deps,
      );
      return isSuccessful(summary.status) && summary.status !== "ignored" ? ExitCode.ok : ExitCode.failed;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  },
});


