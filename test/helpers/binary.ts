/**
 * @module test/helpers/binary: the compiled `awstoe` for end-to-end tests.
 *
 * `awstoeBinary()` returns `dist/awstoe-<host>`, building it first (scripts/build.ts) when it is
 * missing or older than anything it is built from. It never skips: a failed build throws, so the
 * tests that need the binary fail loudly. `runAwstoe()` then runs it synchronously.
 */
import { readFileSync } from "node:fs";
import { buildHost, hostTarget, outputPath, REPO, staleReason } from "../../scripts/build.ts";

export interface AwstoeRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock time of the run. */
  ms: number;
  /** True when the run was killed for going over its timeout. */
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  /** Merged over the test's environment (which has NO_COLOR=1); `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  input?: string | Uint8Array;
  /** Kill the run after this long; default 30 s. */
  timeoutMs?: number;
  /** Send stdout to this file instead of a pipe; `stdout` is then the file's content. */
  stdoutFile?: string;
}

let resolved: string | undefined;
let pending: Promise<string> | undefined;

/**
 * Returns `binary`, first running `build` when it is missing or older than its sources
 * (scripts/build.ts staleReason). Throws when the build fails or leaves it stale. Shared with
 * test/helpers/wine.ts, which builds the Windows executable the same way.
 */
export async function freshBinary(binary: string, build: () => Promise<string>): Promise<string> {
  const reason = staleReason(binary);
  if (reason === undefined) return binary;
  process.stderr.write(`[e2e] building ${binary} (${reason})…\n`);
  const path = await build();
  if (path !== binary) throw new Error(`the build wrote ${path}, expected ${binary}`);
  if (staleReason(binary) !== undefined) throw new Error(`${binary} is still missing or stale after building it`);
  return binary;
}

/** Absolute path of the host's compiled awstoe, built when missing or stale. */
export function awstoeBinary(): Promise<string> {
  if (resolved !== undefined) return Promise.resolve(resolved);
  pending ??= freshBinary(outputPath(hostTarget()), buildHost).then((binary) => (resolved = binary));
  return pending;
}

/** Runs the compiled awstoe. Call `await awstoeBinary()` first (e.g. in beforeAll). */
export function runAwstoe(args: string[], opts: RunOptions = {}): AwstoeRun {
  if (resolved === undefined) throw new Error("runAwstoe: call `await awstoeBinary()` first (e.g. in beforeAll)");
  const env = childEnv(opts.env);
  const started = performance.now();
  const run = Bun.spawnSync([resolved, ...args], {
    cwd: opts.cwd ?? REPO,
    env,
    stdin: opts.input === undefined ? "ignore" : typeof opts.input === "string" ? new TextEncoder().encode(opts.input) : opts.input,
    stdout: opts.stdoutFile === undefined ? "pipe" : Bun.file(opts.stdoutFile),
    stderr: "pipe",
    timeout: opts.timeoutMs ?? 30_000,
    killSignal: "SIGKILL",
  });
  const ms = performance.now() - started;
  return {
    code: run.exitCode ?? -1,
    stdout: opts.stdoutFile === undefined ? (run.stdout?.toString() ?? "") : readFileSync(opts.stdoutFile, "utf8"),
    stderr: run.stderr.toString(),
    ms,
    timedOut: run.exitedDueToTimeout === true,
  };
}

/**
 * Runs the compiled awstoe without blocking this process's event loop — for tests whose servers
 * (local S3, CloudWatch, Image Builder) live in the test process and must keep answering.
 */
export async function spawnAwstoe(args: string[], opts: Omit<RunOptions, "stdoutFile"> = {}): Promise<AwstoeRun> {
  if (resolved === undefined) throw new Error("spawnAwstoe: call `await awstoeBinary()` first (e.g. in beforeAll)");
  const started = performance.now();
  const proc = Bun.spawn([resolved, ...args], {
    cwd: opts.cwd ?? REPO,
    env: childEnv(opts.env),
    stdin: opts.input === undefined ? "ignore" : typeof opts.input === "string" ? new TextEncoder().encode(opts.input) : opts.input,
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs ?? 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr, ms: performance.now() - started, timedOut };
}

/** The test's environment with NO_COLOR=1 and `extra` merged over it (`undefined` removes a variable). */
function childEnv(extra: RunOptions["env"]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined, ...extra })) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}
