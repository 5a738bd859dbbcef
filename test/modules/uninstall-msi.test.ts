/**
 * @module test/modules/uninstall-msi.test: UninstallMSI — `/x` with the package, the success
 * codes it adds (1605: the product is not installed), reboots, and the signature check it shares
 * with InstallMSI (whose test covers the shared parts in depth: quoting, statuses × flags, sources).
 *
 * msiexec and PowerShell's Get-AuthenticodeSignature exist only on Windows, so `exec` is a
 * recording fake here (test/helpers/msi-context.ts); test/e2e/windows-msi.test.ts runs the real
 * Windows build against Wine's real msiexec.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ModuleContext } from "../../src/modules/_define.ts";
import type { MsiInput } from "../../src/modules/_msi.ts";
import { modules } from "../../src/modules/index.ts";
import { put, scratch } from "../helpers/fs-tree.ts";
import { runModule, type WrittenInput } from "../helpers/module-context.ts";
import { failure, msiContext, signatureOutput } from "../helpers/msi-context.ts";

const temp = scratch();
let dir: string;
let msi: string;
let savedSystemRoot: string | undefined;

beforeAll(() => {
  savedSystemRoot = process.env.SystemRoot;
  delete process.env.SystemRoot;
  delete process.env.SYSTEMROOT;
  dir = temp.folder();
  msi = put(dir, "product.msi", "not really an msi");
});
afterAll(() => {
  if (savedSystemRoot !== undefined) process.env.SystemRoot = savedSystemRoot;
  temp.remove();
});

function uninstall(input: Partial<WrittenInput<typeof modules.UninstallMSI>>, ctx: ModuleContext) {
  return runModule(modules.UninstallMSI, { path: "product.msi", ...input }, ctx);
}

describe("UninstallMSI", () => {
  test("is runnable on Windows only", () => {
    expect(modules.UninstallMSI.execute).toBeDefined();
    expect(modules.UninstallMSI.platforms).toEqual(["windows"]);
  });

  test("runs msiexec /x with the package, verbatim; default log in the step's folder; outputs", async () => {
    const fake = msiContext({}, { cwd: dir });
    const outcome = await uninstall({ properties: { KEEP_DATA: "yes please" } }, fake.ctx);
    const log = fake.ctx.workFile("msiexec.log");
    expect(fake.ran()).toEqual(["powershell", "msiexec"]);
    expect(fake.calls[1]).toEqual({
      command: "C:\\Windows\\System32\\msiexec.exe",
      args: [`/x "${msi}" /quiet /norestart /L*VX "${log}" KEEP_DATA="yes please"`],
      windowsVerbatimArguments: true,
    });
    expect(outcome).toEqual({ outputs: { logFile: log, msiExitCode: 0, stdout: "" } });
  });

  test("1605 (the product is not installed) is success, so the step can run again; also when it arrives cut to 69", async () => {
    for (const reported of [1605, 69]) {
      const fake = msiContext({ msiexec: { exitCode: reported } }, { cwd: dir });
      const outcome = await uninstall({}, fake.ctx);
      expect(outcome).toEqual({ outputs: { logFile: fake.ctx.workFile("msiexec.log"), msiExitCode: 1605, stdout: "" } });
      expect(fake.infos.some((m) => m.startsWith("'product.msi': the product is not installed (exit code 1605 (ERROR_UNKNOWN_PRODUCT"))).toBe(true);
    }
  });

  test("1614 is success; 3010 asks for a reboot that continues with the next step; Force reboots even after 1605; Skip never", async () => {
    const table: [string, number, unknown][] = [
      ["Allow", 1614, undefined],
      ["Allow", 1605, undefined],
      ["Allow", 3010, { rerunStep: false, exitCode: 3010 }],
      ["Force", 1605, { rerunStep: false }],
      ["Skip", 3010, undefined],
    ];
    for (const [mode, code, reboot] of table) {
      const outcome = await uninstall({ reboot: mode as MsiInput["reboot"] }, msiContext({ msiexec: { exitCode: code } }, { cwd: dir }).ctx);
      expect([mode, code, outcome.reboot] as unknown[]).toEqual([mode, code, reboot]);
    }
  });

  test("a failure names msiexec /x, the package, the code with its meaning and the MSI log", async () => {
    const fake = msiContext({ msiexec: { exitCode: 1603 } }, { cwd: dir });
    const error = await failure(uninstall({ logFile: "logs/remove.log" }, fake.ctx));
    expect(error.message).toBe(
      `msiexec /x of 'product.msi' failed with exit code 1603 (ERROR_INSTALL_FAILURE: a fatal error occurred during the installation; the MSI log says which action failed); see the MSI log '${dir}/logs/remove.log'`,
    );
  });

  test("the package's signature is checked too: its uninstall sequence runs the package's own code", async () => {
    const fake = msiContext({ powershell: { stdout: signatureOutput("NotSigned") } }, { cwd: dir });
    const error = await failure(uninstall({}, fake.ctx));
    expect(error.message).toBe("'product.msi' is not signed (Authenticode status NotSigned); set allowUnsignedInstaller: true to run an unsigned package");
    expect(fake.ran()).toEqual(["powershell"]);
  });

  test("a product code is refused with a hint: the module removes by package", async () => {
    const fake = msiContext({}, { cwd: dir });
    const error = await failure(uninstall({ path: "{6C1D9E4F-8B52-4A7C-AF3E-2D4B6C8E0A11}" }, fake.ctx));
    expect(error.message).toContain("is a product code; path must name the .msi package");
    expect(fake.calls).toEqual([]);
  });
});
