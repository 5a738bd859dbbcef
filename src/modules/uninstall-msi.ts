/** @module modules/uninstall-msi: UninstallMSI — remove a Windows Installer package. */
import { defineModule } from "./_define.ts";
import { checkMsiInput, msiInput, msiOutput, runMsi } from "./_msi.ts";

export default defineModule({
  name: "UninstallMSI",
  summary: "Removes the product of an .msi package with msiexec after checking the package's Authenticode signature.",
  platforms: ["windows"],
  shape: "map",
  input: () => msiInput("uninstall"),
  output: msiOutput,
  check: checkMsiInput,
  execute: (input, ctx) => runMsi("uninstall", input, ctx),
});
