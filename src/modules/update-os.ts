/**
 * @module modules/update-os: UpdateOS — install operating system updates.
 *
 * Linux: find the package manager (_package-managers.ts has the table and the detection order),
 * require root, then run the manager's command lines through ctx.exec so their output streams to
 * the console. Windows: write the Windows Update Agent script (_windows-update.ts) into the step's
 * folder and run it with Windows PowerShell. Either way, when the updates need a restart the step
 * asks for a reboot that continues with the next step (the updates are already in).
 */
import type { ExecResult } from "../model/ports.ts";
import { Type } from "@sinclair/typebox";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { StepError } from "../errors.ts";
import { writeFileDurably } from "../safe-fs/durable.ts";
import { Fields, TextList } from "../model/schema-kit.ts";

import { defineModule, literalText, type InputIssue, type InputOf, type ModuleContext, type ModuleResult } from "./_define.ts";
import { NoOutput } from "./_inputs.ts";
import {
  detectPackageManager,
  findOnPath,
  packageNameProblem,
  PACKAGE_MANAGERS,
  type CommandLine,
  type DetectedManager,
  type Exclusion,
  type PackageManager,
} from "./_package-managers.ts";
import { WINDOWS_UPDATE_EXIT, windowsUpdateScript } from "./_windows-update.ts";

/** How many of the last stderr lines a failure message quotes. */
const QUOTED_STDERR_LINES = 3;
/** zypper may update itself and ask to be run again; more rounds than this means something is off. */
const MAX_UPDATE_ROUNDS = 3;
/** Releasing holds after an interruption runs outside the step's (fired) abort signal, within this limit. */
const CLEANUP_TIMEOUT_MS = 120_000;

/** The step's `inputs`. */
const inputSchema = () =>
  Fields({
    include: Type.Optional(TextList({ description: "packages, KB ids or *title* patterns to update" })),
    exclude: Type.Optional(TextList({ description: "packages, KB ids or *title* patterns to leave alone" })),
  });

type UpdateInput = InputOf<typeof inputSchema>;
type NoOutputs = Record<string, never>;

/**
 * What UpdateOS needs from the machine on Linux. The real values come from the process; tests
 * give a folder of stand-in managers as `searchPath`, a fake `systemRoot` and another user id.
 */
export interface UpdateHost {
  /** PATH-style folder list where the managers and their helpers are looked for. */
  searchPath: string;
  /** Where system files (package databases, the reboot marker) are read: `/`, or a chroot. */
  systemRoot: string;
  /** The effective user id (root is 0). */
  userId: number | undefined;
  /** The environment the managers inherit. */
  env: NodeJS.ProcessEnv;
}

export function systemHost(): UpdateHost {
  return { searchPath: process.env.PATH ?? "", systemRoot: "/", userId: process.geteuid?.(), env: process.env };
}

export default defineModule({
  name: "UpdateOS",
  summary: "Installs available updates (Linux packages or Windows updates), optionally only some.",
  // macOS has no package manager awstoe can drive (docs/modules.md#updateos).
  platforms: ["linux", "windows"],
  shape: "map",
  inputsOptional: true,
  input: inputSchema,
  output: NoOutput,
  check(input, env) {
    const issues: InputIssue[] = [];
    for (const field of ["include", "exclude"] as const) {
      const items = input[field];
      if (!Array.isArray(items)) continue;
      items.forEach((item, index) => {
        const text = literalText(item);
        if (text === undefined) return;
        const problem = env.platform === "windows" ? updatePatternProblem(text) : packageNameProblem(text);
        if (problem !== undefined) issues.push({ path: [field, index], message: problem });
      });
    }
    return issues;
  },
  execute: (input, ctx) => updateOS(input, ctx, systemHost()),
});

/** UpdateOS with the machine's facts handed in (tests pass stand-ins; `execute` passes the real ones). */
export async function updateOS(input: UpdateInput, ctx: ModuleContext, host: UpdateHost): Promise<ModuleResult<NoOutputs>> {
  const include = unique(input.include ?? []);
  const exclude = unique(input.exclude ?? []);
  const rebootNeeded = ctx.platform === "windows" ? await updateWindows(include, exclude, ctx) : await updateLinux(include, exclude, ctx, host);
  // The updates are installed when a restart is asked for, so after it the run goes on with the
  // next step rather than running this one again (which would find nothing left to do anyway).
  return rebootNeeded ? { outputs: {}, reboot: { rerunStep: false } } : { outputs: {} };
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

/** A Windows include/exclude entry that cannot mean anything. */
function updatePatternProblem(text: string): string | undefined {
  return text.trim() === "" ? "an empty KB id or title pattern" : undefined;
}

// ----------------------------------------------------------------------------------------------
// Linux

async function updateLinux(include: string[], exclude: string[], ctx: ModuleContext, host: UpdateHost): Promise<boolean> {
  refuseBadNames(include, "include");
  refuseBadNames(exclude, "exclude");
  requireRoot(host);
  const detected = requireManager(host);
  // Both lists: update what include names, minus what exclude names (docs/modules.md#updateos).
  const only = include.length > 0 ? include.filter((name) => !exclude.includes(name)) : undefined;
  if (only !== undefined && only.length === 0) {
    ctx.log.info(`every package in include is also in exclude; ${detected.manager.name} has nothing to update`);
    return false;
  }
  const runner = new ManagerRunner(ctx, host, detected);
  const rebootByExitCode = await runner.update(only, exclude);
  return rebootByExitCode || (await runner.rebootNeeded());
}

function refuseBadNames(names: readonly string[], field: string): void {
  for (const [index, name] of names.entries()) {
    const problem = packageNameProblem(name);
    if (problem !== undefined) throw new StepError(`${field}[${index}]: ${problem}; fix the name in the document`);
  }
}

function requireRoot(host: UpdateHost): void {
  if (host.userId === undefined || host.userId === 0) return;
  throw new StepError(
    `UpdateOS needs root to install updates, but awstoe runs as user id ${host.userId}; run awstoe as root (for example with sudo)`,
  );
}

function requireManager(host: UpdateHost): DetectedManager {
  const { found, passedOver } = detectPackageManager(host.searchPath, host.systemRoot);
  if (found !== undefined) return found;
  const names = PACKAGE_MANAGERS.map((m) => m.name);
  const looked = `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
  const skipped = passedOver.length > 0 ? `; passed over ${passedOver.join(", ")}` : "";
  throw new StepError(
    `no supported package manager: none of ${looked} was found on PATH (${host.searchPath || "empty"})${skipped}; run UpdateOS on a distribution that uses one of them, or put it on PATH`,
  );
}

/** Runs one manager's command lines in order, with its environment, failing on unexpected exit codes. */
class ManagerRunner {
  private readonly manager: PackageManager;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly ctx: ModuleContext,
    private readonly host: UpdateHost,
    private readonly detected: DetectedManager,
  ) {
    this.manager = detected.manager;
    this.env = { ...host.env, ...detected.manager.env };
  }

  /** Refresh, then update (all or `only`), keeping `exclude` back. True when the update's exit code asked for a restart. */
  async update(only: string[] | undefined, exclude: string[]): Promise<boolean> {
    const { manager } = this;
    if (manager.refresh !== undefined) await this.runChecked({ tool: manager.program, args: manager.refresh });
    const args = only === undefined ? manager.upgradeAll : manager.upgradeOnly(only);
    if (exclude.length === 0) return this.upgrade(args);
    const exclusion = manager.exclusion;
    if (exclusion.kind === "option") return this.upgrade([...args, ...exclusion.args(exclude)]);
    return this.upgradeHolding(exclusion, exclude, args);
  }

  /** Runs the update command, again while the manager says it updated itself. */
  private async upgrade(args: string[]): Promise<boolean> {
    const { manager } = this;
    const accepted = [...manager.successCodes, ...(manager.runAgainCode === undefined ? [] : [manager.runAgainCode])];
    for (let round = 1; ; round++) {
      const code = await this.runChecked({ tool: manager.program, args }, accepted);
      if (code === manager.runAgainCode && round < MAX_UPDATE_ROUNDS) {
        this.ctx.log.info(`${manager.name} updated itself (exit code ${code}); running the update again`);
        continue;
      }
      return manager.rebootCodes.includes(code);
    }
  }

  /**
   * Holds the excluded packages, updates, and releases the holds this run added — also when the
   * update fails or the step is stopped. Holds that existed before stay: the administrator put them.
   */
  private async upgradeHolding(exclusion: Extract<Exclusion, { kind: "hold" }>, exclude: string[], args: string[]): Promise<boolean> {
    const before = new Set(await this.listHeld(exclusion));
    let outcome: { rebootNeeded: boolean } | { error: unknown };
    try {
      await this.runChecked(exclusion.hold(exclude));
      outcome = { rebootNeeded: await this.upgrade(args) };
    } catch (error) {
      outcome = { error };
    }
    const releaseProblem = await this.releaseNewHolds(exclusion, before, exclude);
    if ("error" in outcome) {
      if (releaseProblem === undefined) throw outcome.error;
      throw new StepError(`${errorText(outcome.error)}; also, ${releaseProblem}`);
    }
    if (releaseProblem !== undefined) throw new StepError(`the updates were installed, but ${releaseProblem}`);
    return outcome.rebootNeeded;
  }

  private async listHeld(exclusion: Extract<Exclusion, { kind: "hold" }>): Promise<string[]> {
    const result = await this.runResult(exclusion.list);
    this.requireExit(exclusion.list, result, []);
    return exclusion.parseList(result.stdout);
  }

  /** Releases what is held now but was not before; a sentence saying what is left over, or undefined. */
  private async releaseNewHolds(exclusion: Extract<Exclusion, { kind: "hold" }>, before: Set<string>, requested: string[]): Promise<string | undefined> {
    let added: string[];
    let listProblem = "";
    try {
      const result = await this.cleanupRun(exclusion.list);
      this.requireExit(exclusion.list, result, []);
      added = exclusion.parseList(result.stdout).filter((name) => !before.has(name));
    } catch (error) {
      // Without the list, release the plain names this run asked for; a wildcard could also match
      // packages held before, so those are left for the administrator.
      added = requested.filter((name) => !name.includes("*") && !before.has(name));
      listProblem = ` (${errorText(error)})`;
    }
    if (added.length === 0 && listProblem === "") return undefined;
    const release = exclusion.release(added);
    try {
      if (added.length > 0) {
        const result = await this.cleanupRun(release);
        this.requireExit(release, result, []);
      }
    } catch (error) {
      return `the ${exclusion.noun}s on ${added.join(", ")} could not be released (${errorText(error)}); release them with '${display(release)}'`;
    }
    if (listProblem === "") return undefined;
    const wild = requested.filter((name) => name.includes("*"));
    return wild.length === 0
      ? undefined
      : `the ${exclusion.noun}s this run put on ${wild.join(", ")} could not be listed${listProblem}; check them with '${display(exclusion.list)}'`;
  }

  /** Whether the manager says the machine must restart for the updates to take effect. */
  async rebootNeeded(): Promise<boolean> {
    const check = this.manager.rebootCheck;
    if (check.kind === "marker-file") return existsSync(join(this.host.systemRoot, check.path));
    for (const candidate of check.candidates) {
      if (this.toolPath(candidate.tool) === undefined) continue;
      const result = await this.runResult(candidate);
      if (result.spawnError !== undefined) continue;
      if (result.aborted || result.timedOut) throw new StepError(`'${display(candidate)}' was stopped before it finished`);
      const said = `${result.stdout}\n${result.stderr}`;
      if (result.exitCode === check.rebootExitCode && (check.outputPattern === undefined || check.outputPattern.test(said))) return true;
      if (result.exitCode === 0) return false;
    }
    this.ctx.log.warn(`${this.manager.name} cannot tell whether the updates need a restart, so UpdateOS does not ask for one; ${check.missingHint}`);
    return false;
  }

  private toolPath(tool: string): string | undefined {
    return tool === this.manager.program ? this.detected.path : findOnPath(tool, this.host.searchPath);
  }

  /** Runs a command line and returns its exit code, throwing unless it is 0 or one of `accepted`. */
  private async runChecked(line: CommandLine, accepted: number[] = []): Promise<number> {
    const result = await this.runResult(line);
    return this.requireExit(line, result, accepted);
  }

  private async runResult(line: CommandLine): Promise<ExecResult> {
    const path = this.requireTool(line.tool);
    this.ctx.log.info(`running ${display(line)}`);
    return this.ctx.exec({ command: path, args: line.args, env: this.env });
  }

  /**
   * Like runResult, but still runs after the step's signal fired (a timeout or Ctrl-C): releasing
   * holds must not be skipped because the update was interrupted. The context's exec refuses to
   * start anything once its signal is aborted, so this starts the program itself, synchronously.
   */
  private async cleanupRun(line: CommandLine): Promise<ExecResult> {
    if (!this.ctx.signal.aborted) return this.runResult(line);
    const path = this.requireTool(line.tool);
    this.ctx.log.info(`running ${display(line)} (cleaning up after the interruption)`);
    const started = Date.now();
    const child = spawnSync(path, line.args, { env: this.env, encoding: "utf8", timeout: CLEANUP_TIMEOUT_MS, stdio: ["ignore", "pipe", "pipe"] });
    return {
      exitCode: child.status,
      signal: child.signal,
      stdout: child.stdout ?? "",
      stderr: child.stderr ?? "",
      stdoutTruncated: false,
      stderrTruncated: false,
      timedOut: child.error !== undefined && (child.error as NodeJS.ErrnoException).code === "ETIMEDOUT",
      aborted: false,
      ...(child.error !== undefined && child.status === null ? { spawnError: child.error.message } : {}),
      durationMs: Date.now() - started,
    };
  }

  private requireTool(tool: string): string {
    const path = this.toolPath(tool);
    if (path !== undefined) return path;
    throw new StepError(`${this.manager.name} needs ${tool}, which is not on PATH (${this.host.searchPath}); install it or put it on PATH`);
  }

  /** The exit code when it is 0 or accepted; otherwise a StepError naming the manager, the command and the code. */
  private requireExit(line: CommandLine, result: ExecResult, accepted: number[]): number {
    const what = `${this.manager.name} failed: '${display(line)}'`;
    if (result.spawnError !== undefined) throw new StepError(`${what} could not be started: ${result.spawnError}`);
    if (result.aborted || result.timedOut) throw new StepError(`${what} was stopped before it finished`);
    if (result.exitCode === null) throw new StepError(`${what} was killed by ${result.signal ?? "a signal"}${stderrTail(result.stderr)}`);
    if (result.exitCode === 0 || accepted.includes(result.exitCode)) return result.exitCode;
    throw new StepError(`${what} exited with code ${result.exitCode}${stderrTail(result.stderr)}`, {
      exitCode: result.exitCode,
      stderrTail: result.stderr.slice(-2000),
    });
  }
}

/** A command line as a person would type it (arguments with spaces quoted). */
function display(line: CommandLine): string {
  return [line.tool, ...line.args].map((part) => (/^[\w@%+=:,./*~-]+$/.test(part) ? part : `'${part}'`)).join(" ");
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function stderrTail(stderr: string): string {
  const lines = stderr.trimEnd().split(/\r?\n/).filter((line) => line.trim() !== "");
  if (lines.length === 0) return "";
  return `: ${lines.slice(-QUOTED_STDERR_LINES).join(" | ").slice(0, 500)}`;
}

// ----------------------------------------------------------------------------------------------
// Windows

/** Writes the Windows Update script to the step's folder and runs it; true when a restart is needed. */
async function updateWindows(include: string[], exclude: string[], ctx: ModuleContext): Promise<boolean> {
  const script = ctx.workFile("update-os.ps1");
  writeFileDurably(script, ctx.shell.powershellScript(windowsUpdateScript(include, exclude)), { mode: 0o700, flush: false });
  const { command, args } = ctx.shell.powershellInvocation(script);
  const result = await ctx.exec({ command, args });
  const what = "the Windows Update script";
  if (result.spawnError !== undefined) throw new StepError(`${what} could not be started: ${result.spawnError}`);
  if (result.aborted || result.timedOut) throw new StepError(`${what} was stopped before it finished`);
  if (result.exitCode === WINDOWS_UPDATE_EXIT.rebootRequired) return true;
  if (result.exitCode === WINDOWS_UPDATE_EXIT.done) return false;
  const code = result.exitCode === null ? `was killed by ${result.signal ?? "a signal"}` : `exited with code ${result.exitCode}`;
  throw new StepError(`${what} ${code}${stderrTail(result.stderr)}`, { exitCode: result.exitCode ?? undefined, stderrTail: result.stderr.slice(-2000) });
}
