/**
 * @module platform/boot-trigger: the post-reboot trigger of standalone mode (docs/reboot.md §4) — a resume
 * script in the state directory, registered to run at boot as root/SYSTEM (systemd unit, root
 * crontab `@reboot` line, scheduled task, launchd daemon), a record of exactly what was registered,
 * and its removal when awstoe starts again.
 *
 * Everything outside the state directory goes through `TriggerEnv`: the programs (systemctl,
 * crontab, schtasks) run through `exec` with `env`'s PATH, and the folders for unit files and
 * launchd plists can be moved with AWSTOE_SYSTEMD_UNIT_DIR / AWSTOE_LAUNCHD_DIR (for tests and
 * unusual layouts), so tests never touch the real boot configuration.
 */
import type { ExecRequest, ExecResult } from "../model/ports.ts";
import { lstatSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { writeFileDurably } from "../safe-fs/durable.ts";
import { checkTrustedFile, ensurePrivateFolder, UntrustedFolderError } from "../safe-fs/private-folder.ts";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { StateError, StepError, UsageError } from "../errors.ts";
import type { PlatformName } from "../model/platform.ts";

export type TriggerKind = "systemd" | "cron" | "schtasks" | "launchd";
export const TRIGGER_KINDS: readonly TriggerKind[] = ["systemd", "cron", "schtasks", "launchd"];

/** The exact awstoe command to run at boot, started in `cwd`. */
export interface ResumeCommand {
  executable: string;
  args: string[];
  cwd: string;
  /**
   * Variables the resume script sets before it runs the command. Boot-time jobs get a bare
   * environment (cron: PATH=/usr/bin:/bin, which has no `shutdown` on merged-/usr systems), so the
   * caller should pass at least the original run's PATH.
   */
  env?: Readonly<Record<string, string>>;
}

export interface TriggerEnv {
  platform: PlatformName;
  env: NodeJS.ProcessEnv;
  exec(request: ExecRequest): Promise<ExecResult>;
  /** Effective user id; undefined = ask the process (process.geteuid). Tests inject 0 or another id. */
  uid?: number;
}

/** The folder systemd creates when it is the running init (what sd_booted() checks). */
export const SYSTEMD_RUNNING_MARKER = "/run/systemd/system";
export const DEFAULT_SYSTEMD_UNIT_DIR = "/etc/systemd/system";
export const DEFAULT_LAUNCHD_DIR = "/Library/LaunchDaemons";
export const RECORD_FILE = "boot-trigger.json";
/** Task Scheduler rejects a /TR value longer than this (why the command lives in a script file). */
export const SCHTASKS_TR_LIMIT = 261;
/** The longest command line cmd.exe accepts. */
export const CMD_LINE_LIMIT = 8191;
/** Vixie cron and cronie ignore the rest of a longer line (MAX_COMMAND 1000, with the time fields). */
const CRON_LINE_LIMIT = 990;
/** Time allowed to systemctl/crontab/schtasks: they answer in well under a second when healthy. */
const COMMAND_TIMEOUT_MS = 60_000;

/**
 * Which trigger this machine gets. AWSTOE_BOOT_TRIGGER overrides (any of TRIGGER_KINDS, whatever
 * the platform); Linux: systemd when it is the running init (`/run/systemd/system` exists — Amazon
 * Linux 2023 has no cron by default), else cron; Windows: schtasks; macOS: launchd.
 */
export function chooseTriggerKind(t: TriggerEnv, systemdMarker: string = SYSTEMD_RUNNING_MARKER): TriggerKind {
  const forced = (t.env.AWSTOE_BOOT_TRIGGER ?? "").trim().toLowerCase();
  if (forced !== "") {
    if ((TRIGGER_KINDS as readonly string[]).includes(forced)) return forced as TriggerKind;
    throw new UsageError(`AWSTOE_BOOT_TRIGGER is '${t.env.AWSTOE_BOOT_TRIGGER}', which is not a boot trigger; use one of ${TRIGGER_KINDS.join(", ")}, or unset it to choose automatically.`);
  }
  if (t.platform === "windows") return "schtasks";
  if (t.platform === "macos") return "launchd";
  return isDirectory(systemdMarker) ? "systemd" : "cron";
}

// ---------------------------------------------------------------------------------------------
// Installing and removing

/**
 * Writes the resume script into `stateDirectory`, records the trigger in boot-trigger.json, then
 * registers it to run that script at boot as root/SYSTEM. Returns what was installed, for the log.
 * A trigger recorded earlier in the same state directory is removed first. Throws StepError when
 * it cannot be done (not root, a program missing or failing, a command the shell cannot carry);
 * then nothing of it is left behind.
 */
export async function installBootTrigger(kind: TriggerKind, executionId: string, command: ResumeCommand, stateDirectory: string, t: TriggerEnv): Promise<string> {
  if (executionId === "") throw new StepError("cannot register the boot trigger: the execution id is empty.");
  const ops = opsFor(kind);
  if (ops.needsRoot) requireRoot(t, "register a boot trigger that resumes the execution");
  const folder = resolve(stateDirectory);
  const scriptPath = join(folder, ops.scriptName);
  const scriptText = ops.scriptText(executionId, command);
  const plan = ops.plan({ version: 1, executionId, script: scriptPath, installedAt: new Date().toISOString() }, t);
  refuseReplaceable(folder, command, t);

  await removeBootTrigger(folder, t);
  writeWithCause(scriptPath, scriptText, 0o600, "write the resume script");
  // The record goes down before the trigger: a crash in between leaves a record of a trigger that
  // may not exist (removal copes), never a trigger nobody knows about that runs at every boot.
  writeWithCause(join(folder, RECORD_FILE), JSON.stringify(plan.record, null, 2) + "\n", 0o600, "write the boot trigger record");
  try {
    await ops.register(plan, t);
  } catch (error) {
    try {
      await ops.undo(plan.record, t);
    } catch {
      // Nothing more can be done here; the registration's error is the one to report.
    }
    try {
      forgetFiles(folder, plan.record);
    } catch {
      // The registration's error is the one to report; a leftover record is removed next start.
    }
    throw error;
  }
  return ops.describe(plan.record);
}

/**
 * Removes the trigger recorded in `<stateDirectory>/boot-trigger.json`, then the resume script and
 * the record. Returns what was removed, or undefined when nothing was recorded (checked with one
 * file open; no process is started). A trigger that is already gone is not an error.
 */
export async function removeBootTrigger(stateDirectory: string, t: TriggerEnv): Promise<string | undefined> {
  const folder = resolve(stateDirectory);
  const record = readRecord(join(folder, RECORD_FILE));
  if (record === undefined) return undefined;
  const ops = opsFor(record.kind);
  const existed = await ops.unregister(record, t);
  forgetFiles(folder, record);
  return `removed the boot trigger of execution ${record.executionId}: ${ops.describe(record)}${existed ? "" : " (it was already gone)"}`;
}

/**
 * What runs as root at boot — the resume script in the state folder and the awstoe program it
 * starts — must be out of other users' reach: a private state folder, and a program that only
 * root (or the running user) can replace, in folders only they can change.
 */
function refuseReplaceable(stateFolder: string, command: ResumeCommand, t: TriggerEnv): void {
  if (t.platform === "windows" || process.platform === "win32") return; // ACLs: not described by these rules
  const uid = t.uid ?? process.geteuid?.() ?? 0;
  try {
    ensurePrivateFolder(stateFolder, { uid });
    checkTrustedFile(command.executable, uid);
  } catch (error) {
    const why = error instanceof UntrustedFolderError ? error.message : reason(error);
    throw new StepError(`cannot register a boot trigger that resumes the execution: ${why}; keep the awstoe program and --state-directory in folders that only root can change (for example /usr/local/bin and /var/lib/awstoe)`);
  }
}

/** The arguments of `schtasks` that create the start-up task running `taskCommand` as SYSTEM. */
export function scheduledTaskCreateArgs(taskName: string, taskCommand: string): string[] {
  return ["/Create", "/TN", taskName, "/SC", "ONSTART", "/RU", "SYSTEM", "/RL", "HIGHEST", "/TR", taskCommand, "/F"];
}

/** The resume script, then the record last: a crash in between leaves the record to retry with. */
function forgetFiles(folder: string, record: TriggerRecord): void {
  removeWithCause(record.script, "delete the resume script");
  removeWithCause(join(folder, RECORD_FILE), "delete the boot trigger record");
}

// ---------------------------------------------------------------------------------------------
// The record of what was installed

/** What every record holds, whatever the kind. */
interface RecordBase {
  version: 1;
  executionId: string;
  /** The resume script's absolute path. */
  script: string;
  installedAt: string;
}

type SystemdRecord = RecordBase & { kind: "systemd"; unit: string; unitFile: string };
type CronRecord = RecordBase & { kind: "cron"; marker: string };
type SchtasksRecord = RecordBase & { kind: "schtasks"; taskName: string };
type LaunchdRecord = RecordBase & { kind: "launchd"; plistFile: string; label: string };
type TriggerRecord = SystemdRecord | CronRecord | SchtasksRecord | LaunchdRecord;

function readRecord(path: string): TriggerRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StateError(`cannot read the boot trigger record ${path}: ${reason(error)}; fix its permissions or delete it and remove any opentoe-resume trigger by hand.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!isRecord(value)) {
    throw new StateError(`the boot trigger record ${path} is not one awstoe wrote (corrupt or edited); delete it and remove any opentoe-resume trigger by hand.`);
  }
  return value;
}

/**
 * Checks a parsed record before anything is deleted on its word: the names must be ours, so an
 * edited record cannot make root delete some other file.
 */
function isRecord(value: unknown): value is TriggerRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  if (r.version !== 1 || !hasText(r, "executionId") || !hasText(r, "script") || !isAbsolute(r.script as string)) return false;
  if (!/^resume\.(sh|cmd)$/.test(basename(r.script as string))) return false;
  return (TRIGGER_KINDS as readonly unknown[]).includes(r.kind) && opsFor(r.kind as TriggerKind).isOurs(r);
}

/** Whether `r[key]` is a string other than "". */
function hasText(r: Record<string, unknown>, key: string): boolean {
  return typeof r[key] === "string" && r[key] !== "";
}

// ---------------------------------------------------------------------------------------------
// One object per trigger kind

/** What `plan` works out (and checks) before anything is written. */
interface TriggerPlan<R extends TriggerRecord> {
  record: R;
  /** What `register` installs: the unit file, the crontab line, the task's /TR value, the plist. */
  text: string;
}

/** Everything that differs between systemd, cron, schtasks and launchd. */
interface TriggerKindOps<R extends TriggerRecord> {
  /** Whether registering needs root (Windows reports missing rights when schtasks runs). */
  needsRoot: boolean;
  /** The resume script's name in the state folder, and its text. */
  scriptName: string;
  scriptText(executionId: string, command: ResumeCommand): string;
  /** The record and what to install, from the fields every record has. */
  plan(base: RecordBase, t: TriggerEnv): TriggerPlan<R>;
  /** Puts the trigger into the boot configuration. */
  register(plan: TriggerPlan<R>, t: TriggerEnv): Promise<void>;
  /**
   * After a failed registration, takes back what got done (the caller ignores its failures: the
   * registration's error is the one reported).
   */
  undo(record: R, t: TriggerEnv): Promise<void>;
  /** Takes the trigger out of the boot configuration; false when it was not there. */
  unregister(record: R, t: TriggerEnv): Promise<boolean>;
  /** The trigger in a few words, for the log. */
  describe(record: R): string;
  /** Whether the kind's own fields of a parsed record are names awstoe makes. */
  isOurs(r: Record<string, unknown>): boolean;
}

const SH_SCRIPT = { scriptName: "resume.sh", scriptText: shResumeScript };

const systemdOps: TriggerKindOps<SystemdRecord> = {
  needsRoot: true,
  ...SH_SCRIPT,
  plan(base, t) {
    const unit = `opentoe-resume-${shortId(base.executionId)}.service`;
    const unitFile = join(overridableDir(t.env.AWSTOE_SYSTEMD_UNIT_DIR, DEFAULT_SYSTEMD_UNIT_DIR), unit);
    return { record: { ...base, kind: "systemd", unit, unitFile }, text: systemdUnit(base.executionId, base.script) };
  },
  async register({ record, text }, t) {
    writeWithCause(record.unitFile, text, 0o644, "write the systemd unit");
    await run(t, "systemctl", ["daemon-reload"], "reload systemd after writing the resume unit");
    await run(t, "systemctl", ["enable", record.unit], `enable the systemd unit ${record.unit}`);
  },
  async undo(record, t) {
    // A written unit file, perhaps half enabled.
    if (!exists(record.unitFile)) return;
    await t.exec(request(t, "systemctl", ["disable", record.unit]));
    rmSync(record.unitFile, { force: true });
    await t.exec(request(t, "systemctl", ["daemon-reload"]));
  },
  async unregister(record, t) {
    if (!exists(record.unitFile)) return false;
    await run(t, "systemctl", ["disable", record.unit], `disable the systemd unit ${record.unit}`);
    removeWithCause(record.unitFile, "delete the systemd unit");
    await run(t, "systemctl", ["daemon-reload"], "reload systemd after deleting the resume unit");
    return true;
  },
  describe: (record) => `systemd unit ${record.unitFile}`,
  isOurs: (r) =>
    hasText(r, "unit") && /^opentoe-resume-[A-Za-z0-9_-]+\.service$/.test(r.unit as string) && hasText(r, "unitFile") && basename(r.unitFile as string) === r.unit && isAbsolute(r.unitFile as string),
};

const cronOps: TriggerKindOps<CronRecord> = {
  needsRoot: true,
  ...SH_SCRIPT,
  plan(base) {
    const marker = `opentoe-resume ${base.executionId.replace(/[^A-Za-z0-9._:-]/g, "_")}`;
    return { record: { ...base, kind: "cron", marker }, text: cronLine(base.script, marker) };
  },
  async register({ record, text }, t) {
    const kept = withoutMarker(await readCrontab(t), record.marker);
    const crontab = (kept === "" || kept.endsWith("\n") ? kept : kept + "\n") + text + "\n";
    await run(t, "crontab", ["-"], "install the root crontab with the @reboot line", crontab);
  },
  // crontab changes nothing when it fails.
  async undo() {},
  async unregister(record, t) {
    const current = await readCrontab(t);
    const kept = withoutMarker(current, record.marker);
    if (kept === current) return false;
    await run(t, "crontab", ["-"], "remove the @reboot line from the root crontab", kept);
    return true;
  },
  describe: (record) => `root crontab @reboot line marked '# ${record.marker}'`,
  isOurs: (r) => hasText(r, "marker") && /^opentoe-resume [A-Za-z0-9._:-]+$/.test(r.marker as string),
};

const schtasksOps: TriggerKindOps<SchtasksRecord> = {
  needsRoot: false,
  scriptName: "resume.cmd",
  scriptText: cmdResumeScript,
  plan(base) {
    return { record: { ...base, kind: "schtasks", taskName: `opentoe-resume-${shortId(base.executionId)}` }, text: scheduledTaskCommand(base.script) };
  },
  async register({ record, text }, t) {
    await run(t, "schtasks", scheduledTaskCreateArgs(record.taskName, text), `create the scheduled task ${record.taskName}`);
  },
  // schtasks changes nothing when it fails.
  async undo() {},
  async unregister(record, t) {
    const deleted = await t.exec(request(t, "schtasks", ["/Delete", "/TN", record.taskName, "/F"]));
    if (deleted.spawnError === undefined && deleted.exitCode === 0) return true;
    // Its message is localised; asking whether the task exists tells "already gone" reliably.
    const query = await t.exec(request(t, "schtasks", ["/Query", "/TN", record.taskName]));
    if (query.spawnError === undefined && query.exitCode !== 0) return false;
    throw failure(`delete the scheduled task ${record.taskName}`, "schtasks", deleted);
  },
  describe: (record) => `scheduled task ${record.taskName} (at start-up, as SYSTEM)`,
  isOurs: (r) => hasText(r, "taskName") && /^opentoe-resume-[A-Za-z0-9_-]+$/.test(r.taskName as string),
};

const launchdOps: TriggerKindOps<LaunchdRecord> = {
  needsRoot: true,
  ...SH_SCRIPT,
  plan(base, t) {
    const label = `com.opentoe.resume.${shortId(base.executionId)}`;
    const plistFile = join(overridableDir(t.env.AWSTOE_LAUNCHD_DIR, DEFAULT_LAUNCHD_DIR), `${label}.plist`);
    // WorkingDirectory is the state folder, which exists for sure; the script cds on from there.
    return { record: { ...base, kind: "launchd", label, plistFile }, text: launchdPlist(label, base.script, dirname(base.script)) };
  },
  async register({ record, text }) {
    // launchd loads /Library/LaunchDaemons at boot; loading it now would start awstoe at once.
    writeWithCause(record.plistFile, text, 0o644, "write the launchd daemon");
  },
  async undo(record) {
    rmSync(record.plistFile, { force: true });
  },
  async unregister(record) {
    // No launchctl: the job running now is awstoe itself, and unloading it would kill us.
    if (!exists(record.plistFile)) return false;
    removeWithCause(record.plistFile, "delete the launchd daemon");
    return true;
  },
  describe: (record) => `launchd daemon ${record.plistFile}`,
  isOurs: (r) =>
    hasText(r, "label") && /^com\.opentoe\.resume\.[A-Za-z0-9_-]+$/.test(r.label as string) && hasText(r, "plistFile") && basename(r.plistFile as string) === `${r.label}.plist` && isAbsolute(r.plistFile as string),
};

const KIND_OPS: { [K in TriggerKind]: TriggerKindOps<Extract<TriggerRecord, { kind: K }>> } = {
  systemd: systemdOps,
  cron: cronOps,
  schtasks: schtasksOps,
  launchd: launchdOps,
};

/** The operations of one kind; they are only ever given plans and records of that kind. */
function opsFor(kind: TriggerKind): TriggerKindOps<TriggerRecord> {
  return KIND_OPS[kind] as unknown as TriggerKindOps<TriggerRecord>;
}

// ---------------------------------------------------------------------------------------------
// The four trigger formats

/**
 * The unit: started once at boot after the network is up (S3 and ARN documents need it).
 * Type=simple rather than oneshot: a oneshot would hold multi-user.target, and everything ordered
 * after it (cloud-init's final stage on Debian/Ubuntu), until the resumed build ends, hours later;
 * Type=exec would say the same but needs systemd 240 (Amazon Linux 2 and RHEL 7 have 219).
 */
export function systemdUnit(executionId: string, script: string): string {
  return [
    `# Written by awstoe for execution ${printable(executionId)}: runs it again after the reboot so it resumes.`,
    "# awstoe disables and deletes this unit when it starts again.",
    "[Unit]",
    `Description=awstoe: resume execution ${shortId(executionId)} after a reboot`,
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=/bin/sh ${systemdQuote(script)}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/**
 * One word of ExecStart: systemd splits on spaces and reads C escapes inside double quotes, and
 * expands `%` specifiers and `$` variables anywhere, so those are doubled.
 */
export function systemdQuote(word: string): string {
  refuseCharacters(word, /[\0-\x1f\x7f]/, "a systemd unit line", "the resume script path");
  return `"${word.replace(/[\\"]/g, (c) => `\\${c}`).replace(/%/g, "%%").replace(/\$/g, "$$$$")}"`;
}

/**
 * `@reboot /bin/sh '<script>' # <marker>`. Cron passes the line to sh, which ignores the comment;
 * the marker lets removal find the line. Cron turns `%` into a line break (and its `\%` escape
 * cannot follow a backslash), so a path with `%` is refused rather than half-escaped.
 */
function cronLine(script: string, marker: string): string {
  refuseCharacters(script, /[\0-\x1f\x7f%]/, "a crontab line", "the resume script path");
  const line = `@reboot /bin/sh ${shQuote(script)} # ${marker}`;
  if (Buffer.byteLength(line) > CRON_LINE_LIMIT) {
    throw new StepError(`cannot register the boot trigger: the crontab line would be ${Buffer.byteLength(line)} bytes and cron reads at most ${CRON_LINE_LIMIT}; use a shorter --state-directory path.`);
  }
  return line;
}

/** The crontab without our line(s); every other line, and the final newline or its absence, unchanged. */
export function withoutMarker(crontab: string, marker: string): string {
  const ending = ` # ${marker}`;
  const lines = crontab.split("\n");
  const kept = lines.filter((line) => !line.replace(/[ \t\r]+$/, "").endsWith(ending));
  if (kept.length === lines.length) return crontab;
  return kept.length === 1 && kept[0] === "" ? "" : kept.join("\n");
}

/** The current crontab: "no crontab for <user>" (exit 1) is an empty one. */
async function readCrontab(t: TriggerEnv): Promise<string> {
  const result = await t.exec(request(t, "crontab", ["-l"]));
  if (result.spawnError === undefined && result.exitCode === 1 && /no crontab for/i.test(result.stderr)) return "";
  if (result.spawnError !== undefined || result.exitCode !== 0) throw failure("read the root crontab", "crontab", result);
  if (result.stdoutTruncated || result.stdout.includes("\uFFFD")) {
    // Rewriting it would replace bytes that are not UTF-8 (or lose its head): other people's lines.
    throw new StepError("cannot change the root crontab safely: it is too large or contains bytes that are not UTF-8; fix it by hand or set AWSTOE_BOOT_TRIGGER=systemd.");
  }
  return result.stdout;
}

/**
 * The /TR value: `cmd.exe /d /s /c ""<script>""`. With /s, cmd strips exactly the first and the
 * last quote of what follows /c, leaving the path in one pair of quotes whatever it holds (spaces,
 * `(`, `&`); without /s that depends on a rule of five conditions. /d skips AutoRun commands.
 * `%` is refused: cmd would expand `%NAME%` in the path.
 */
export function scheduledTaskCommand(script: string): string {
  refuseCharacters(script, /[\0-\x1f"%]/, "a Task Scheduler command", "the resume script path");
  const value = `cmd.exe /d /s /c ""${script}""`;
  if (value.length > SCHTASKS_TR_LIMIT) {
    throw new StepError(`cannot register the boot trigger: the scheduled task command would be ${value.length} characters and Task Scheduler allows ${SCHTASKS_TR_LIMIT}; use a shorter --state-directory path.`);
  }
  return value;
}

/** A LaunchDaemon run once when it is loaded at boot, as root. */
export function launchdPlist(label: string, script: string, workingDirectory: string): string {
  const string = (value: string): string => `<string>${xmlText(value)}</string>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    "<!-- Written by awstoe: resumes an execution after the reboot; awstoe deletes it when it starts again. -->",
    '<plist version="1.0">',
    "<dict>",
    `  <key>Label</key>${string(label)}`,
    `  <key>ProgramArguments</key><array>${string("/bin/sh")}${string(script)}</array>`,
    `  <key>WorkingDirectory</key>${string(workingDirectory)}`,
    "  <key>RunAtLoad</key><true/>",
    "</dict>",
    "</plist>",
    "",
  ].join("\n");
}

function xmlText(value: string): string {
  // XML 1.0 cannot carry these control characters at all, escaped or not.
  refuseCharacters(value, /[\0-\x08\x0b\x0c\x0e-\x1f]/, "a launchd plist", "the path");
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// ---------------------------------------------------------------------------------------------
// Resume scripts and quoting

/**
 * resume.sh: set the variables, cd to the original folder, exec the command. Every word is in
 * single quotes, which pass every byte but NUL through sh unchanged.
 */
export function shResumeScript(executionId: string, command: ResumeCommand): string {
  const what = (name: string) => `the resume command's ${name}`;
  const lines = [
    "#!/bin/sh",
    `# Written by awstoe for execution ${printable(executionId)}: runs it again after the reboot so it resumes.`,
    "# awstoe deletes this file and its boot trigger when it starts again.",
  ];
  for (const [name, value] of envEntries(command)) lines.push(`${name}=${shQuote(value, what(`variable ${name}`))}; export ${name}`);
  lines.push(`cd ${shQuote(command.cwd, what("working directory"))} || exit 1`);
  const words = [command.executable, ...command.args].map((word, i) => shQuote(word, i === 0 ? what("program") : what(`argument ${i}`)));
  lines.push(`exec ${words.join(" ")}`, "");
  return lines.join("\n");
}

/** POSIX sh single quotes: everything literal; a `'` becomes `'\''`. */
export function shQuote(word: string, what = "a word"): string {
  refuseCharacters(word, /\0/, "a shell script", what);
  return `'${word.replace(/'/g, "'\\''")}'`;
}

/**
 * resume.cmd, read by cmd.exe line by line. `chcp 65001` makes it read the following lines as
 * UTF-8 (the file is UTF-8); when they hold non-ASCII text and that fails, the script stops rather
 * than run garbled arguments. Failures are tested with `if errorlevel 1` after `(call )` cleared
 * it (a successful `cd` leaves ERRORLEVEL alone), not with `||`, which Wine's cmd gets wrong.
 * Delayed expansion is switched off so `!` is plain, and each argument is quoted for the program's
 * own command-line parser, then escaped for cmd (cmdArgument).
 */
export function cmdResumeScript(executionId: string, command: ResumeCommand): string {
  const what = (name: string) => `the resume command's ${name}`;
  const body = [...envEntries(command).map(([name, value]) => `set ^"${name}=${cmdEscape(value, what(`variable ${name}`))}^"`)];
  body.push("(call )", `cd /d ${cmdPath(command.cwd, what("working directory"))}`, "if errorlevel 1 exit /b 1");
  const words = [cmdPath(command.executable, what("program")), ...command.args.map((arg, i) => cmdArgument(arg, what(`argument ${i + 1}`)))];
  body.push(words.join(" "), "exit /b %ERRORLEVEL%");
  const needsUtf8 = body.some((line) => /[^\x00-\x7f]/.test(line));
  const lines = [
    "@echo off",
    `rem Written by awstoe for execution ${executionId.replace(/[^A-Za-z0-9._:-]/g, "?")}: runs it again after the reboot so it resumes.`,
    "rem awstoe deletes this file and its scheduled task when it starts again.",
    "setlocal DisableDelayedExpansion",
    "chcp 65001 >nul",
    ...(needsUtf8 ? ["if errorlevel 1 exit /b 1"] : []),
    ...body,
    "",
  ];
  for (const line of lines) {
    if (line.length > CMD_LINE_LIMIT) throw new StepError(`cannot write the resume script: a line of it would be ${line.length} characters and cmd.exe reads at most ${CMD_LINE_LIMIT}; shorten the command's arguments.`);
  }
  return lines.join("\r\n");
}

/**
 * One argument for resume.cmd. First the quoting every Windows program's parser
 * (CommandLineToArgvW, the C runtime) undoes: in double quotes, backslashes doubled only before a
 * quote, `"` as `\"`. Then cmd's layer: cmd's own idea of "inside quotes" would go wrong at `\"`,
 * so no quote is left unescaped: every cmd special character, quotes included, gets a caret, and
 * `%` becomes `%%` (a caret does not protect `%` in a batch file). Line breaks and other control
 * characters cannot be carried by a batch line and are refused.
 */
export function cmdArgument(arg: string, what = "an argument"): string {
  return cmdEscape(windowsQuote(arg), what);
}

/** CommandLineToArgvW quoting of one argument, always in double quotes. */
export function windowsQuote(arg: string): string {
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === "\\") {
      backslashes++;
      continue;
    }
    out += ch === '"' ? "\\".repeat(backslashes * 2 + 1) + '"' : "\\".repeat(backslashes) + ch;
    backslashes = 0;
  }
  return out + "\\".repeat(backslashes * 2) + '"';
}

/** Makes every character of `text` literal on a batch-file line outside quotes. */
function cmdEscape(text: string, what: string): string {
  refuseCharacters(text, /[\0-\x08\x0a-\x1f]/, "a cmd.exe script", what);
  return text.replace(/[\^&|<>()"%]/g, (c) => (c === "%" ? "%%" : `^${c}`));
}

/** A file or folder name in real double quotes (cmd must see the program name as one token). */
function cmdPath(path: string, what: string): string {
  refuseCharacters(path, /[\0-\x1f"]/, "a cmd.exe script", what);
  return `"${path.replace(/%/g, "%%")}"`;
}

function envEntries(command: ResumeCommand): [string, string][] {
  const entries = Object.entries(command.env ?? {});
  for (const [name] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new StepError(`cannot write the resume script: '${printable(name)}' is not a usable environment variable name.`);
  }
  return entries;
}

/** Throws a StepError naming the first character of `text` that `pattern` matches, if any. */
function refuseCharacters(text: string, pattern: RegExp, where: string, what: string): void {
  const found = pattern.exec(text);
  if (found === null) return;
  const code = found[0].codePointAt(0)!;
  const shown = code < 0x20 || code === 0x7f ? `control character U+${code.toString(16).toUpperCase().padStart(4, "0")}` : `'${found[0]}'`;
  throw new StepError(`cannot register the boot trigger: ${what} contains ${shown}, which ${where} cannot carry unchanged; avoid it in the command or paths awstoe runs with.`);
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** The first 8 characters of the id, with anything unsafe in unit, task and label names as `_`. */
export function shortId(executionId: string): string {
  return executionId.slice(0, 8).replace(/[^A-Za-z0-9_-]/g, "_");
}

function printable(text: string): string {
  return text.replace(/[\0-\x1f\x7f]/g, "?");
}

function overridableDir(value: string | undefined, fallback: string): string {
  return value === undefined || value.trim() === "" ? fallback : resolve(value);
}

/** Throws unless awstoe runs as root (POSIX; Windows reports missing rights when the command runs). */
export function requireRoot(t: TriggerEnv, purpose: string): void {
  if (t.platform === "windows") return;
  const uid = t.uid ?? process.geteuid?.();
  if (uid !== undefined && uid !== 0) {
    throw new StepError(`cannot ${purpose}: that needs root and awstoe runs as user id ${uid}; run awstoe as root (sudo).`);
  }
}

function request(t: TriggerEnv, command: string, args: string[], input?: string): ExecRequest {
  return { command, args, env: t.env, timeoutMs: COMMAND_TIMEOUT_MS, ...(input === undefined ? {} : { input }) };
}

async function run(t: TriggerEnv, command: string, args: string[], purpose: string, input?: string): Promise<void> {
  const result = await t.exec(request(t, command, args, input));
  if (result.spawnError !== undefined || result.exitCode !== 0) throw failure(purpose, command, result);
}

/** A failed program as one sentence: what we tried, how it ended, what it said. */
export function failure(purpose: string, command: string, result: ExecResult): StepError {
  const details = { ...(result.exitCode === null ? {} : { exitCode: result.exitCode }), stdoutTail: result.stdout, stderrTail: result.stderr };
  if (result.spawnError !== undefined) return new StepError(`cannot ${purpose}: ${result.spawnError}; is ${command} installed and on PATH?`, details);
  const said = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-3).join(" ").trim();
  return new StepError(`cannot ${purpose}: ${command} ${howItEnded(result)}${said === "" ? "" : `: ${said}`}`, details);
}

function howItEnded(result: ExecResult): string {
  if (result.timedOut) return `did not finish within ${COMMAND_TIMEOUT_MS / 1000} s`;
  if (result.exitCode === null) return `was killed by ${result.signal}`;
  return `exited with code ${result.exitCode}`;
}

function writeWithCause(path: string, text: string, mode: number, purpose: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileDurably(path, text, { mode });
  } catch (error) {
    throw new StepError(`cannot ${purpose} ${path}: ${reason(error)}.`);
  }
}

function removeWithCause(path: string, purpose: string): void {
  try {
    rmSync(path, { force: true });
  } catch (error) {
    throw new StepError(`cannot ${purpose} ${path}: ${reason(error)}.`);
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e?.code === "EACCES" || e?.code === "EPERM") return "permission denied (awstoe must run as root)";
  if (e?.code === "ENOENT") return "no such file or folder";
  if (e?.code === "ENOSPC") return "no space left on the device";
  if (e?.code === "EROFS") return "the filesystem is read-only";
  return e?.message ?? String(error);
}
