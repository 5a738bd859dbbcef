/**
 * @module platform/process-identity: telling a process apart from a later one with the same id.
 *
 * Process ids are reused, after a reboot at once. So a process recorded by a crashed awstoe (the
 * run lock's holder, a step's process group) is only believed to be the same one when the kernel's
 * boot id matches and, where Linux tells it, the process's start time matches too. Elsewhere (no
 * /proc) nothing can be told apart, and callers treat the process as unknown: never signalled.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface ProcessIdentity {
  pid: number;
  /** /proc/sys/kernel/random/boot_id; undefined where there is none. */
  boot?: string;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  started?: number;
}

/** The kernel's id of this boot, or undefined off Linux. */
export function bootId(): string | undefined {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** When process `pid` started, in clock ticks since boot; undefined when it is gone or unknowable. */
export function startTicks(pid: number): number | undefined {
  const fields = statFields(pid);
  const value = Number(fields?.[19]); // field 22 of the whole line
  return Number.isFinite(value) ? value : undefined;
}

/** A process that has exited but not been reaped yet (a zombie) is gone for every purpose here. */
function exited(pid: number): boolean {
  const state = statFields(pid)?.[0]; // field 3: R, S, D, Z, X, …
  return state === "Z" || state === "X";
}

/** Fields 3 onwards of /proc/<pid>/stat, or undefined off Linux or when the process is gone. */
function statFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')': count after the last ')'.
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

export function identityOf(pid: number): ProcessIdentity {
  const boot = bootId();
  const started = startTicks(pid);
  return { pid, ...(boot === undefined ? {} : { boot }), ...(started === undefined ? {} : { started }) };
}

/** Whether some process with this id exists now (EPERM: it exists, but is not ours to signal). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * "alive": the recorded process is running now; "gone": it is certainly not; "unknown": a process
 * with that id exists but nothing says it is the same one (no boot id or start time to compare).
 */
export function stillRunning(recorded: ProcessIdentity): "alive" | "gone" | "unknown" {
  const boot = bootId();
  if (recorded.boot !== undefined && boot !== undefined && recorded.boot !== boot) return "gone"; // rebooted since
  if (!pidExists(recorded.pid) || exited(recorded.pid)) return "gone";
  if (recorded.started === undefined) return "unknown";
  const started = startTicks(recorded.pid);
  if (started === undefined) return "unknown";
  return started === recorded.started ? "alive" : "gone";
}

/**
 * Whether a process group with this id has a living member now. On Linux members that have exited
 * but wait to be reaped (zombies: their parent has not collected them yet) do not count — they run
 * nothing, yet kill(-pgid, 0) still finds them.
 */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return true; // no /proc: the signal's answer is all there is
  }
  return pids.some((pid) => {
    const fields = statFields(Number(pid));
    return fields !== undefined && Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X";
  });
}

/**
 * Stops what is left of a process group that a step of a killed awstoe started: SIGTERM, then
 * SIGKILL after `graceMs`, then waits until no member is left (up to `graceMs` more). Only when
 * it is certainly that group: same boot, and its leader is either the same process or gone (a
 * Linux pid that still names a live group is not handed out again, so members without their
 * leader are the group's own). Returns what was done, for the log.
 */
export async function stopLeftoverGroup(recorded: { pgid: number; boot?: string; started?: number }, graceMs = 2000): Promise<"none" | "stopped" | "still-running" | "unknown"> {
  if (process.platform === "win32") return "unknown";
  const boot = bootId();
  if (recorded.boot === undefined || boot === undefined) return "unknown";
  if (recorded.boot !== boot) return "none";
  if (!groupExists(recorded.pgid)) return "none";
  // A group id names a new group only once every member of ours has gone and the id came round
  // again: its leader then started after ours did. (Equal or earlier: ours.)
  const leader = startTicks(recorded.pgid);
  if (leader !== undefined && recorded.started !== undefined && leader > recorded.started) return "none";
  return stopGroup(recorded.pgid, graceMs);
}

/** SIGTERM to a group, SIGKILL after `graceMs`, then waits until no member is left (up to `graceMs` more). */
export async function stopGroup(pgid: number, graceMs = 2000): Promise<"none" | "stopped" | "still-running"> {
  if (!groupExists(pgid)) return "none";
  signalGroup(pgid, "SIGTERM");
  if (await gone(pgid, graceMs)) return "stopped";
  signalGroup(pgid, "SIGKILL");
  return (await gone(pgid, graceMs)) ? "stopped" : "still-running";
}

/**
 * Living processes whose environment holds `name=<prefix><rest>`, by `<rest>`, with their
 * process groups (Linux /proc; elsewhere none are found). Steps' programs carry such a marker, so
 * a resumed run finds what a killed run's step left running even when awstoe was killed before it
 * could journal the program's process group (the instant between spawn and the journal line).
 */
export function markedGroups(name: string, prefix: string): Map<string, Set<number>> {
  const found = new Map<string, Set<number>>();
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry));
  } catch {
    return found;
  }
  const wanted = `${name}=${prefix}`;
  for (const pid of pids) {
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "latin1");
    } catch {
      continue; // gone meanwhile, or not readable
    }
    const entry = environ.split("\0").find((e) => e.startsWith(wanted));
    const fields = entry === undefined ? undefined : statFields(Number(pid));
    if (entry === undefined || fields === undefined || fields[0] === "Z" || fields[0] === "X") continue;
    const rest = entry.slice(wanted.length);
    const groups = found.get(rest) ?? new Set<number>();
    groups.add(Number(fields[2]));
    found.set(rest, groups);
  }
  return found;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone meanwhile
  }
}

async function gone(pgid: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (!groupExists(pgid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !groupExists(pgid);
}
