/**
 * @module platform/sandbox-script: what `awstoe run --sandbox` mounts, as a plan and as the shell
 * script that carries it out (docs/cli.md, "Sandbox"). Pure: the mount table comes in as text.
 *
 * Why a shell script run by util-linux `unshare` rather than bubblewrap: `unshare`, `mount`,
 * `pivot_root`, `umount` and `setpriv` are in util-linux, which every Linux distribution installs;
 * bubblewrap is a separate package that is often missing on the build machines component authors
 * use. Its user-namespace model also does not fit: the component runs as real root (dpkg, chown,
 * setuid files must behave as they will on the image) and overlayfs then needs the host's root to
 * mount. So the steps are the standard tools, in this order:
 *
 *   unshare --mount --uts --ipc --pid --fork --propagation private  (nothing propagates back)
 *   sh (pid 1 of the new PID namespace) runs this script:
 *     overlay of / and of every other real file system (upper layers in a private host folder)
 *     fresh /proc (this PID namespace) with /proc/sys and /proc/sysrq-trigger read-only,
 *     a fresh read-only sysfs (no efivars, no cgroup writes), a /dev with only the host's null,
 *     zero, full, random, urandom and tty (no disk, so grub-install, mkfs or mount cannot write the
 *     real one) plus private ptys, /dev/shm and /dev/mqueue, a fresh tmpfs /run (no socket of the
 *     host's systemd or D-Bus is reachable; resolv.conf's target copied), the log directory bound,
 *     the private work folder hidden under a tmpfs, pivot_root into the overlay and the old root
 *     detached (a chroot could be climbed out of; a detached root cannot),
 *     setpriv dropping CAP_SYS_MODULE, CAP_SYS_BOOT, CAP_SYS_TIME, CAP_SYS_RAWIO, CAP_MKNOD,
 *     CAP_NET_ADMIN, CAP_AUDIT_CONTROL and CAP_SYS_PTRACE from the bounding set, then awstoe;
 *   when awstoe ends, pid 1 lists what is still running, stops it (TERM, then KILL) and exits,
 *   which ends the namespace: every mount goes with it.
 *
 * The script talks back through fd 3, opened on a file in the private work folder before the
 * pivot (steps never get it): `P <pid> <command>` for each process stopped at the end, `W <mount
 * point> <reason>` for a file system that could only be made read-only, `R <rpm package>` for the
 * rpm database as seen inside after the run.
 */

/** pid 1's exit code when the sandbox could not be set up (the run never started). */
export const SETUP_FAILED = 125;

/** One line of /proc/self/mountinfo, reduced to what the plan needs. */
export interface MountEntry {
  mountPoint: string;
  fsType: string;
}

/** How one host file system appears in the sandbox. */
export interface LayerPlan {
  /** Where it is mounted, as seen on the host and in the sandbox. */
  mountPoint: string;
  /** Index under the work folder: layers/<index>/{upper,work}. */
  index: number;
}

export interface SandboxPlan {
  /** Private host folder (0700) holding root/ (the mount point), layers/ and out. */
  work: string;
  layers: LayerPlan[];
  /** Mount points that are not overlaid: proc, sys, dev, run and what lies below them. */
  skipped: string[];
  logDirectory: string;
  /** Drop these capabilities from the bounding set (setpriv names). */
  dropCapabilities: readonly string[];
}

/**
 * The capabilities steps lose: kernel modules, reboot/kexec, the clock, raw I/O ports and memory,
 * making device nodes (a disk's), and — the network being the host's — changing interfaces, routes
 * and firewall rules, and the kernel's audit rules. Without CAP_SYS_PTRACE a step cannot trace pid 1,
 * which keeps every capability (and fd 3) to the end: the kernel lets a process trace only one whose
 * capabilities are a subset of its own.
 */
export const DROPPED_CAPABILITIES = ["sys_module", "sys_boot", "sys_time", "sys_rawio", "mknod", "net_admin", "audit_control", "sys_ptrace"] as const;

/** The host's device nodes the sandbox's /dev has: the ones any program may need, none that reaches hardware. */
export const DEVICES = ["null", "zero", "full", "random", "urandom", "tty"] as const;

/** Folders whose mounts the sandbox provides itself (fresh or bound), so they are never overlaid. */
const PROVIDED = ["/proc", "/sys", "/dev", "/run"];

/** Decodes mountinfo's octal escapes (\040 for a space, \011, \012, \134). */
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * Whether this mount table is a sandbox's: its root is an overlay whose upper layer is in an
 * opentoe-sandbox- folder (AWSTOE_SANDBOX_INNER alone could be left over in an environment).
 */
export function isSandboxRoot(mountinfo: string): boolean {
  const roots = mountinfo.split("\n").filter((line) => line.split(" ")[4] === "/");
  const root = roots.at(-1);
  return root !== undefined && / - overlay \S+ \S*upperdir=[^,]*\/opentoe-sandbox-[0-9a-f-]+\/layers\/0\/upper/.test(root);
}

/** Parses /proc/self/mountinfo (proc(5)): mount point is field 5, the type follows the " - ". */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (fields.length < 5 || dash < 0 || dash + 1 >= fields.length) continue;
    entries.push({ mountPoint: unescapeMount(fields[4]!), fsType: fields[dash + 1]! });
  }
  return entries;
}

function isUnder(path: string, folder: string): boolean {
  return folder === "/" || path === folder || path.startsWith(`${folder}/`);
}

/**
 * Which host file systems get an overlay: `/` and every other mount point, once each, parents
 * before children — except those under /proc, /sys, /dev and /run (provided fresh or bound), and
 * the work folder and log directory (private to awstoe, bound from the host).
 */
/** Whether `path` is in a folder the sandbox provides itself (where a work folder would be unreachable). */
export function isProvided(path: string): boolean {
  return PROVIDED.some((folder) => isUnder(path, folder));
}

export function planLayers(mounts: readonly MountEntry[], work: string, logDirectory: string): { layers: LayerPlan[]; skipped: string[] } {
  const points = [...new Set(["/", ...mounts.map((m) => m.mountPoint)])];
  const skipped: string[] = [];
  const kept: string[] = [];
  for (const point of points) {
    if (point !== "/" && (PROVIDED.some((folder) => isUnder(point, folder)) || isUnder(point, work) || isUnder(point, logDirectory))) skipped.push(point);
    else kept.push(point);
  }
  kept.sort((a, b) => depth(a) - depth(b) || a.localeCompare(b));
  return { layers: kept.map((mountPoint, index) => ({ mountPoint, index })), skipped };
}

function depth(path: string): number {
  return path === "/" ? 0 : path.split("/").length - 1;
}

/** Single-quoted for sh. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * overlayfs reads ',' and ':' in its options as separators, and a backslash as an escape: a mount
 * point holding one of them (or a newline) cannot be named as a layer and is made read-only instead.
 */
export function overlayableName(path: string): boolean {
  return !/[,:\\\n]/.test(path);
}

/**
 * The script pid 1 runs. Its positional parameters are the command to run inside ("$@"); `cwd` is
 * where that command starts (the caller's folder, seen through the overlay).
 */
export function sandboxScript(plan: SandboxPlan, cwd: string): string {
  const q = shellQuote;
  const root = `${plan.work}/root`;
  const at = (path: string) => q(path === "/" ? root : `${root}${path}`);
  const lines: string[] = [
    // Any setup command that fails ends the script before the run starts: nothing half-isolated runs.
    "set -eu",
    "ready=0",
    `trap '[ "$ready" = 1 ] || exit ${SETUP_FAILED}' EXIT`,
    "PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH",
    `exec 3>${q(`${plan.work}/out`)}`,
    // Options that keep the upper layer plain: whole copies of changed files, no index, no
    // redirects, so the change report can read every file from it.
    `OPTS=redirect_dir=off,index=off,metacopy=off`,
    `layer() { if mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work,$OPTS" "$3" 2>/dev/null || mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" "$3" 2>/dev/null; then :; elif mount --bind "$1" "$3" && mount -o remount,bind,ro "$3"; then echo "W $1 overlayfs refused it: read-only inside" >&3; else echo "W $1 hidden: could not be mounted" >&3; fi; }`,
  ];
  for (const layer of plan.layers) {
    const dir = q(`${plan.work}/layers/${layer.index}`);
    if (layer.mountPoint === "/") {
      // Kernels older than 4.19 do not know every option: then the plain mount, whose defaults are the same on most.
      const base = `lowerdir=/,upperdir="${dir}"/upper,workdir="${dir}"/work`;
      lines.push(
        `if ! mount -t overlay overlay -o "${base},$OPTS" ${at("/")} 2>/dev/null && ! mount -t overlay overlay -o "${base}" ${at("/")}; then echo ${q(`awstoe: --sandbox: overlayfs cannot keep its upper layer in ${plan.work} (a network file system, or an overlay itself?): set AWSTOE_SANDBOX_DIR to a folder on a local disk`)} >&2; exit ${SETUP_FAILED}; fi`,
      );
    } else if (overlayableName(layer.mountPoint)) {
      lines.push(`[ -d ${at(layer.mountPoint)} ] && layer ${q(layer.mountPoint)} ${dir} ${at(layer.mountPoint)}`);
    } else {
      lines.push(`[ -d ${at(layer.mountPoint)} ] && mount --bind ${q(layer.mountPoint)} ${at(layer.mountPoint)} && mount -o remount,bind,ro ${at(layer.mountPoint)} && echo ${q(`W ${layer.mountPoint.replace(/\n/g, " ")} its name cannot be an overlay layer: read-only inside`)} >&3`);
    }
  }
  lines.push(
    // This PID namespace's own /proc; the kernel's tunables and the SysRq trigger (which can
    // reboot the host outright) read-only.
    `mount -t proc -o nosuid,nodev,noexec proc ${at("/proc")}`,
    `for p in sys sysrq-trigger irq bus; do if [ -e ${at("/proc")}/$p ]; then mount --bind ${at("/proc")}/$p ${at("/proc")}/$p && mount -o remount,bind,ro ${at("/proc")}/$p; fi; done`,
    `mount -t sysfs -o ro,nosuid,nodev,noexec sysfs ${at("/sys")}`,
    // A /dev of the host's harmless devices only: no disks (grub-install, mkfs or a mount would
    // write the real one), no watchdog, no raw hardware; private ptys, shared memory and queues.
    `mount -t tmpfs -o nosuid,noexec,mode=755 tmpfs ${at("/dev")}`,
    `for n in ${DEVICES.join(" ")}; do if [ -c /dev/$n ]; then : > ${at("/dev")}/$n && mount --bind /dev/$n ${at("/dev")}/$n; fi; done`,
    `mkdir -m 755 ${at("/dev/pts")} && mkdir -m 1777 ${at("/dev/shm")} && mkdir -m 755 ${at("/dev/mqueue")}`,
    `mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5,nosuid,noexec devpts ${at("/dev/pts")} || mount -t devpts -o newinstance,ptmxmode=0666,nosuid,noexec devpts ${at("/dev/pts")}`,
    `ln -s pts/ptmx ${at("/dev/ptmx")}`,
    `mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs ${at("/dev/shm")}`,
    `mount -t mqueue -o nosuid,nodev,noexec mqueue ${at("/dev/mqueue")} || true`,
    `ln -s /proc/self/fd ${at("/dev/fd")} && ln -s /proc/self/fd/0 ${at("/dev/stdin")} && ln -s /proc/self/fd/1 ${at("/dev/stdout")} && ln -s /proc/self/fd/2 ${at("/dev/stderr")}`,
    // A fresh /run: systemctl, shutdown and D-Bus clients find no socket of the host's systemd.
    `mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs ${at("/run")}`,
    `mkdir -m 1777 ${at("/run")}/lock`,
    // /etc/resolv.conf often points into /run (systemd-resolved, resolvconf): a copy keeps names resolving.
    `t=$(readlink -f /etc/resolv.conf 2>/dev/null || true); case "$t" in /run/*) if [ -f "$t" ]; then mkdir -p "${root}$(dirname "$t")" && cp "$t" "${root}$t"; fi ;; esac`,
    `mkdir -p ${at(plan.logDirectory)}`,
    `mount --bind ${q(plan.logDirectory)} ${at(plan.logDirectory)}`,
    `mount -o remount,bind,nosuid,nodev ${at(plan.logDirectory)}`,
    // The work folder exists in the lower layer too: hidden, and the place the old root goes.
    `mount -t tmpfs -o mode=700 tmpfs ${at(plan.work)}`,
    `mkdir ${at(plan.work)}/old`,
    `cd ${at("/")}`,
    `pivot_root . ${q(`.${plan.work}/old`)}`,
    `umount -l ${q(`${plan.work}/old`)}`,
    `rmdir ${q(`${plan.work}/old`)}`,
    `cd ${q(cwd)} 2>/dev/null || cd /`,
    "ready=1",
    "set +e",
    `setpriv --bounding-set ${plan.dropCapabilities.map((c) => `-${c}`).join(",")} --inh-caps ${plan.dropCapabilities.map((c) => `-${c}`).join(",")} -- "$@" 3>&- &`,
    "wait $!",
    "rc=$?",
    // What the run left behind: listed, then stopped; pid 1's exit takes anything left with it.
    "left=0",
    `for d in /proc/[0-9]*; do p=\${d#/proc/}; [ "$p" = 1 ] && continue; case "$(cat "$d/stat" 2>/dev/null)" in ""|*") Z "*) continue ;; esac; c=$(tr '\\0\\n' '  ' < "$d/cmdline" 2>/dev/null); [ -n "$c" ] || c="[$(cat "$d/comm" 2>/dev/null)]"; echo "P $p $c" >&3; left=1; done`,
    // A second for services to shut down cleanly, then everything goes.
    'if [ $left = 1 ]; then kill -TERM -1 2>/dev/null; sleep 1; kill -KILL -1 2>/dev/null; fi',
    `if command -v rpm >/dev/null 2>&1 && [ -d /var/lib/rpm ]; then rpm -qa --qf 'R %{NAME}.%{ARCH} %{EPOCH}:%{VERSION}-%{RELEASE}\\n' 2>/dev/null >&3; fi`,
    "exit $rc",
  );
  return `${lines.join("\n")}\n`;
}

/** What pid 1 reported through fd 3. */
export interface SandboxReport {
  stopped: { pid: number; command: string }[];
  warnings: string[];
  /** `name.arch` → `epoch:version-release`, when rpm is there. */
  rpm?: Map<string, string>;
}

/** Parses fd 3's lines (see the module comment). */
export function parseSandboxReport(text: string): SandboxReport {
  const report: SandboxReport = { stopped: [], warnings: [] };
  for (const line of text.split("\n")) {
    const kind = line.slice(0, 2);
    const rest = line.slice(2);
    if (kind === "P ") {
      const space = rest.indexOf(" ");
      const pid = Number(space < 0 ? rest : rest.slice(0, space));
      if (Number.isInteger(pid)) report.stopped.push({ pid, command: space < 0 ? "" : rest.slice(space + 1).trim() });
    } else if (kind === "W ") report.warnings.push(rest);
    else if (kind === "R ") {
      const [name, version] = rest.split(" ");
      if (name && version) (report.rpm ??= new Map()).set(name, version.replace(/^\(none\):/, ""));
    }
  }
  return report;
}

