/** @module modules/install-msi: InstallMSI — install a Windows Installer package. */
import { defineModule } from "./_define.ts";
import { checkMsiInput, msiInput, msiOutput, runMsi } from "./_msi.ts";

export default defineModule({
  name: "InstallMSI",
  summary: "Installs an .msi package with msiexec after checking its Authenticode signature.",
  platforms: ["windows"],
  shape: "map",
  input: () => msiInput("install"),
  output: msiOutput,
  check: checkMsiInput,
  execute: (input, ctx) => runMsi("install", input, ctx),
});
