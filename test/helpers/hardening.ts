/**
 * @module test/helpers/hardening: what the hardening acceptance suites (test/e2e/hostile-user,
 * kill-resume, disk-full) share: the binary under test, runs that write their output to files,
 * acting as the unprivileged user `nobody`, and process checks through /proc.
 *
 * The binary is the host build (test/helpers/binary.ts), or AWSTOE_BIN when set — so the same
 * suites can be pointed at an older build to show that they catch what the hardening fixed.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { awstoeBinary } from "./binary.ts";

/** `nobody` (and `nogroup`): the hostile local user. */
export const NOBODY = 65534;

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock time of the run. */
  ms: number;
}

export interface StartOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
}

/** AWSTOE_BIN when set, else the host build (built when stale). */
export async function binaryUnderTest(): Promise<string> {
  const given = process.env.AWSTOE_BIN;
  return given !== undefined && given !== "" ? resolve(given) : awstoeBinary();
}

/** The test's environment (NO_COLOR=1, reboot mode disabled by setup.ts) with `extra` merged over it. */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined, AWS_SSM_INSTANCE_ID: undefined, ...extra })) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** A run in progress; its output goes to files (no pipe a slow reader could stall). */
export interface Started {
  proc: Bun.Subprocess;
  pid: number;
  /** Waits for the end (SIGKILL after `timeoutMs`) and reads what it printed. */
  finish(timeoutMs?: number): Promise<Outcome & { signal: string | null; timedOut: boolean }>;
  stderrSoFar(): string;
}

let runs = 0;

/** Starts `program args` in `cwd`; stdout and stderr go to files beside the caller's scratch. */
export function start(program: string, args: string[], opts: StartOptions): Started {
  const n = ++runs;
  const out = join(opts.cwd, `.run-${process.pid}-${n}.stdout`);
  const err = join(opts.cwd, `.run-${process.pid}-${n}.stderr`);
  const began = performance.now();
  const proc = Bun.spawn([program, ...args], { cwd: opts.cwd, env: childEnv(opts.env), stdin: "ignore", stdout: Bun.file(out), stderr: Bun.file(err) });
  return {
    proc,
    pid: proc.pid,
    stderrSoFar: () => readIfExists(err),
    async finish(timeoutMs = 60_000) {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        proc.kill("SIGKILL");
      }, timeoutMs);
      const code = await proc.exited;
      clearTimeout(timer);
      const result = { code, stdout: readIfExists(out), stderr: readIfExists(err), ms: performance.now() - began, signal: (proc.signalCode as string | null) ?? null, timedOut };
      rmSync(out, { force: true });
      rmSync(err, { force: true });
      return result;
    },
  };
}

/** Runs to the end without blocking the test's event loop. */
export async function run(program: string, args: string[], opts: StartOptions & { timeoutMs?: number }): Promise<Outcome & { signal: string | null; timedOut: boolean }> {
  return start(program, args, opts).finish(opts.timeoutMs);
}

/** Runs `script` with /bin/sh as `nobody` (no groups); returns the exit code and output. */
export function asNobody(script: string, cwd = "/"): Outcome {
  const began = performance.now();
  const r = Bun.spawnSync(["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "sh", "-c", script], { cwd, env: { PATH: "/usr/bin:/bin", LC_ALL: "C" }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString(), ms: performance.now() - began };
}

/** Single-quoted for sh. */
export function sq(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A scratch folder for one test file: 0755, so `nobody` can reach what the tests give it. */
export function scratchRoot(label: string): { root: string; newDir(name: string): string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), `opentoe-${label}-`));
  chmodSync(root, 0o755);
  let count = 0;
  return {
    root,
    newDir(name) {
      const dir = join(root, `${String(++count).padStart(2, "0")}-${name}`);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      chmodSync(dir, 0o755);
      return dir;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface StepSpec {
  name: string;
  /** ExecuteBash commands (the default action). */
  commands?: string[];
  /** Another action with its inputs as YAML lines (indented by the caller relative to `inputs:`). */
  action?: string;
  inputs?: string[];
  /** Extra step fields as YAML lines (`timeoutSeconds: 5`). */
  fields?: string[];
}

/** Writes a one-phase ("build") document to `dir/name` and returns its path. */
export function writeDocument(dir: string, name: string, steps: StepSpec[], parameters: string[] = []): string {
  const lines = ["name: hardening", "schemaVersion: 1.0"];
  if (parameters.length > 0) lines.push("parameters:", ...parameters.flatMap((p) => [`  - ${p}:`, "      type: string"]));
  lines.push("phases:", "  - name: build", "    steps:");
  for (const step of steps) {
    lines.push(`      - name: ${step.name}`, `        action: ${step.action ?? "ExecuteBash"}`, ...(step.fields ?? []).map((f) => `        ${f}`));
    if (step.commands !== undefined) lines.push("        inputs:", "          commands:", ...step.commands.map((c) => `            - ${JSON.stringify(c)}`));
    else if (step.inputs !== undefined) lines.push("        inputs:", ...step.inputs.map((l) => `          ${l}`));
  }
  const path = join(dir, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

export function readIfExists(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export function linesOf(path: string): string[] {
  return readIfExists(path).split("\n").filter((l) => l !== "");
}

/** The run summary: the last JSON object on stdout. */
export function summaryOf(stdout: string): { status: string; executionId: string; logUrl: string; failureMessage: string; executedStepCount: number } {
  const at = stdout.lastIndexOf("\n{");
  return JSON.parse(at < 0 ? stdout.slice(stdout.indexOf("{")) : stdout.slice(at + 1));
}

export interface StepRecordLike {
  name: string;
  status: string;
  failureMessage: string;
}
export interface RecordLike {
  executionId: string;
  status: string;
  failureMessage: string;
  documents: { status: string; failureMessage: string; phases: { name: string; status: string; failureMessage: string; steps: StepRecordLike[] }[] }[];
}

export function readRecord(logFolder: string): RecordLike {
  return JSON.parse(readFileSync(join(logFolder, "detailedoutput.json"), "utf8")) as RecordLike;
}

/** The log folders (TOE_… but not TOE_state) in a log directory. */
export function logFolders(logDirectory: string): string[] {
  return existsSync(logDirectory) ? readdirSync(logDirectory).filter((n) => n.startsWith("TOE_") && n !== "TOE_state") : [];
}

/** Fields 3 onwards of /proc/<pid>/stat (state first), or undefined when there is no such process. */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** No such process, or one that has exited and waits to be reaped. */
export function processGone(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state === undefined || state === "Z" || state === "X";
}

/** Living processes whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      const fields = statFields(pid);
      return fields !== undefined && Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X";
    });
}

/** The process group of a living process, or undefined. */
export function processGroupOf(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields === undefined ? undefined : Number(fields[2]);
}

export async function waitFor(what: string, condition: () => boolean, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${withinMs} ms waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** SIGKILLs every living member of the process groups of `pids` (cleanup after a failed test). */
export function killGroupsOf(pids: number[]): void {
  for (const pid of pids) {
    const pgid = processGroupOf(pid);
    if (pgid === undefined || pgid <= 1 || pgid === process.pid) continue;
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // gone already
    }
  }
}

/** Every file below `folder` (not following links), with its path. */
export function filesBelow(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) found.push(...filesBelow(path));
    else found.push(path);
  }
  return found;
}
