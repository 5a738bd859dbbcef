/** @module modules/uninstall-msi: UninstallMSI — remove a Windows Installer package. */
import { defineModule } from "./_define.ts";
import { checkMsiInput, msiInput, msiOutput } from "./_msi.ts";

export default defineModule({
  name: "UninstallMSI",
  summary: "Removes an .msi package with msiexec.",
  platforms: ["windows"],
  shape: "map",
  input: msiInput("uninstall"),
  output: msiOutput(),
  check: checkMsiInput,
});
