/** The change report of run --sandbox (engine/sandbox-changes.ts): pure, from observed upper-layer facts. */
import { describe, expect, test } from "bun:test";
import {
  classify,
  diffPackages,
  findingsFromChanges,
  findingsFromConsole,
  folderTotals,
  formatBytes,
  formatChangeReport,
  parseDpkgStatus,
  topFolder,
  type ChangeReport,
  type Facts,
  type Observed,
} from "../../src/engine/sandbox-changes.ts";

const file = (size: number, mode = 0o644, uid = 0, gid = 0): Facts => ({ type: "file", mode, uid, gid, size });
const folder = (mode = 0o755): Facts => ({ type: "folder", mode, uid: 0, gid: 0, size: 0 });
const link = (target: string): Facts => ({ type: "symlink", mode: 0o777, uid: 0, gid: 0, size: target.length, target });

describe("classify", () => {
  test("new entries are added, with size, mode and owner", () => {
    expect(classify([{ path: "/etc/new", upper: file(6, 0o600, 0, 4) }])).toEqual([{ path: "/etc/new", change: "added", type: "file", size: 6, mode: "0600", owner: "0:4" }]);
    expect(classify([{ path: "/opt/d", upper: folder() }])).toEqual([{ path: "/opt/d", change: "added", type: "folder", mode: "0755", owner: "0:0" }]);
  });
  test("changed says which: content, mode, owner, link target, type", () => {
    const observed: Observed[] = [
      { path: "/a", upper: file(3), lower: file(3), sameContent: false },
      { path: "/b", upper: file(3, 0o4755), lower: file(3, 0o755), sameContent: true },
      { path: "/c", upper: file(3, 0o644, 1, 1), lower: file(3), sameContent: true },
      { path: "/d", upper: link("/x"), lower: link("/y") },
      { path: "/e", upper: folder(), lower: file(1) },
      { path: "/f", upper: file(9), lower: file(3) },
    ];
    const byPath = Object.fromEntries(classify(observed).map((c) => [c.path, c]));
    expect(byPath["/a"]).toMatchObject({ change: "changed", what: ["content"], size: 3, sizeBefore: 3 });
    expect(byPath["/b"]).toMatchObject({ what: ["mode"], mode: "04755", modeBefore: "0755" });
    expect(byPath["/c"]).toMatchObject({ what: ["owner"], owner: "1:1", ownerBefore: "0:0" });
    expect(byPath["/d"]).toMatchObject({ what: ["target"], target: "/x", targetBefore: "/y" });
    expect(byPath["/e"]).toMatchObject({ type: "folder", what: ["type", "mode"] });
    expect(byPath["/f"]).toMatchObject({ what: ["content"], size: 9, sizeBefore: 3 });
  });
  test("copies that differ in nothing (copied up for a child, touched, rewritten the same) are not changes", () => {
    expect(classify([{ path: "/etc", upper: folder(), lower: folder() }, { path: "/etc/x", upper: file(2), lower: file(2), sameContent: true }])).toEqual([]);
  });
  test("whiteouts and entries hidden by an opaque folder are removed, with what they held", () => {
    const observed: Observed[] = [
      { path: "/usr/share/doc/bash", upper: { ...file(0), type: "other", whiteout: true }, lower: { ...folder(), treeBytes: 2048, treeEntries: 7 } },
      { path: "/etc/old", lower: file(5) },
      { path: "/etc/never", upper: { ...file(0), type: "other", whiteout: true } },
    ];
    expect(classify(observed)).toEqual([
      { path: "/etc/old", change: "removed", type: "file", sizeBefore: 5 },
      { path: "/usr/share/doc/bash", change: "removed", type: "folder", sizeBefore: 2048, entries: 7 },
    ]);
  });
});

describe("grouping", () => {
  test("top folders", () => {
    expect(topFolder("/etc/a/b")).toBe("/etc");
    expect(topFolder("/file")).toBe("/");
  });
  test("counts and bytes per top-level folder", () => {
    const changes = classify([
      { path: "/etc/a", upper: file(10) },
      { path: "/etc/b", upper: file(20), lower: file(5), sameContent: false },
      { path: "/usr/c", lower: file(7) },
    ]);
    expect(folderTotals(changes)).toEqual([
      { folder: "/etc", added: 1, changed: 1, removed: 0, bytes: 30, bytesRemoved: 0 },
      { folder: "/usr", added: 0, changed: 0, removed: 1, bytes: 0, bytesRemoved: 7 },
    ]);
  });
});

describe("packages", () => {
  const before = `Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2-1\n\nPackage: gone\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n\nPackage: leftover\nStatus: deinstall ok config-files\nArchitecture: all\nVersion: 2\n`;
  const after = `Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2-2\n\nPackage: opentoe-tiny\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0\nDescription: multi\n line\n`;
  test("dpkg status: installed packages only, name:arch unless arch all", () => {
    expect([...parseDpkgStatus(before)]).toEqual([["bash:amd64", "5.2-1"], ["gone", "1"]]);
  });
  test("installed, removed, upgraded", () => {
    expect(diffPackages("dpkg", parseDpkgStatus(before), parseDpkgStatus(after))).toEqual({
      manager: "dpkg",
      installed: [{ name: "opentoe-tiny", version: "1.0" }],
      removed: [{ name: "gone", version: "1" }],
      upgraded: [{ name: "bash:amd64", from: "5.2-1", to: "5.2-2" }],
    });
  });
});

describe("findings", () => {
  test("enabled and masked units, new unit files, kernel module files", () => {
    const changes = classify([
      { path: "/etc/systemd/system/multi-user.target.wants/web.service", upper: link("/lib/systemd/system/web.service") },
      { path: "/etc/systemd/system/foo.service", upper: link("/dev/null") },
      { path: "/lib/systemd/system/web.service", upper: file(100) },
      { path: "/etc/modules-load.d/wg.conf", upper: file(10) },
    ]);
    const kinds = findingsFromChanges(changes).map((f) => `${f.kind}: ${f.message}`);
    expect(kinds[0]).toStartWith("systemd: web.service was enabled for multi-user.target");
    expect(kinds[1]).toBe("systemd: foo.service was masked (/etc/systemd/system/foo.service -> /dev/null)");
    expect(kinds[2]).toStartWith("systemd: new systemd unit file(s): /lib/systemd/system/web.service");
    expect(kinds[3]).toStartWith("kernel-module: kernel module files or settings changed (/etc/modules-load.d/wg.conf)");
  });
  test("console lines of systemctl, modprobe, reboot and sysctl attempts, quoted once per kind", () => {
    const text = "ok\nSystem has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\nmodprobe: FATAL: Module dummy not found\nFailed to reboot: Operation not permitted\nsysctl: permission denied on key \"net.ipv4.ip_forward\"\nRTNETLINK answers: Operation not permitted\n";
    expect(findingsFromConsole(text).map((f) => f.kind)).toEqual(["systemd", "kernel-module", "reboot", "network", "sysctl"]);
    expect(findingsFromConsole(text)[0]!.message).toEndWith(`"System has not been booted with systemd as init system (PID 1). Can't operate."`);
    expect(findingsFromConsole("all fine\n")).toEqual([]);
  });
});

describe("formatChangeReport", () => {
  test("groups by folder, shows packages, stopped processes and findings", () => {
    const files = classify([
      { path: "/etc/x.conf", upper: file(6) },
      { path: "/etc/hostname", upper: file(3, 0o600), lower: file(3), sameContent: true },
      { path: "/usr/local/share/t", upper: { ...file(0), type: "other", whiteout: true }, lower: file(4) },
    ]);
    const report: ChangeReport = {
      version: 1,
      executionId: "e",
      exitCode: 0,
      files,
      folders: folderTotals(files),
      packages: [{ manager: "dpkg", installed: [{ name: "tiny", version: "1.0" }], removed: [], upgraded: [] }],
      stoppedProcesses: [{ pid: 9, command: "sleep 1000" }],
      findings: [{ kind: "reboot", message: "step 'build/R' asked for a reboot" }],
    };
    expect(formatChangeReport(report, "/logs/TOE_x/changes.json")).toBe(
      [
        "sandbox: what the run changed inside its copy of the machine (the machine itself is unchanged): 3 file(s) and folder(s)",
        "  /etc: 1 added, 1 changed, 0 removed (9 B written)",
        "    ~ /etc/hostname  mode 0644 -> 0600",
        "    + /etc/x.conf  file 6 B, 0644 0:0",
        "  /usr: 0 added, 0 changed, 1 removed (4 B removed)",
        "    - /usr/local/share/t  file 4 B",
        "  packages (dpkg): 1 installed, 0 upgraded, 0 removed",
        "    + tiny 1.0",
        "  still running when the run ended, and stopped: 1 process(es)",
        "    pid 9 (in the sandbox): sleep 1000",
        "  what the sandbox could not do or check:",
        "    ! step 'build/R' asked for a reboot",
        "  all of it: /logs/TOE_x/changes.json",
        "",
      ].join("\n"),
    );
  });
  test("no change at all says so", () => {
    const empty: ChangeReport = { version: 1, executionId: "e", exitCode: 0, files: [], folders: [], packages: [], stoppedProcesses: [], findings: [] };
    expect(formatChangeReport(empty, "c.json")).toStartWith("sandbox: the run changed no file\n");
  });
  test("sizes", () => {
    expect([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(5 * 1024 * 1024)]).toEqual(["0 B", "1023 B", "1.5 KiB", "5.0 MiB"]);
  });
});
