/**
 * @module engine/sandbox-changes: what a `run --sandbox` changed, from what the platform layer
 * observed in the overlay's upper layers — the files added, changed and removed, grouped by
 * top-level folder; installed, removed and upgraded packages; what cannot work in a sandbox — and
 * the text and JSON forms of that report (docs/log-folder.md, changes.json). Pure.
 */

import type { EntryType, Facts, Observed } from "../platform/sandbox.ts";

export type { EntryType, Facts, Observed } from "../platform/sandbox.ts";

export type Aspect = "type" | "content" | "target" | "mode" | "owner";

export interface FileChange {
  path: string;
  change: "added" | "changed" | "removed";
  type: EntryType;
  /** For "changed": what differs. */
  what?: Aspect[];
  /** Bytes now (files and links); for a removed entry, sizeBefore instead. */
  size?: number;
  sizeBefore?: number;
  /** A removed folder: how many entries it held. */
  entries?: number;
  mode?: string;
  modeBefore?: string;
  /** uid:gid */
  owner?: string;
  ownerBefore?: string;
  target?: string;
  targetBefore?: string;
}

export interface FolderTotals {
  folder: string;
  added: number;
  changed: number;
  removed: number;
  /** Bytes of the added and changed files as they are now. */
  bytes: number;
  /** Bytes of the removed entries as they were. */
  bytesRemoved: number;
}

export interface PackageChanges {
  manager: "dpkg" | "rpm";
  installed: { name: string; version: string }[];
  removed: { name: string; version: string }[];
  /** Version changed (upgrade or downgrade). */
  upgraded: { name: string; from: string; to: string }[];
}

export type FindingKind = "reboot" | "systemd" | "kernel-module" | "sysctl" | "network" | "read-only" | "scan";

/** Something that cannot work, or was not fully checked, inside the sandbox. */
export interface Finding {
  kind: FindingKind;
  message: string;
}

/** The shape of changes.json (docs/log-folder.md). */
export interface ChangeReport {
  version: 1;
  executionId: string;
  /** The sandboxed awstoe's exit code. */
  exitCode: number;
  files: FileChange[];
  folders: FolderTotals[];
  packages: PackageChanges[];
  /** Still running when the run ended, and stopped. */
  stoppedProcesses: { pid: number; command: string }[];
  findings: Finding[];
  /** --sandbox-keep: where the changed files were copied. */
  kept?: string;
}

const octal = (mode: number) => `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
const owner = (f: Facts) => `${f.uid}:${f.gid}`;
const measured = (f: Facts) => (f.type === "folder" ? {} : { size: f.size });

/** Turns the scan into changes: entries whose content, type, target, mode and owner are all the same are not changes. */
export function classify(observed: readonly Observed[]): FileChange[] {
  const changes: FileChange[] = [];
  for (const o of observed) {
    const { upper, lower } = o;
    if (upper === undefined || upper.whiteout === true) {
      if (lower === undefined) continue; // a whiteout over nothing: nothing was removed
      changes.push({
        path: o.path,
        change: "removed",
        type: lower.type,
        sizeBefore: lower.treeBytes ?? lower.size,
        ...(lower.type === "folder" && lower.treeEntries !== undefined ? { entries: lower.treeEntries } : {}),
      });
      continue;
    }
    if (lower === undefined) {
      changes.push({ path: o.path, change: "added", type: upper.type, ...measured(upper), mode: octal(upper.mode), owner: owner(upper), ...(upper.target === undefined ? {} : { target: upper.target }) });
      continue;
    }
    const what: Aspect[] = [];
    if (upper.type !== lower.type) what.push("type");
    else if (upper.type === "file" && (upper.size !== lower.size || o.sameContent === false)) what.push("content");
    else if (upper.type === "symlink" && upper.target !== lower.target) what.push("target");
    if (upper.type !== "symlink" && (upper.mode & 0o7777) !== (lower.mode & 0o7777)) what.push("mode");
    if (owner(upper) !== owner(lower)) what.push("owner");
    if (what.length === 0) continue;
    changes.push({
      path: o.path,
      change: "changed",
      type: upper.type,
      what,
      ...measured(upper),
      ...(what.includes("content") || what.includes("type") ? { sizeBefore: lower.size } : {}),
      mode: octal(upper.mode),
      ...(what.includes("mode") ? { modeBefore: octal(lower.mode) } : {}),
      owner: owner(upper),
      ...(what.includes("owner") ? { ownerBefore: owner(lower) } : {}),
      ...(upper.target === undefined ? {} : { target: upper.target }),
      ...(what.includes("target") && lower.target !== undefined ? { targetBefore: lower.target } : {}),
    });
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The top-level folder a path belongs to: `/etc` for `/etc/x/y`; `/` for `/file`. */
export function topFolder(path: string): string {
  const parts = path.split("/").filter((p) => p !== "");
  return parts.length <= 1 ? "/" : `/${parts[0]}`;
}

export function folderTotals(changes: readonly FileChange[]): FolderTotals[] {
  const totals = new Map<string, FolderTotals>();
  for (const c of changes) {
    const folder = topFolder(c.path);
    const t = totals.get(folder) ?? { folder, added: 0, changed: 0, removed: 0, bytes: 0, bytesRemoved: 0 };
    t[c.change]++;
    if (c.change === "removed") t.bytesRemoved += c.sizeBefore ?? 0;
    else if (c.type === "file") t.bytes += c.size ?? 0;
    totals.set(folder, t);
  }
  return [...totals.values()].sort((a, b) => (a.folder < b.folder ? -1 : 1));
}

/**
 * The installed packages of a dpkg status file (/var/lib/dpkg/status): `name:arch` → version, for
 * stanzas whose Status ends in "installed" (config-files and half-installed count as gone).
 */
export function parseDpkgStatus(text: string): Map<string, string> {
  const installed = new Map<string, string>();
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, "m").exec(stanza)?.[1]?.trim();
    const name = field("Package");
    const status = field("Status");
    const version = field("Version");
    if (name === undefined || version === undefined || status === undefined || !/ installed$/.test(status)) continue;
    const arch = field("Architecture");
    installed.set(arch === undefined || arch === "all" ? name : `${name}:${arch}`, version);
  }
  return installed;
}

/** Compares two `name` → version tables. */
export function diffPackages(manager: PackageChanges["manager"], before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): PackageChanges {
  const changes: PackageChanges = { manager, installed: [], removed: [], upgraded: [] };
  for (const [name, version] of after) {
    const was = before.get(name);
    if (was === undefined) changes.installed.push({ name, version });
    else if (was !== version) changes.upgraded.push({ name, from: was, to: version });
  }
  for (const [name, version] of before) if (!after.has(name)) changes.removed.push({ name, version });
  for (const list of [changes.installed, changes.removed, changes.upgraded]) list.sort((a, b) => (a.name < b.name ? -1 : 1));
  return changes;
}

export function hasPackageChanges(p: PackageChanges): boolean {
  return p.installed.length + p.removed.length + p.upgraded.length > 0;
}

const UNIT_FOLDERS = ["/etc/systemd/system/", "/lib/systemd/system/", "/usr/lib/systemd/system/"];
const MODULE_PATHS = [/^\/(usr\/)?lib\/modules\//, /^\/etc\/modules-load\.d\//, /^\/etc\/modprobe\.d\//, /^\/etc\/modules$/];

/** Services enabled or installed, kernel modules added, read from the changes themselves. */
export function findingsFromChanges(changes: readonly FileChange[]): Finding[] {
  const findings: Finding[] = [];
  const enabled = changes.filter((c) => c.change !== "removed" && c.type === "symlink" && /^\/etc\/systemd\/system\/[^/]+\.(wants|requires)\/[^/]+$/.test(c.path));
  for (const c of enabled) {
    const [, target, unit] = /\/([^/]+)\.(?:wants|requires)\/([^/]+)$/.exec(c.path)!;
    findings.push({ kind: "systemd", message: `${unit} was enabled for ${target}: systemd does not run inside the sandbox, so it was not started here; on a real machine it starts at the next boot` });
  }
  const masked = changes.filter((c) => c.change !== "removed" && c.type === "symlink" && c.target === "/dev/null" && UNIT_FOLDERS.some((f) => c.path.startsWith(f)));
  for (const c of masked) findings.push({ kind: "systemd", message: `${c.path.slice(c.path.lastIndexOf("/") + 1)} was masked (${c.path} -> /dev/null)` });
  const units = changes.filter((c) => c.change === "added" && c.type === "file" && UNIT_FOLDERS.some((f) => c.path.startsWith(f)) && /\.(service|socket|timer|target|mount|path)$/.test(c.path));
  if (units.length > 0) findings.push({ kind: "systemd", message: `new systemd unit file(s): ${units.map((u) => u.path).join(", ")}: not loaded or started inside the sandbox` });
  const modules = changes.filter((c) => c.change !== "removed" && MODULE_PATHS.some((p) => p.test(c.path)));
  if (modules.length > 0) {
    const shown = modules.slice(0, 3).map((m) => m.path).join(", ");
    findings.push({ kind: "kernel-module", message: `kernel module files or settings changed (${shown}${modules.length > 3 ? `, … ${modules.length} in all` : ""}): modules cannot be loaded inside the sandbox` });
  }
  return findings;
}

/** What steps printed when they tried something the sandbox does not allow (console.log's text). */
const CONSOLE_SIGNS: { kind: FindingKind; pattern: RegExp; what: string }[] = [
  { kind: "systemd", pattern: /System has not been booted with systemd|Failed to connect to (the )?(system scope )?bus|Failed to (start|stop|restart|reload|enable|get D-Bus connection)[^\n]*|systemctl[^\n]*Host is down/, what: "a step asked systemd for something; systemd cannot be reached inside the sandbox" },
  { kind: "kernel-module", pattern: /modprobe: (ERROR|FATAL)[^\n]*|insmod: ERROR[^\n]*|Could not insert[^\n]*/, what: "a step tried to load a kernel module; that is not allowed inside the sandbox" },
  { kind: "reboot", pattern: /Failed to (reboot|power off|halt)[^\n]*|reboot: [^\n]*not permitted[^\n]*/i, what: "a step tried to restart the machine itself (not through a Reboot step or exit code 194); that is not allowed inside the sandbox" },
  { kind: "network", pattern: /RTNETLINK answers: Operation not permitted|iptables[^\n]*(Permission denied|you must be root)[^\n]*|nft[^\n]*Operation not permitted[^\n]*/, what: "a step tried to change the network (interfaces, routes, firewall), which is the machine's own; that is not allowed inside the sandbox" },
  { kind: "sysctl", pattern: /sysctl: [^\n]*(Read-only file system|permission denied)[^\n]*/i, what: "a step tried to change a kernel setting (sysctl); /proc/sys is read-only inside the sandbox" },
];

/** Findings from the run's console output: the first matching line of each kind, quoted. */
export function findingsFromConsole(text: string): Finding[] {
  const findings: Finding[] = [];
  for (const sign of CONSOLE_SIGNS) {
    const match = sign.pattern.exec(text);
    if (match === null) continue;
    const start = text.lastIndexOf("\n", match.index) + 1;
    const end = text.indexOf("\n", match.index);
    const line = text.slice(start, end < 0 ? undefined : end).trim().slice(0, 200);
    findings.push({ kind: sign.kind, message: `${sign.what}: "${line}"` });
  }
  return findings;
}

/** Sizes as people read them. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** How many entries of each folder the text shows; changes.json has them all. */
export const SHOWN_PER_FOLDER = 15;

function describe(c: FileChange): string {
  const kind = c.type === "folder" ? "folder" : c.type === "symlink" ? `link -> ${c.target ?? "?"}` : c.type;
  if (c.change === "added") return `${kind}${c.type === "file" ? ` ${formatBytes(c.size ?? 0)}` : ""}, ${c.mode} ${c.owner}`;
  if (c.change === "removed") return `${kind}${c.sizeBefore ? ` ${formatBytes(c.sizeBefore)}` : ""}${c.entries !== undefined ? `, ${c.entries} entries` : ""}`;
  const parts = (c.what ?? []).map((w) => {
    if (w === "content") return `content ${formatBytes(c.sizeBefore ?? 0)} -> ${formatBytes(c.size ?? 0)}`;
    if (w === "mode") return `mode ${c.modeBefore} -> ${c.mode}`;
    if (w === "owner") return `owner ${c.ownerBefore} -> ${c.owner}`;
    if (w === "target") return `target ${c.targetBefore ?? "?"} -> ${c.target ?? "?"}`;
    return `now a ${kind}`;
  });
  return parts.join(", ");
}

/** The report as text for stderr. */
export function formatChangeReport(report: ChangeReport, changesFile: string): string {
  const lines: string[] = [];
  const sign = { added: "+", changed: "~", removed: "-" } as const;
  if (report.files.length === 0) lines.push("sandbox: the run changed no file");
  else lines.push(`sandbox: what the run changed inside its copy of the machine (the machine itself is unchanged): ${report.files.length} file(s) and folder(s)`);
  for (const t of report.folders) {
    const bytes = [t.bytes > 0 ? `${formatBytes(t.bytes)} written` : "", t.bytesRemoved > 0 ? `${formatBytes(t.bytesRemoved)} removed` : ""].filter((b) => b !== "").join(", ");
    lines.push(`  ${t.folder}: ${t.added} added, ${t.changed} changed, ${t.removed} removed${bytes ? ` (${bytes})` : ""}`);
    const entries = report.files.filter((f) => topFolder(f.path) === t.folder);
    for (const c of entries.slice(0, SHOWN_PER_FOLDER)) lines.push(`    ${sign[c.change]} ${c.path}  ${describe(c)}`);
    if (entries.length > SHOWN_PER_FOLDER) lines.push(`    … and ${entries.length - SHOWN_PER_FOLDER} more`);
  }
  for (const p of report.packages) {
    lines.push(`  packages (${p.manager}): ${p.installed.length} installed, ${p.upgraded.length} upgraded, ${p.removed.length} removed`);
    for (const i of p.installed) lines.push(`    + ${i.name} ${i.version}`);
    for (const u of p.upgraded) lines.push(`    ~ ${u.name} ${u.from} -> ${u.to}`);
    for (const r of p.removed) lines.push(`    - ${r.name} ${r.version}`);
  }
  if (report.stoppedProcesses.length > 0) {
    lines.push(`  still running when the run ended, and stopped: ${report.stoppedProcesses.length} process(es)`);
    for (const p of report.stoppedProcesses) lines.push(`    pid ${p.pid} (in the sandbox): ${p.command}`);
  }
  if (report.findings.length > 0) {
    lines.push("  what the sandbox could not do or check:");
    for (const f of report.findings) lines.push(`    ! ${f.message}`);
  }
  if (report.kept !== undefined) lines.push(`  the changed files were copied to ${report.kept} (root/, removed.txt)`);
  lines.push(`  all of it: ${changesFile}`);
  return `${lines.join("\n")}\n`;
}
