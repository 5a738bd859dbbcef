/**
 * @module test/modules/install-msi.test: InstallMSI — the msiexec command line (quoting of nasty
 * property values checked against msiexec's documented parsing rule), log options and files,
 * every exit code and reboot mode, the Authenticode check for each status and flag combination,
 * and the package sources — local files, a real S3-compatible server and real HTTPS servers on
 * 127.0.0.1.
 *
 * msiexec and PowerShell's Get-AuthenticodeSignature exist only on Windows, so `exec` is a
 * recording fake here (test/helpers/msi-context.ts); test/e2e/windows-msi.test.ts runs the real
 * Windows build against Wine's real msiexec.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createS3Port } from "../../src/aws/s3.ts";
import { parseSignatureOutput, signatureScript, signatureVerdict } from "../../src/modules/_authenticode.ts";
import { checkMsiInput, localPackageName, msiexecProgram, type MsiInput } from "../../src/modules/_msi.ts";
import {
  describeExitCode,
  isQuotedMsiString,
  logOptionsProblem,
  msiexecArguments,
  msiexecExitCode,
  msiOutcome,
  propertyNameProblem,
  propertyValueToken,
  wantsReboot,
} from "../../src/modules/_msiexec.ts";
import { modules } from "../../src/modules/index.ts";
import { put, scratch } from "../helpers/fs-tree.ts";
import { runModule, type WrittenInput } from "../helpers/module-context.ts";
import { failure, msiContext, signatureOutput, type Canned } from "../helpers/msi-context.ts";
import { startLocalS3, testClient, useLocalS3, type LocalS3 } from "../helpers/s3-server.ts";
import type { ModuleContext } from "../../src/modules/_define.ts";

const temp = scratch();
const MSIEXEC = "C:\\Windows\\System32\\msiexec.exe";
let savedSystemRoot: string | undefined;

beforeAll(() => {
  // msiexec's path comes from SystemRoot; pin it so the expected command is the default one.
  savedSystemRoot = process.env.SystemRoot;
  delete process.env.SystemRoot;
  delete process.env.SYSTEMROOT;
});
afterAll(() => {
  if (savedSystemRoot !== undefined) process.env.SystemRoot = savedSystemRoot;
});

/** A folder with an app.msi (its bytes do not matter: msiexec is the fake here). */
function packageFolder(): { dir: string; msi: string } {
  const dir = temp.folder();
  return { dir, msi: put(dir, "app.msi", "not really an msi") };
}

function install(input: WrittenInput<typeof modules.InstallMSI>, ctx: ModuleContext) {
  return runModule(modules.InstallMSI, input, ctx);
}

// ---------------------------------------------------------------------------------------------

/**
 * msiexec's documented rule for its command line: white space outside quotes separates tokens;
 * `"` starts or ends a quoted part; inside a quoted part `""` is one literal `"`. Returns the
 * NAME=value tokens as a map (what msiexec would set).
 */
function msiexecProperties(line: string): Map<string, string> {
  const tokens: string[] = [];
  let current = "";
  let started = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '"') {
      if (quoted && line[i + 1] === '"') {
        current += '"';
        i++;
      } else quoted = !quoted;
      started = true;
    } else if (/\s/.test(ch) && !quoted) {
      if (started) tokens.push(current);
      current = "";
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (started) tokens.push(current);
  const properties = new Map<string, string>();
  for (const token of tokens) {
    const eq = token.indexOf("=");
    if (eq > 0 && !token.startsWith("/")) properties.set(token.slice(0, eq), token.slice(eq + 1));
  }
  return properties;
}

/** What msiexec makes of a value that is already written as an msiexec quoted string. */
function unquoteMsi(value: string): string {
  return value.slice(1, -1).replace(/""/g, '"');
}

describe("the msiexec command line", () => {
  const line = (properties: [string, string][] = [], verb: "install" | "uninstall" = "install") =>
    msiexecArguments({ verb, packagePath: "C:\\pkgs\\My App.msi", logOptions: "*VX", logFile: "C:\\logs\\msi.log", properties });

  test("install: /i, the package and the log always in quotes, /quiet /norestart, /L with the options, then properties", () => {
    expect(line()).toBe('/i "C:\\pkgs\\My App.msi" /quiet /norestart /L*VX "C:\\logs\\msi.log"');
    expect(line([["ALLUSERS", "1"], ["INSTALLDIR", "C:\\Program Files\\Acme"]])).toBe(
      '/i "C:\\pkgs\\My App.msi" /quiet /norestart /L*VX "C:\\logs\\msi.log" ALLUSERS=1 INSTALLDIR="C:\\Program Files\\Acme"',
    );
  });

  test("uninstall: /x", () => {
    expect(line([], "uninstall")).toBe('/x "C:\\pkgs\\My App.msi" /quiet /norestart /L*VX "C:\\logs\\msi.log"');
  });

  test("values are bare when safe, quoted with doubled quotes otherwise, and kept when already an msiexec quoted string", () => {
    const cases: [string, string][] = [
      ["1", "1"],
      ["C:\\Program Files\\App", '"C:\\Program Files\\App"'],
      ['a "b" c', '"a ""b"" c"'],
      ['"true"', '"true"'], // the AWS documents' style: GENERATE_CONFIG: '"true"'
      ['"Acme ""Widgets"""', '"Acme ""Widgets"""'], // modules.md §5's example
      ["", '""'],
      ['""', '""'],
      ['"', '""""'],
      ['a"b', '"a""b"'],
      ['"a"b"', '"""a""b"""'], // looks quoted, is not well formed: quoted as a literal
      ["a\tb", '"a\tb"'],
      ["100%&|<>^!()", "100%&|<>^!()"], // nothing here is special to msiexec; no shell is involved
      ["C:\\dir\\", "C:\\dir\\"],
      ["C:\\my dir\\", '"C:\\my dir\\"'], // msiexec has no backslash escapes
      ["café ünï", '"café ünï"'],
    ];
    for (const [value, token] of cases) expect([value, propertyValueToken(value)]).toEqual([value, token]);
  });

  test("every value reads back exactly under msiexec's rule, and never spills into the next argument", () => {
    const alphabet = ['a', 'Z', ' ', '"', '\\', '%', '&', '=', '/', 'é', '\t', "'", '^', '!'];
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const values = ['"true"', '"Acme ""Widgets"""', "", '"', '""', '"""', "a b", ' ', '/x {GUID}', 'A=1 B=2', 'x" /i "evil.msi'];
    for (let i = 0; i < 500; i++) values.push(Array.from({ length: Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(""));
    for (const value of values) {
      const text = line([["NAME", value], ["NEXT", "1"]]);
      const parsed = msiexecProperties(text);
      const expected = isQuotedMsiString(value) ? unquoteMsi(value) : value;
      expect([value, parsed.get("NAME")]).toEqual([value, expected]);
      expect([value, parsed.get("NEXT"), [...parsed.keys()]]).toEqual([value, "1", ["NAME", "NEXT"]]);
    }
  });

  test("property names: identifiers pass; anything that could add an argument is refused", () => {
    for (const ok of ["INSTALLDIR", "_X", "A.B_1", "installDir"]) expect(propertyNameProblem(ok)).toBeUndefined();
    for (const bad of ["", "A B", "A=1", "1A", ".A", 'A"', "/i", "A\tB", "É"]) {
      expect(propertyNameProblem(bad)).toBe(`'${bad}' is not a Windows Installer property name (letters, digits, _ and . only, not starting with a digit or .)`);
    }
  });

  test("log options are msiexec's flags only", () => {
    for (const ok of ["*VX", "*v", "iwearucmopvx+!*", "e"]) expect(logOptionsProblem(ok)).toBeUndefined();
    for (const bad of ["", "*v /x", "z", '*"']) expect(logOptionsProblem(bad)).toBe(`logOptions '${bad}' must be msiexec log flags, any of i w e a r u c m o p v x + ! *`);
  });

  test("a package or log path with a double quote is refused", () => {
    expect(() => msiexecArguments({ verb: "install", packagePath: 'C:\\a"b.msi', logOptions: "*", logFile: "C:\\l.log", properties: [] })).toThrow(
      `the package path 'C:\\a"b.msi' contains a double quote, which no Windows path may contain`,
    );
    expect(() => msiexecArguments({ verb: "install", packagePath: "C:\\a.msi", logOptions: "*", logFile: 'C:\\"l.log', properties: [] })).toThrow("the log file path");
  });

  test("msiexec by absolute path from SystemRoot", () => {
    expect(msiexecProgram()).toBe(MSIEXEC);
    process.env.SystemRoot = "D:\\Win\\";
    try {
      expect(msiexecProgram()).toBe("D:\\Win\\System32\\msiexec.exe");
    } finally {
      delete process.env.SystemRoot;
    }
  });
});

describe("exit codes and reboots", () => {
  test("success codes (modules.md §5): install 0, 1614, 1641, 3010; 1605 is a failure for install", () => {
    expect(msiOutcome("install", 0)).toEqual({ kind: "success" });
    expect(msiOutcome("install", 1614)).toEqual({ kind: "success" });
    expect(msiOutcome("install", 3010)).toEqual({ kind: "rebootRequested" });
    expect(msiOutcome("install", 1641)).toEqual({ kind: "rebootRequested" });
    expect(msiOutcome("install", 1605).kind).toBe("failure");
    expect(msiOutcome("uninstall", 1605)).toEqual({ kind: "notInstalled" });
  });

  test("failures are described with the constant's name, its meaning and advice for the common ones", () => {
    expect(describeExitCode(1603)).toBe("exit code 1603 (ERROR_INSTALL_FAILURE: a fatal error occurred during the installation; the MSI log says which action failed)");
    expect(describeExitCode(1618)).toBe("exit code 1618 (ERROR_INSTALL_ALREADY_RUNNING: another installation is already in progress; wait for the other installation to finish (maxAttempts can retry the step))");
    expect(describeExitCode(1619)).toBe("exit code 1619 (ERROR_INSTALL_PACKAGE_OPEN_FAILED: the installation package could not be opened; check that the path names an existing .msi file that this account can read)");
    expect(describeExitCode(1620)).toBe("exit code 1620 (ERROR_INSTALL_PACKAGE_INVALID: the file is not a valid Windows Installer package; the file may be damaged or not an .msi at all)");
    expect(describeExitCode(1633)).toBe("exit code 1633 (ERROR_INSTALL_PLATFORM_UNSUPPORTED: the package is not supported on this processor type; use the package built for this machine's architecture)");
    expect(describeExitCode(1638)).toBe("exit code 1638 (ERROR_PRODUCT_VERSION: another version of this product is already installed; uninstall the other version first, or use that version's package)");
    expect(describeExitCode(1639)).toBe("exit code 1639 (ERROR_INVALID_COMMAND_LINE: the command line is not valid)");
    expect(describeExitCode(4242)).toBe("exit code 4242");
  });

  test("an exit code cut to its low 8 bits (Bun on Windows) is read back as the Installer code; 87 stays ERROR_INVALID_PARAMETER", () => {
    const cases: [number, number][] = [[194, 3010], [195, 3011], [105, 1641], [67, 1603], [69, 1605], [78, 1614], [82, 1618], [84, 1620], [91, 1627], [65, 1601], [118, 1654]];
    for (const [reported, code] of cases) expect([reported, msiexecExitCode(reported)]).toEqual([reported, { code, widened: true }]);
    for (const kept of [0, 1, 2, 5, 13, 64, 87, 119, 120, 193, 196, 255, 1603, 3010, 1605, 4242]) expect([kept, msiexecExitCode(kept)]).toEqual([kept, { code: kept, widened: false }]);
  });

  test("reboot: Allow only when msiexec asks, Force always, Skip never; never after a failure", () => {
    const success = msiOutcome("install", 0);
    const asked = msiOutcome("install", 3010);
    const failed = msiOutcome("install", 1603);
    expect([wantsReboot("Allow", success), wantsReboot("Allow", asked), wantsReboot("Allow", failed)]).toEqual([false, true, false]);
    expect([wantsReboot("Force", success), wantsReboot("Force", asked), wantsReboot("Force", failed)]).toEqual([true, true, false]);
    expect([wantsReboot("Skip", success), wantsReboot("Skip", asked), wantsReboot("Skip", failed)]).toEqual([false, false, false]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("InstallMSI step", () => {
  test("is runnable on Windows only", () => {
    expect(modules.InstallMSI.execute).toBeDefined();
    expect(modules.InstallMSI.platforms).toEqual(["windows"]);
  });

  test("checks the signature, then runs msiexec once: absolute path, the line as ONE verbatim argument; default log in the step's folder; outputs", async () => {
    const { dir, msi } = packageFolder();
    const fake = msiContext({ msiexec: { exitCode: 0, stdout: "done\r\n\r\n" } }, { cwd: dir });
    const outcome = await install({ path: "app.msi", properties: { ALLUSERS: "1", COMPANY: 'Acme "Widgets" Inc' } }, fake.ctx);
    const log = fake.ctx.workFile("msiexec.log");
    expect(fake.ran()).toEqual(["powershell", "msiexec"]);
    expect(fake.calls[1]).toEqual({
      command: MSIEXEC,
      args: [`/i "${msi}" /quiet /norestart /L*VX "${log}" ALLUSERS=1 COMPANY="Acme ""Widgets"" Inc"`],
      windowsVerbatimArguments: true,
    });
    expect(outcome).toEqual({ outputs: { logFile: log, msiExitCode: 0, stdout: "done" } });
    expect(fake.infos).toContain(`the Authenticode signature of 'app.msi' is valid (signed by CN=Opentoe Test)`);
  });

  test("logFile: relative to the working directory, its folders created, the absolute path in the line and the output", async () => {
    const { dir } = packageFolder();
    const fake = msiContext({}, { cwd: dir });
    const outcome = await install({ path: "app.msi", logFile: "logs/deep/er/install.log", logOptions: "iwe+" }, fake.ctx);
    const log = join(dir, "logs/deep/er/install.log");
    expect(statSync(join(dir, "logs/deep/er")).isDirectory()).toBe(true);
    expect(fake.calls[1]!.args[0]).toEndWith(`/quiet /norestart /Liwe+ "${log}"`);
    expect(outcome.outputs.logFile).toBe(log);
  });

  test("refused before anything runs: a logFile that is a folder, logOptions that are not log flags, bad properties from references", async () => {
    const { dir } = packageFolder();
    mkdirSync(join(dir, "logdir"));
    const cases: [Partial<MsiInput>, string][] = [
      [{ logFile: "logdir" }, "logFile 'logdir' is a folder; give the path of a file"],
      [{ logOptions: "*v /x" }, "logOptions '*v /x' must be msiexec log flags, any of i w e a r u c m o p v x + ! *"],
      [{ properties: { REBOOT: "ReallySuppress" } }, "the REBOOT property may not be set; use the step's reboot input (Allow, Force or Skip)"],
      [{ properties: { rebootPrompt: "S" } }, "the REBOOTPROMPT property may not be set"],
      [{ properties: { "A=1 /x": "2" } }, "'A=1 /x' is not a Windows Installer property name"],
      [{ properties: { NOTE: "two\nlines" } }, "the value of property NOTE contains a line break or NUL character, which msiexec cannot take"],
      [{ reboot: "Sometimes" as never }, "reboot 'Sometimes' must be Allow, Force or Skip"],
    ];
    for (const [input, message] of cases) {
      const fake = msiContext({}, { cwd: dir });
      const error = await failure(install({ path: "app.msi", ...input }, fake.ctx));
      expect(error.message).toContain(message);
      expect(fake.calls).toEqual([]);
    }
  });

  test("success codes give outputs; 3010 and 1641 ask for a reboot that continues with the next step", async () => {
    const { dir } = packageFolder();
    for (const [code, reboot] of [[0, undefined], [1614, undefined], [3010, { rerunStep: false, exitCode: 3010 }], [1641, { rerunStep: false, exitCode: 1641 }]] as const) {
      const fake = msiContext({ msiexec: { exitCode: code } }, { cwd: dir });
      const outcome = await install({ path: "app.msi" }, fake.ctx);
      expect([code, outcome.outputs.msiExitCode, outcome.reboot]).toEqual([code, code, reboot]);
    }
  });

  test("failure codes: the message names the package, the code with its meaning, and the MSI log; the code is in the details", async () => {
    const { dir } = packageFolder();
    for (const code of [1603, 1605, 1618, 1619, 1620, 1633, 1638, 1, 4242]) {
      const fake = msiContext({ msiexec: { exitCode: code } }, { cwd: dir });
      const error = await failure(install({ path: "app.msi" }, fake.ctx));
      expect(error.message).toBe(`msiexec /i of 'app.msi' failed with ${describeExitCode(code)}; see the MSI log '${fake.ctx.workFile("msiexec.log")}'`);
      expect(error.details.exitCode).toBe(code);
    }
  });

  test("codes cut to 8 bits by the runtime: 194 is a 3010 reboot request, 67 a 1603 failure", async () => {
    const { dir } = packageFolder();
    const asked = await install({ path: "app.msi" }, msiContext({ msiexec: { exitCode: 194 } }, { cwd: dir }).ctx);
    expect(asked.outputs.msiExitCode).toBe(3010);
    expect(asked.reboot).toEqual({ rerunStep: false, exitCode: 3010 });
    const error = await failure(install({ path: "app.msi" }, msiContext({ msiexec: { exitCode: 67 } }, { cwd: dir }).ctx));
    expect(error.message).toContain("failed with exit code 1603 (ERROR_INSTALL_FAILURE");
  });

  test("reboot modes: each mode against 0, 3010 and 1641", async () => {
    const { dir } = packageFolder();
    const table: [string, number, unknown][] = [
      ["Allow", 0, undefined],
      ["Allow", 3010, { rerunStep: false, exitCode: 3010 }],
      ["Allow", 1641, { rerunStep: false, exitCode: 1641 }],
      ["Force", 0, { rerunStep: false }],
      ["Force", 3010, { rerunStep: false, exitCode: 3010 }],
      ["Skip", 0, undefined],
      ["Skip", 3010, undefined],
      ["Skip", 1641, undefined],
    ];
    for (const [mode, code, reboot] of table) {
      const fake = msiContext({ msiexec: { exitCode: code } }, { cwd: dir });
      const outcome = await install({ path: "app.msi", reboot: mode as MsiInput["reboot"] }, fake.ctx);
      expect([mode, code, outcome.reboot] as unknown[]).toEqual([mode, code, reboot]);
      const skipped = fake.warnings.some((w) => w.includes("but reboot is Skip"));
      expect([mode, code, skipped]).toEqual([mode, code, mode === "Skip" && code !== 0]);
    }
  });

  test("Force does not reboot after a failure", async () => {
    const { dir } = packageFolder();
    await failure(install({ path: "app.msi", reboot: "Force" }, msiContext({ msiexec: { exitCode: 1603 } }, { cwd: dir }).ctx));
  });

  test("msiexec that cannot start, is stopped, or is killed fails with a sentence naming the package and the log", async () => {
    const { dir } = packageFolder();
    const cases: [Canned["msiexec"], string][] = [
      [{ exitCode: null, spawnError: `cannot run '${MSIEXEC}': no such file` }, `cannot run '${MSIEXEC}': no such file`],
      [{ exitCode: null, timedOut: true }, "msiexec /i of 'app.msi' was stopped before it finished (step timeout or interrupt); the product may be partly installed; see the MSI log"],
      [{ exitCode: null, aborted: true }, "was stopped before it finished"],
      [{ exitCode: null, signal: "SIGKILL" }, "msiexec /i of 'app.msi' was killed by SIGKILL; see the MSI log"],
    ];
    for (const [canned, message] of cases) {
      const error = await failure(install({ path: "app.msi" }, msiContext({ msiexec: canned }, { cwd: dir }).ctx));
      expect(error.message).toContain(message);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("Authenticode check", () => {
  const FLAG_SETS = [
    { allowUnsignedInstaller: false, ignoreAuthenticodeSignatureErrors: false },
    { allowUnsignedInstaller: true, ignoreAuthenticodeSignatureErrors: false },
    { allowUnsignedInstaller: false, ignoreAuthenticodeSignatureErrors: true },
  ];

  test("a reference left unresolved in either flag loosens nothing", async () => {
    const { dir } = packageFolder();
    // The engine hands such a reference on as its text (engine/inputs.ts); the type says boolean.
    const unresolved = "{{ Trust }}" as unknown as boolean;
    for (const [status, flags] of [
      ["NotSigned", { allowUnsignedInstaller: unresolved }],
      ["HashMismatch", { ignoreAuthenticodeSignatureErrors: unresolved }],
    ] as const) {
      const fake = msiContext({ powershell: { stdout: signatureOutput(status, "The signature is not right.") } }, { cwd: dir });
      await failure(install({ path: "app.msi", ...flags }, fake.ctx));
      expect([status, fake.ran()]).toEqual([status, ["powershell"]]);
    }
  });

  test("each status × flags: Valid runs; NotSigned only with allowUnsignedInstaller; other statuses only with ignoreAuthenticodeSignatureErrors", async () => {
    const { dir } = packageFolder();
    for (const status of ["Valid", "NotSigned", "HashMismatch", "NotTrusted", "UnknownError", "NotSupportedFileFormat", "Incompatible"]) {
      for (const flags of FLAG_SETS) {
        const fake = msiContext({ powershell: { stdout: signatureOutput(status, status === "Valid" ? "Signature verified." : "The signature is not right.") } }, { cwd: dir });
        const run = install({ path: "app.msi", ...flags }, fake.ctx);
        const allowed = status === "Valid" || (status === "NotSigned" ? flags.allowUnsignedInstaller : flags.ignoreAuthenticodeSignatureErrors);
        if (allowed) {
          await run;
          expect([status, flags, fake.ran()]).toEqual([status, flags, ["powershell", "msiexec"]]);
          if (status !== "Valid") expect(fake.warnings.join("\n")).toContain(status === "NotSigned" ? "allowUnsignedInstaller is true" : "ignoreAuthenticodeSignatureErrors is true");
          continue;
        }
        const error = await failure(run);
        expect([status, flags, fake.ran()]).toEqual([status, flags, ["powershell"]]);
        if (status === "NotSigned") {
          expect(error.message).toBe("'app.msi' is not signed (Authenticode status NotSigned); set allowUnsignedInstaller: true to run an unsigned package");
        } else {
          expect(error.message).toBe(
            `the Authenticode signature of 'app.msi' is not valid (status ${status}: The signature is not right.); set ignoreAuthenticodeSignatureErrors: true only if you trust the file anyway`,
          );
        }
      }
    }
  });

  test("both flags true: PowerShell is not run at all, and a warning says the signature was not checked", async () => {
    const { dir } = packageFolder();
    const fake = msiContext({ powershell: { stdout: signatureOutput("HashMismatch") } }, { cwd: dir });
    await install({ path: "app.msi", allowUnsignedInstaller: true, ignoreAuthenticodeSignatureErrors: true }, fake.ctx);
    expect(fake.ran()).toEqual(["msiexec"]);
    expect(fake.warnings).toEqual([
      "the Authenticode signature of 'app.msi' was not checked: allowUnsignedInstaller and ignoreAuthenticodeSignatureErrors are both true, so no result could stop the step",
    ]);
  });

  test("the check script: UTF-8 with BOM and CRLF, the path as a single-quoted literal with its quote characters doubled, run like ExecutePowerShell", async () => {
    const dir = temp.folder();
    const msi = put(dir, "it's ‘odd’ $x `y.msi", "x");
    const fake = msiContext({}, { cwd: dir });
    await install({ path: msi }, fake.ctx);
    const script = fake.ctx.workFile("authenticode.ps1");
    expect(fake.calls[0]).toEqual({ command: "powershell.exe", args: ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", script] });
    const bytes = readFileSync(script);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString("utf8").slice(1);
    const escaped = msi.replace("it's ‘odd’", "it''s ‘‘odd’’");
    expect(text).toBe(signatureScript(msi).join("\r\n") + "\r\n");
    expect(text).toContain(`$signature = Get-AuthenticodeSignature -LiteralPath '${escaped}'\r\n`);
  });

  test("a check that fails or says nothing refuses the package, even with one relaxing flag", async () => {
    const { dir } = packageFolder();
    const cases: [Canned["powershell"], string][] = [
      [{ exitCode: 1, stdout: "", stderr: "Get-AuthenticodeSignature : Cannot find path\r\nAt line:2\r\n" }, "cannot check the Authenticode signature of 'app.msi': Get-AuthenticodeSignature exited with code 1 (At line:2)"],
      [{ exitCode: 0, stdout: "powershell.exe is not implemented\r\n" }, "cannot check the Authenticode signature of 'app.msi': Get-AuthenticodeSignature printed no status (powershell.exe is not implemented)"],
      [{ exitCode: null, spawnError: "cannot run 'powershell.exe': no such file" }, "cannot check the Authenticode signature of 'app.msi': cannot run 'powershell.exe': no such file"],
      [{ exitCode: null, timedOut: true }, "cannot check the Authenticode signature of 'app.msi': PowerShell was stopped before it finished (step timeout or interrupt)"],
    ];
    for (const [canned, message] of cases) {
      const fake = msiContext({ powershell: canned }, { cwd: dir });
      const error = await failure(install({ path: "app.msi", allowUnsignedInstaller: true }, fake.ctx));
      expect(error.message).toBe(message);
      expect(fake.ran()).toEqual(["powershell"]);
    }
  });

  test("the output parser reads only its own marked lines", () => {
    const noisy = `Welcome banner status=Valid\r\n${signatureOutput("NotTrusted", "A certificate chain processed, but terminated in a root certificate which is not trusted.", "CN=Someone, O=Org")}`;
    expect(parseSignatureOutput(noisy)).toEqual({ status: "NotTrusted", message: "A certificate chain processed, but terminated in a root certificate which is not trusted.", signer: "CN=Someone, O=Org" });
    expect(parseSignatureOutput("status=Valid\n")).toBeUndefined();
    expect(signatureVerdict({ status: "Valid", message: "" }, { allowUnsignedInstaller: false, ignoreAuthenticodeSignatureErrors: false }, "'x'")).toEqual({ proceed: true });
  });
});

// ---------------------------------------------------------------------------------------------

describe("package sources", () => {
  test("local: a missing file, a folder, a product code or another scheme is refused before anything runs", async () => {
    const { dir } = packageFolder();
    mkdirSync(join(dir, "folder.msi"));
    const cases: [string, string][] = [
      ["missing.msi", "the package 'missing.msi' does not exist"],
      ["folder.msi", "the package 'folder.msi' is not a file"],
      ["{6C1D9E4F-8B52-4A7C-AF3E-2D4B6C8E0A11}", "'{6C1D9E4F-8B52-4A7C-AF3E-2D4B6C8E0A11}' is a product code; path must name the .msi package (local path, s3:// URI or https:// URL)"],
      ["ftp://example.com/app.msi", "'ftp://example.com/app.msi' is neither a local path nor an s3:// or http(s):// location"],
    ];
    for (const [path, message] of cases) {
      const fake = msiContext({}, { cwd: dir });
      expect((await failure(install({ path }, fake.ctx))).message).toBe(message);
      expect(fake.calls).toEqual([]);
    }
  });

  test("downloaded packages keep their name, made safe for Windows, with .msi added when missing", () => {
    expect(localPackageName("app.msi")).toBe("app.msi");
    expect(localPackageName("App.MSI")).toBe("App.MSI");
    expect(localPackageName("installer")).toBe("installer.msi");
    expect(localPackageName('a:b*c?"d<e>|f.msi')).toBe("a_b_c__d_e__f.msi");
    expect(localPackageName("")).toBe("package.msi");
    expect(localPackageName("trail. ")).toBe("trail.msi");
  });

  describe("s3:// (a local S3-compatible server)", () => {
    let s3: LocalS3;
    let restoreEnv: () => void;

    beforeAll(async () => {
      s3 = await startLocalS3(["packages"]);
      restoreEnv = useLocalS3(s3);
      const client = await testClient(s3);
      await client.send(new PutObjectCommand({ Bucket: "packages", Key: "tools/agent.msi", Body: "MSI bytes from S3" }));
      await client.send(new PutObjectCommand({ Bucket: "packages", Key: "tools/agent-latest", Body: "no extension" }));
    });
    afterAll(async () => {
      restoreEnv();
      await s3.close();
    });

    const s3Context = (canned: Canned = {}) => msiContext(canned, { s3: createS3Port() });

    test("the object is downloaded into the step's folder and installed from there", async () => {
      const fake = s3Context();
      const outcome = await install({ path: "s3://packages/tools/agent.msi" }, fake.ctx);
      const local = fake.ctx.workFile("agent.msi");
      expect(readFileSync(local, "utf8")).toBe("MSI bytes from S3");
      expect(readFileSync(fake.ctx.workFile("authenticode.ps1"), "utf8")).toContain(`-LiteralPath '${local}'`);
      expect(fake.calls[1]!.args[0]).toStartWith(`/i "${local}" /quiet`);
      expect(outcome.outputs.msiExitCode).toBe(0);
    });

    test("a key without .msi gets it; messages name the copy and where it came from", async () => {
      const fake = s3Context({ powershell: { stdout: signatureOutput("NotSigned") } });
      const error = await failure(install({ path: "s3://packages/tools/agent-latest" }, fake.ctx));
      const local = fake.ctx.workFile("agent-latest.msi");
      expect(readFileSync(local, "utf8")).toBe("no extension");
      expect(error.message).toBe(`'${local}' (downloaded from 's3://packages/tools/agent-latest') is not signed (Authenticode status NotSigned); set allowUnsignedInstaller: true to run an unsigned package`);
    });

    test("a missing key or a prefix fails without running anything", async () => {
      const missing = s3Context();
      expect((await failure(install({ path: "s3://packages/tools/none.msi" }, missing.ctx))).message).toBe("cannot download s3://packages/tools/none.msi: no such key");
      expect(missing.calls).toEqual([]);
      const prefix = s3Context();
      expect((await failure(install({ path: "s3://packages/tools/" }, prefix.ctx))).message).toBe("'s3://packages/tools/' is not an S3 object URI (s3://bucket/key of one .msi file)");
      expect(prefix.calls).toEqual([]);
    });
  });

  describe("https:// and http:// (real servers on 127.0.0.1)", () => {
    let secure: https.Server;
    let untrusted: https.Server;
    let plain: http.Server;
    let secureBase = "";
    let untrustedBase = "";
    let plainBase = "";
    let savedCa: unknown;

    const route = (request: http.IncomingMessage, response: http.ServerResponse) => {
      if (request.url === "/files/My%20Agent.msi" || request.url === "/get?id=7") {
        response.writeHead(200, { "content-length": "15" });
        return response.end("MSI over HTTPS!");
      }
      response.writeHead(404, { "content-length": "0" });
      response.end();
    };

    const certificate = (dir: string) => {
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
      return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
    };

    const listen = async (server: http.Server | https.Server, scheme: string) => {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };

    beforeAll(async () => {
      const trusted = certificate(temp.folder());
      const other = certificate(temp.folder());
      secure = https.createServer(trusted, route);
      untrusted = https.createServer(other, route);
      plain = http.createServer(route);
      secureBase = await listen(secure, "https");
      untrustedBase = await listen(untrusted, "https");
      plainBase = await listen(plain, "http");
      // The module has no ignoreCertificateErrors: the test trusts its own certificate the way a
      // machine trusts a CA, through the default agent that WebDownload's engine uses. The
      // second server's certificate stays untrusted, so verification is shown to be on.
      savedCa = (https.globalAgent.options as { ca?: unknown }).ca;
      (https.globalAgent.options as { ca?: unknown }).ca = trusted.cert;
    });
    afterAll(() => {
      (https.globalAgent.options as { ca?: unknown }).ca = savedCa;
      for (const server of [secure, untrusted, plain]) {
        server?.closeAllConnections();
        server?.close();
      }
    });

    test("https: downloaded into the step's folder under its decoded name, verified, installed from there", async () => {
      const fake = msiContext();
      await install({ path: `${secureBase}/files/My%20Agent.msi` }, fake.ctx);
      const local = fake.ctx.workFile("My Agent.msi");
      expect(readFileSync(local, "utf8")).toBe("MSI over HTTPS!");
      expect(fake.calls[1]!.args[0]).toStartWith(`/i "${local}" /quiet`);
    });

    test("a URL whose path has no .msi name still gives an .msi file", async () => {
      const fake = msiContext();
      await install({ path: `${secureBase}/get?id=7` }, fake.ctx);
      expect(readFileSync(fake.ctx.workFile("get.msi"), "utf8")).toBe("MSI over HTTPS!");
    });

    test("an untrusted certificate or a 404 fails naming the URL; nothing runs", async () => {
      const tls = msiContext();
      const tlsError = await failure(install({ path: `${untrustedBase}/files/My%20Agent.msi` }, tls.ctx));
      expect(tlsError.message).toStartWith(`downloading '${untrustedBase}/files/My%20Agent.msi' failed: TLS error: the certificate of 127.0.0.1:`);
      expect(tls.calls).toEqual([]);
      const missing = msiContext();
      expect((await failure(install({ path: `${secureBase}/nothing.msi` }, missing.ctx))).message).toBe(`downloading '${secureBase}/nothing.msi' failed: the server answered HTTP 404 Not Found`);
      expect(missing.calls).toEqual([]);
    });

    test("plain http is used only while the signature must be valid; with a relaxing flag it is refused before downloading", async () => {
      const strict = msiContext();
      await install({ path: `${plainBase}/files/My%20Agent.msi` }, strict.ctx);
      expect(strict.ran()).toEqual(["powershell", "msiexec"]);
      for (const flag of ["allowUnsignedInstaller", "ignoreAuthenticodeSignatureErrors"]) {
        const relaxed = msiContext();
        const error = await failure(install({ path: `${plainBase}/files/My%20Agent.msi`, [flag]: true }, relaxed.ctx));
        expect(error.message).toContain("is a plain http:// URL: an unencrypted download can only be trusted when its signature must be valid");
        expect(relaxed.calls).toEqual([]);
        expect(existsSync(relaxed.ctx.workFile("My Agent.msi"))).toBe(false);
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe("validation (check)", () => {
  const check = (input: Record<string, unknown>) => checkMsiInput({ path: "C:\\app.msi", ...input }).map((i) => ({ path: i.path, severity: i.severity ?? "error", message: i.message }));

  test("a plain input has no issues", () => {
    expect(check({ properties: { INSTALLDIR: "C:\\Program Files\\App", GENERATE_CONFIG: '"true"' } })).toEqual([]);
  });

  test("forbidden, malformed and private property names; values with line breaks", () => {
    expect(check({ properties: { REBOOT: "R", rebootprompt: "S", "A B": "1", installDir: "x", NOTE: "a\nb" } })).toEqual([
      { path: ["properties", "REBOOT"], severity: "error", message: "the REBOOT property may not be set here" },
      { path: ["properties", "rebootprompt"], severity: "error", message: "the REBOOTPROMPT property may not be set here" },
      { path: ["properties", "A B"], severity: "error", message: "'A B' is not a Windows Installer property name (letters, digits, _ and . only, not starting with a digit or .)" },
      {
        path: ["properties", "installDir"],
        severity: "warning",
        message: "'installDir' has lower-case letters, so Windows Installer treats it as a private property, which the command line usually cannot set",
      },
      { path: ["properties", "NOTE"], severity: "error", message: "the value of property NOTE contains a line break or NUL character, which msiexec cannot take" },
    ]);
  });

  test("paths: other schemes, product codes, and plain http with a relaxing flag", () => {
    expect(check({ path: "ftp://h/a.msi" })).toEqual([{ path: ["path"], severity: "error", message: "'ftp://h/a.msi' is neither a local path nor an s3:// or http(s):// location" }]);
    expect(check({ path: "{6C1D9E4F-8B52-4A7C-AF3E-2D4B6C8E0A11}" })[0]!.message).toBe("'{6C1D9E4F-8B52-4A7C-AF3E-2D4B6C8E0A11}' is a product code; path must name the .msi package");
    expect(check({ path: "http://h/a.msi" })).toEqual([]);
    expect(check({ path: "http://h/a.msi", allowUnsignedInstaller: "TRUE" })[0]!.message).toStartWith("'http://h/a.msi' is a plain http:// URL");
    expect(check({ path: "http://h/a.msi", ignoreAuthenticodeSignatureErrors: true })).toHaveLength(1);
    expect(check({ path: "http://h/a.msi", allowUnsignedInstaller: "yes" })).toHaveLength(1); // a YAML 1.1 word is a flag too
    expect(check({ path: "https://h/a.msi", ignoreAuthenticodeSignatureErrors: true, allowUnsignedInstaller: true })).toEqual([]);
    expect(check({ path: "{{ build.Find.outputs.stdout }}", allowUnsignedInstaller: true })).toEqual([]);
  });
});
