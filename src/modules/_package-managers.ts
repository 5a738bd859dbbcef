/**
 * @module modules/_package-managers: the Linux package managers UpdateOS drives, as data.
 *
 * One table row per manager says how it is recognised, which command lines update everything,
 * update only some packages, and keep others back, which exit codes mean what, and how to learn
 * afterwards whether the machine must restart. update-os.ts runs the rows; nothing here starts a
 * process, so the command lines can be read (and tested) as plain data.
 */
import { existsSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/** A program found on PATH (the manager or one of its helpers) and the arguments it gets. */
export interface CommandLine {
  tool: string;
  args: string[];
}

/**
 * How excluded packages are kept back.
 * - `option`: the update command itself takes them (`--exclude=`), nothing outlives the command.
 * - `hold`: the manager has no such option, so the packages are held (locked) for the run and
 *   released afterwards, success or not. Only holds this run added are released: a package the
 *   administrator held before stays held.
 */
export type Exclusion =
  | { kind: "option"; args(names: readonly string[]): string[] }
  | {
      kind: "hold";
      /** What the hold is called in messages ("hold", "lock"). */
      noun: string;
      list: CommandLine;
      /** The held names in the list command's standard output. */
      parseList(stdout: string): string[];
      hold(names: readonly string[]): CommandLine;
      release(names: readonly string[]): CommandLine;
    };

/**
 * How to learn, after the update, whether the machine must restart.
 * - `marker-file`: a file the packages' scripts create (Debian/Ubuntu's /run/reboot-required).
 * - `command`: the first candidate program found on PATH answers with `rebootExitCode`; when
 *   `outputPattern` is set its output must match too, because an exit code alone can also mean
 *   "no such command" (dnf without the needs-restarting plugin exits 1 as well).
 */
export type RebootCheck =
  | { kind: "marker-file"; path: string }
  | { kind: "command"; candidates: CommandLine[]; rebootExitCode: number; outputPattern?: RegExp; missingHint: string };

export interface PackageManager {
  name: "dnf" | "yum" | "apt-get" | "zypper";
  /** The program looked for on PATH; finding it (with its database, below) selects the manager. */
  program: string;
  /**
   * Files of which at least one must exist (under the system root) for this manager to own the
   * system's packages. Debian ships dnf, yum-less rpm and zypper as ordinary packages for building
   * other distributions' images; without this check an apt system that has dnf installed would be
   * "updated" by dnf, which would do nothing and succeed.
   */
  database: string[];
  /** Extra environment for every command of this manager (no prompts, no pagers). */
  env: Record<string, string>;
  /** Run first, on its own: fetch the current package lists (apt-get only). */
  refresh?: string[];
  upgradeAll: string[];
  upgradeOnly(names: readonly string[]): string[];
  exclusion: Exclusion;
  /** Non-zero exit codes of the update that still mean success, and which of them ask for a restart. */
  successCodes: number[];
  rebootCodes: number[];
  /** An exit code that means "I updated myself; run me again" (zypper's 103). */
  runAgainCode?: number;
  rebootCheck: RebootCheck;
}

/** The RPM database, wherever the distribution keeps it (RHEL/Amazon Linux, Fedora 36+ and SUSE). */
const RPM_DATABASE = ["rpmdb.sqlite", "Packages", "Packages.db"].flatMap((file) => [`/var/lib/rpm/${file}`, `/usr/lib/sysimage/rpm/${file}`]);

/** Keep every configuration file the administrator changed and never ask (dpkg's own choice on new defaults). */
const DPKG_KEEP_CONFIG = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"];

/** needs-restarting -r: exit 1 with "Reboot is required …" when a core package changed since boot. */
const NEEDS_RESTARTING_PATTERN = /reboot is required/i;

const dnf: PackageManager = {
  name: "dnf",
  program: "dnf",
  database: RPM_DATABASE,
  env: {},
  upgradeAll: ["-y", "update"],
  upgradeOnly: (names) => ["-y", "update", ...names],
  exclusion: { kind: "option", args: (names) => names.map((name) => `--exclude=${name}`) },
  successCodes: [],
  rebootCodes: [],
  rebootCheck: {
    kind: "command",
    // The standalone program (dnf-utils) first; otherwise dnf's own plugin command (dnf-plugins-core, built into dnf5).
    candidates: [
      { tool: "needs-restarting", args: ["-r"] },
      { tool: "dnf", args: ["needs-restarting", "-r"] },
    ],
    rebootExitCode: 1,
    outputPattern: NEEDS_RESTARTING_PATTERN,
    missingHint: "install dnf-plugins-core (dnf needs-restarting) so UpdateOS can tell",
  },
};

const yum: PackageManager = {
  ...dnf,
  name: "yum",
  program: "yum",
  rebootCheck: {
    kind: "command",
    candidates: [{ tool: "needs-restarting", args: ["-r"] }],
    rebootExitCode: 1,
    outputPattern: NEEDS_RESTARTING_PATTERN,
    missingHint: "install yum-utils (needs-restarting) so UpdateOS can tell",
  },
};

const aptGet: PackageManager = {
  name: "apt-get",
  program: "apt-get",
  database: ["/var/lib/dpkg/status"],
  // No debconf questions, no apt-listchanges pager waiting for a key.
  env: { DEBIAN_FRONTEND: "noninteractive", APT_LISTCHANGES_FRONTEND: "none" },
  refresh: ["update"],
  upgradeAll: ["-y", ...DPKG_KEEP_CONFIG, "upgrade"],
  upgradeOnly: (names) => ["-y", ...DPKG_KEEP_CONFIG, "install", "--only-upgrade", ...names],
  exclusion: {
    kind: "hold",
    noun: "hold",
    list: { tool: "apt-mark", args: ["showhold"] },
    parseList: (stdout) => stdout.split("\n").map((line) => line.trim()).filter((line) => line !== ""),
    hold: (names) => ({ tool: "apt-mark", args: ["hold", ...names] }),
    release: (names) => ({ tool: "apt-mark", args: ["unhold", ...names] }),
  },
  successCodes: [],
  rebootCodes: [],
  // /var/run is a symlink to /run on every Debian and Ubuntu since 2012; reading /run directly also
  // keeps a chroot's absolute /var/run link from pointing at the host's file.
  rebootCheck: { kind: "marker-file", path: "/run/reboot-required" },
};

const zypper: PackageManager = {
  name: "zypper",
  program: "zypper",
  database: RPM_DATABASE,
  env: {},
  upgradeAll: ["--non-interactive", "update"],
  upgradeOnly: (names) => ["--non-interactive", "update", ...names],
  // `zypper update` has no exclude option; package locks are zypper's way to keep packages back.
  exclusion: {
    kind: "hold",
    noun: "lock",
    list: { tool: "zypper", args: ["--non-interactive", "locks"] },
    parseList: parseZypperLocks,
    hold: (names) => ({ tool: "zypper", args: ["--non-interactive", "addlock", ...names] }),
    release: (names) => ({ tool: "zypper", args: ["--non-interactive", "removelock", ...names] }),
  },
  // 100/101: updates/security updates available (informational), 102: installed, restart needed.
  successCodes: [100, 101, 102],
  rebootCodes: [102],
  runAgainCode: 103,
  rebootCheck: {
    kind: "command",
    candidates: [{ tool: "zypper", args: ["needs-rebooting"] }],
    rebootExitCode: 102,
    missingHint: "a newer zypper (needs-rebooting) can tell",
  },
};

/**
 * Detection order. dnf before yum: on Fedora, RHEL 8+ and Amazon Linux 2023 `yum` is only a
 * compatibility alias of dnf, and on hosts that keep both dnf is the maintained one. The RPM
 * managers before apt-get and zypper follows the brief's order; the database check (above) is what
 * keeps a foreign manager installed as a tool from being picked. zypper last: SUSE has neither dnf
 * nor yum, so its place only matters where several are present.
 */
export const PACKAGE_MANAGERS: readonly PackageManager[] = [dnf, yum, aptGet, zypper];

/** Names in `zypper locks`: the second column of each numbered table row. */
export function parseZypperLocks(stdout: string): string[] {
  const names: string[] = [];
  for (const line of stdout.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    if (cells.length >= 2 && /^\d+$/.test(cells[0]!) && cells[1] !== "") names.push(cells[1]!);
  }
  return names;
}

/** The absolute path of `program` in the first folder of `searchPath` that holds it as an executable file. */
export function findOnPath(program: string, searchPath: string): string | undefined {
  for (const folder of searchPath.split(delimiter)) {
    if (folder === "") continue;
    const candidate = join(folder, program);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    const stat = statSync(path);
    return stat.isFile() && (stat.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

export interface DetectedManager {
  manager: PackageManager;
  path: string;
}

/** Why each manager on PATH was passed over, for the "none found" message. */
export interface Detection {
  found?: DetectedManager;
  passedOver: string[];
}

/** The first manager (in PACKAGE_MANAGERS order) on PATH whose package database exists under `systemRoot`. */
export function detectPackageManager(searchPath: string, systemRoot: string): Detection {
  const passedOver: string[] = [];
  for (const manager of PACKAGE_MANAGERS) {
    const path = findOnPath(manager.program, searchPath);
    if (path === undefined) continue;
    if (!manager.database.some((file) => existsSync(join(systemRoot, file)))) {
      passedOver.push(`${manager.name} (at ${path}, but this system's packages are not in its database)`);
      continue;
    }
    return { found: { manager, path }, passedOver };
  }
  return { passedOver };
}

/**
 * A Linux package name as UpdateOS accepts it: letters, digits and . _ + : ~ - (RPM names,
 * name.arch, Debian's name:arch, versions with epochs and tildes), and `*` as a wildcard. It must
 * not start with '-': names go on the manager's command line, and one that looks like an option
 * would be taken as one even though no shell is involved.
 */
export const PACKAGE_NAME_PATTERN = /^[A-Za-z0-9_*][A-Za-z0-9._+:~*-]*$/;
const MAX_NAME_LENGTH = 256;

/** Why `name` cannot be used as a package name, or undefined when it can. */
export function packageNameProblem(name: string): string | undefined {
  if (name === "") return "an empty package name";
  if (name.length > MAX_NAME_LENGTH) return `a package name longer than ${MAX_NAME_LENGTH} characters`;
  if (name.startsWith("-")) return `'${name}' starts with '-' and would be read as an option, not a package name`;
  if (!PACKAGE_NAME_PATTERN.test(name)) {
    return `'${name}' is not a package name (letters, digits and . _ + : ~ - are allowed, and * as a wildcard)`;
  }
  return undefined;
}
