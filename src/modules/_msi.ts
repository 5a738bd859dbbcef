/** @module modules/_msi: the inputs and rules InstallMSI and UninstallMSI share. */
import { Type } from "@sinclair/typebox";
import { Choice, Fields, Flag, Text, Whole } from "../model/schema-kit.ts";
import { literalText, type InputIssue } from "./_define.ts";

/** Properties awstoe manages itself through the `reboot` input (modules.md §5, README Q10). */
export const FORBIDDEN_MSI_PROPERTIES = ["REBOOT", "REBOOTPROMPT"] as const;

export const msiInput = (verb: "install" | "uninstall") =>
  Fields({
    path: Text({ minLength: 1, description: `the .msi to ${verb}: local path, s3:// URI or https:// URL` }),
    reboot: Type.Optional(
      Choice(["Allow", "Force", "Skip"], { default: "Allow", templates: true, description: "Allow (reboot when the installer asks), Force or Skip" }),
    ),
    logOptions: Type.Optional(
      Text({ default: "*VX", pattern: "^(?:[iwearucmopvxIWEARUCMOPVX+!*]+|.*\\{\\{[^{}]*\\}\\}.*)$", "x-expected": "msiexec log flags from i w e a r u c m o p v x + ! *" }),
    ),
    logFile: Type.Optional(Text({ minLength: 1, description: "where msiexec writes its log" })),
    properties: Type.Optional(
      Type.Record(Type.String(), Text(), { description: "PROPERTY: value pairs for msiexec", "x-expected": "a mapping of property names to values" }),
    ),
    ignoreAuthenticodeSignatureErrors: Type.Optional(Flag({ default: false, description: "run even when the signature check reports an error" })),
    allowUnsignedInstaller: Type.Optional(Flag({ default: false, description: "run an installer that is not signed" })),
  });

export const msiOutput = () =>
  Fields({
    logFile: Text({ description: "the MSI log path, or empty" }),
    msiExitCode: Whole({ description: "msiexec's exit code" }),
    stdout: Text(),
  });

export function checkMsiInput(input: Record<string, unknown>): InputIssue[] {
  const issues: InputIssue[] = [];
  const properties = input.properties;
  if (properties !== null && typeof properties === "object") {
    for (const key of Object.keys(properties)) {
      if ((FORBIDDEN_MSI_PROPERTIES as readonly string[]).includes(key.toUpperCase())) {
        issues.push({
          path: ["properties", key],
          at: "key",
          message: `the ${key.toUpperCase()} property may not be set here`,
          hint: "use the step's reboot input (Allow, Force or Skip) to control restarts",
        });
      }
    }
  }
  const path = literalText(input.path);
  if (path !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(path) && !/^(?:s3|https?):\/\//i.test(path)) {
    issues.push({ path: ["path"], message: `'${path}' is neither a local path nor an s3:// or http(s):// location` });
  }
  return issues;
}
