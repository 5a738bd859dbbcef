/**
 * @module test/e2e/windows-msi.test: InstallMSI and UninstallMSI in the real Windows build of
 * awstoe (dist/awstoe-windows-x64.exe) under Wine 8, against Wine's real msiexec and a tiny
 * package built here with msitools' wixl: the package installs, its file and a registry value
 * set from a property appear, the outputs reach detailedoutput.json, UninstallMSI removes it all
 * and removing it again is still success, and a corrupt package fails with a message that names
 * the exit code and the MSI log.
 *
 * Gaps Wine leaves, covered by the unit tests (test/modules/install-msi.test.ts) instead:
 * - PowerShell: Wine has no Get-AuthenticodeSignature, so the install documents set both
 *   relaxing flags, the one case where the module does not run the check (_authenticode.ts).
 *   One test shows that a single flag is not enough: the check runs and, unable to read a
 *   status from Wine's PowerShell stub, refuses the package.
 * - Quotes inside property values: Wine's msiexec drops every `"` while splitting its command
 *   line, where Windows' msiexec reads `""` inside quotes as a literal quote. So only values with
 *   spaces and characters special to cmd (`&`, `%`) are checked here, not embedded quotes.
 * - Exit codes: Wine says 1627 for a file that is not a package (Windows: 1620), and 0 for
 *   `msiexec /x <package>` of a product that is not installed (Windows: 1605, which UninstallMSI
 *   takes as success). Bun's Windows runtime passes on only the low 8 bits of the code (1627
 *   arrives as 91); the module widens it back (_msiexec.ts msiexecExitCode), which the corrupt
 *   package test shows.
 * - Reboots: a package that schedules a reboot makes Wine's msiexec return 3010 as on Windows,
 *   so `reboot: Allow` is tested end to end (AWSTOE_REBOOT_MODE=disabled: save, exit, resume with
 *   the next step); Force and Skip are unit-tested.
 *
 * Skipped, with the reason printed, when Wine, mingw or wixl is missing (scripts/ci-deps.sh).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildMsi, driveC, singleFileProductWxs, fromWinePath, readRegistryKey, readRegistryValue, runUnderWine, stopWine, toWinePath, windowsBinary, wineSkipReason, type WineRun } from "../helpers/wine.ts";

const skipReason = wineSkipReason();
if (skipReason !== undefined) console.warn(skipReason);

const PRODUCT_CODE = "{6C1D9E4F-8B52-4A7C-AF3E-2D4B6C8E0A11}";
const PAYLOAD = "installed by InstallMSI under Wine\n";
const REGISTRY_KEY = "HKLM\\Software\\OpenToeMsiModule";
/** Spaces (quoting needed), `&` and `%` (special to cmd.exe: proves no shell sits in between). */
const GREETING = "hello wide & 100% world";

/**
 * A per-machine x64 product: one file in Program Files\OpenToeMsiModule, and a registry value
 * holding the GREETING property, so the test can read what msiexec received on its command line.
 */
const PRODUCT = {
  productCode: PRODUCT_CODE,
  upgradeCode: "{9F5A3B7D-2C4E-4F6A-B8D0-1E3F5A7C9B22}",
  componentGuid: "{3E5A7C9D-1F2B-4D3E-8A6C-0B2D4F6A8C13}",
  name: "OpenToe MSI Module Test",
  version: "1.0.0",
  folder: "OpenToeMsiModule",
  componentExtra: '<RegistryValue Root="HKLM" Key="Software\\OpenToeMsiModule" Name="Greeting" Type="string" Value="[GREETING]" />',
  productExtra: '<Property Id="GREETING" Value="none" />',
};
const WXS = singleFileProductWxs(PRODUCT);

/** The same product shape with ScheduleReboot, so msiexec ends with 3010 (a restart is required). */
const REBOOT_WXS = singleFileProductWxs({
  ...PRODUCT,
  productCode: "{7D2E0F5A-9C63-4B8D-B04F-3E5C7D9F1B22}",
  upgradeCode: "{0A6B4C8E-3D5F-4A7B-C9E1-2F4A6B8D0C33}",
  componentGuid: "{4F6B8D0E-2A3C-4E4F-9B7D-1C3E5A7B9D24}",
  folder: "OpenToeMsiReboot",
  productExtra: `${PRODUCT.productExtra}\n<InstallExecuteSequence>\n  <ScheduleReboot After="InstallFinalize" />\n</InstallExecuteSequence>`,
});

interface StepRecord {
  name: string;
  action: string;
  status: string;
  outputs: string;
  failureMessage: string;
}

interface Detailed {
  status: string;
  documents: { phases: { steps: StepRecord[] }[] }[];
}

let tmp: string;
let msi: string;
let rebootMsi: string;
let installedFile: string;
let count = 0;

/** A one-step document running `action` with `inputs` (YAML lines, indented under `inputs:`). */
function documentWith(action: string, inputs: string[]): string {
  return [
    "name: MsiUnderWine",
    "schemaVersion: 1.0",
    "phases:",
    "  - name: build",
    "    steps:",
    "      - name: Package",
    `        action: ${action}`,
    "        inputs:",
    ...inputs.map((line) => `          ${line}`),
    "",
  ].join("\n");
}

interface Run {
  run: WineRun;
  step: StepRecord;
  folder: string;
}

/** Runs the document with the Windows awstoe and returns its only step's record and log folder. */
function runDocument(text: string): Run {
  const dir = join(tmp, String(++count));
  mkdirSync(dir);
  writeFileSync(join(dir, "doc.yaml"), text);
  const run = runUnderWine(["run", "--documents", toWinePath(join(dir, "doc.yaml")), "--log-directory", toWinePath(join(dir, "logs"))]);
  const summary = JSON.parse(run.stdout.slice(run.stdout.lastIndexOf("\n{") + 1)) as { logUrl: string };
  const folder = fromWinePath(summary.logUrl);
  const detailed = JSON.parse(readFileSync(join(folder, "detailedoutput.json"), "utf8")) as Detailed;
  return { run, step: detailed.documents[0]!.phases[0]!.steps[0]!, folder };
}

const RELAXED = ["allowUnsignedInstaller: true", "ignoreAuthenticodeSignatureErrors: true"];

describe.skipIf(skipReason !== undefined)("InstallMSI / UninstallMSI in awstoe-windows-x64.exe under Wine", () => {
  beforeAll(async () => {
    await windowsBinary(); // builds the .exe when stale and makes this file's Wine prefix
    tmp = mkdtempSync(join(tmpdir(), "opentoe-winemsi-"));
    writeFileSync(join(tmp, "hello.txt"), PAYLOAD);
    writeFileSync(join(tmp, "product.wxs"), WXS);
    // A space in the package's path: it must reach msiexec inside quotes.
    mkdirSync(join(tmp, "pkg dir"));
    msi = buildMsi(join(tmp, "product.wxs"), join(tmp, "pkg dir/product.msi"));
    writeFileSync(join(tmp, "reboot.wxs"), REBOOT_WXS);
    rebootMsi = buildMsi(join(tmp, "reboot.wxs"), join(tmp, "reboot.msi"));
    installedFile = join(driveC(), "Program Files/OpenToeMsiModule/hello.txt");
  }, 180_000);

  afterAll(() => {
    stopWine();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  test("InstallMSI installs the package; the property reaches msiexec intact; outputs and the MSI log are recorded", () => {
    const { run, step, folder } = runDocument(
      documentWith("InstallMSI", [`path: '${toWinePath(msi)}'`, ...RELAXED, "properties:", `  GREETING: '${GREETING}'`]),
    );
    expect(run.exitCode).toBe(0);
    expect(step).toMatchObject({ action: "InstallMSI", status: "success", failureMessage: "" });
    expect(readFileSync(installedFile, "utf8")).toBe(PAYLOAD);
    expect(readRegistryValue(REGISTRY_KEY, "Greeting")).toEqual({ type: "REG_SZ", value: GREETING });

    const outputs = JSON.parse(step.outputs) as { logFile: string; msiExitCode: number; stdout: string }[];
    expect(outputs).toHaveLength(1);
    expect(outputs[0]!.msiExitCode).toBe(0);
    expect(outputs[0]!.stdout).toBe("");
    // Without logFile the MSI log is the step's own file in the log folder.
    expect(outputs[0]!.logFile.toLowerCase()).toBe(`${toWinePath(folder)}\\steps\\build\\Package.msiexec.log`.toLowerCase());
    expect(readFileSync(join(folder, "steps/build/Package.msiexec.log"), "latin1")).toContain("Action ended");
    // The skipped signature check is said out loud.
    expect(readFileSync(join(folder, "console.log"), "utf8")).toContain("was not checked");
  });

  test("UninstallMSI removes the product; removing it again is still success", () => {
    expect(existsSync(installedFile)).toBe(true); // left by the test above
    const first = runDocument(documentWith("UninstallMSI", [`path: '${toWinePath(msi)}'`, ...RELAXED, `logFile: '${toWinePath(join(tmp, "logs made here/uninstall.log"))}'`]));
    expect(first.run.exitCode).toBe(0);
    expect(first.step.status).toBe("success");
    expect(existsSync(installedFile)).toBe(false);
    expect(readRegistryKey(REGISTRY_KEY)).toBeUndefined();
    const outputs = JSON.parse(first.step.outputs)[0] as { logFile: string; msiExitCode: number };
    expect(outputs).toMatchObject({ msiExitCode: 0, logFile: toWinePath(join(tmp, "logs made here/uninstall.log")) });
    // logFile's missing folder was created for msiexec.
    expect(readFileSync(join(tmp, "logs made here/uninstall.log"), "latin1")).toContain("Action ended");

    const again = runDocument(documentWith("UninstallMSI", [`path: '${toWinePath(msi)}'`, ...RELAXED]));
    expect(again.run.exitCode).toBe(0);
    expect(again.step.status).toBe("success");
    // Wine's msiexec runs the package's removal again and says 0; Windows says 1605 (unit-tested).
    expect(JSON.parse(again.step.outputs)[0].msiExitCode).toBe(0);
  });

  test("a corrupt package fails the step; the message names the package, the exit code and the MSI log", () => {
    const bogus = join(tmp, "corrupt.msi");
    writeFileSync(bogus, "this is not an installer database\n");
    const { run, step, folder } = runDocument(documentWith("InstallMSI", [`path: '${toWinePath(bogus)}'`, ...RELAXED]));
    expect(run.exitCode).toBe(1);
    expect(step.status).toBe("failed");
    const log = `${toWinePath(folder)}\\steps\\build\\Package.msiexec.log`;
    // Wine's msiexec says 1627 for a file that is not a package (Windows says 1620).
    expect(step.failureMessage.toLowerCase()).toContain(
      `msiexec /i of '${toWinePath(bogus)}' failed with exit code 1627 (ERROR_FUNCTION_FAILED: a Windows Installer function failed); see the MSI log '${log}'`.toLowerCase(),
    );
  });

  test("one relaxing flag is not enough to skip the signature check: it runs, and without a readable status the package is refused", () => {
    const { run, step } = runDocument(documentWith("InstallMSI", [`path: '${toWinePath(msi)}'`, "allowUnsignedInstaller: true"]));
    expect(run.exitCode).toBe(1);
    expect(step.status).toBe("failed");
    expect(step.failureMessage).toContain(`cannot check the Authenticode signature of '${toWinePath(msi)}'`);
    expect(existsSync(installedFile)).toBe(false);
  });

  test("3010 with reboot Allow: awstoe saves its state and exits 3010; the next run continues with the NEXT step", () => {
    const dir = join(tmp, "reboot");
    mkdirSync(dir);
    const doc = [
      "name: MsiReboot",
      "schemaVersion: 1.0",
      "phases:",
      "  - name: build",
      "    steps:",
      "      - name: Install",
      "        action: InstallMSI",
      "        inputs:",
      `          path: '${toWinePath(rebootMsi)}'`,
      "          reboot: Allow",
      ...RELAXED.map((line) => `          ${line}`),
      "      - name: After",
      "        action: ExecuteBinary",
      "        inputs:",
      "          path: C:\\Windows\\System32\\cmd.exe",
      "          arguments: [/c, echo after-the-restart]",
      "",
    ].join("\n");
    writeFileSync(join(dir, "doc.yaml"), doc);
    const args = ["run", "--documents", toWinePath(join(dir, "doc.yaml")), "--log-directory", toWinePath(join(dir, "logs"))];
    const env = { AWSTOE_REBOOT_MODE: "disabled", AWS_SSM_INSTANCE_ID: undefined };
    const first = runUnderWine(args, { env });
    expect(first.exitCode).toBe(3010 % 256); // 3010 on Windows; Linux sees its low byte
    expect(first.stderr).toContain("exiting with 3010 without restarting");
    expect(existsSync(join(driveC(), "Program Files/OpenToeMsiReboot/hello.txt"))).toBe(true);

    const second = runUnderWine(args, { env });
    expect(second.exitCode).toBe(0);
    const summary = JSON.parse(second.stdout.slice(second.stdout.lastIndexOf("\n{") + 1)) as { status: string; logUrl: string };
    expect(summary.status).toBe("success");
    const folder = fromWinePath(summary.logUrl);
    const detailed = JSON.parse(readFileSync(join(folder, "detailedoutput.json"), "utf8")) as Detailed;
    const [install, after] = detailed.documents[0]!.phases[0]!.steps;
    expect(install).toMatchObject({ name: "Install", status: "success" });
    // The step finished before the restart, so its outputs stay (needs the engine to keep a
    // module's outputs when it asks for a reboot with rerunStep: false; see the report).
    expect(JSON.parse(install!.outputs)[0].msiExitCode).toBe(3010);
    expect(after).toMatchObject({ name: "After", status: "success" });
    expect(JSON.parse(after!.outputs)[0].stdout).toContain("after-the-restart");
    // msiexec ran once: the resumed execution went on with the next step, not the MSI again.
    const applicationLog = readFileSync(join(folder, "application.log"), "utf8");
    expect(applicationLog.split("msiexec.exe /i").length - 1).toBe(1);
    expect(applicationLog).toContain("build/Install: finished before the restart (success); not run again");
  });
});
