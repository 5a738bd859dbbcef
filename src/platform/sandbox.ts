/**
 * @module platform/sandbox: the side effects of `awstoe run --sandbox` — the private work folder,
 * running awstoe inside the namespaces (the script is platform/sandbox-script.ts, which also says
 * why util-linux rather than bubblewrap), reading the upper layers afterwards, --sandbox-keep's
 * copy, and clean-up.
 *
 * Where the upper layers live: in a private folder on the host's disk,
 * /var/tmp/opentoe-sandbox-<random UUID> (0700, created exclusively, its parents checked like the
 * state folder's), not on a tmpfs inside the namespace. The change report and --sandbox-keep read
 * them after the namespace is gone, and a package install can be larger than memory allows.
 * /var/tmp is on the root file system on most machines, and the folder is hidden inside the
 * sandbox (a tmpfs over it), so steps cannot reach the layers while they are in use.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, constants, copyFileSync, lchownSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync, symlinkSync, chmodSync, type Stats } from "node:fs";
import { randomUUID } from "node:crypto";
import { Buffer } from "node:buffer";
import { join, resolve } from "node:path";
import { checkPathToFolder } from "../safe-fs/private-folder.ts";
import { PRIVATE_FOLDER_MODE } from "../safe-fs/durable.ts";
import { findProgram } from "./probe.ts";
import { DROPPED_CAPABILITIES, isProvided, isSandboxRoot, parseMountInfo, parseSandboxReport, planLayers, sandboxScript, type SandboxPlan, type SandboxReport } from "./sandbox-script.ts";

export type EntryType = "file" | "folder" | "symlink" | "other";

/** One file system entry's facts (lstat, never following a link). */
export interface Facts {
  type: EntryType;
  /** Permission bits with setuid/setgid/sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** A symbolic link's target. */
  target?: string;
}

/** One path as the scan found it: in the upper layer, on the host (the lower layer), or both. */
export interface Observed {
  path: string;
  /** Absent: a host entry that an opaque folder of the upper layer hides (removed). */
  upper?: Facts & { whiteout?: boolean };
  lower?: Facts & { treeBytes?: number; treeEntries?: number };
  /** Both regular files: whether their bytes are the same. */
  sameContent?: boolean;
}

/** The programs the sandbox is made with, all from util-linux. */
export const SANDBOX_PROGRAMS = ["unshare", "mount", "umount", "pivot_root", "setpriv"] as const;

/** Where the private work folders are made, unless AWSTOE_SANDBOX_DIR says otherwise. */
export const WORK_PARENT = "/var/tmp";

export interface Workspace {
  plan: SandboxPlan;
}

export interface InsideCommand {
  executable: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface SandboxRun {
  /** The sandboxed awstoe's exit code (128 + n when a signal ended it). */
  exitCode: number;
  report: SandboxReport;
}

/** The side effects the sandboxed run needs; tests of the command line give their own. */
export interface SandboxHost {
  /** Why a sandbox cannot be made here, or undefined. */
  unavailable(): string | undefined;
  prepare(logDirectory: string): Workspace;
  run(workspace: Workspace, command: InsideCommand): Promise<SandboxRun>;
  scan(workspace: Workspace): { observed: Observed[]; warnings: string[] };
  /** A file of the host (the lower layer), or undefined when it is not there. */
  readHostFile(path: string): string | undefined;
  /** A file as the sandbox left it: the upper layer's copy, or undefined when it did not change. */
  readChangedFile(workspace: Workspace, path: string): string | undefined;
  /** The host's rpm packages (`name.arch` → version), when rpm is installed. */
  rpmPackages(): Map<string, string> | undefined;
  /** Copies the upper layers to `folder`/root and lists `removed` in `folder`/removed.txt. */
  keep(workspace: Workspace, folder: string, removed: readonly string[], write: (path: string, text: string) => void): void;
  dispose(workspace: Workspace): void;
}

/** Whether this process runs inside a sandbox made by `run --sandbox` (its root is the overlay). */
export function runsInSandbox(): boolean {
  return isSandboxRoot(readText("/proc/self/mountinfo") ?? "");
}

export function linuxSandboxHost(env: NodeJS.ProcessEnv = process.env): SandboxHost {
  return {
    unavailable() {
      const missing = SANDBOX_PROGRAMS.filter((p) => findProgram(p, { PATH: `${env.PATH ?? ""}:/usr/sbin:/usr/bin:/sbin:/bin` }, false) === undefined);
      if (missing.length > 0) return `${missing.join(", ")} not found (util-linux provides them)`;
      const filesystems = readText("/proc/filesystems") ?? "";
      if (!/\toverlay$/m.test(filesystems)) {
        const probe = spawnSync("modprobe", ["overlay"], { stdio: "ignore" });
        if (probe.status !== 0 && !/\toverlay$/m.test(readText("/proc/filesystems") ?? "")) return "this kernel has no overlayfs";
      }
      return undefined;
    },
    prepare(logDirectory) {
      const parent = env.AWSTOE_SANDBOX_DIR !== undefined && env.AWSTOE_SANDBOX_DIR !== "" ? resolve(env.AWSTOE_SANDBOX_DIR) : WORK_PARENT;
      if (isProvided(parent)) throw new Error(`'${parent}' is under /proc, /sys, /dev or /run, which the sandbox replaces`);
      checkPathToFolder(parent, 0);
      const work = join(parent, `opentoe-sandbox-${randomUUID()}`);
      mkdirSync(work, { mode: PRIVATE_FOLDER_MODE }); // exclusive: an existing name (or a planted link) fails
      const { layers, skipped } = planLayers(parseMountInfo(readText("/proc/self/mountinfo") ?? ""), work, logDirectory);
      mkdirSync(join(work, "root"), { mode: PRIVATE_FOLDER_MODE });
      for (const layer of layers) {
        mkdirSync(join(work, "layers", String(layer.index), "upper"), { recursive: true, mode: PRIVATE_FOLDER_MODE });
        mkdirSync(join(work, "layers", String(layer.index), "work"), { mode: PRIVATE_FOLDER_MODE });
      }
      return { plan: { work, layers, skipped, logDirectory, dropCapabilities: DROPPED_CAPABILITIES } };
    },
    run(workspace, command) {
      const script = sandboxScript(workspace.plan, command.cwd);
      const child = spawn("unshare", ["--mount", "--uts", "--ipc", "--pid", "--fork", "--propagation", "private", "--kill-child", "--", "/bin/sh", "-c", script, "sh", command.executable, ...command.args], {
        cwd: "/",
        env: { ...command.env, PATH: `${command.env.PATH ?? ""}:/usr/sbin:/usr/bin:/sbin:/bin` },
        stdio: "inherit",
        // Its own group, so a signal to awstoe is passed to everything inside (see forward).
        detached: true,
      });
      // Ctrl-C, SIGTERM, SIGHUP: the sandboxed awstoe stops its step and writes the record, as a
      // run outside does; pid 1 then stops the rest and the namespace ends.
      const forward = (signal: NodeJS.Signals) => {
        if (child.pid !== undefined) {
          try {
            process.kill(-child.pid, signal);
          } catch {
            // already gone
          }
        }
      };
      const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
      for (const s of signals) process.on(s, forward);
      return new Promise((resolve) => {
        const done = (exitCode: number) => {
          for (const s of signals) process.off(s, forward);
          resolve({ exitCode, report: parseSandboxReport(readText(join(workspace.plan.work, "out")) ?? "") });
        };
        child.on("error", (error) => {
          process.stderr.write(`awstoe: cannot start unshare: ${error.message}\n`);
          done(1);
        });
        child.on("exit", (code, signal) => done(code ?? 128 + (signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : signal === "SIGINT" ? 2 : 1)));
      });
    },
    scan(workspace) {
      const observed: Observed[] = [];
      const warnings: string[] = [];
      for (const layer of workspace.plan.layers) {
        const upper = join(workspace.plan.work, "layers", String(layer.index), "upper");
        const opaque = opaqueFolders(upper);
        if (opaque === undefined) warnings.push("getfattr (package attr) is not installed: a folder that was deleted and made again is reported as changed entries, and what it held before is not listed as removed");
        walkUpper(upper, "", layer.mountPoint, opaque ?? new Set(), true, observed);
      }
      return { observed, warnings };
    },
    readHostFile: (path) => readText(path),
    readChangedFile(workspace, path) {
      const layer = [...workspace.plan.layers].reverse().find((l) => l.mountPoint === "/" || path === l.mountPoint || path.startsWith(`${l.mountPoint}/`));
      if (layer === undefined) return undefined;
      const rel = layer.mountPoint === "/" ? path : path.slice(layer.mountPoint.length);
      const file = join(workspace.plan.work, "layers", String(layer.index), "upper", rel);
      const stats = lstatOrUndefined(file);
      return stats?.isFile() ? readText(file) : undefined;
    },
    rpmPackages() {
      if (findProgram("rpm", env, false) === undefined) return undefined;
      const result = spawnSync("rpm", ["-qa", "--qf", "R %{NAME}.%{ARCH} %{EPOCH}:%{VERSION}-%{RELEASE}\\n"], { encoding: "utf8" });
      return result.status === 0 ? (parseSandboxReport(result.stdout).rpm ?? new Map()) : undefined;
    },
    keep(workspace, folder, removed, write) {
      const root = join(folder, "root");
      mkdirSync(root, { mode: 0o755 });
      for (const layer of workspace.plan.layers) {
        const upper = join(workspace.plan.work, "layers", String(layer.index), "upper");
        if (readdirSync(upper).length === 0) continue;
        const target = layer.mountPoint === "/" ? root : join(root, layer.mountPoint);
        mkdirSync(target, { recursive: true, mode: 0o755 });
        copyTree(upper, target);
      }
      write(join(folder, "removed.txt"), removed.map((p) => `${p}\n`).join(""));
    },
    dispose(workspace) {
      // The namespace has ended, so nothing is mounted on the folder any more: only plain files
      // (rmSync removes links, never what they point to).
      rmSync(workspace.plan.work, { recursive: true, force: true });
    },
  };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function factsOf(stats: Stats, path: string): Facts {
  const type: EntryType = stats.isFile() ? "file" : stats.isDirectory() ? "folder" : stats.isSymbolicLink() ? "symlink" : "other";
  return { type, mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid, size: type === "folder" ? 0 : stats.size, ...(type === "symlink" ? { target: readlinkSync(path) } : {}) };
}

const isWhiteout = (stats: Stats) => stats.isCharacterDevice() && stats.rdev === 0;

/**
 * The upper layer's folders marked opaque (deleted, then made again: nothing below them comes from
 * the host), by absolute path in the upper layer; undefined when getfattr is missing.
 */
function opaqueFolders(upper: string): Set<string> | undefined {
  const result = spawnSync("getfattr", ["-R", "-P", "-h", "--absolute-names", "-m", "^trusted\\.overlay\\.opaque$", "-d", "--", upper], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.error !== undefined) return undefined;
  const found = new Set<string>();
  let file: string | undefined;
  for (const line of result.stdout.split("\n")) {
    if (line.startsWith("# file: ")) file = line.slice(8).replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    else if (file !== undefined && /^trusted\.overlay\.opaque="y"$/.test(line)) found.add(file);
  }
  return found;
}

/**
 * Walks one upper layer. `hostComparable`: the host path of this folder is a real folder, so its
 * children's host paths name what was there before (never through a link).
 */
function walkUpper(upper: string, rel: string, mountPoint: string, opaque: ReadonlySet<string>, hostComparable: boolean, out: Observed[]): void {
  const here = join(upper, rel);
  const names = readdirSync(here);
  for (const name of names.sort()) {
    const childRel = `${rel}/${name}`;
    const path = mountPoint === "/" ? childRel : `${mountPoint}${childRel}`;
    const file = join(upper, childRel);
    const stats = lstatSync(file);
    const hostStats = hostComparable ? lstatOrUndefined(path) : undefined;
    const lower = hostStats === undefined ? undefined : lowerFacts(hostStats, path, isWhiteout(stats));
    if (isWhiteout(stats)) {
      out.push({ path, upper: { type: "other", mode: 0, uid: 0, gid: 0, size: 0, whiteout: true }, ...(lower ? { lower } : {}) });
      continue;
    }
    const facts = factsOf(stats, file);
    const entry: Observed = { path, upper: facts, ...(lower ? { lower } : {}) };
    if (facts.type === "file" && lower?.type === "file" && facts.size === lower.size) entry.sameContent = sameBytes(file, path);
    out.push(entry);
    if (facts.type === "folder") {
      const isOpaque = opaque.has(file);
      walkUpper(upper, childRel, mountPoint, opaque, lower?.type === "folder", out);
      if (isOpaque && lower?.type === "folder") hiddenByOpaque(path, file, out);
    }
  }
}

function lowerFacts(stats: Stats, path: string, measureTree: boolean): Observed["lower"] {
  const facts = factsOf(stats, path);
  if (!measureTree || facts.type !== "folder") return facts;
  const tree = { bytes: 0, entries: 0 };
  measure(path, stats.dev, tree);
  return { ...facts, treeBytes: tree.bytes, treeEntries: tree.entries };
}

/** Sizes of what a folder of the host holds, on its own file system, up to a bound. */
function measure(folder: string, dev: number, tree: { bytes: number; entries: number }): void {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) {
    if (tree.entries >= 1_000_000) return;
    const path = join(folder, name);
    const stats = lstatOrUndefined(path);
    if (stats === undefined || stats.dev !== dev) continue;
    tree.entries++;
    if (stats.isDirectory()) measure(path, dev, tree);
    else if (stats.isFile()) tree.bytes += stats.size;
  }
}

/** Host entries of an opaque folder that the upper layer does not have: removed. */
function hiddenByOpaque(path: string, upperFolder: string, out: Observed[]): void {
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return;
  }
  for (const name of names.sort()) {
    if (lstatOrUndefined(join(upperFolder, name)) !== undefined) continue;
    const hostPath = join(path, name);
    const stats = lstatOrUndefined(hostPath);
    if (stats !== undefined) out.push({ path: hostPath, lower: lowerFacts(stats, hostPath, true)! });
  }
}

function sameBytes(a: string, b: string): boolean {
  let fa: number | undefined;
  let fb: number | undefined;
  try {
    fa = openSync(a, constants.O_RDONLY | constants.O_NOFOLLOW);
    fb = openSync(b, constants.O_RDONLY | constants.O_NOFOLLOW);
    const ba = Buffer.alloc(64 * 1024);
    const bb = Buffer.alloc(64 * 1024);
    for (;;) {
      const na = readSync(fa, ba);
      const nb = readSync(fb, bb);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      if (na === 0) return true;
    }
  } catch {
    return false;
  } finally {
    if (fa !== undefined) closeSync(fa);
    if (fb !== undefined) closeSync(fb);
  }
}

/**
 * Copies an upper layer as plain files: folders, files (exclusively created: never through a
 * link), links as links, owners and modes kept; whiteouts are left out (removed.txt lists them),
 * as are device nodes and pipes.
 */
function copyTree(from: string, to: string): void {
  for (const name of readdirSync(from).sort()) {
    const source = join(from, name);
    const target = join(to, name);
    const stats = lstatSync(source);
    if (stats.isDirectory()) {
      if (lstatOrUndefined(target)?.isDirectory() !== true) mkdirSync(target, { mode: 0o700 });
      copyTree(source, target);
    } else if (stats.isFile()) copyFileSync(source, target, constants.COPYFILE_EXCL);
    else if (stats.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else continue;
    lchownSync(target, stats.uid, stats.gid);
    if (!stats.isSymbolicLink()) chmodSync(target, stats.mode & 0o7777);
  }
}
