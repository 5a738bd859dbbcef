/**
 * UpdateOS, called directly. Linux: real processes, but the package managers are stand-in sh
 * scripts on the module's PATH (test/helpers/package-manager-stand-ins.ts) — the real ones would
 * change this machine's packages. Windows: PowerShell and the Windows Update Agent cannot exist
 * here, so the exec boundary is recorded and the generated script is checked as text.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { StepError } from "../../src/errors.ts";
import { modules } from "../../src/modules/index.ts";
import { PACKAGE_MANAGERS, packageNameProblem, parseZypperLocks } from "../../src/modules/_package-managers.ts";
import { psQuote, SEARCH_CRITERIA, updatePattern } from "../../src/modules/_windows-update.ts";
import { removeStandInMachines, StandInMachine } from "../helpers/package-manager-stand-ins.ts";
import { moduleContext, recordingWindowsContext } from "../helpers/module-context.ts";

afterAll(removeStandInMachines);

const KEEP_CONFIG = "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold";
const APT_UPGRADE = `apt-get -y ${KEEP_CONFIG} upgrade`;
const APT_ONLY = `apt-get -y ${KEEP_CONFIG} install --only-upgrade`;

/** apt-get that notes which packages were held while it upgraded. */
function aptMachine(upgradeBody = ""): StandInMachine {
  return new StandInMachine(["dpkg"])
    .tool("apt-get", `case "$*" in *upgrade*) cat "$STANDIN_STATE/holds" > "$STANDIN_STATE/held-during-upgrade" 2>/dev/null; ${upgradeBody} ;; esac`)
    .aptMark();
}

function rpmMachine(manager: "dnf" | "yum", body = ""): StandInMachine {
  return new StandInMachine(["rpm"]).tool(manager, body).tool("needs-restarting", "echo 'No core libraries or services have been updated since boot-up.'");
}

function zypperMachine(update = "", needsRebooting = "exit 0"): StandInMachine {
  return new StandInMachine(["rpm"]).zypper(`cp "$locks" "$STANDIN_STATE/locked-during-update"; ${update}`, needsRebooting);
}

type Case = { name: string; input: { include?: string[]; exclude?: string[] }; expected: string[] };

describe("UpdateOS with apt-get", () => {
  const cases: Case[] = [
    { name: "no inputs: update the lists, then upgrade everything", input: {}, expected: ["apt-get update", APT_UPGRADE] },
    { name: "include: only-upgrade the named packages", input: { include: ["openssl", "libc6:amd64"] }, expected: ["apt-get update", `${APT_ONLY} openssl libc6:amd64`] },
    {
      name: "exclude: hold for the run, upgrade, release",
      input: { exclude: ["linux-image-amd64"] },
      expected: ["apt-get update", "apt-mark showhold", "apt-mark hold linux-image-amd64", APT_UPGRADE, "apt-mark showhold", "apt-mark unhold linux-image-amd64"],
    },
    {
      name: "both: include minus exclude, and the excluded stay held while apt works",
      input: { include: ["openssl", "curl"], exclude: ["curl"] },
      expected: ["apt-get update", "apt-mark showhold", "apt-mark hold curl", `${APT_ONLY} openssl`, "apt-mark showhold", "apt-mark unhold curl"],
    },
  ];
  for (const { name, input, expected } of cases) {
    test(name, async () => {
      const machine = aptMachine();
      const { result } = machine.run(input);
      expect(await result).toEqual({ outputs: {} });
      expect(machine.commandLines()).toEqual(expected);
      // Every apt program runs without debconf questions.
      expect(machine.calls().map((c) => c.frontend)).toEqual(expected.map(() => "noninteractive"));
      expect(machine.stateLines("held-during-upgrade")).toEqual(input.exclude ?? []);
      expect(machine.stateLines("holds")).toEqual([]);
    });
  }

  test("a failing upgrade still releases the holds, and the message names manager, command, code and stderr", async () => {
    const machine = aptMachine(`echo 'E: first' >&2; echo 'E: Sub-process /usr/bin/dpkg returned an error code (1)' >&2; exit 100`);
    const { result } = machine.run({ exclude: ["curl", "openssl"] });
    await expect(result).rejects.toThrow(StepError);
    const message = await result.catch((e: Error) => e.message);
    expect(message).toBe(`apt-get failed: '${APT_UPGRADE}' exited with code 100: E: first | E: Sub-process /usr/bin/dpkg returned an error code (1)`);
    expect(machine.stateLines("held-during-upgrade")).toEqual(["curl", "openssl"]);
    expect(machine.stateLines("holds")).toEqual([]);
    expect(machine.commandLines().slice(-2)).toEqual(["apt-mark showhold", "apt-mark unhold curl openssl"]);
  });

  test("packages held before the run stay held; only this run's holds are released", async () => {
    const machine = aptMachine();
    machine.setState("holds", ["curl", "zlib1g"]);
    const { result } = machine.run({ exclude: ["curl", "openssl"] });
    await result;
    expect(machine.stateLines("held-during-upgrade")).toEqual(["curl", "zlib1g", "openssl"]);
    expect(machine.stateLines("holds")).toEqual(["curl", "zlib1g"]);
    expect(machine.commandLines().at(-1)).toBe("apt-mark unhold openssl");
  });

  test("a hold that fails half-way (unknown package) releases what it did hold and upgrades nothing", async () => {
    const machine = aptMachine();
    const { result } = machine.run({ exclude: ["curl", "nosuchpackage"] });
    await expect(result).rejects.toThrow("apt-get failed: 'apt-mark hold curl nosuchpackage' exited with code 100: E: Unable to locate package nosuchpackage");
    expect(machine.commandLines()).toEqual(["apt-get update", "apt-mark showhold", "apt-mark hold curl nosuchpackage", "apt-mark showhold", "apt-mark unhold curl"]);
    expect(machine.stateLines("holds")).toEqual([]);
  });

  test("stopping the step during the upgrade (timeout, Ctrl-C) still releases the holds", async () => {
    const machine = aptMachine("exec sleep 30");
    const controller = new AbortController();
    const { result } = machine.run({ exclude: ["curl"] }, { ctx: { signal: controller.signal } });
    const settled = result.catch((e: Error) => e);
    while (!machine.commandLines().includes(APT_UPGRADE)) await Bun.sleep(10);
    controller.abort();
    const error = await settled;
    expect(error).toBeInstanceOf(StepError);
    expect((error as Error).message).toBe(`apt-get failed: '${APT_UPGRADE}' was stopped before it finished`);
    expect(machine.commandLines().slice(-2)).toEqual(["apt-mark showhold", "apt-mark unhold curl"]);
    expect(machine.stateLines("holds")).toEqual([]);
  });

  test("holds that cannot be released fail the step and say how to release them", async () => {
    const machine = aptMachine();
    // An apt-mark whose unhold breaks (dpkg locked by someone else, say).
    machine.tool(
      "apt-mark",
      `holds="$STANDIN_STATE/holds"; touch "$holds"
case "$1" in showhold) cat "$holds" ;; hold) echo "$2" >> "$holds" ;; unhold) echo "E: Could not get lock /var/lib/dpkg/lock-frontend" >&2; exit 100 ;; esac`,
    );
    const { result } = machine.run({ exclude: ["curl"] });
    await expect(result).rejects.toThrow(
      "the updates were installed, but the holds on curl could not be released (apt-get failed: 'apt-mark unhold curl' exited with code 100: E: Could not get lock /var/lib/dpkg/lock-frontend); release them with 'apt-mark unhold curl'",
    );
  });

  test("excluding without apt-mark on PATH is a clear failure before anything changes", async () => {
    const machine = new StandInMachine(["dpkg"]).tool("apt-get");
    const { result } = machine.run({ exclude: ["curl"] });
    await expect(result).rejects.toThrow(`apt-get needs apt-mark, which is not on PATH (${machine.bin}); install it or put it on PATH`);
    expect(machine.commandLines()).toEqual(["apt-get update"]);
  });

  test("a reboot marker after the update asks for a reboot that continues with the next step", async () => {
    const machine = aptMachine(`mkdir -p "$STANDIN_ROOT/run"; echo '*** System restart required ***' > "$STANDIN_ROOT/run/reboot-required"`);
    const { result } = machine.run({});
    expect(await result).toEqual({ outputs: {}, reboot: { rerunStep: false } });
  });
});

describe("UpdateOS with dnf and yum", () => {
  for (const manager of ["dnf", "yum"] as const) {
    const cases: Case[] = [
      { name: "no inputs", input: {}, expected: [`${manager} -y update`] },
      { name: "include", input: { include: ["kernel", "openssl-libs"] }, expected: [`${manager} -y update kernel openssl-libs`] },
      { name: "exclude", input: { exclude: ["kernel*", "java-17-openjdk"] }, expected: [`${manager} -y update --exclude=kernel* --exclude=java-17-openjdk`] },
      { name: "both", input: { include: ["kernel", "curl"], exclude: ["kernel"] }, expected: [`${manager} -y update curl --exclude=kernel`] },
    ];
    for (const { name, input, expected } of cases) {
      test(`${manager}: ${name}`, async () => {
        const machine = rpmMachine(manager);
        const { result } = machine.run(input);
        expect(await result).toEqual({ outputs: {} });
        expect(machine.commandLines()).toEqual([...expected, "needs-restarting -r"]);
      });
    }
  }

  test("a failing update names dnf, the command, the exit code and the end of stderr", async () => {
    const machine = rpmMachine("dnf", `echo 'Error: Failed to download metadata for repo' >&2; exit 1`);
    const { result } = machine.run({ include: ["curl"] });
    await expect(result).rejects.toThrow("dnf failed: 'dnf -y update curl' exited with code 1: Error: Failed to download metadata for repo");
    expect(machine.commandLines()).toEqual(["dnf -y update curl"]);
  });

  test("needs-restarting -r exit 1 with its 'Reboot is required' line asks for a reboot", async () => {
    const machine = rpmMachine("yum").tool("needs-restarting", "echo 'Reboot is required to ensure that your system benefits from these updates.'; exit 1");
    expect(await machine.run({}).result).toEqual({ outputs: {}, reboot: { rerunStep: false } });
  });

  test("dnf without needs-restarting asks its own plugin command", async () => {
    const machine = new StandInMachine(["rpm"]).tool("dnf", `[ "$1" = needs-restarting ] && { echo 'Reboot is required to fully utilize these updates.'; exit 1; }`);
    expect(await machine.run({}).result).toEqual({ outputs: {}, reboot: { rerunStep: false } });
    expect(machine.commandLines()).toEqual(["dnf -y update", "dnf needs-restarting -r"]);
  });

  test("exit 1 without the reboot line (dnf lacking the plugin) is no reboot, with a warning", async () => {
    const machine = new StandInMachine(["rpm"]).tool("dnf", `[ "$1" = needs-restarting ] && { echo 'No such command: needs-restarting.' >&2; exit 1; }`);
    const { result, warnings } = machine.run({});
    expect(await result).toEqual({ outputs: {} });
    expect(warnings).toEqual(["dnf cannot tell whether the updates need a restart, so UpdateOS does not ask for one; install dnf-plugins-core (dnf needs-restarting) so UpdateOS can tell"]);
  });

  test("yum without needs-restarting: no reboot, and a warning saying what to install", async () => {
    const machine = new StandInMachine(["rpm"]).tool("yum");
    const { result, warnings } = machine.run({});
    expect(await result).toEqual({ outputs: {} });
    expect(machine.commandLines()).toEqual(["yum -y update"]);
    expect(warnings[0]).toContain("install yum-utils (needs-restarting)");
  });
});

describe("UpdateOS with zypper", () => {
  const LOCKS = "zypper --non-interactive locks";
  const cases: Case[] = [
    { name: "no inputs", input: {}, expected: ["zypper --non-interactive update"] },
    { name: "include", input: { include: ["kernel-default", "curl"] }, expected: ["zypper --non-interactive update kernel-default curl"] },
    {
      name: "exclude: locked for the run, then unlocked",
      input: { exclude: ["kernel-default"] },
      expected: [LOCKS, "zypper --non-interactive addlock kernel-default", "zypper --non-interactive update", LOCKS, "zypper --non-interactive removelock kernel-default"],
    },
    {
      name: "both",
      input: { include: ["curl", "kernel-default"], exclude: ["kernel-default"] },
      expected: [LOCKS, "zypper --non-interactive addlock kernel-default", "zypper --non-interactive update curl", LOCKS, "zypper --non-interactive removelock kernel-default"],
    },
  ];
  for (const { name, input, expected } of cases) {
    test(name, async () => {
      const machine = zypperMachine();
      expect(await machine.run(input).result).toEqual({ outputs: {} });
      expect(machine.commandLines()).toEqual([...expected, "zypper needs-rebooting"]);
      expect(machine.stateLines("locked-during-update")).toEqual(input.exclude ?? []);
      expect(machine.stateLines("locks")).toEqual([]);
    });
  }

  test("locks that existed before stay", async () => {
    const machine = zypperMachine();
    machine.setState("locks", ["kernel-default"]);
    await machine.run({ exclude: ["kernel-default", "mozilla*"] }).result;
    expect(machine.stateLines("locked-during-update")).toEqual(["kernel-default", "mozilla*"]);
    expect(machine.stateLines("locks")).toEqual(["kernel-default"]);
    expect(machine.commandLines()).toContain("zypper --non-interactive removelock mozilla*");
  });

  test("exit 102 from the update is success with a reboot", async () => {
    const machine = zypperMachine("exit 102");
    expect(await machine.run({}).result).toEqual({ outputs: {}, reboot: { rerunStep: false } });
    expect(machine.commandLines()).toEqual(["zypper --non-interactive update"]);
  });

  test("zypper needs-rebooting exit 102 asks for a reboot", async () => {
    const machine = zypperMachine("", "exit 102");
    expect(await machine.run({}).result).toEqual({ outputs: {}, reboot: { rerunStep: false } });
  });

  test("exit 103 (zypper updated itself) runs the update again", async () => {
    const machine = zypperMachine(`[ -e "$STANDIN_STATE/self" ] || { touch "$STANDIN_STATE/self"; exit 103; }`);
    expect(await machine.run({ include: ["curl"] }).result).toEqual({ outputs: {} });
    expect(machine.commandLines()).toEqual(["zypper --non-interactive update curl", "zypper --non-interactive update curl", "zypper needs-rebooting"]);
  });

  test("exit 106 (a repository could not be refreshed) is a failure, and the locks are released", async () => {
    const machine = zypperMachine(`echo "Repository 'updates' is invalid." >&2; exit 106`);
    await expect(machine.run({ exclude: ["curl"] }).result).rejects.toThrow("zypper failed: 'zypper --non-interactive update' exited with code 106: Repository 'updates' is invalid.");
    expect(machine.stateLines("locks")).toEqual([]);
  });

  test("the lock table is read from zypper's output", () => {
    const table = "# | Name           | Type    | Repository\n--+----------------+---------+-----------\n1 | kernel-default | package | (any)\n2 | mozilla*       | package | (any)\n";
    expect(parseZypperLocks(table)).toEqual(["kernel-default", "mozilla*"]);
    expect(parseZypperLocks("There are no package locks defined.\n")).toEqual([]);
  });
});

describe("UpdateOS: choosing the package manager", () => {
  /** A machine with every stand-in on PATH and both package databases. */
  function everything(): StandInMachine {
    return new StandInMachine(["dpkg", "rpm"]).tool("dnf").tool("yum").tool("apt-get").aptMark().zypper();
  }
  test("order: dnf, then yum, then apt-get, then zypper", async () => {
    const picked: string[] = [];
    const machine = everything();
    for (const next of ["dnf", "yum", "apt-get", "zypper"]) {
      rmSync(machine.log);
      await machine.run({}).result;
      picked.push(machine.calls()[0]!.tool);
      rmSync(join(machine.bin, next));
    }
    expect(picked).toEqual(["dnf", "yum", "apt-get", "zypper"]);
    expect(PACKAGE_MANAGERS.map((m) => m.name)).toEqual(["dnf", "yum", "apt-get", "zypper"]);
  });

  test("dnf installed as a tool on an apt system (no RPM database) is passed over", async () => {
    const machine = new StandInMachine(["dpkg"]).tool("dnf").tool("apt-get");
    await machine.run({}).result;
    expect(machine.commandLines()).toEqual(["apt-get update", APT_UPGRADE]);
  });

  test("no manager on PATH: 'no supported package manager'", async () => {
    const machine = new StandInMachine(["dpkg"]);
    machine.addFile("../bin/apt-get", "not executable"); // a file that is not a program does not count
    await expect(machine.run({}).result).rejects.toThrow(
      `no supported package manager: none of dnf, yum, apt-get or zypper was found on PATH (${machine.bin}); run UpdateOS on a distribution that uses one of them, or put it on PATH`,
    );
  });

  test("a manager without its database is named in the failure", async () => {
    const machine = new StandInMachine([]).tool("zypper");
    await expect(machine.run({}).result).rejects.toThrow(
      `passed over zypper (at ${join(machine.bin, "zypper")}, but this system's packages are not in its database)`,
    );
    expect(machine.calls()).toEqual([]);
  });
});

describe("UpdateOS: privileges and inputs", () => {
  test("not root: a failure that says so, before any manager runs", async () => {
    const machine = aptMachine();
    await expect(machine.run({}, { host: { userId: 1000 } }).result).rejects.toThrow(
      "UpdateOS needs root to install updates, but awstoe runs as user id 1000; run awstoe as root (for example with sudo)",
    );
    expect(machine.calls()).toEqual([]);
  });

  // The real check reads the process's user id: run the module in a child process as `nobody`.
  const canDropPrivileges = process.getuid?.() === 0 && spawnSync("setpriv", ["--version"]).status === 0;
  test.skipIf(!canDropPrivileges)("the real user id is checked (module run as nobody through setpriv)", () => {
    const bun = process.execPath;
    const index = join(import.meta.dir, "../../src/modules/index.ts");
    const code = `import { modules } from ${JSON.stringify(index)};
try { await modules.UpdateOS.execute({}, { platform: "linux" }); console.log("no error"); } catch (e) { console.log(e.constructor.name + ": " + e.message); }`;
    const child = spawnSync("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", bun, "-e", code], { encoding: "utf8" });
    expect(child.stderr).toBe("");
    expect(child.stdout.trim()).toBe("StepError: UpdateOS needs root to install updates, but awstoe runs as user id 65534; run awstoe as root (for example with sudo)");
  });

  const badNames: [string, RegExp][] = [
    ["-y", /'-y' starts with '-' and would be read as an option/],
    ["--allow-unauthenticated", /starts with '-'/],
    ["curl openssl", /'curl openssl' is not a package name/],
    ["curl;reboot", /is not a package name/],
    ["$(reboot)", /is not a package name/],
    ["../../etc/passwd", /is not a package name/],
    ["", /an empty package name/],
  ];
  for (const [name, message] of badNames) {
    test(`package name ${JSON.stringify(name)} is refused before anything runs`, async () => {
      const machine = aptMachine();
      await expect(machine.run({ include: ["curl"], exclude: [name] }).result).rejects.toThrow(message);
      expect(machine.calls()).toEqual([]);
    });
  }

  test("names are checked at validation time too (Linux names; Windows patterns are free text)", () => {
    const check = modules.UpdateOS.check!;
    expect(check({ include: ["curl", "-y", "{{ build.pick.outputs.stdout }}"], exclude: ["kernel*", "a b"] }, { platform: "linux" })).toEqual([
      { path: ["include", 1], message: "'-y' starts with '-' and would be read as an option, not a package name" },
      { path: ["exclude", 1], message: "'a b' is not a package name (letters, digits and . _ + : ~ - are allowed, and * as a wildcard)" },
    ]);
    expect(check({ include: ["*Security Update*", "KB5034441"], exclude: [" "] }, { platform: "windows" })).toEqual([
      { path: ["exclude", 0], message: "an empty KB id or title pattern" },
    ]);
  });

  test("package names that real distributions use are accepted", () => {
    for (const name of ["libstdc++6", "python3.11", "libc6:amd64", "kernel-5.14.0-362.el9.x86_64", "openssl-1:3.0.7-24.el9", "g++", "nodejs_20", "kernel*"]) {
      expect(packageNameProblem(name)).toBeUndefined();
    }
  });

  test("include entirely excluded: nothing to do, nothing run", async () => {
    const machine = aptMachine();
    expect(await machine.run({ include: ["curl"], exclude: ["curl"] }).result).toEqual({ outputs: {} });
    expect(machine.calls()).toEqual([]);
  });

  test("the registered module's execute is wired to the real machine", () => {
    expect(typeof modules.UpdateOS.execute).toBe("function");
  });
});

describe("UpdateOS on Windows", () => {
  const recording = recordingWindowsContext;
  const run = (input: object, ctx: ReturnType<typeof moduleContext>) => modules.UpdateOS.execute(input, ctx);

  test("the script is written to the step's folder (BOM, CRLF) and run with Windows PowerShell -File", async () => {
    const { ctx, calls } = recording({ exitCode: 0 });
    expect(await run({}, ctx)).toEqual({ outputs: {} });
    const path = ctx.workFile("update-os.ps1");
    expect(calls).toEqual([{ command: "powershell.exe", args: ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", path] }]);
    const script = readFileSync(path, "utf8");
    expect(script.startsWith("\uFEFF# UpdateOS (opentoe)")).toBe(true);
    expect(script.endsWith("exit 0\r\n")).toBe(true);
    expect(script.replace(/\r\n/g, "").includes("\n")).toBe(false);
    const lines = script.slice(1).split("\r\n");
    expect(lines).toContain("$include = @()");
    expect(lines).toContain("$exclude = @()");
    expect(lines).toContain(`  $found = $searcher.Search(${psQuote(SEARCH_CRITERIA)}).Updates`);
    expect(lines).toContain("if ($result.RebootRequired) { exit 3010 }");
    expect(lines).toContain("  $session = New-Object -ComObject Microsoft.Update.Session");
    expect(lines).toContain("    [void] $downloader.Download()");
    expect(lines).toContain("  $result = $installer.Install()");
  });

  test("include by KB id and title pattern, exclude by pattern: data in the script", async () => {
    const { ctx } = recording({ exitCode: 0 });
    await run({ include: ["KB5034441", "*Security Update*"], exclude: ["*Preview*", "kb890830", "O'Brien’s *"] }, ctx);
    const script = readFileSync(ctx.workFile("update-os.ps1"), "utf8");
    expect(script).toContain(
      [
        "$include = @(",
        "  @{ Kind = 'kb'; Value = '5034441'; Text = 'KB5034441' },",
        "  @{ Kind = 'title'; Value = '^.*Security Update.*$'; Text = '*Security Update*' }",
        ")",
      ].join("\r\n"),
    );
    expect(script).toContain(
      [
        "$exclude = @(",
        "  @{ Kind = 'title'; Value = '^.*Preview.*$'; Text = '*Preview*' },",
        "  @{ Kind = 'kb'; Value = '890830'; Text = 'kb890830' },",
        "  @{ Kind = 'title'; Value = '^O''Brien’’s .*$'; Text = 'O''Brien’’s *' }",
        ")",
      ].join("\r\n"),
    );
    // Include filters, then exclude removes; KB ids compare against KBArticleIDs, titles by -match.
    expect(script).toContain("  if ($include.Count -gt 0 -and -not (Test-UpdateMatches $update $include)) { continue }");
    expect(script).toContain("  if (Test-UpdateMatches $update $exclude) { Write-Output \"Excluded: $($update.Title)\"; continue }");
    expect(script).toContain("      foreach ($article in $update.KBArticleIDs) { if ($article -eq $pattern.Value) { return $true } }");
    expect(script).toContain("    } elseif ($update.Title -match $pattern.Value) {");
  });

  test("title patterns: * is the only wildcard, everything else literal, case-insensitive", () => {
    const matches = (pattern: string, title: string) => {
      const p = updatePattern(pattern);
      if (p.kind !== "title") throw new Error("expected a title pattern");
      return new RegExp(p.regex, "i").test(title);
    };
    const title = "2024-01 Cumulative Update for Windows Server 2022 for x64-based Systems (KB5034129)";
    expect(matches("*Cumulative Update*", title)).toBe(true);
    expect(matches("*cumulative update*", title)).toBe(true);
    expect(matches("Cumulative*", title)).toBe(false);
    expect(matches("*(KB5034129)", title)).toBe(true);
    expect(matches("2024-01 Cumulative Update for Windows Server 2022 for x64-based Systems (KB5034129)", title)).toBe(true);
    expect(matches("*Server 20?2*", title)).toBe(false); // ? is literal
    expect(matches("*x64.based*", title)).toBe(false); // . is literal
    expect(updatePattern("KB5034129")).toEqual({ kind: "kb", article: "5034129", text: "KB5034129" });
    expect(updatePattern("KB50341a").kind).toBe("title");
  });

  test("exit 3010 from the script: updates installed, reboot, then the next step", async () => {
    const { ctx } = recording({ exitCode: 3010, stdout: "RebootRequired: True\r\n" });
    expect(await run({ include: ["KB5034441"] }, ctx)).toEqual({ outputs: {}, reboot: { rerunStep: false } });
  });

  test("a failing script: its exit code and the end of stderr", async () => {
    const { ctx } = recording({ exitCode: 1, stderr: "UpdateOS needs administrator rights to install Windows updates; run awstoe from an elevated prompt or as SYSTEM.\r\n" });
    await expect(run({}, ctx)).rejects.toThrow(
      "the Windows Update script exited with code 1: UpdateOS needs administrator rights to install Windows updates; run awstoe from an elevated prompt or as SYSTEM.",
    );
  });

  test("PowerShell quoting doubles straight and typographic single quotes", () => {
    expect(psQuote("it's")).toBe("'it''s'");
    expect(psQuote("‘a’")).toBe("'‘‘a’’'");
    expect(psQuote("$env:x `n")).toBe("'$env:x `n'");
  });
});
