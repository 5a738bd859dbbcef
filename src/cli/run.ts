/** @module cli/run: `awstoe run` — run component documents and leave a log folder behind. */
import { defineCommand } from "citty";
import { runExecution, type RunRequest } from "../engine/run.ts";
import { createCloudWatchMirror } from "../aws/cloudwatch.ts";
import { createS3Port } from "../aws/s3.ts";
import { documentLoader, patientLoader } from "../engine/document-sources.ts";
import { STATE_FILE } from "../state/journal.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { LoadResult } from "../document/load.ts";
import { ExitCode, printedDiagnostic, UsageError } from "../errors.ts";
import { isSuccessful } from "../model/status.ts";
import { paletteFor } from "../logs/terminal.ts";
import { killAllRunning, runProcess } from "../platform/process.ts";
import { hostReboot } from "../engine/host-reboot.ts";
import { resumeCommandFor } from "./_resume-command.ts";
import { hostPlatform } from "../platform/host.ts";
import { hostDeps } from "../engine/host-deps.ts";
import { blockedModulesArgs, documentsArgs, outputArgs, traceArgs } from "./_args.ts";
import { renderPlan } from "./_render-plan.ts";
import { planExecution } from "../engine/plan.ts";
import { Masker } from "../logs/mask.ts";
import { renderDiagnostic } from "./_render.ts";
import { runOptions, type RunOptions } from "./_run-options.ts";
import { rerunArgs, rerunRequest } from "./_rerun-args.ts";
import { sandboxArgs, sandboxChoice } from "./_sandbox-args.ts";
import { insideReboot, runSandboxed } from "./_sandbox.ts";
import { linuxSandboxHost, runsInSandbox } from "../platform/sandbox.ts";
import type { ConsoleMirror } from "../model/ports.ts";
import { junitReport } from "../logs/junit.ts";
import { describeWriteError, writeFileDurably } from "../safe-fs/durable.ts";

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
  "cw-ignore-failures": { type: "boolean", valueHint: "true|false", description: "Keep running when CloudWatch Logs delivery fails (alone: true)" },
  ...blockedModulesArgs,
  version: { type: "string", alias: "v", valueHint: "1.0.0", description: "The component application version, recorded in detailedoutput.json as componentVersion" },
  "dry-run": { type: "boolean", description: "Show what would run (inputs, loop items, if decisions) and run nothing" },
  junit: { type: "string", valueHint: "file", description: "When the execution ends, also write a JUnit XML report there: one test case per step, for CI (not with --dry-run)" },
  "require-parameter-values": { type: "boolean", description: "Refuse to run when a parameter has no default and no value (default: it is an empty string, with a warning, as in AWSTOE)" },
  "resolve-aws": { type: "boolean", description: "With --dry-run: also read aws:ssm:, aws:imds: and context:accountId/region (secrets shown masked)" },
  ...rerunArgs,
  ...sandboxArgs,
  ...outputArgs,
  ...traceArgs,
} as const;

export default defineCommand({
  meta: { name: "run", description: "Validate, then run component documents; prints a JSON summary on stdout" },
  args: runArgs,
  async run({ args }): Promise<number> {
    const options = await runOptions(args as Record<string, string | boolean | undefined>, configLoader(args["document-s3-bucket-owner"], resuming(args["state-directory"])));
    const palette = paletteFor(process.stderr);
    if (!("documents" in options)) {
      process.stderr.write(`${options.diagnostics.map((d) => renderDiagnostic(d, options.map, palette)).join("\n\n")}\n`);
      return ExitCode.failed;
    }
    // --sandbox: this awstoe only watches; the same command runs again inside (cli/_sandbox.ts).
    const sandbox = sandboxChoice(args, { platform: process.platform, uid: process.geteuid?.(), env: process.env, inSandbox: runsInSandbox });
    if (sandbox.side === "outside") {
      const facts = { argv: process.argv, argv0: process.argv0, execPath: process.execPath, cwd: process.cwd(), path: process.env.PATH };
      return runSandboxed({ ...(sandbox.keep === undefined ? {} : { keep: sandbox.keep }), executionId: options.executionId, logDirectory: options.logDirectory }, linuxSandboxHost(), facts, (text) => process.stderr.write(text));
    }
    const interrupt = new AbortController();
    let stoppedBy: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      stoppedBy ??= signal;
      process.stderr.write(`\nawstoe: ${signal} received: stopping the running step\n`);
      interrupt.abort(new Error(signal));
      killAllRunning("SIGTERM");
    };
    // SIGHUP (the terminal or SSH session closed) ends the run the same way: stop the step's
    // process tree and write the record, rather than dying and leaving the step running.
    const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
    for (const name of signals) process.on(name, onSignal);
    try {
      const deps = hostDeps({
        signal: interrupt.signal,
        reboot: sandbox.side === "inside" ? insideReboot : hostReboot({ platform: hostPlatform(), env: process.env, exec: runProcess, resumeCommand: resumeCommandFor({ argv: process.argv, argv0: process.argv0, execPath: process.execPath, cwd: process.cwd(), path: process.env.PATH }) }),
        palette,
        ...(options.documentS3BucketOwner === undefined ? {} : { documentS3BucketOwner: options.documentS3BucketOwner }),
        renderDiagnostics: (diagnostics, map) => diagnostics.map((d) => renderDiagnostic(d, map, palette)).join("\n\n"),
      });
      const request: RunRequest = {
        documents: options.documents,
        parameters: options.parameters,
        phases: options.phases,
        executionId: options.executionId,
        logDirectory: options.logDirectory,
        trace: options.trace,
        ...(options.logS3 ? { logUpload: options.logS3 } : {}),
        ...(sandbox.side === "inside" ? {} : { stateDirectory: options.stateDirectory }), // a sandboxed run cannot resume: it keeps no state
        executionIdGiven: options.executionIdGiven,
        ...(options.blockedModules.length > 0 ? { blockedModules: options.blockedModules } : {}),
        ...(options.componentVersion === undefined ? {} : { componentVersion: options.componentVersion }),
        ...(options.requireParameterValues ? { requireParameterValues: true } : {}),
        ...rerunRequest(args as Record<string, string | boolean | undefined>, { executionId: options.executionId, executionIdGiven: options.executionIdGiven, dryRun: args["dry-run"] === true }),
      };
      if (args["resolve-aws"] === true && args["dry-run"] !== true) {
        throw new UsageError("--resolve-aws only goes with --dry-run", { hint: "a run always resolves every reference when its step starts" });
      }
      const junit = junitTarget(args.junit, args["dry-run"] === true);
      if (args["dry-run"] === true) {
        const masker = new Masker();
        const plan = await planExecution(request, deps, { resolveAws: args["resolve-aws"] === true, masker });
        if (!plan.valid) {
          process.stderr.write(`${plan.failures.map((f) => deps.presentation.renderDiagnostics(f.diagnostics, f.map)).join("\n\n")}\n`);
        }
        if (args.output === "json") process.stdout.write(`${JSON.stringify({ dryRun: true, valid: plan.valid, documents: plan.documents, errors: plan.failures.map((f) => ({ document: f.source, diagnostics: f.diagnostics.map(printedDiagnostic) })) }, masker.replacer, 2)}\n`);
        else if (plan.valid) process.stdout.write(`${masker.mask(renderPlan(plan, paletteFor(process.stdout)))}\n`);
        return plan.valid ? ExitCode.ok : ExitCode.failed;
      }
      const mirror = cloudWatchMirror(options.cloudWatch);
      const { record, summary, reboot, report } = await runExecution({ ...request, ...(mirror ? { mirror } : {}) }, deps);
      if (reboot !== undefined) return reboot.exitCode; // not finished: the report is written when it is
      if (junit !== undefined) writeJunit(junit, junitReport(record, report ?? {}));
      // Stopped from outside, the record written: 128 + the signal's number, as shells report it (Ctrl-C: 130).
      if (stoppedBy !== undefined) return 128 + SIGNAL_NUMBERS[stoppedBy as keyof typeof SIGNAL_NUMBERS];
      return isSuccessful(summary.status) ? ExitCode.ok : ExitCode.failed; // success, successWithIgnoredFailure → 0; failed, timedOut → 1
    } finally {
      for (const name of signals) process.off(name, onSignal);
    }
  },
});

/** The signals a run stops for, by their POSIX numbers. */
const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/** `--junit FILE`: where the report goes; refused with --dry-run (nothing runs, so there is nothing to report). */
function junitTarget(value: unknown, dryRun: boolean): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") throw new UsageError("option '--junit' needs a file name", { hint: "e.g. awstoe run -d component.yaml --junit report.xml" });
  if (dryRun) throw new UsageError("--junit does not go with --dry-run", { hint: "a dry run runs no step, so there is nothing to report; drop one of them" });
  return value;
}

/**
 * Writes the report (docs/cli.md §2, --junit). A file that cannot be written is one line on stderr;
 * the exit code stays the run's own: the execution's result and its log folder are what count.
 */
function writeJunit(path: string, xml: string): void {
  try {
    writeFileDurably(path, xml, { mode: "new" }); // a file for CI to read, as a shell redirection would make it
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "its folder does not exist" : code === "EISDIR" ? "it is a folder" : code === "ENOTDIR" ? "a part of its path is not a folder" : describeWriteError(error);
    process.stderr.write(`awstoe: cannot write the JUnit report '${path}': ${why} (the run's result is unchanged)\n`);
  }
}

/** The console's copy to CloudWatch Logs, when the options ask for one. */
function cloudWatchMirror(cw: RunOptions["cloudWatch"]): { target: ConsoleMirror; ignoreFailures: boolean } | undefined {
  if (cw === undefined) return undefined;
  const region = cw.region ? { region: cw.region } : {};
  return { target: createCloudWatchMirror({ group: cw.group, stream: cw.stream, ...region }), ignoreFailures: cw.ignoreFailures };
}

/**
 * Whether this run resumes an execution: the command a boot trigger runs always names its state
 * folder, and that folder then holds a journal. Such a run may start before the network is up.
 */
function resuming(stateDirectory: unknown): boolean {
  return typeof stateDirectory === "string" && existsSync(join(stateDirectory, STATE_FILE));
}

/**
 * Reads --config from a local path or s3:// (an Image Builder ARN holds a component, not a config);
 * patiently (retries with backoff) when resuming at boot.
 */
function configLoader(bucketOwner: unknown, patient: boolean): (source: string) => Promise<LoadResult> {
  return async (source) => {
    if (/^arn:/i.test(source)) {
      return {
        ok: false,
        diagnostic: { code: "E_SOURCE_UNSUPPORTED", severity: "error", message: `config file '${source}' is an ARN; a config file is a local path or an s3://bucket/key URI`, file: source, path: "" },
      };
    }
    const loader = documentLoader(createS3Port(), typeof bucketOwner === "string" ? bucketOwner : undefined);
    return (patient ? patientLoader(loader, {}, (line) => process.stderr.write(`awstoe: ${line}\n`)) : loader)(source);
  };
}
