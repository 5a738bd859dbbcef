/**
 * @module platform/process: run one program, stream its output, keep bounded tails, kill its whole
 * tree on timeout/abort.
 *
 * A run ends when the program has exited and its output pipes are closed. Something the program
 * started and left behind (`service &`, a daemon that kept stdout) can hold the pipes open long
 * after it exited: then the run ends DRAIN_AFTER_EXIT_MS after the exit, with the program's own
 * exit code and `leftRunning`, and those processes are left running, unsignalled (they may be a
 * service the step meant to start). Only a program still running when its time limit passes or
 * the run is aborted gets its process group killed.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import type { ExecRequest, ExecResult } from "../model/ports.ts";

export const CAPTURE_LIMIT_BYTES = 4 * 1024 * 1024;
/** Time between SIGTERM and SIGKILL to the process group: lets well-behaved children clean up. */
export const KILL_GRACE_MS = 2000;
/**
 * After SIGKILL, how long to wait for the pipes to close before resolving anyway. A process that
 * left the group (setsid, daemonizing) can hold our pipes open forever; we must not hang on it.
 */
export const CLOSE_AFTER_KILL_MS = 500;
/**
 * After the program exits on its own, how long its output pipes may stay open before the run ends
 * anyway (see the module comment). Output the program wrote before exiting is already in the
 * pipes (at most a pipe buffer, 64 KiB on Linux) and is read within milliseconds; half a second
 * leaves room for a loaded machine and for a last line from what it left running, while a step
 * that leaves a job behind still ends promptly. Programs that close their pipes never wait for it.
 */
export const DRAIN_AFTER_EXIT_MS = 500;

/** setTimeout overflows above 2^31-1 ms (it then fires after 1 ms), so longer limits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Tail storage unit: incoming chunks are copied into blocks of this size (see TailBuffer). */
const BLOCK_BYTES = 64 * 1024;

const isWindows = process.platform === "win32";

/** One running child, as seen by killAllRunning. */
interface RunningTree {
  terminate(signal: NodeJS.Signals): void;
}
/** Every tree still running, so killAllRunning can reach detached groups that would outlive awstoe. */
const running = new Set<RunningTree>();

/**
 * Signals the process group of every child still running (`awstoe run` calls this from its
 * SIGINT/SIGTERM/SIGHUP handler: detached groups do not get the terminal's signal and would
 * survive us).
 * A signal other than SIGKILL is followed by SIGKILL after KILL_GRACE_MS, if we are still alive.
 * Returns how many trees were signalled.
 */
export function killAllRunning(signal: NodeJS.Signals = "SIGTERM"): number {
  const trees = [...running];
  for (const tree of trees) tree.terminate(signal);
  return trees.length;
}

/** Runs one program to completion. Never rejects: start failures come back as `spawnError`. */
export function runProcess(request: ExecRequest): Promise<ExecResult> {
  const started = performance.now();
  const limit = Math.max(0, request.captureLimit ?? CAPTURE_LIMIT_BYTES);
  const out = new TailBuffer(limit);
  const err = new TailBuffer(limit);

  const result = (fields: Partial<ExecResult>): ExecResult => ({
    exitCode: null,
    signal: null,
    ...tails(out, err),
    timedOut: false,
    aborted: false,
    leftRunning: false,
    durationMs: performance.now() - started,
    ...fields,
  });

  if (request.signal?.aborted) return Promise.resolve(result({ aborted: true, durationMs: 0 }));

  let child: ChildProcess;
  try {
    child = spawn(request.command, [...request.args], {
      cwd: request.cwd,
      env: request.env,
      stdio: [request.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      // POSIX: the child leads a new process group (pgid = pid), so kill(-pid) reaches grandchildren.
      // Windows: detached would open a new console window instead; taskkill /T handles the tree.
      detached: !isWindows,
      windowsHide: true,
      windowsVerbatimArguments: request.windowsVerbatimArguments === true,
    });
  } catch (error) {
    // Node throws synchronously for some start failures (e.g. EINVAL for .bat/.cmd without a shell).
    return Promise.resolve(result({ spawnError: describeSpawnError(request, error) }));
  }

  return new Promise<ExecResult>((resolve) => {
    let finished = false;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let timedOut = false;
    let aborted = false;
    let terminating = false;
    /** The program exited on its own and its pipes are being drained (see DRAIN_AFTER_EXIT_MS). */
    let draining = false;
    let leftRunning = false;
    const timers: ReturnType<typeof setTimeout>[] = [];
    const decoders = request.onOutput ? { stdout: new TextDecoder("utf-8", { ignoreBOM: true }), stderr: new TextDecoder("utf-8", { ignoreBOM: true }) } : undefined;

    const killTree = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      if (isWindows) {
        // Windows has no process groups or SIGTERM: force-kill the tree. Fails once the direct
        // child is gone (the tree link is lost); nothing better is available, so ignore that.
        spawnSync("taskkill", ["/pid", String(child.pid), "/T", "/F"], { stdio: "ignore", windowsHide: true });
        return;
      }
      try {
        process.kill(-child.pid, signal);
      } catch {
        // ESRCH: the group is already gone. EPERM: macOS reports it for a group of zombies only.
        // Either way there is nothing left we could kill, and a throw here would crash awstoe.
      }
    };

    const terminate = (signal: NodeJS.Signals): void => {
      if (finished) return;
      killTree(signal);
      if (terminating) return;
      terminating = true;
      const forceClose = (): void => {
        // Still not closed after SIGKILL: something outside the group holds our pipes. Resolve anyway.
        timers.push(setTimeout(() => finish(), CLOSE_AFTER_KILL_MS));
      };
      if (signal === "SIGKILL") forceClose();
      else
        timers.push(
          setTimeout(() => {
            killTree("SIGKILL");
            forceClose();
          }, KILL_GRACE_MS),
        );
    };

    const tree: RunningTree = { terminate };
    running.add(tree);
    // The pid is known right after spawn(); should a runtime only know it at the 'spawn' event,
    // it is reported then — exactly once either way.
    let reported = false;
    const report = () => {
      if (reported || child.pid === undefined) return;
      reported = true;
      request.onSpawn?.(child.pid);
    };
    report();
    child.once("spawn", report);

    /** The drain ended with the pipes still open: what holds them is left running, and we stop reading. */
    const leaveRunning = (): void => {
      leftRunning = true;
      finish();
    };

    /**
     * A timeout or abort: kills the program's group — unless the program already exited on its
     * own, then what it left behind is not ours to stop and the drain just ends now.
     */
    const stop = (why: "timeout" | "abort"): void => {
      if (finished) return;
      if (draining) return leaveRunning();
      if (why === "timeout") timedOut = true;
      else aborted = true;
      terminate("SIGTERM");
    };

    const finish = (spawnError?: string): void => {
      if (finished) return;
      finished = true;
      running.delete(tree);
      for (const timer of timers) clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
      // Forced resolve (after a kill, or a drain that ran out): stop reading, so pipes held open by
      // processes outside our reach do not keep awstoe alive.
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.stdin?.destroy();
      if (decoders) {
        for (const name of ["stdout", "stderr"] as const) {
          const rest = decoders[name].decode();
          if (rest) request.onOutput?.(name, rest);
        }
      }
      resolve(
        result({
          exitCode: exited?.code ?? null,
          signal: exited?.signal ?? null,
          timedOut,
          aborted,
          leftRunning,
          ...(spawnError === undefined ? {} : { spawnError }),
        }),
      );
    };

    const onAbort = (): void => stop("abort");
    request.signal?.addEventListener("abort", onAbort, { once: true });

    if (request.timeoutMs !== undefined && Number.isFinite(request.timeoutMs) && request.timeoutMs >= 0) {
      const arm = (remaining: number): void => {
        const step = Math.min(remaining, MAX_TIMER_MS);
        timers.push(
          setTimeout(() => {
            if (remaining > step) return arm(remaining - step);
            stop("timeout");
          }, step),
        );
      };
      arm(request.timeoutMs);
    }

    const collect = (name: "stdout" | "stderr", tail: TailBuffer) => (chunk: Buffer) => {
      tail.push(chunk);
      if (decoders) {
        const text = decoders[name].decode(chunk, { stream: true });
        if (text) request.onOutput?.(name, text);
      }
    };
    child.stdout?.on("data", collect("stdout", out));
    child.stderr?.on("data", collect("stderr", err));

    if (child.stdin) {
      // EPIPE when the child exits without reading its input is normal, not a failure of ours.
      child.stdin.on("error", () => {});
      child.stdin.end(request.input);
    }

    child.on("error", (error) => {
      // Only a start failure (no pid) ends the run here; later 'error's (e.g. kill) wait for 'close'.
      if (child.pid === undefined) finish(describeSpawnError(request, error));
    });
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      // Killing: the kill path's own timers end the run (SIGKILL still reaches the rest of the group).
      if (terminating || finished) return;
      // Exited on its own: wait briefly for the pipes to close; if something left behind holds
      // them, end the run without it. It is no longer ours: killAllRunning must not reach it.
      draining = true;
      running.delete(tree);
      timers.push(setTimeout(leaveRunning, DRAIN_AFTER_EXIT_MS));
    });
    // 'close' comes after the exit AND after both pipes reached EOF: all output has been delivered.
    child.on("close", (code, signal) => {
      exited ??= { code, signal };
      finish();
    });
  });
}

/** Turns a start failure into the reason shown to the user. */
function describeSpawnError(request: ExecRequest, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const what = `cannot run '${request.command}'`;
  switch (code) {
    case "ENOENT":
      // Node reports a missing working directory as ENOENT of the program: say which it is.
      if (request.cwd !== undefined && !isDirectory(request.cwd)) return `${what}: working directory '${request.cwd}' does not exist`;
      return `${what}: no such file`;
    case "EACCES":
      // exec() of a directory fails with EACCES too; that deserves its own words.
      if (isDirectory(request.command)) return `${what}: is a directory`;
      return `${what}: permission denied (is it executable?)`;
    case "ENOEXEC":
      return `${what}: not an executable format (missing #! line?)`;
    case "EISDIR":
      return `${what}: is a directory`;
    case "ENOTDIR":
      return `${what}: a path component is not a directory`;
    case "EINVAL":
      return `${what}: invalid argument (on Windows, .bat/.cmd files need a shell)`;
    default:
      return `${what}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function tails(out: TailBuffer, err: TailBuffer): Pick<ExecResult, "stdout" | "stderr" | "stdoutTruncated" | "stderrTruncated"> {
  return { stdout: out.text(), stderr: err.text(), stdoutTruncated: out.truncated, stderrTruncated: err.truncated };
}

/**
 * Keeps the last `limit` bytes of a stream. Chunks are copied into fixed-size blocks, and whole
 * blocks are dropped from the front, so memory stays near limit + one block however much the child
 * prints, and however tiny its writes are (one small Buffer per write would cost far more than its bytes).
 */
class TailBuffer {
  truncated = false;
  private readonly blockSize: number;
  private readonly blocks: Buffer[] = []; // full blocks, oldest first
  private current: Buffer;
  private used = 0; // bytes used in `current`
  private size = 0; // bytes held in blocks + current

  constructor(private readonly limit: number) {
    this.blockSize = Math.max(1, Math.min(limit, BLOCK_BYTES));
    this.current = Buffer.allocUnsafe(limit === 0 ? 0 : this.blockSize);
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.limit === 0) {
      this.truncated = true;
      return;
    }
    // Only the last `limit` bytes of a chunk can survive, so do not copy the rest.
    if (chunk.length > this.limit) {
      this.truncated = true;
      chunk = chunk.subarray(chunk.length - this.limit);
    }
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(this.blockSize - this.used, chunk.length - offset);
      this.current.set(chunk.subarray(offset, offset + n), this.used);
      this.used += n;
      this.size += n;
      offset += n;
      if (this.used === this.blockSize) {
        this.blocks.push(this.current);
        this.current = this.dropOldBlocks() ?? Buffer.allocUnsafe(this.blockSize);
        this.used = 0;
      }
    }
    this.dropOldBlocks();
  }

  /** Drops front blocks not needed for the last `limit` bytes; returns one for reuse. */
  private dropOldBlocks(): Buffer | undefined {
    let spare: Buffer | undefined;
    while (this.blocks.length > 0 && this.size - this.blocks[0]!.length >= this.limit) {
      spare = this.blocks.shift()!;
      this.size -= spare.length;
      this.truncated = true;
    }
    return spare;
  }

  text(): string {
    let bytes = Buffer.concat([...this.blocks, this.current.subarray(0, this.used)]);
    if (bytes.length > this.limit) {
      this.truncated = true;
      bytes = bytes.subarray(bytes.length - this.limit);
    }
    // A cut tail may start inside a character: skip its continuation bytes (10xxxxxx, at most 3)
    // instead of decoding them to U+FFFD.
    if (this.truncated) {
      let skip = 0;
      while (skip < 3 && skip < bytes.length && (bytes[skip]! & 0xc0) === 0x80) skip++;
      bytes = bytes.subarray(skip);
    }
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
  }
}
