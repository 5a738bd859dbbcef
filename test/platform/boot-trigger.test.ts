/**
 * The post-reboot trigger, run for real against stand-ins: systemctl, crontab and schtasks are
 * small sh scripts in a temporary folder that is the whole PATH, recording every call (argv and
 * stdin) to files; unit and plist folders are moved into the temporary folder with
 * AWSTOE_SYSTEMD_UNIT_DIR / AWSTOE_LAUNCHD_DIR. Every exec goes through a guard that refuses any
 * program outside the stand-in folder, so no test can touch this machine's boot configuration.
 * The generated resume.sh is run with the real /bin/sh; resume.cmd runs under Wine's cmd when
 * Wine is installed.
 */
import type { ExecRequest } from "../../src/model/ports.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { StateError, StepError, UsageError } from "../../src/errors.ts";
import {
  chooseTriggerKind,
  cmdArgument,
  cmdResumeScript,
  installBootTrigger,
  removeBootTrigger,
  shQuote,
  shResumeScript,
  type ResumeCommand,
  type TriggerEnv,
} from "../../src/platform/boot-trigger.ts";
import { findProgram } from "../../src/platform/probe.ts";
import { runProcess } from "../../src/platform/process.ts";
import { runWine, stopWine, toWinePath, wineAvailable } from "../helpers/wine.ts";

const posix = process.platform !== "win32";
const root = mkdtempSync(join(tmpdir(), "opentoe-boot-trigger-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const RECORD = "\x1f";

/** The stand-ins: each appends `name<US>arg<US>arg…` to $STANDIN_LOG/calls, then acts like the real one. */
const STANDINS: Record<string, string> = {
  systemctl: "exit 0",
  crontab: [
    'case "$1" in',
    '  -l) if [ -f "$STANDIN_LOG/crontab" ]; then /bin/cat "$STANDIN_LOG/crontab"; else echo "no crontab for root" >&2; exit 1; fi ;;',
    '  -) /bin/cat > "$STANDIN_LOG/crontab" ;;',
    "  *) exit 2 ;;",
    "esac",
  ].join("\n"),
  schtasks: [
    'task="$STANDIN_LOG/task-$3"',
    'case "$1" in',
    '  /Create) : > "$task" ;;',
    '  /Delete) if [ -f "$task" ]; then /bin/rm "$task"; else echo "ERROR: The system cannot find the file specified." >&2; exit 1; fi ;;',
    '  /Query) if [ ! -f "$task" ]; then echo "ERROR: The system cannot find the file specified." >&2; exit 1; fi ;;',
    "esac",
  ].join("\n"),
};

function writeStandin(bin: string, name: string, behaviour: string): void {
  const path = join(bin, name);
  writeFileSync(
    path,
    [
      "#!/bin/sh",
      `{ printf '%s' '${name}'; for a in "$@"; do printf '${RECORD}%s' "$a"; done; printf '\\n'; } >> "$STANDIN_LOG/calls"`,
      // STANDIN_FAIL="<name> <first argument>" makes that call fail with STANDIN_FAIL_MESSAGE.
      `if [ "\${STANDIN_FAIL:-}" = "${name} $1" ]; then printf '%s\\n' "$STANDIN_FAIL_MESSAGE" >&2; exit 1; fi`,
      behaviour,
      "",
    ].join("\n"),
  );
  chmodSync(path, 0o755);
}

/**
 * runProcess, but only for programs in the stand-in folder (resolved by PATH first): a safety net
 * so a mistake in the code under test cannot run the real systemctl, crontab or shutdown. A name
 * not on PATH is run as <bin>/<name>, which fails to start like the missing program would.
 */
function guardedExec(bin: string, counter: { calls: number }) {
  return async (request: ExecRequest) => {
    counter.calls++;
    const bare = !request.command.includes("/");
    const path = bare ? (findProgram(request.command, request.env ?? {}, false) ?? join(bin, request.command)) : request.command;
    if (dirname(path) !== bin) throw new Error(`test safety: refusing to run '${request.command}' (not a stand-in)`);
    return runProcess({ ...request, command: path });
  };
}

let caseNumber = 0;
/** A fresh folder with stand-ins, a state directory and unit/plist folders, and a TriggerEnv using them. */
function scene(platform: TriggerEnv["platform"] = "linux", extraEnv: Record<string, string> = {}) {
  const dir = join(root, `case-${++caseNumber}`);
  const bin = join(dir, "bin");
  const log = join(dir, "log");
  const state = join(dir, "state dir");
  const units = join(dir, "systemd units");
  const daemons = join(dir, "LaunchDaemons");
  for (const folder of [bin, log, units, daemons]) mkdirSync(folder, { recursive: true });
  for (const [name, behaviour] of Object.entries(STANDINS)) writeStandin(bin, name, behaviour);
  const counter = { calls: 0 };
  const t: TriggerEnv = {
    platform,
    env: { PATH: bin, STANDIN_LOG: log, AWSTOE_SYSTEMD_UNIT_DIR: units, AWSTOE_LAUNCHD_DIR: daemons, ...extraEnv },
    exec: guardedExec(bin, counter),
    uid: 0,
  };
  /** Every recorded call as [program, ...args], in order. */
  const calls = (): string[][] => {
    const file = join(log, "calls");
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => line.split(RECORD));
  };
  const crontab = (): string | undefined => (existsSync(join(log, "crontab")) ? readFileSync(join(log, "crontab"), "utf8") : undefined);
  return { dir, bin, log, state, units, daemons, t, counter, calls, crontab };
}

const ID = "3f2a9c1e-77b0-4c1d-9e55-0123456789ab";
// A program that exists and only root can replace: the trigger refuses anything else.
const COMMAND: ResumeCommand = { executable: "/bin/sh", args: ["run", "--documents", "build.yaml", "--execution-id", ID], cwd: "/srv/build" };
const mode = (path: string) => statSync(path).mode & 0o777;
const record = (state: string) => JSON.parse(readFileSync(join(state, "boot-trigger.json"), "utf8"));

describe.skipIf(!posix)("chooseTriggerKind", () => {
  const env = (platform: TriggerEnv["platform"], vars: NodeJS.ProcessEnv = {}): TriggerEnv => ({ platform, env: vars, exec: () => Promise.reject(new Error("no exec expected")) });

  test("Linux: systemd when its run folder exists, else cron; Windows schtasks; macOS launchd", () => {
    const running = join(root, "run-systemd-system");
    mkdirSync(running, { recursive: true });
    expect(chooseTriggerKind(env("linux"), running)).toBe("systemd");
    expect(chooseTriggerKind(env("linux"), join(root, "no-such-folder"))).toBe("cron");
    expect(chooseTriggerKind(env("windows"), running)).toBe("schtasks");
    expect(chooseTriggerKind(env("macos"), running)).toBe("launchd");
  });

  test("AWSTOE_BOOT_TRIGGER overrides, in any case; empty means automatic", () => {
    expect(chooseTriggerKind(env("linux", { AWSTOE_BOOT_TRIGGER: "Cron" }), join(root, "run-systemd-system"))).toBe("cron");
    expect(chooseTriggerKind(env("windows", { AWSTOE_BOOT_TRIGGER: "launchd" }))).toBe("launchd");
    expect(chooseTriggerKind(env("windows", { AWSTOE_BOOT_TRIGGER: "" }))).toBe("schtasks");
  });

  test("an unknown AWSTOE_BOOT_TRIGGER is a usage error naming the allowed values", () => {
    let error: unknown;
    try {
      chooseTriggerKind(env("linux", { AWSTOE_BOOT_TRIGGER: "upstart" }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain("'upstart'");
    expect((error as Error).message).toContain("systemd, cron, schtasks, launchd");
  });
});

describe.skipIf(!posix)("systemd", () => {
  test("install writes the unit, reloads, enables, and records what it did", async () => {
    const s = scene();
    const said = await installBootTrigger("systemd", ID, COMMAND, s.state, s.t);
    const unitFile = join(s.units, "opentoe-resume-3f2a9c1e.service");
    const script = join(s.state, "resume.sh");
    expect(said).toBe(`systemd unit ${unitFile}`);
    expect(readFileSync(unitFile, "utf8")).toBe(
      [
        `# Written by awstoe for execution ${ID}: runs it again after the reboot so it resumes.`,
        "# awstoe disables and deletes this unit when it starts again.",
        "[Unit]",
        "Description=awstoe: resume execution 3f2a9c1e after a reboot",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        `ExecStart=/bin/sh "${script}"`,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
      ].join("\n"),
    );
    expect(mode(unitFile)).toBe(0o644);
    expect(s.calls()).toEqual([
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "opentoe-resume-3f2a9c1e.service"],
    ]);
    expect(record(s.state)).toMatchObject({ version: 1, kind: "systemd", executionId: ID, script, unit: "opentoe-resume-3f2a9c1e.service", unitFile });
    expect(mode(script)).toBe(0o600);
    expect(mode(join(s.state, "boot-trigger.json"))).toBe(0o600);
    // Durable writes leave no temporary files behind.
    expect(readdirSync(s.state).sort()).toEqual(["boot-trigger.json", "resume.sh"]);
  });

  test("remove disables, deletes and reloads exactly that unit; a second remove spawns nothing", async () => {
    const s = scene();
    await installBootTrigger("systemd", ID, COMMAND, s.state, s.t);
    const unitFile = join(s.units, "opentoe-resume-3f2a9c1e.service");
    const before = s.calls().length;
    const said = await removeBootTrigger(s.state, s.t);
    expect(said).toBe(`removed the boot trigger of execution ${ID}: systemd unit ${unitFile}`);
    expect(s.calls().slice(before)).toEqual([
      ["systemctl", "disable", "opentoe-resume-3f2a9c1e.service"],
      ["systemctl", "daemon-reload"],
    ]);
    expect(existsSync(unitFile)).toBe(false);
    expect(readdirSync(s.state)).toEqual([]);

    const spawned = s.counter.calls;
    expect(await removeBootTrigger(s.state, s.t)).toBeUndefined();
    expect(s.counter.calls).toBe(spawned);
  });

  test("with no record, removal spawns nothing even when the state folder does not exist", async () => {
    const s = scene();
    expect(await removeBootTrigger(join(s.dir, "never created"), s.t)).toBeUndefined();
    expect(s.counter.calls).toBe(0);
  });

  test("a unit someone already deleted is not an error: no systemctl call, record and script removed", async () => {
    const s = scene();
    await installBootTrigger("systemd", ID, COMMAND, s.state, s.t);
    rmSync(join(s.units, "opentoe-resume-3f2a9c1e.service"));
    const before = s.calls().length;
    expect(await removeBootTrigger(s.state, s.t)).toEndWith("(it was already gone)");
    expect(s.calls().length).toBe(before);
    expect(readdirSync(s.state)).toEqual([]);
  });

  test("a failing enable is a StepError with systemctl's message, and nothing is left behind", async () => {
    const s = scene("linux", { STANDIN_FAIL: "systemctl enable", STANDIN_FAIL_MESSAGE: "Failed to enable unit: Access denied" });
    const error = await installBootTrigger("systemd", ID, COMMAND, s.state, s.t).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as Error).message).toBe("cannot enable the systemd unit opentoe-resume-3f2a9c1e.service: systemctl exited with code 1: Failed to enable unit: Access denied");
    expect(existsSync(join(s.units, "opentoe-resume-3f2a9c1e.service"))).toBe(false);
    expect(readdirSync(s.state)).toEqual([]);
    // The half-done registration was taken back: disable and reload after the failed enable.
    expect(s.calls().slice(2)).toEqual([
      ["systemctl", "disable", "opentoe-resume-3f2a9c1e.service"],
      ["systemctl", "daemon-reload"],
    ]);
  });

  test("systemctl missing from PATH is a StepError that says so", async () => {
    const s = scene();
    rmSync(join(s.bin, "systemctl"));
    const error = await installBootTrigger("systemd", ID, COMMAND, s.state, s.t).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as Error).message).toContain(`cannot reload systemd after writing the resume unit: cannot run '${join(s.bin, "systemctl")}': no such file`);
    expect((error as Error).message).toContain("is systemctl installed and on PATH?");
    expect(readdirSync(s.state)).toEqual([]);
  });

  test("installing again in the same state folder removes the earlier trigger first", async () => {
    const s = scene();
    await installBootTrigger("systemd", "aaaaaaaa-1", COMMAND, s.state, s.t);
    await installBootTrigger("systemd", "bbbbbbbb-2", COMMAND, s.state, s.t);
    expect(s.calls()).toEqual([
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "opentoe-resume-aaaaaaaa.service"],
      ["systemctl", "disable", "opentoe-resume-aaaaaaaa.service"],
      ["systemctl", "daemon-reload"],
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "opentoe-resume-bbbbbbbb.service"],
    ]);
    expect(readdirSync(s.units)).toEqual(["opentoe-resume-bbbbbbbb.service"]);
    expect(record(s.state).executionId).toBe("bbbbbbbb-2");
  });

  test("unsafe characters of the id become _ in the unit name; ExecStart quotes systemd's specials", async () => {
    const s = scene();
    const state = join(s.dir, 'st "100%" $HOME\\x');
    await installBootTrigger("systemd", "a/b.é-xyz-rest", COMMAND, state, s.t);
    const unit = readFileSync(join(s.units, "opentoe-resume-a_b__-xy.service"), "utf8");
    expect(unit).toContain(`ExecStart=/bin/sh "${s.dir}/st \\"100%%\\" $$HOME\\\\x/resume.sh"`);
  });
});

describe.skipIf(!posix)("cron", () => {
  const line = (state: string) => `@reboot /bin/sh '${state}/resume.sh' # opentoe-resume ${ID}`;

  test("install appends the @reboot line through `crontab -`; removal restores the other lines byte for byte", async () => {
    const s = scene();
    const foreign = ["# m h dom mon dow command", "MAILTO=ops@example.com", "*/5 * * * * /usr/bin/backup --quiet 2>&1 | logger  ", "0 3 * * * echo 100\\% > /tmp/x # ünïcode", "\r", "@reboot /bin/sh '/other/resume.sh' # opentoe-resume other-id", ""].join("\n");
    writeFileSync(join(s.log, "crontab"), foreign);
    const said = await installBootTrigger("cron", ID, COMMAND, s.state, s.t);
    expect(said).toBe(`root crontab @reboot line marked '# opentoe-resume ${ID}'`);
    expect(s.crontab()).toBe(foreign + line(s.state) + "\n");
    expect(s.calls()).toEqual([["crontab", "-l"], ["crontab", "-"]]);
    expect(record(s.state)).toMatchObject({ kind: "cron", marker: `opentoe-resume ${ID}` });

    expect(await removeBootTrigger(s.state, s.t)).toBe(`removed the boot trigger of execution ${ID}: root crontab @reboot line marked '# opentoe-resume ${ID}'`);
    expect(s.crontab()).toBe(foreign);
    expect(readdirSync(s.state)).toEqual([]);
  });

  test("no crontab yet ('no crontab for root', exit 1) is an empty one", async () => {
    const s = scene();
    await installBootTrigger("cron", ID, COMMAND, s.state, s.t);
    expect(s.crontab()).toBe(line(s.state) + "\n");
    await removeBootTrigger(s.state, s.t);
    expect(s.crontab()).toBe("");
  });

  test("a crontab without a final newline gets one before our line; a stale line of ours is replaced", async () => {
    const s = scene();
    writeFileSync(join(s.log, "crontab"), `${line(s.state)}\n0 1 * * * true`);
    await installBootTrigger("cron", ID, COMMAND, s.state, s.t);
    expect(s.crontab()).toBe(`0 1 * * * true\n${line(s.state)}\n`);
  });

  test("a line that is already gone is not an error, and crontab is not rewritten", async () => {
    const s = scene();
    await installBootTrigger("cron", ID, COMMAND, s.state, s.t);
    writeFileSync(join(s.log, "crontab"), "0 1 * * * true\n");
    expect(await removeBootTrigger(s.state, s.t)).toEndWith("(it was already gone)");
    expect(s.calls().slice(2)).toEqual([["crontab", "-l"]]);
    expect(s.crontab()).toBe("0 1 * * * true\n");
  });

  test("a failing `crontab -l` is a StepError with its message; nothing is left behind", async () => {
    const s = scene("linux", { STANDIN_FAIL: "crontab -l", STANDIN_FAIL_MESSAGE: "crontab: cannot open spool: Permission denied" });
    const error = await installBootTrigger("cron", ID, COMMAND, s.state, s.t).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as Error).message).toBe("cannot read the root crontab: crontab exited with code 1: crontab: cannot open spool: Permission denied");
    expect(readdirSync(s.state)).toEqual([]);
  });

  test("a state folder with % is refused before anything is written (cron would cut the line there)", async () => {
    const s = scene();
    const error = await installBootTrigger("cron", ID, COMMAND, join(s.dir, "100%"), s.t).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as Error).message).toContain("contains '%', which a crontab line cannot carry unchanged");
    expect(s.counter.calls).toBe(0);
    expect(existsSync(join(s.dir, "100%"))).toBe(false);
  });
});

describe.skipIf(!posix)("schtasks (generated on this machine, run by a stand-in)", () => {
  test("creates a start-up task as SYSTEM running resume.cmd through cmd.exe, and deletes it again", async () => {
    const s = scene("windows");
    const said = await installBootTrigger("schtasks", ID, COMMAND, s.state, s.t);
    expect(said).toBe("scheduled task opentoe-resume-3f2a9c1e (at start-up, as SYSTEM)");
    const script = join(s.state, "resume.cmd");
    expect(s.calls()).toEqual([
      ["schtasks", "/Create", "/TN", "opentoe-resume-3f2a9c1e", "/SC", "ONSTART", "/RU", "SYSTEM", "/RL", "HIGHEST", "/TR", `cmd.exe /d /s /c ""${script}""`, "/F"],
    ]);
    expect(record(s.state)).toMatchObject({ kind: "schtasks", taskName: "opentoe-resume-3f2a9c1e", script });
    expect(await removeBootTrigger(s.state, s.t)).toBe(`removed the boot trigger of execution ${ID}: scheduled task opentoe-resume-3f2a9c1e (at start-up, as SYSTEM)`);
    expect(s.calls()[1]).toEqual(["schtasks", "/Delete", "/TN", "opentoe-resume-3f2a9c1e", "/F"]);
    expect(readdirSync(s.state)).toEqual([]);
  });

  test("a task already gone: /Delete fails, /Query confirms it is missing, not an error", async () => {
    const s = scene("windows");
    await installBootTrigger("schtasks", ID, COMMAND, s.state, s.t);
    rmSync(join(s.log, "task-opentoe-resume-3f2a9c1e"));
    expect(await removeBootTrigger(s.state, s.t)).toEndWith("(it was already gone)");
    expect(s.calls().slice(1).map((call) => call[1])).toEqual(["/Delete", "/Query"]);
  });

  test("a task that exists but cannot be deleted is a StepError, and the record stays for the next try", async () => {
    const s = scene("windows");
    await installBootTrigger("schtasks", ID, COMMAND, s.state, s.t);
    s.t.env.STANDIN_FAIL = "schtasks /Delete";
    s.t.env.STANDIN_FAIL_MESSAGE = "ERROR: Access is denied.";
    const error = await removeBootTrigger(s.state, s.t).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as Error).message).toBe("cannot delete the scheduled task opentoe-resume-3f2a9c1e: schtasks exited with code 1: ERROR: Access is denied.");
    expect(existsSync(join(s.state, "boot-trigger.json"))).toBe(true);
  });

  test("a /TR longer than Task Scheduler's 261 characters is refused before anything happens", async () => {
    const s = scene("windows");
    const deep = join(s.dir, "x".repeat(250));
    const error = await installBootTrigger("schtasks", ID, COMMAND, deep, s.t).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as Error).message).toContain("Task Scheduler allows 261; use a shorter --state-directory path");
    expect(s.counter.calls).toBe(0);
    expect(existsSync(deep)).toBe(false);
  });

  test("resume.cmd: UTF-8 code page, no delayed expansion, cd checked, every argument quoted and escaped", () => {
    const command: ResumeCommand = {
      executable: "C:\\Program Files\\awstoe\\awstoe.exe",
      args: ["run", "two words", 'say "hi"', "100%", "a&b", "tail\\", "!x!"],
      cwd: "C:\\Builds (x86)\\%TEMP%",
      env: { PATH: "C:\\Windows\\system32;C:\\Tools & More" },
    };
    expect(cmdResumeScript(ID, command)).toBe(
      [
        "@echo off",
        `rem Written by awstoe for execution ${ID}: runs it again after the reboot so it resumes.`,
        "rem awstoe deletes this file and its scheduled task when it starts again.",
        "setlocal DisableDelayedExpansion",
        "chcp 65001 >nul",
        'set ^"PATH=C:\\Windows\\system32;C:\\Tools ^& More^"',
        "(call )",
        'cd /d "C:\\Builds (x86)\\%%TEMP%%"',
        "if errorlevel 1 exit /b 1",
        '"C:\\Program Files\\awstoe\\awstoe.exe" ^"run^" ^"two words^" ^"say \\^"hi\\^"^" ^"100%%^" ^"a^&b^" ^"tail\\\\^" ^"!x!^"',
        "exit /b %ERRORLEVEL%",
        "",
      ].join("\r\n"),
    );
  });

  test("resume.cmd stops when chcp fails only if it holds non-ASCII text", () => {
    expect(cmdResumeScript(ID, { ...COMMAND, args: ["ü"] })).toContain("chcp 65001 >nul\r\nif errorlevel 1 exit /b 1\r\n(call )");
  });

  test("what a batch line cannot carry is refused, naming the argument", () => {
    const refused = (command: ResumeCommand) => {
      try {
        cmdResumeScript(ID, command);
      } catch (error) {
        expect(error).toBeInstanceOf(StepError);
        return (error as Error).message;
      }
      throw new Error("expected a refusal");
    };
    expect(refused({ ...COMMAND, args: ["ok", "two\nlines"] })).toContain("the resume command's argument 2 contains control character U+000A, which a cmd.exe script cannot carry unchanged");
    expect(refused({ ...COMMAND, args: ["a\rb"] })).toContain("control character U+000D");
    expect(refused({ ...COMMAND, cwd: 'C:\\a"b' })).toContain("the resume command's working directory contains '\"'");
    expect(refused({ ...COMMAND, args: ["x".repeat(9000)] })).toContain("cmd.exe reads at most 8191");
    expect(refused({ ...COMMAND, env: { "BAD NAME": "x" } })).toContain("'BAD NAME' is not a usable environment variable name");
  });
});

describe.skipIf(!posix)("launchd", () => {
  test("writes a RunAtLoad daemon plist (XML-escaped, 0644) and removes it without launchctl", async () => {
    const s = scene("macos");
    const state = join(s.dir, "a&b <c>");
    const said = await installBootTrigger("launchd", ID, COMMAND, state, s.t);
    const plist = join(s.daemons, "com.opentoe.resume.3f2a9c1e.plist");
    expect(said).toBe(`launchd daemon ${plist}`);
    const text = readFileSync(plist, "utf8");
    const escaped = `${s.dir}/a&amp;b &lt;c&gt;`;
    expect(text).toContain("<key>Label</key><string>com.opentoe.resume.3f2a9c1e</string>");
    expect(text).toContain(`<key>ProgramArguments</key><array><string>/bin/sh</string><string>${escaped}/resume.sh</string></array>`);
    expect(text).toContain(`<key>WorkingDirectory</key><string>${escaped}</string>`);
    expect(text).toContain("<key>RunAtLoad</key><true/>");
    expect(mode(plist)).toBe(0o644);
    expect(await removeBootTrigger(state, s.t)).toBe(`removed the boot trigger of execution ${ID}: launchd daemon ${plist}`);
    expect(existsSync(plist)).toBe(false);
    expect(s.counter.calls).toBe(0);
  });
});

describe.skipIf(!posix)("refusals and records", () => {
  test("not root: refused before anything is written or run", async () => {
    const s = scene();
    s.t.uid = 1000;
    const error = await installBootTrigger("systemd", ID, COMMAND, s.state, s.t).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as Error).message).toBe("cannot register a boot trigger that resumes the execution: that needs root and awstoe runs as user id 1000; run awstoe as root (sudo).");
    expect(s.counter.calls).toBe(0);
    expect(existsSync(s.state)).toBe(false);
  });

  test("a corrupt record is a StateError, and nothing is run", async () => {
    const s = scene();
    mkdirSync(s.state, { recursive: true });
    writeFileSync(join(s.state, "boot-trigger.json"), "{ not json");
    await expect(removeBootTrigger(s.state, s.t)).rejects.toBeInstanceOf(StateError);
    expect(s.counter.calls).toBe(0);
  });

  test("a record naming a file that is not ours is refused rather than deleted", async () => {
    const s = scene();
    const victim = join(s.dir, "precious.conf");
    writeFileSync(victim, "keep me");
    mkdirSync(s.state, { recursive: true });
    const forged = { version: 1, kind: "systemd", executionId: ID, script: join(s.state, "resume.sh"), installedAt: "", unit: "precious.conf", unitFile: victim };
    writeFileSync(join(s.state, "boot-trigger.json"), JSON.stringify(forged));
    const error = await removeBootTrigger(s.state, s.t).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect((error as Error).message).toContain("is not one awstoe wrote");
    expect(readFileSync(victim, "utf8")).toBe("keep me");
  });

  test("an empty execution id is refused", async () => {
    const s = scene();
    await expect(installBootTrigger("cron", "", COMMAND, s.state, s.t)).rejects.toThrow("the execution id is empty");
  });
});

// ---------------------------------------------------------------------------------------------
// The resume scripts, run

/** A stand-in awstoe: writes each argument, then its folder and PATH, NUL-terminated, to $DUMP. */
function dumpingAwstoe(dir: string): string {
  const path = join(dir, "awstoe");
  writeFileSync(path, `#!/bin/sh\n{ for a in "$@"; do printf '%s\\0' "$a"; done; printf 'cwd=%s\\0' "$PWD"; printf 'path=%s\\0' "$PATH"; } > "$DUMP"\nexit 7\n`);
  chmodSync(path, 0o755);
  return path;
}

async function runShResume(script: string, dump: string): Promise<{ exitCode: number | null; args: string[]; cwd: string; path: string; stderr: string }> {
  // A bare environment, as at boot: the script's own PATH and DUMP must be what reaches awstoe.
  const result = await runProcess({ command: "/bin/sh", args: [script], env: { PATH: "/nonexistent" } });
  const fields = existsSync(dump) ? readFileSync(dump, "utf8").split("\0").slice(0, -1) : [];
  const path = fields.pop() ?? "";
  const cwd = fields.pop() ?? "";
  rmSync(dump, { force: true });
  return { exitCode: result.exitCode, args: fields, cwd: cwd.replace(/^cwd=/, ""), path: path.replace(/^path=/, ""), stderr: result.stderr };
}

const NASTY = [
  "",
  " ",
  "two words",
  "it's",
  "'",
  "''",
  '"double"',
  "$HOME",
  "${HOME}",
  "$(id)",
  "`id`",
  "a;b|c&d>e<f",
  "*",
  "~",
  "!x!",
  "%PATH%",
  "100%",
  "back\\slash\\",
  "new\nline",
  "tab\there",
  "\r",
  "-n",
  "--",
  "ünïcödé",
  "日本語",
  "😀 emoji",
  "\u001b[31mred",
];

describe.skipIf(!posix)("resume.sh, run by /bin/sh", () => {
  test("reproduces every argument exactly, in the right folder, with the saved PATH; the exit code passes through", async () => {
    const s = scene();
    const cwd = join(s.dir, "it's a $dir `x` \"q\" ü");
    mkdirSync(cwd);
    const dump = join(s.dir, "dump");
    const command: ResumeCommand = { executable: dumpingAwstoe(s.bin), args: NASTY, cwd, env: { PATH: "/saved/path:with 'quote'", DUMP: dump } };
    await installBootTrigger("cron", ID, command, s.state, s.t);
    const ran = await runShResume(join(s.state, "resume.sh"), dump);
    expect(ran.stderr).toBe("");
    expect(ran.exitCode).toBe(7);
    expect(ran.args).toEqual(NASTY);
    expect(ran.cwd).toBe(cwd);
    expect(ran.path).toBe("/saved/path:with 'quote'");
  });

  test("property: any arguments without NUL come through unchanged", async () => {
    const dir = join(root, "sh-property");
    mkdirSync(dir);
    const dump = join(dir, "dump");
    const awstoe = dumpingAwstoe(dir);
    const script = join(dir, "resume.sh");
    const word = fc.string({ unit: "grapheme", maxLength: 12 }).filter((text) => !text.includes("\0"));
    await fc.assert(
      fc.asyncProperty(fc.array(word, { maxLength: 6 }), async (args) => {
        writeFileSync(script, shResumeScript(ID, { executable: awstoe, args, cwd: dir, env: { DUMP: dump } }));
        expect((await runShResume(script, dump)).args).toEqual(args);
      }),
      { numRuns: 60 },
    );
  });

  test("a NUL cannot be carried and is refused", () => {
    expect(() => shQuote("a\0b", "argument 1")).toThrow("argument 1 contains control character U+0000");
  });
});

// ---------------------------------------------------------------------------------------------
// cmd.exe quoting

/**
 * A model of what cmd.exe does to one argument on a batch line (percent phase: `%%` → `%`; then
 * outside quotes a caret escapes the next character and `"` toggles quoting; an unescaped
 * `& | < > ( )` outside quotes would end the command), followed by CommandLineToArgvW's parsing.
 * The Wine test below checks the same against a real cmd implementation.
 */
function cmdThenArgv(line: string): string[] {
  if (line.replace(/%%/g, "").includes("%")) throw new Error(`a lone % would expand: ${line}`);
  const afterPercent = line.replace(/%%/g, "%");
  let text = "";
  let quoted = false;
  for (let i = 0; i < afterPercent.length; i++) {
    const c = afterPercent[i]!;
    if (!quoted && c === "^") text += afterPercent[++i] ?? "";
    else if (!quoted && "&|<>()".includes(c)) throw new Error(`unescaped ${c} in ${line}`);
    else {
      if (c === '"') quoted = !quoted;
      text += c;
    }
  }
  return commandLineToArgv(text);
}

/**
 * CommandLineToArgvW's rules for the arguments after the program name: n backslashes before a
 * quote give n/2 backslashes, and the quote is literal when n is odd; other backslashes are plain;
 * an unescaped quote toggles quoting; spaces and tabs outside quotes separate arguments.
 */
function commandLineToArgv(text: string): string[] {
  const args: string[] = [];
  let i = 0;
  for (;;) {
    while (text[i] === " " || text[i] === "\t") i++;
    if (i >= text.length) return args;
    let arg = "";
    let quoted = false;
    while (i < text.length && (quoted || (text[i] !== " " && text[i] !== "\t"))) {
      if (text[i] === "\\") {
        let n = 0;
        while (text[i] === "\\") (n++, i++);
        if (text[i] !== '"') arg += "\\".repeat(n);
        else {
          arg += "\\".repeat(n >> 1);
          if (n % 2 === 1) (arg += '"', i++);
        }
      } else if (text[i] === '"') (quoted = !quoted, i++);
      else arg += text[i++];
    }
    args.push(arg);
  }
}

describe("cmd.exe quoting", () => {
  test("property (model): cmd's batch-line processing and CommandLineToArgvW give every argument back", () => {
    const printable = fc.string({ unit: fc.constantFrom(..." \t!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~é€😀".split("")), maxLength: 16 });
    fc.assert(
      fc.property(fc.array(printable, { maxLength: 5 }), (args) => {
        expect(cmdThenArgv(args.map((arg) => cmdArgument(arg)).join(" "))).toEqual(args);
      }),
      { numRuns: 500 },
    );
  });

  describe.skipIf(!wineAvailable())("under Wine's cmd", () => {
    const dir = join(root, "wine");
    let dumper = "";
    beforeAll(() => {
      mkdirSync(dir, { recursive: true });
      // A Windows program that writes what CommandLineToArgvW gives it, its folder and %WEIRD%, as UTF-8, NUL-terminated.
      writeFileSync(
        join(dir, "dumpargs.c"),
        `#include <windows.h>
#include <shellapi.h>
static void put(HANDLE h, const wchar_t *s) { char buf[65536]; DWORD w; int n = WideCharToMultiByte(CP_UTF8, 0, s, -1, buf, sizeof buf, NULL, NULL); WriteFile(h, buf, n, &w, NULL); }
int wmain(void) {
  int n = 0; LPWSTR *argv = CommandLineToArgvW(GetCommandLineW(), &n);
  wchar_t path[32768], cwd[32768], weird[32768];
  if (!GetEnvironmentVariableW(L"DUMP", path, 32768)) return 2;
  GetCurrentDirectoryW(32768, cwd);
  if (!GetEnvironmentVariableW(L"WEIRD", weird, 32768)) weird[0] = 0;
  HANDLE h = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
  if (h == INVALID_HANDLE_VALUE) return 3;
  for (int i = 1; i < n; i++) put(h, argv[i]);
  put(h, cwd); put(h, weird); CloseHandle(h); return 7;
}
`,
      );
      const gcc = Bun.spawnSync(["x86_64-w64-mingw32-gcc", "-municode", "-O1", "-s", "-o", join(dir, "dumpargs.exe"), join(dir, "dumpargs.c"), "-lshell32"], { stderr: "pipe" });
      if (gcc.exitCode !== 0) throw new Error(`mingw could not build dumpargs.exe: ${gcc.stderr.toString()}`);
      dumper = join(dir, "dumpargs.exe");
    });
    afterAll(() => stopWine());

    // Wine's cmd cannot switch to code page 65001 without a console, so non-ASCII text is left to
    // the model above; everything printable in ASCII, quotes and cmd's specials included, is here.
    test("resume.cmd runs the program with every argument, folder and variable exactly", () => {
      const ascii = fc.sample(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 10 }), { numRuns: 30, seed: 42 });
      const args = [...NASTY.filter((arg) => /^[\x20-\x7e\t]*$/.test(arg)), 'x"&echo INJECTED&"', '\\"\\', "a b\\\\", "^", ")", '"^"', "%~dp0", "%%", ...ascii];
      const cwd = join(dir, "work (x) & y %TEMP% !z!");
      mkdirSync(cwd, { recursive: true });
      const dump = join(dir, "dump.bin");
      const weird = 'a"&b%c!d^ (e)';
      const script = join(dir, "resume.cmd");
      writeFileSync(script, cmdResumeScript(ID, { executable: toWinePath(dumper), args, cwd: toWinePath(cwd), env: { DUMP: toWinePath(dump), WEIRD: weird } }));
      const ran = runWine("cmd", ["/d", "/c", toWinePath(script)]);
      expect(ran.exitCode).toBe(7);
      const fields = readFileSync(dump, "utf8").split("\0").slice(0, -1);
      expect(fields.pop()).toBe(weird);
      expect(fields.pop()).toBe(toWinePath(cwd));
      expect(fields).toEqual(args);
    });
  });
});
