/**
 * @module modules/_authenticode: the Authenticode check InstallMSI and UninstallMSI run before
 * msiexec (docs/modules.md#installmsi): Windows PowerShell's Get-AuthenticodeSignature on the package, then a
 * verdict from its status and the two relaxing flags.
 *
 * Status `Valid` → go on. `NotSigned` → refuse unless allowUnsignedInstaller. Any other status
 * (HashMismatch, NotTrusted, UnknownError, NotSupportedFileFormat, Incompatible) → refuse unless
 * ignoreAuthenticodeSignatureErrors. A check that cannot run or says nothing readable refuses
 * too: not knowing is not a signature the flags have accepted.
 */
import { StepError } from "../errors.ts";
import { writeFileDurably } from "../safe-fs/durable.ts";
import type { ModuleContext } from "./_define.ts";

export interface SignatureFlags {
  allowUnsignedInstaller: boolean;
  ignoreAuthenticodeSignatureErrors: boolean;
}

export interface SignatureReport {
  /** Get-AuthenticodeSignature's Status, e.g. `Valid`, `NotSigned`, `HashMismatch`. */
  status: string;
  /** Its StatusMessage, on one line; may be empty. */
  message: string;
  /** The signing certificate's subject, when there is one. */
  signer?: string;
}

/** Marks the lines our script prints, so a profile or module banner cannot be mistaken for them. */
const MARK = "opentoe-authenticode";

/**
 * The PowerShell lines that print the signature's status, message and signer, one per line. The
 * path goes in as a single-quoted literal (no expansion of `$` or backticks) with its quote
 * characters doubled; PowerShell also takes the typographic quotes ‘ ’ ‚ ‛ as single quotes, so
 * those are doubled as well.
 */
export function signatureScript(packagePath: string): string[] {
  const literal = `'${packagePath.replace(/['\u2018\u2019\u201A\u201B]/g, (q) => q + q)}'`;
  return [
    "$ErrorActionPreference = 'Stop'",
    `$signature = Get-AuthenticodeSignature -LiteralPath ${literal}`,
    `Write-Output ('${MARK} status=' + $signature.Status)`,
    `Write-Output ('${MARK} message=' + ($signature.StatusMessage -replace '\\s+', ' '))`,
    `if ($signature.SignerCertificate) { Write-Output ('${MARK} signer=' + $signature.SignerCertificate.Subject) }`,
  ];
}

/** The report in the script's output, or undefined when it printed no status. */
export function parseSignatureOutput(stdout: string): SignatureReport | undefined {
  const field = (name: string): string | undefined => {
    const line = stdout.split(/\r?\n/).find((l) => l.startsWith(`${MARK} ${name}=`));
    return line?.slice(MARK.length + name.length + 2).trim();
  };
  const status = field("status");
  if (status === undefined || status === "") return undefined;
  const signer = field("signer");
  return { status, message: field("message") ?? "", ...(signer ? { signer } : {}) };
}

export type SignatureVerdict =
  | { proceed: true; warning?: string }
  | { proceed: false; reason: string };

/** Decides from the status and the flags; `shown` names the file as the person knows it. */
export function signatureVerdict(report: SignatureReport, flags: SignatureFlags, shown: string): SignatureVerdict {
  const detail = report.message === "" ? "" : `: ${report.message}`;
  if (report.status === "Valid") return { proceed: true };
  if (report.status === "NotSigned") {
    if (flags.allowUnsignedInstaller) return { proceed: true, warning: `${shown} is not signed; installing it because allowUnsignedInstaller is true` };
    return { proceed: false, reason: `${shown} is not signed (Authenticode status NotSigned); set allowUnsignedInstaller: true to run an unsigned package` };
  }
  if (flags.ignoreAuthenticodeSignatureErrors) {
    return { proceed: true, warning: `the Authenticode signature of ${shown} is not valid (status ${report.status}${detail}); going on because ignoreAuthenticodeSignatureErrors is true` };
  }
  return {
    proceed: false,
    reason: `the Authenticode signature of ${shown} is not valid (status ${report.status}${detail}); set ignoreAuthenticodeSignatureErrors: true only if you trust the file anyway`,
  };
}

/**
 * Whether PowerShell needs to run at all. With both flags true no status could stop the step:
 * Valid proceeds, NotSigned is allowed, every other status is ignored. The check would then only
 * cost a PowerShell start and could fail for reasons unrelated to the file (no PowerShell, as
 * under Wine), so it is skipped — with a warning, so the log says the signature was not looked at.
 * This is the only way to skip it, and only the document's own two flags lead here: no
 * environment variable or other switch outside the document can turn the check off.
 */
export function signatureCheckNeeded(flags: SignatureFlags): boolean {
  return !(flags.allowUnsignedInstaller && flags.ignoreAuthenticodeSignatureErrors);
}

/**
 * Runs the check for `packagePath` and throws StepError when the package must not run. Writes
 * the script to the step's folder (`authenticode.ps1`) and runs it like ExecutePowerShell does.
 */
export async function verifySignature(ctx: ModuleContext, packagePath: string, shown: string, flags: SignatureFlags): Promise<void> {
  if (!signatureCheckNeeded(flags)) {
    ctx.log.warn(`the Authenticode signature of ${shown} was not checked: allowUnsignedInstaller and ignoreAuthenticodeSignatureErrors are both true, so no result could stop the step`);
    return;
  }
  const script = ctx.workFile("authenticode.ps1");
  writeFileDurably(script, ctx.shell.powershellScript(signatureScript(packagePath)), { mode: 0o700, flush: false });
  const { command, args } = ctx.shell.powershellInvocation(script);
  const result = await ctx.exec({ command, args });
  const cannot = `cannot check the Authenticode signature of ${shown}`;
  if (result.spawnError !== undefined) throw new StepError(`${cannot}: ${result.spawnError}`);
  if (result.aborted || result.timedOut) throw new StepError(`${cannot}: PowerShell was stopped before it finished (step timeout or interrupt)`);
  const report = parseSignatureOutput(result.stdout);
  if (result.exitCode !== 0 || report === undefined) {
    const said = lastLine(result.stderr) ?? lastLine(result.stdout);
    throw new StepError(`${cannot}: Get-AuthenticodeSignature ${result.exitCode === 0 ? "printed no status" : `exited with code ${result.exitCode}`}${said === undefined ? "" : ` (${said})`}`);
  }
  const verdict = signatureVerdict(report, flags, shown);
  if (!verdict.proceed) throw new StepError(verdict.reason);
  if (verdict.warning !== undefined) ctx.log.warn(verdict.warning);
  else ctx.log.info(`the Authenticode signature of ${shown} is valid${report.signer === undefined ? "" : ` (signed by ${report.signer})`}`);
}

function lastLine(text: string): string | undefined {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  return lines.length === 0 ? undefined : lines[lines.length - 1]!.slice(0, 300);
}
