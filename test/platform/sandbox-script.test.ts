/** The sandbox's mount plan and script (platform/sandbox-script.ts): pure, checked without mounting anything. */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { DROPPED_CAPABILITIES, isProvided, isSandboxRoot, overlayableName, SETUP_FAILED, parseMountInfo, parseSandboxReport, planLayers, sandboxScript, shellQuote } from "../../src/platform/sandbox-script.ts";

const MOUNTINFO = [
  "21 26 0:20 / /proc rw,relatime - proc proc rw",
  "22 26 0:21 / /sys rw,relatime - sysfs sysfs rw",
  "23 26 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw",
  "24 23 0:22 / /dev/shm rw,relatime - tmpfs tmpfs rw",
  "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
  "27 26 0:24 / /run rw - tmpfs tmpfs rw",
  "28 27 0:25 / /run/user/0 rw - tmpfs tmpfs rw",
  "29 26 0:26 / /tmp rw - tmpfs tmpfs rw",
  "30 26 8:1 / /home rw - xfs /dev/sdb1 rw",
  "31 30 8:2 / /home/with\\040space rw - ext4 /dev/sdc1 rw",
  "32 26 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw",
  "33 26 0:28 / /var/tmp/opentoe-sandbox-x/root rw - overlay overlay rw",
  "34 26 0:29 / /srv/logs rw - ext4 /dev/sdd1 rw",
  "35 26 0:26 / /tmp rw - tmpfs tmpfs rw",
].join("\n");

describe("parseMountInfo", () => {
  test("reads the mount point and type, undoing octal escapes", () => {
    const entries = parseMountInfo(MOUNTINFO);
    expect(entries[0]).toEqual({ mountPoint: "/proc", fsType: "proc" });
    expect(entries.find((e) => e.fsType === "xfs")?.mountPoint).toBe("/home");
    expect(entries.some((e) => e.mountPoint === "/home/with space")).toBe(true);
  });
  test("skips lines it cannot read", () => {
    expect(parseMountInfo("garbage\n\n1 2 3")).toEqual([]);
  });
});

describe("planLayers", () => {
  const plan = planLayers(parseMountInfo(MOUNTINFO), "/var/tmp/opentoe-sandbox-x", "/srv/logs");
  test("overlays / and every other real file system once, parents first", () => {
    expect(plan.layers.map((l) => l.mountPoint)).toEqual(["/", "/home", "/tmp", "/home/with space"]);
    expect(plan.layers.map((l) => l.index)).toEqual([0, 1, 2, 3]);
  });
  test("never overlays what the sandbox provides, its own work folder or the log directory", () => {
    for (const skipped of ["/proc", "/sys", "/dev", "/dev/shm", "/run", "/run/user/0", "/sys/fs/cgroup", "/var/tmp/opentoe-sandbox-x/root", "/srv/logs"]) expect(plan.skipped).toContain(skipped);
  });
});

describe("sandboxScript", () => {
  const plan = { ...planLayers(parseMountInfo(MOUNTINFO), "/var/tmp/opentoe-sandbox-x", "/srv/logs"), work: "/var/tmp/opentoe-sandbox-x", logDirectory: "/srv/logs", dropCapabilities: DROPPED_CAPABILITIES };
  const script = sandboxScript(plan, "/home/me/component's folder");
  test("is valid sh", () => {
    const check = spawnSync("sh", ["-n"], { input: script, encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
  });
  test("mounts the overlay of / with plain upper layers, then the other file systems over it", () => {
    expect(script).toContain(`lowerdir=/,upperdir="'/var/tmp/opentoe-sandbox-x/layers/0'"/upper`);
    expect(script).toContain("redirect_dir=off,index=off,metacopy=off");
    expect(script).toContain(`layer '/home/with space' '/var/tmp/opentoe-sandbox-x/layers/3' '/var/tmp/opentoe-sandbox-x/root/home/with space'`);
    expect(script.indexOf("layers/0")).toBeLessThan(script.indexOf("layers/1"));
  });
  test("closes the ways out: read-only kernel tunables, sysfs and /dev, a fresh /run, no old root, fewer capabilities", () => {
    expect(script).toMatch(/for p in sys sysrq-trigger irq bus; do .*remount,bind,ro/);
    expect(script).toContain("mount -t sysfs -o ro,");
    expect(script).toContain("mount -t tmpfs -o nosuid,noexec,mode=755 tmpfs '/var/tmp/opentoe-sandbox-x/root/dev'");
    expect(script).toContain("for n in null zero full random urandom tty; do");
    expect(script).toContain("mount -t devpts -o newinstance,");
    expect(script).toContain("mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs '/var/tmp/opentoe-sandbox-x/root/run'");
    expect(script).toContain("mount --bind '/srv/logs' '/var/tmp/opentoe-sandbox-x/root/srv/logs'");
    expect(script).toContain("pivot_root . './var/tmp/opentoe-sandbox-x/old'");
    expect(script).toContain("umount -l '/var/tmp/opentoe-sandbox-x/old'");
    expect(script).toContain("setpriv --bounding-set -sys_module,-sys_boot,-sys_time,-sys_rawio,-mknod,-net_admin,-audit_control,-sys_ptrace");
    // The report descriptor is opened before the pivot and closed for the command.
    expect(script.indexOf("exec 3>")).toBeLessThan(script.indexOf("pivot_root"));
    expect(script).toContain('"$@" 3>&- &');
  });
  test("a setup step that fails ends the script with SETUP_FAILED before anything runs", () => {
    expect(script).toContain(`trap '[ "$ready" = 1 ] || exit ${SETUP_FAILED}' EXIT`);
    expect(script.indexOf("ready=1")).toBeLessThan(script.indexOf("setpriv"));
    expect(script.indexOf("ready=1")).toBeGreaterThan(script.indexOf("pivot_root"));
    // The mechanism alone (never the script itself outside a namespace): a failure before ready=1 is 125, after it the command's own.
    const head = script.split("\n").filter((l) => l === "set -eu" || l === "ready=0" || l.startsWith("trap ")).join("\n");
    expect(spawnSync("sh", ["-c", `${head}\nfalse\necho never`]).status).toBe(SETUP_FAILED);
    expect(spawnSync("sh", ["-c", `${head}\nready=1\nexit 3`]).status).toBe(3);
  });
  test("starts the command in the caller's folder, quoted", () => {
    expect(script).toContain(`cd '/home/me/component'\\''s folder' 2>/dev/null || cd /`);
  });
  test("a mount point overlayfs cannot name is made read-only", () => {
    const odd = sandboxScript({ ...plan, layers: [{ mountPoint: "/", index: 0 }, { mountPoint: "/data,x", index: 1 }] }, "/");
    expect(overlayableName("/data,x")).toBe(false);
    expect(odd).toContain("mount --bind '/data,x' '/var/tmp/opentoe-sandbox-x/root/data,x' && mount -o remount,bind,ro");
  });
});

describe("parseSandboxReport", () => {
  test("reads stopped processes, warnings and rpm packages", () => {
    const report = parseSandboxReport("P 12 sleep 1000 \nP 13 [kworker]\nW /data overlayfs refused it: read-only inside\nR bash.x86_64 (none):5.1-2\nR kernel.x86_64 1:6.1-1\nnoise\n");
    expect(report.stopped).toEqual([{ pid: 12, command: "sleep 1000" }, { pid: 13, command: "[kworker]" }]);
    expect(report.warnings).toEqual(["/data overlayfs refused it: read-only inside"]);
    expect([...report.rpm!]).toEqual([["bash.x86_64", "5.1-2"], ["kernel.x86_64", "1:6.1-1"]]);
  });
  test("an empty report has nothing, and no rpm table", () => {
    expect(parseSandboxReport("")).toEqual({ stopped: [], warnings: [] });
  });
  test("a sandbox's mount table is recognised by its root overlay", () => {
    const inside = "100 80 0:50 / / rw,relatime - overlay overlay rw,lowerdir=/,upperdir=/var/tmp/opentoe-sandbox-1b2c3d4e-aaaa-bbbb-cccc-0123456789ab/layers/0/upper,workdir=/x\n101 100 0:51 / /proc rw - proc proc rw\n";
    expect(isSandboxRoot(inside)).toBe(true);
    expect(isSandboxRoot(MOUNTINFO)).toBe(false);
    expect(isSandboxRoot("100 80 0:50 / / rw - overlay overlay rw,lowerdir=/a,upperdir=/docker/upper,workdir=/w\n")).toBe(false);
  });
  test("folders the sandbox replaces", () => {
    expect(["/dev/shm", "/run", "/proc/x", "/sys"].map(isProvided)).toEqual([true, true, true, true]);
    expect(["/var/tmp", "/device", "/"].map(isProvided)).toEqual([false, false, false]);
  });
  test("shellQuote survives quotes", () => {
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
  });
});
