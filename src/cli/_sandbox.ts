/**
 * @module cli/_sandbox: the outside half of `run --sandbox` (docs/cli.md, "Sandbox"): checks
 * --sandbox-keep, makes the log directory, starts awstoe again inside the sandbox
 * (platform/sandbox.ts), then reads the upper layers into the change report
 * (engine/sandbox-changes.ts): text on stderr, changes.json in the log folder, the copy for
 * --sandbox-keep. The inside half is two small differences in cli/run.ts: the reboot port below,
 * and no state folder.
 */
import { lstatSync, mkdirSync, readdirSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { SandboxError, UsageError } from "../errors.ts";
import type { RebootPort } from "../engine/deps.ts";
import {
  classify,
  diffPackages,
  findingsFromChanges,
  findingsFromConsole,
  folderTotals,
  formatChangeReport,
  hasPackageChanges,
  parseDpkgStatus,
  type ChangeReport,
  type Finding,
  type PackageChanges,
} from "../engine/sandbox-changes.ts";
import type { SandboxHost, Workspace } from "../platform/sandbox.ts";
import { SETUP_FAILED } from "../platform/sandbox-script.ts";
import { describeWriteError, PARENT_FOLDER_MODE, writeFileDurably } from "../safe-fs/durable.ts";
import { ensurePrivateFolder, UntrustedFolderError } from "../safe-fs/private-folder.ts";
import { resumeCommandFor, type ProcessFacts } from "./_resume-command.ts";
import { SANDBOX_INNER_ENV, SANDBOX_REBOOT_REASON } from "./_sandbox-args.ts";

/** Inside the sandbox a reboot cannot happen: the request ends the run, recorded as such (engine/run.ts stopForReboot). */
export const insideReboot: RebootPort = {
  exitCode: 1,
  clearTrigger: () => Promise.resolve(undefined),
  reboot: () => Promise.reject(new Error(SANDBOX_REBOOT_REASON)),
};

export interface OutsideRequest {
  keep?: string;
  executionId: string;
  logDirectory: string;
}

/** Runs the execution inside a sandbox; returns the sandboxed awstoe's exit code. */
export async function runSandboxed(request: OutsideRequest, host: SandboxHost, facts: ProcessFacts, write: (text: string) => void): Promise<number> {
  const unavailable = host.unavailable();
  if (unavailable !== undefined) throw new SandboxError(`--sandbox cannot run here: ${unavailable}`, { hint: "install util-linux (unshare, mount, pivot_root, setpriv) and use a kernel with overlayfs" });
  const keep = request.keep === undefined ? undefined : resolve(facts.cwd, request.keep);
  if (keep !== undefined) checkKeepFolder(keep, request.keep!);
  const logDirectory = ensureLogDirectory(resolve(facts.cwd, request.logDirectory));
  let workspace: Workspace;
  try {
    workspace = host.prepare(logDirectory);
  } catch (error) {
    throw new SandboxError(`cannot make the sandbox's private folder: ${(error as Error).message}`, { hint: "it is made under /var/tmp (or AWSTOE_SANDBOX_DIR), which must be root's, not writable by others unless sticky, on a local disk with room for what the component writes" });
  }
  try {
    write(`awstoe: --sandbox: running in a throwaway copy of this machine (changes are kept in ${workspace.plan.work} until the report is made)\n`);
    const command = resumeCommandFor(facts)(request.executionId, "/run/opentoe-sandbox-state");
    const run = await host.run(workspace, { executable: command.executable, args: command.args, cwd: facts.cwd, env: { ...process.env, [SANDBOX_INNER_ENV]: request.executionId } });
    const folder = logFolderOf(logDirectory, request.executionId);
    if (folder === undefined && run.exitCode === SETUP_FAILED) throw new SandboxError("the sandbox could not be set up (the lines above say why); nothing ran");
    if (folder === undefined) write(`awstoe: --sandbox: the run inside made no log folder (exit code ${run.exitCode}; see above)\n`);
    const report = changeReport(workspace, host, run.exitCode, run.report, request.executionId, folder);
    if (keep !== undefined) {
      try {
        checkKeepFolder(keep, request.keep!);
        ensurePrivateFolder(keep);
        host.keep(workspace, keep, report.files.filter((f) => f.change === "removed").map((f) => f.path), (path, text) => writeFileDurably(path, text, { mode: 0o644 }));
        report.kept = keep;
      } catch (error) {
        const why = error instanceof UntrustedFolderError || error instanceof UsageError ? error.message : describeWriteError(error);
        report.findings.push({ kind: "scan", message: `the changed files could not be copied to ${keep}: ${why}` });
      }
    }
    const changesFile = folder === undefined ? "(no log folder was made: changes.json not written)" : join(folder, "changes.json");
    if (folder !== undefined) {
      try {
        writeFileDurably(changesFile, `${JSON.stringify(report, null, 2)}\n`);
      } catch (error) {
        write(`awstoe: cannot write ${changesFile}: ${describeWriteError(error)}\n`);
      }
    }
    write(formatChangeReport(report, changesFile));
    return run.exitCode;
  } finally {
    host.dispose(workspace);
  }
}

function changeReport(workspace: Workspace, host: SandboxHost, exitCode: number, inside: { stopped: ChangeReport["stoppedProcesses"]; warnings: string[]; rpm?: Map<string, string> }, executionId: string, folder: string | undefined): ChangeReport {
  const scan = host.scan(workspace);
  const files = classify(scan.observed);
  const packages: PackageChanges[] = [];
  const dpkgAfter = host.readChangedFile(workspace, "/var/lib/dpkg/status");
  if (dpkgAfter !== undefined) {
    const dpkg = diffPackages("dpkg", parseDpkgStatus(host.readHostFile("/var/lib/dpkg/status") ?? ""), parseDpkgStatus(dpkgAfter));
    if (hasPackageChanges(dpkg)) packages.push(dpkg);
  }
  if (inside.rpm !== undefined && files.some((f) => f.path.startsWith("/var/lib/rpm/"))) {
    const before = host.rpmPackages();
    if (before !== undefined) {
      const rpm = diffPackages("rpm", before, inside.rpm);
      if (hasPackageChanges(rpm)) packages.push(rpm);
    }
  }
  const findings: Finding[] = [];
  const record = folder === undefined ? undefined : jsonObject(host.readHostFile(join(folder, "detailedoutput.json")));
  const failure = typeof record?.failureMessage === "string" ? record.failureMessage : "";
  if (failure.includes(SANDBOX_REBOOT_REASON)) {
    const step = /step '([^']+)' asked for a reboot/.exec(failure)?.[1] ?? "a step";
    findings.push({ kind: "reboot", message: `step '${step}' asked for a reboot: the sandboxed run ended there and the steps after it did not run (the recap above lists them; a real machine would restart and go on)` });
  }
  findings.push(...findingsFromChanges(files));
  if (folder !== undefined) findings.push(...findingsFromConsole(host.readHostFile(join(folder, "console.log")) ?? ""));
  for (const w of inside.warnings) findings.push({ kind: "read-only", message: `file system ${w}` });
  for (const w of scan.warnings) findings.push({ kind: "scan", message: w });
  return { version: 1, executionId, exitCode, files, folders: folderTotals(files), packages, stoppedProcesses: inside.stopped, findings };
}

/** --sandbox-keep: a folder that does not exist yet, or an empty real folder (never a link). */
function checkKeepFolder(path: string, given: string): void {
  let stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new UsageError(`--sandbox-keep '${given}' cannot be checked: ${(error as Error).message}`);
  }
  if (stats.isSymbolicLink()) throw new UsageError(`--sandbox-keep '${given}' is a symbolic link`, { hint: "name a folder that does not exist yet; awstoe creates it" });
  if (!stats.isDirectory()) throw new UsageError(`--sandbox-keep '${given}' exists and is not a folder`, { hint: "name a folder that does not exist yet; awstoe creates it" });
  if (readdirSync(path).length > 0) throw new UsageError(`--sandbox-keep '${given}' is not empty`, { hint: "name a new or empty folder, so the kept files are not mixed with others" });
}

/**
 * System folders that cannot be the log directory: it is bound into the sandbox from the host, so
 * everything under it would be written to the real machine.
 */
const SYSTEM_FOLDERS = new Set(["/", "/bin", "/boot", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/root", "/sbin", "/srv", "/usr", "/usr/local", "/var", "/var/lib"]);

/** The log directory on the host, made when missing; bound into the sandbox by its real path. */
function ensureLogDirectory(path: string): string {
  let real: string;
  try {
    mkdirSync(path, { recursive: true, mode: PARENT_FOLDER_MODE });
    real = realpathSync(path);
    if (!lstatSync(real).isDirectory()) throw new Error("it is not a folder");
  } catch (error) {
    throw new SandboxError(`cannot use the log directory '${path}': ${(error as Error).message}`, { hint: "choose a writable folder with --log-directory" });
  }
  if (SYSTEM_FOLDERS.has(real)) {
    throw new UsageError(`--sandbox cannot use '${real}' as the log directory`, { hint: "the log directory is the one folder the sandbox shares with the machine; choose a folder of its own, e.g. --log-directory /var/log/toe-sandbox" });
  }
  return real;
}

/** The execution's TOE_… folder in the log directory (made by the awstoe inside), if it made one. */
function logFolderOf(logDirectory: string, executionId: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(logDirectory);
  } catch {
    return undefined;
  }
  const name = names.filter((n) => n.startsWith("TOE_") && n.endsWith(`_${executionId}`)).sort().pop();
  if (name === undefined) return undefined;
  const path = join(logDirectory, name);
  return lstatSync(path).isDirectory() ? path : undefined;
}

function jsonObject(text: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text ?? "");
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
