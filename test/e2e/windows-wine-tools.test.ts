/**
 * @module test/e2e/windows-wine-tools.test: proves the Windows test toolchain itself works, as
 * groundwork for the SetRegistry and InstallMSI/UninstallMSI tests: Wine's reg.exe writes and
 * reads the prefix's registry, the registry helpers of test/helpers/wine.ts read back every value
 * type exactly, wixl builds an MSI, and Wine's msiexec installs and removes it.
 *
 * It also pins down how Wine 8's msiexec differs from Windows' (exit codes), so a change of Wine
 * shows up here rather than as a puzzling failure in a module test. Skipped, with the reason
 * printed, when Wine, mingw or wixl is missing (scripts/ci-deps.sh installs them).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildMsi,
  deleteRegistryKey,
  driveC,
  readRegistryKey,
  readRegistryValue,
  runWine,
  stopWine,
  toWinePath,
  winePrefix,
  singleFileProductWxs,
  wineSkipReason,
  writeRegistryValue,
} from "../helpers/wine.ts";

const skipReason = wineSkipReason();
if (skipReason !== undefined) console.warn(skipReason);

const TEST_KEY = "HKLM\\Software\\OpenToeTest";

/** Fixed so the test can find the product in the registry and uninstall it by code. */
const PRODUCT_CODE = "{5B0C8D3E-7A41-4F6B-9E2D-1C3A5F7B9D01}";
const UNKNOWN_PRODUCT = "{00000000-1111-2222-3333-444444444444}";
const PAYLOAD = "installed by the opentoe toolchain test\n";

/** A per-machine x64 product that installs one file, hello.txt, into Program Files\OpenToeTest. */
const WXS = singleFileProductWxs({
  productCode: PRODUCT_CODE,
  upgradeCode: "{8E4F2A6C-1B3D-4E5F-A7C9-0D2E4F6A8B13}",
  componentGuid: "{2D4F6A8C-0E1B-4C3D-9F5A-7B9D1E3F5A02}",
  name: "OpenToe Toolchain Test",
  version: "1.2.3",
  folder: "OpenToeTest",
});

/**
 * Runs one command line from a batch file and returns the exit code Windows gives it (all 32
 * bits), which the batch file echoes on its next line: a separate line, because cmd expands
 * %ERRORLEVEL% when it reads a line, before the line's commands run.
 */
function windowsExitCode(commandLine: string): number {
  const bat = join(tmp, `exit-code-${++batCount}.bat`);
  writeFileSync(bat, `@echo off\r\n${commandLine}\r\necho errorlevel=%ERRORLEVEL%\r\n`);
  const run = runWine("cmd", ["/c", toWinePath(bat)]);
  const m = /errorlevel=(-?\d+)/.exec(run.stdout);
  if (m === null) throw new Error(`${bat} printed no errorlevel (cmd exit ${run.exitCode}): ${run.stdout}${run.stderr}`);
  return Number(m[1]);
}

let batCount = 0;
let tmp: string;
let installedFile: string;

describe.skipIf(skipReason !== undefined)("Windows test toolchain (Wine reg, wixl, msiexec)", () => {
  beforeAll(() => {
    winePrefix(); // a fresh copy of the pristine prefix (made once per machine, ~7 s)
    tmp = mkdtempSync(join(tmpdir(), "opentoe-winetools-"));
    installedFile = join(driveC(), "Program Files/OpenToeTest/hello.txt");
  }, 180_000);

  afterAll(() => {
    stopWine();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  describe("registry", () => {
    test("wine reg add / reg query: a REG_DWORD round-trips; a missing value is exit 1", () => {
      const add = runWine("reg", ["add", TEST_KEY, "/v", "X", "/t", "REG_DWORD", "/d", "5", "/f"]);
      expect(add.exitCode).toBe(0);
      const query = runWine("reg", ["query", TEST_KEY, "/v", "X"]);
      expect(query.exitCode).toBe(0);
      expect(query.stdout).toMatch(/^\s+X\s+REG_DWORD\s+0x5\r?$/m);
      expect(readRegistryValue(TEST_KEY, "X")).toEqual({ type: "REG_DWORD", value: 5 });
      expect(readRegistryValue(TEST_KEY, "x")).toEqual({ type: "REG_DWORD", value: 5 }); // names ignore case
      expect(runWine("reg", ["query", TEST_KEY, "/v", "Missing"]).exitCode).toBe(1);
    });

    test("the helpers write and read back every value type exactly", () => {
      const key = `${TEST_KEY}\\Types`;
      writeRegistryValue(key, "", "REG_SZ", 'default with "quotes" and a \\ backslash');
      writeRegistryValue(key, "Text", "REG_SZ", "C:\\Program Files\\App");
      writeRegistryValue(key, "Expand", "REG_EXPAND_SZ", "%SystemRoot%\\Temp");
      writeRegistryValue(key, "Multi", "REG_MULTI_SZ", ["first item", "second"]);
      writeRegistryValue(key, "Dword", "REG_DWORD", 4294967295);
      writeRegistryValue(key, "Qword", "REG_QWORD", 12345678901n);
      writeRegistryValue(key, "Binary", "REG_BINARY", Uint8Array.of(0x00, 0x0a, 0xff));
      writeRegistryValue(`${key}\\Sub`, "Inner", "REG_SZ", "only in the subkey");

      const values = readRegistryKey(key);
      expect(values).toBeDefined();
      expect(Object.fromEntries(values!)).toEqual({
        "": { type: "REG_SZ", value: 'default with "quotes" and a \\ backslash' },
        Text: { type: "REG_SZ", value: "C:\\Program Files\\App" },
        Expand: { type: "REG_EXPAND_SZ", value: "%SystemRoot%\\Temp" },
        Multi: { type: "REG_MULTI_SZ", value: ["first item", "second"] },
        Dword: { type: "REG_DWORD", value: 4294967295 },
        Qword: { type: "REG_QWORD", value: 12345678901n },
        Binary: { type: "REG_BINARY", value: Uint8Array.of(0x00, 0x0a, 0xff) },
      });
      expect(readRegistryValue(`${key}\\Sub`, "Inner")).toEqual({ type: "REG_SZ", value: "only in the subkey" });
    });

    test("a missing key reads as undefined; deleteRegistryKey removes a key with its subkeys", () => {
      expect(readRegistryKey(`${TEST_KEY}\\DoesNotExist`)).toBeUndefined();
      writeRegistryValue(`${TEST_KEY}\\Doomed\\Child`, "V", "REG_SZ", "x");
      deleteRegistryKey(`${TEST_KEY}\\Doomed`);
      expect(readRegistryKey(`${TEST_KEY}\\Doomed`)).toBeUndefined();
      expect(readRegistryValue(`${TEST_KEY}\\Doomed\\Child`, "V")).toBeUndefined();
    });
  });

  describe("MSI packages", () => {
    let msi: string;

    beforeAll(() => {
      writeFileSync(join(tmp, "hello.txt"), PAYLOAD);
      writeFileSync(join(tmp, "product.wxs"), WXS);
      msi = buildMsi(join(tmp, "product.wxs"), join(tmp, "product.msi"));
    });

    test("wixl builds an MSI (an OLE compound file)", () => {
      const bytes = readFileSync(msi);
      expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]));
      expect(bytes.length).toBeGreaterThan(4096);
    });

    test("msiexec /i /qn installs the file under drive_c and registers the product; /x removes both", () => {
      const log = join(tmp, "install.log");
      const install = runWine("msiexec", ["/i", toWinePath(msi), "/qn", "/l*v", toWinePath(log)]);
      expect(install.exitCode).toBe(0);
      expect(readFileSync(installedFile, "utf8")).toBe(PAYLOAD);
      // Wine's verbose log is plain ASCII (Windows writes UTF-16) and ends with the INSTALL action's result.
      expect(readFileSync(log, "latin1")).toContain("Action ended");
      const uninstallKey = `HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\${PRODUCT_CODE}`;
      expect(readRegistryValue(uninstallKey, "DisplayName")).toEqual({ type: "REG_SZ", value: "OpenToe Toolchain Test" });
      expect(readRegistryValue(uninstallKey, "DisplayVersion")).toEqual({ type: "REG_SZ", value: "1.2.3" });

      const remove = runWine("msiexec", ["/x", PRODUCT_CODE, "/qn"]);
      expect(remove.exitCode).toBe(0);
      expect(existsSync(installedFile)).toBe(false);
      expect(readRegistryKey(uninstallKey)).toBeUndefined();
    });

    test("msiexec exit codes under Wine 8: Linux sees them modulo 256, Windows callers see all 32 bits", () => {
      // Removing a product that is not installed: 1605 ERROR_UNKNOWN_PRODUCT, as on Windows.
      expect(runWine("msiexec", ["/x", UNKNOWN_PRODUCT, "/qn"]).exitCode).toBe(1605 % 256);
      expect(windowsExitCode(`msiexec /x ${UNKNOWN_PRODUCT} /qn`)).toBe(1605);
      // A package file that does not exist: Wine says 2 (ERROR_FILE_NOT_FOUND); Windows says 1619.
      expect(windowsExitCode(`msiexec /i ${toWinePath(join(tmp, "missing.msi"))} /qn`)).toBe(2);
      // A file that is not an MSI: Wine says 1627 (ERROR_FUNCTION_FAILED); Windows says 1620.
      const bogus = join(tmp, "bogus.msi");
      writeFileSync(bogus, "not an installer database\n");
      expect(windowsExitCode(`msiexec /i ${toWinePath(bogus)} /qn`)).toBe(1627);
      // The reboot-required code: 3010 reaches Linux as 194 (3010 % 256).
      expect(runWine("cmd", ["/c", "exit 3010"]).exitCode).toBe(194);
    });
  });
});
