/**
 * @module modules/_msiexec: the msiexec command line and the meaning of its exit codes (pure; no
 * processes, no files). InstallMSI and UninstallMSI build one command-line string here and
 * interpret msiexec's exit code here.
 *
 * Why one string and not an argument list: msiexec reads its raw command line (GetCommandLineW)
 * with rules of its own, not the C runtime's argv rules that node/libuv quoting targets. A property
 * value with a quote must arrive as `PROP="a ""b"" c"`; libuv would wrap any argument holding a
 * quote or a space in quotes of its own and escape the inner ones as `\"`, which msiexec does not
 * understand (test/e2e/windows-msi.test.ts fails that way without verbatim passing). So the line
 * is built here, with msiexec's quoting, and the process layer passes it on verbatim
 * (windowsVerbatimArguments).
 */

/** Windows Installer property names (identifiers): letters, digits, `_` and `.`, not starting with a digit or `.`. */
const PROPERTY_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** msiexec's log flags (docs/modules.md#installmsi): `/L` followed by any of these. */
const LOG_OPTIONS = /^[iwearucmopvx+!*]+$/i;

export type MsiVerb = "install" | "uninstall";

export interface MsiexecLine {
  verb: MsiVerb;
  /** Absolute path of the package. */
  packagePath: string;
  logOptions: string;
  /** Absolute path of the MSI log. */
  logFile: string;
  /** In the order written; names already checked with propertyNameProblem(). */
  properties: ReadonlyArray<readonly [string, string]>;
}

/**
 * The arguments after the program name, as one string:
 * `/i "<package>" /quiet /norestart /L<opts> "<log>" NAME=value …` (`/x` to uninstall).
 *
 * `/norestart` is always there: a reboot started by msiexec itself would cut awstoe off mid-run,
 * with no state saved and no resume trigger. msiexec reports the need instead (3010), and the
 * `reboot` input decides whether awstoe restarts the machine, after saving its state.
 * `/quiet`: awstoe runs unattended, usually as SYSTEM, where a dialog would wait forever.
 */
export function msiexecArguments(line: MsiexecLine): string {
  const parts = [
    line.verb === "install" ? "/i" : "/x",
    quotedPath(line.packagePath, "package path"),
    "/quiet",
    "/norestart",
    `/L${line.logOptions}`,
    quotedPath(line.logFile, "log file path"),
    ...line.properties.map(([name, value]) => `${name}=${propertyValueToken(value)}`),
  ];
  return parts.join(" ");
}

/**
 * A path wrapped in double quotes, as msiexec wants paths (docs/modules.md#installmsi: always quoted). A path
 * cannot contain `"` on Windows, and one that did would end the quoted part early, so it is refused.
 */
function quotedPath(path: string, what: string): string {
  if (path.includes('"')) throw new MsiexecLineError(`the ${what} '${path}' contains a double quote, which no Windows path may contain`);
  // A trailing backslash before the closing quote is harmless to msiexec (it has no \" escape).
  return `"${path}"`;
}

/**
 * How a property value is written after `NAME=`:
 * - A value that is already one complete msiexec quoted string — `"` … `"` with every inner quote
 *   doubled, e.g. `"true"` or `"Acme ""Widgets"""` — goes as written. This is how AWS documents
 *   and existing components write values (`GENERATE_CONFIG: '"true"'`, docs/modules.md#installmsi), so such
 *   documents keep their meaning: msiexec removes the outer quotes and undoubles the inner ones.
 * - A value without spaces, quotes or other white space goes bare: `NAME=value`.
 * - Anything else is quoted for the author: wrapped in `"` with each `"` doubled, so
 *   `a "b" c` becomes `"a ""b"" c"` and `C:\Program Files\App` becomes `"C:\Program Files\App"`.
 *   The empty value becomes `""` (clears the property).
 * No value can end the token early or add another argument: every `"` is either doubled inside
 * quotes or part of a verified complete quoted string.
 */
export function propertyValueToken(value: string): string {
  if (isQuotedMsiString(value)) return value;
  if (value !== "" && !/[\s"]/.test(value)) return value;
  return `"${value.replace(/"/g, '""')}"`;
}

/** `"` + (any character but `"`, or `""`)* + `"`. */
export function isQuotedMsiString(value: string): boolean {
  return /^"(?:[^"]|"")*"$/.test(value);
}

/** Why a property name cannot go on the command line, or undefined when it can. */
export function propertyNameProblem(name: string): string | undefined {
  if (PROPERTY_NAME.test(name)) return undefined;
  return `'${name}' is not a Windows Installer property name (letters, digits, _ and . only, not starting with a digit or .)`;
}

/** Property names with lower-case letters are private to the package (see checkMsiInput). */
export function isPublicPropertyName(name: string): boolean {
  return name === name.toUpperCase();
}

/** Why a property value cannot go on the command line, or undefined when it can. */
export function propertyValueProblem(name: string, value: string): string | undefined {
  // A line break would be part of msiexec's command line, which it does not accept in a value;
  // NUL cannot be passed to a process at all.
  if (/[\r\n\0]/.test(value)) return `the value of property ${name} contains a line break or NUL character, which msiexec cannot take`;
  return undefined;
}

/** Why `/L<options>` would be wrong, or undefined when the options are fine. */
export function logOptionsProblem(options: string): string | undefined {
  if (LOG_OPTIONS.test(options)) return undefined;
  return `logOptions '${options}' must be msiexec log flags, any of i w e a r u c m o p v x + ! *`;
}

/** A command line that cannot be built (a path with a quote). */
export class MsiexecLineError extends Error {}

// --- exit codes ---

/** Windows Installer's exit codes that users meet most, by number: constant name and meaning. */
export const MSI_EXIT_CODES: Readonly<Record<number, { name: string; meaning: string }>> = {
  0: { name: "ERROR_SUCCESS", meaning: "the action completed successfully" },
  2: { name: "ERROR_FILE_NOT_FOUND", meaning: "the system cannot find the file" },
  87: { name: "ERROR_INVALID_PARAMETER", meaning: "one of the parameters was not valid" },
  1601: { name: "ERROR_INSTALL_SERVICE_FAILURE", meaning: "the Windows Installer service could not be accessed" },
  1602: { name: "ERROR_INSTALL_USEREXIT", meaning: "the installation was cancelled" },
  1603: { name: "ERROR_INSTALL_FAILURE", meaning: "a fatal error occurred during the installation" },
  1605: { name: "ERROR_UNKNOWN_PRODUCT", meaning: "the product is not installed" },
  1612: { name: "ERROR_INSTALL_SOURCE_ABSENT", meaning: "the installation source for this product is not available" },
  1614: { name: "ERROR_PRODUCT_UNINSTALLED", meaning: "the product is uninstalled" },
  1618: { name: "ERROR_INSTALL_ALREADY_RUNNING", meaning: "another installation is already in progress" },
  1619: { name: "ERROR_INSTALL_PACKAGE_OPEN_FAILED", meaning: "the installation package could not be opened" },
  1620: { name: "ERROR_INSTALL_PACKAGE_INVALID", meaning: "the file is not a valid Windows Installer package" },
  1622: { name: "ERROR_INSTALL_LOG_FAILURE", meaning: "the installation log file could not be opened" },
  1625: { name: "ERROR_INSTALL_PACKAGE_REJECTED", meaning: "system policy forbids this installation" },
  1627: { name: "ERROR_FUNCTION_FAILED", meaning: "a Windows Installer function failed" },
  1633: { name: "ERROR_INSTALL_PLATFORM_UNSUPPORTED", meaning: "the package is not supported on this processor type" },
  1638: { name: "ERROR_PRODUCT_VERSION", meaning: "another version of this product is already installed" },
  1639: { name: "ERROR_INVALID_COMMAND_LINE", meaning: "the command line is not valid" },
  1641: { name: "ERROR_SUCCESS_REBOOT_INITIATED", meaning: "the installer started a restart" },
  3010: { name: "ERROR_SUCCESS_REBOOT_REQUIRED", meaning: "a restart is required to complete the action" },
};

/** What a person can do about the common failures, appended to the message. */
const ADVICE: Readonly<Record<number, string>> = {
  1603: "the MSI log says which action failed",
  1618: "wait for the other installation to finish (maxAttempts can retry the step)",
  1619: "check that the path names an existing .msi file that this account can read",
  1620: "the file may be damaged or not an .msi at all",
  1633: "use the package built for this machine's architecture",
  1638: "uninstall the other version first, or use that version's package",
};

/**
 * msiexec's exit code from what the process layer reported.
 *
 * Bun's Windows runtime keeps only the low 8 bits of a child's exit code (its libuv exit callback
 * stores it in a u8; oven-sh/bun PR #33720 to widen it is open), so 3010 arrives as 194, 1603 as
 * 67 and 1605 as 69. Windows Installer's own codes are 1601–1654 and 3010–3011, whose low bytes
 * (65–118, 194, 195) are unique among them, so such a byte is read back as the Installer code it
 * must have come from — except 87, which msiexec also returns as itself (ERROR_INVALID_PARAMETER)
 * and which is kept (1623 would be the other reading; both are failures). Other small codes (0,
 * 2, 5, 13, 120 …) are taken as they are, and a code above 255 — from a runtime that reports all
 * 32 bits — is never changed.
 */
export function msiexecExitCode(reported: number): { code: number; widened: boolean } {
  if (reported >= 65 && reported <= 118 && reported !== 87) return { code: 1536 + reported, widened: true };
  if (reported === 194 || reported === 195) return { code: 2816 + reported, widened: true };
  return { code: reported, widened: false };
}

export type MsiOutcome =
  /** 0, and 1614 for both verbs (docs/modules.md#installmsi lists it as success). */
  | { kind: "success" }
  /** 3010 ERROR_SUCCESS_REBOOT_REQUIRED, 1641 ERROR_SUCCESS_REBOOT_INITIATED. */
  | { kind: "rebootRequested" }
  /** UninstallMSI: 1605, the product was not installed — nothing to remove is success. */
  | { kind: "notInstalled" }
  | { kind: "failure"; description: string };

/**
 * Success codes (docs/modules.md#installmsi): InstallMSI 0, 1614, 1641, 3010; UninstallMSI also 1605.
 * 1605 on uninstall is success because the step's goal — the product is not installed — holds,
 * so a component that removes a product stays re-runnable (idempotent), as the spec says.
 */
export function msiOutcome(verb: MsiVerb, exitCode: number): MsiOutcome {
  if (exitCode === 0 || exitCode === 1614) return { kind: "success" };
  if (exitCode === 3010 || exitCode === 1641) return { kind: "rebootRequested" };
  if (exitCode === 1605 && verb === "uninstall") return { kind: "notInstalled" };
  return { kind: "failure", description: describeExitCode(exitCode) };
}

/** `exit code 1603 (ERROR_INSTALL_FAILURE: a fatal error …; advice)`, or just the number. */
export function describeExitCode(exitCode: number): string {
  const known = MSI_EXIT_CODES[exitCode];
  if (known === undefined) return `exit code ${exitCode}`;
  const advice = ADVICE[exitCode];
  return `exit code ${exitCode} (${known.name}: ${known.meaning}${advice === undefined ? "" : `; ${advice}`})`;
}

export type RebootMode = "Allow" | "Force" | "Skip";

/**
 * Whether the machine restarts after a successful msiexec (docs/modules.md#installmsi): Allow — only when msiexec
 * asked for it (3010/1641); Force — always; Skip — never. The execution then continues with the
 * next step (the package is installed; running msiexec again would be pointless).
 */
export function wantsReboot(mode: RebootMode, outcome: MsiOutcome): boolean {
  if (outcome.kind === "failure") return false;
  if (mode === "Force") return true;
  if (mode === "Skip") return false;
  return outcome.kind === "rebootRequested";
}
