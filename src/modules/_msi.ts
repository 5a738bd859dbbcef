/**
 * @module modules/_msi: what InstallMSI and UninstallMSI share — their inputs and validation
 * rules, and the run itself: fetch the package (local path, s3:// or http(s)://), check its
 * Authenticode signature, run msiexec with one verbatim command line, and turn its exit code into
 * success, a reboot request or a failure (docs/modules.md#installmsi, docs/reboot.md §1).
 *
 * Choices where the spec is silent, or (the default log) where this implementation departs from it:
 * - The MSI log is always written: without `logFile` it goes to the step's own file
 *   `<log folder>/steps/<phase>/<step>.msiexec.log`, so a failure can always be diagnosed; the
 *   `logFile` output names it (docs/modules.md#installmsi says "no MSI log if absent"). A given `logFile` gets its parent folders created (msiexec would
 *   fail with 1622 otherwise).
 * - Property names must be Windows Installer identifiers (letters, digits, `_`, `.`); anything
 *   else could add arguments to the command line and is a validation error. Names with lower-case
 *   letters are private properties, which a command line usually cannot set: a warning, not an
 *   error, since msiexec accepts them and some packages read them.
 * - Values are quoted for msiexec unless already written as an msiexec quoted string
 *   (_msiexec.ts propertyValueToken).
 * - UninstallMSI: exit 1605 (the product is not installed) is success, as the spec lists it.
 * - UninstallMSI checks the package's signature too: `msiexec /x <package>` runs the package's
 *   own removal sequence and custom actions.
 * - Exit codes that the runtime cut to 8 bits are widened back (_msiexec.ts msiexecExitCode).
 * - Sources: s3:// through the S3Download engine, http(s):// through the WebDownload engine
 *   (its retries, redirects and TLS checks), both into the step's folder, keeping the file name
 *   (with `.msi` added when it has another ending). Plain http:// is accepted only when the
 *   signature check is in full force (both relaxing flags false): then a valid Authenticode
 *   signature proves the file is what its publisher signed, whatever the network did to it;
 *   with a relaxing flag, an unencrypted download could be swapped for anything.
 * - The package must be a file; a product code (`{GUID}`) is refused with a hint — the spec's
 *   `path` is a package, and without the file there is no signature to check.
 */
import type { ExecResult } from "../model/ports.ts";
import { Type, type Static } from "@sinclair/typebox";
import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { StepError } from "../errors.ts";
import { Choice, Fields, Flag, Text, Whole } from "../model/schema-kit.ts";
import { verifySignature, type SignatureFlags } from "./_authenticode.ts";

import { literalText, type InputIssue, type InputOf, type ModuleContext, type ModuleResult } from "./_define.ts";
import { absolute } from "./_fs.ts";
import {
  describeExitCode,
  isPublicPropertyName,
  logOptionsProblem,
  msiexecArguments,
  MsiexecLineError,
  msiexecExitCode,
  msiOutcome,
  propertyNameProblem,
  propertyValueProblem,
  wantsReboot,
  type MsiVerb,
  type RebootMode,
} from "./_msiexec.ts";
import { downloadItem } from "./_s3-download.ts";
import webDownload from "./web-download.ts";
import { system32Program } from "./_system32.ts";
import { flagFromText } from "../model/schema-kit.ts";

/** Properties awstoe manages itself through the `reboot` input (docs/modules.md#installmsi). */
export const FORBIDDEN_MSI_PROPERTIES = ["REBOOT", "REBOOTPROMPT"] as const;

export const msiInput = (verb: "install" | "uninstall") =>
  Fields({
    path: Text({ minLength: 1, description: `the .msi to ${verb}: local path, s3:// URI or https:// URL` }),
    reboot: Type.Optional(
      Choice(["Allow", "Force", "Skip"], { default: "Allow", templates: true, description: "Allow (reboot when the installer asks), Force or Skip" }),
    ),
    logOptions: Type.Optional(
      Text({ default: "*VX", pattern: "^(?:[iwearucmopvxIWEARUCMOPVX+!*]+|.*\\{\\{[^{}]*\\}\\}.*)$", description: "msiexec logging flags, passed after /L (default *VX)", "x-expected": "msiexec log flags from i w e a r u c m o p v x + ! *" }),
    ),
    logFile: Type.Optional(Text({ minLength: 1, description: "where msiexec writes its log (default: a file in the step's log folder)" })),
    properties: Type.Optional(
      Type.Record(Type.String(), Text(), { description: "PROPERTY: value pairs for msiexec", "x-expected": "a mapping of property names to values" }),
    ),
    ignoreAuthenticodeSignatureErrors: Type.Optional(Flag({ default: false, description: "run even when the signature check reports an error" })),
    allowUnsignedInstaller: Type.Optional(Flag({ default: false, description: "run an installer that is not signed" })),
  });

export const msiOutput = () =>
  Fields({
    logFile: Text({ description: "the MSI log path" }),
    msiExitCode: Whole({ description: "msiexec's exit code" }),
    stdout: Text(),
  });

/** `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`: what a product code looks like. */
const PRODUCT_CODE = /^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$/;

export function checkMsiInput(input: Record<string, unknown>): InputIssue[] {
  const issues: InputIssue[] = [];
  const properties = input.properties;
  if (properties !== null && typeof properties === "object") {
    for (const [key, value] of Object.entries(properties)) issues.push(...propertyIssues(key, value));
  }
  const path = literalText(input.path);
  if (path !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(path) && !/^(?:s3|https?):\/\//i.test(path)) {
    issues.push({ path: ["path"], message: `'${path}' is neither a local path nor an s3:// or http(s):// location` });
  }
  if (path !== undefined && PRODUCT_CODE.test(path.trim())) {
    issues.push({ path: ["path"], message: `'${path}' is a product code; path must name the .msi package`, hint: "give the package's local path, s3:// URI or https:// URL" });
  }
  if (path !== undefined && /^http:\/\//i.test(path) && (literallyTrue(input.allowUnsignedInstaller) || literallyTrue(input.ignoreAuthenticodeSignatureErrors))) {
    issues.push({ path: ["path"], message: plainHttpRefusal(path), hint: "use an https:// URL" });
  }
  return issues;
}

function propertyIssues(key: string, value: unknown): InputIssue[] {
  if ((FORBIDDEN_MSI_PROPERTIES as readonly string[]).includes(key.toUpperCase())) {
    return [{
      path: ["properties", key],
      at: "key",
      message: `the ${key.toUpperCase()} property may not be set here`,
      hint: "use the step's reboot input (Allow, Force or Skip) to control restarts",
    }];
  }
  const nameProblem = propertyNameProblem(key);
  if (nameProblem !== undefined) return [{ path: ["properties", key], at: "key", message: nameProblem }];
  const issues: InputIssue[] = [];
  if (!isPublicPropertyName(key)) {
    issues.push({
      path: ["properties", key],
      at: "key",
      severity: "warning",
      message: `'${key}' has lower-case letters, so Windows Installer treats it as a private property, which the command line usually cannot set`,
      hint: "public property names are all upper case, e.g. INSTALLDIR",
    });
  }
  const text = literalText(value);
  const valueProblem = text === undefined ? undefined : propertyValueProblem(key, text);
  if (valueProblem !== undefined) issues.push({ path: ["properties", key], message: valueProblem });
  return issues;
}

/** A flag written as true (any case, or a YAML 1.1 word such as `yes`), not a reference. */
function literallyTrue(value: unknown): boolean {
  return value === true || (typeof value === "string" && flagFromText(value) === true);
}

function plainHttpRefusal(url: string): string {
  return `'${url}' is a plain http:// URL: an unencrypted download can only be trusted when its signature must be valid, so it is refused while allowUnsignedInstaller or ignoreAuthenticodeSignatureErrors is true`;
}

// --- execution ---

/** InstallMSI's and UninstallMSI's inputs as execute receives them, and their outputs. */
export type MsiInput = InputOf<typeof msiInput>;
export type MsiOutputs = Static<ReturnType<typeof msiOutput>>;

/** The request for ctx.exec, with the process layer's `windowsVerbatimArguments` (see runMsiexec). */
type MsiexecRequest = Parameters<ModuleContext["exec"]>[0] & { windowsVerbatimArguments?: boolean };

/** InstallMSI's and UninstallMSI's execute(): cheap input checks first, then download, check, run. */
export async function runMsi(verb: MsiVerb, input: MsiInput, ctx: ModuleContext): Promise<ModuleResult<MsiOutputs>> {
  // `=== true`: a reference the engine could not resolve still arrives as its text, and text
  // must not loosen a security check.
  const flags: SignatureFlags = {
    allowUnsignedInstaller: input.allowUnsignedInstaller === true,
    ignoreAuthenticodeSignatureErrors: input.ignoreAuthenticodeSignatureErrors === true,
  };
  const reboot = rebootMode(input.reboot);
  const logOptions = input.logOptions;
  const optionsProblem = logOptionsProblem(logOptions);
  if (optionsProblem !== undefined) throw new StepError(optionsProblem);
  const properties = checkedProperties(input.properties ?? {});
  const logFile = prepareLogFile(input.logFile, ctx);

  const pkg = await obtainPackage(input.path, flags, ctx);
  await verifySignature(ctx, pkg.path, pkg.shown, flags);
  let args: string;
  try {
    args = msiexecArguments({ verb, packagePath: pkg.path, logOptions, logFile, properties });
  } catch (error) {
    if (error instanceof MsiexecLineError) throw new StepError(error.message);
    throw error;
  }
  const result = await runMsiexec(args, ctx);
  return stepOutcome({ verb, pkg, logFile, reboot }, result, ctx);
}

/**
 * Runs msiexec with `args` as its whole command line after the program name. The one-element
 * list with windowsVerbatimArguments makes the process layer put the string on the command line
 * exactly as built (no C-runtime quoting; see _msiexec.ts for why msiexec needs that).
 */
async function runMsiexec(args: string, ctx: ModuleContext): Promise<ExecResult> {
  // The engine's exec logs the command line (application.log), so it is not logged again here.
  const request: MsiexecRequest = { command: msiexecProgram(), args: [args], windowsVerbatimArguments: true };
  return ctx.exec(request);
}

interface Run {
  verb: MsiVerb;
  pkg: Package;
  logFile: string;
  reboot: RebootMode;
}

/** msiexec's result as the step's outputs, a reboot request, or a StepError naming the log. */
function stepOutcome(run: Run, result: ExecResult, ctx: ModuleContext): ModuleResult<MsiOutputs> {
  const what = `${run.verb === "install" ? "msiexec /i" : "msiexec /x"} of ${run.pkg.shown}`;
  const seeLog = `; see the MSI log '${run.logFile}'`;
  if (result.spawnError !== undefined) throw new StepError(result.spawnError);
  if (result.aborted || result.timedOut) {
    throw new StepError(`${what} was stopped before it finished (step timeout or interrupt); the product may be partly ${run.verb}ed${seeLog}`);
  }
  if (result.exitCode === null) throw new StepError(`${what} was killed by ${result.signal ?? "a signal"}${seeLog}`);
  const { code: exitCode, widened } = msiexecExitCode(result.exitCode);
  if (widened) ctx.log.debug(`msiexec's exit code arrived as ${result.exitCode} (only its low 8 bits); read as Windows Installer code ${exitCode}`);
  const outcome = msiOutcome(run.verb, exitCode);
  if (outcome.kind === "failure") {
    throw new StepError(`${what} failed with ${outcome.description}${seeLog}`, { exitCode, stdoutTail: result.stdout.slice(-2000) });
  }
  if (outcome.kind === "notInstalled") ctx.log.info(`${run.pkg.shown}: the product is not installed (${describeExitCode(exitCode)}); nothing to remove`);
  const outputs: MsiOutputs = { logFile: run.logFile, msiExitCode: exitCode, stdout: ctx.shell.trimTrailingNewlines(result.stdout) };
  const asked = outcome.kind === "rebootRequested";
  if (wantsReboot(run.reboot, outcome)) {
    ctx.log.info(asked ? `msiexec asked for a restart (${describeExitCode(exitCode)}); restarting, then continuing with the next step` : "reboot is Force: restarting, then continuing with the next step");
    return { outputs, reboot: { rerunStep: false, ...(asked ? { exitCode } : {}) } };
  }
  if (asked) ctx.log.warn(`msiexec asked for a restart (${describeExitCode(exitCode)}), but reboot is Skip: the machine is not restarted`);
  return { outputs };
}

/**
 * msiexec by absolute path. A bare `msiexec.exe` would be looked up in the working directory
 * before PATH (libuv's search order on Windows), where a document's files may live. SystemRoot
 * has no spaces on any real installation, which matters because the verbatim command line
 * starts with this path unquoted.
 */
export function msiexecProgram(): string {
  return system32Program("msiexec.exe");
}

/** The mode, checked again: a reference the engine could not resolve stays as written. */
function rebootMode(value: string): RebootMode {
  const mode = (["Allow", "Force", "Skip"] as const).find((m) => m.toLowerCase() === value.toLowerCase());
  if (mode === undefined) throw new StepError(`reboot '${value}' must be Allow, Force or Skip`);
  return mode;
}

/** The properties in document order, each checked again: references may have produced anything. */
function checkedProperties(properties: Record<string, unknown>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, raw] of Object.entries(properties)) {
    const value = String(raw ?? "");
    if ((FORBIDDEN_MSI_PROPERTIES as readonly string[]).includes(name.toUpperCase())) {
      throw new StepError(`the ${name.toUpperCase()} property may not be set; use the step's reboot input (Allow, Force or Skip)`);
    }
    const problem = propertyNameProblem(name) ?? propertyValueProblem(name, value);
    if (problem !== undefined) throw new StepError(problem);
    out.push([name, value]);
  }
  return out;
}

/** The log file's absolute path, its folder created; the step's own file when none is given. */
function prepareLogFile(written: string | undefined, ctx: ModuleContext): string {
  if (written === undefined || written === "") return ctx.workFile("msiexec.log");
  const path = absolute(ctx, written);
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new StepError(`logFile '${written}' is a folder; give the path of a file`);
    mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    if (error instanceof StepError) throw error;
    throw new StepError(`cannot create the folder of logFile '${written}': ${(error as Error).message}`);
  }
  return path;
}

// --- the package ---

interface Package {
  /** Absolute local path of the .msi. */
  path: string;
  /** How messages name it: the path as written, or the local copy and where it came from. */
  shown: string;
}

async function obtainPackage(source: string, flags: SignatureFlags, ctx: ModuleContext): Promise<Package> {
  const trimmed = source.trim();
  if (PRODUCT_CODE.test(trimmed)) throw new StepError(`'${source}' is a product code; path must name the .msi package (local path, s3:// URI or https:// URL)`);
  if (/^s3:\/\//i.test(trimmed)) return fromS3(trimmed, ctx);
  if (/^https?:\/\//i.test(trimmed)) return fromWeb(trimmed, flags, ctx);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) throw new StepError(`'${source}' is neither a local path nor an s3:// or http(s):// location`);
  const path = absolute(ctx, source);
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats === undefined) throw new StepError(`the package '${source}' does not exist`);
  if (!stats.isFile()) throw new StepError(`the package '${source}' is not a file`);
  return { path, shown: `'${source}'` };
}

async function fromS3(source: string, ctx: ModuleContext): Promise<Package> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/i.exec(source);
  const key = match?.[2];
  if (match === null || key === undefined || key.endsWith("/") || key.endsWith("*")) {
    throw new StepError(`'${source}' is not an S3 object URI (s3://bucket/key of one .msi file)`);
  }
  const uri = `s3://${match[1]}/${key}`;
  const path = ctx.workFile(localPackageName(key.slice(key.lastIndexOf("/") + 1)));
  await downloadItem({ source: uri, destination: path, overwrite: true }, ctx);
  return { path, shown: `'${path}' (downloaded from '${source}')` };
}

async function fromWeb(source: string, flags: SignatureFlags, ctx: ModuleContext): Promise<Package> {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new StepError(`'${source}' is not a valid URL`);
  }
  if (url.protocol === "http:" && (flags.allowUnsignedInstaller || flags.ignoreAuthenticodeSignatureErrors)) throw new StepError(plainHttpRefusal(source));
  const last = url.pathname.slice(url.pathname.lastIndexOf("/") + 1);
  let name = last;
  try {
    name = decodeURIComponent(last);
  } catch {
    // Not valid percent-encoding: keep the name as written; localPackageName makes it safe.
  }
  const path = ctx.workFile(localPackageName(name));
  await webDownload.execute([{ source, destination: path, overwrite: true, ignoreCertificateErrors: false }], ctx);
  return { path, shown: `'${path}' (downloaded from '${source}')` };
}

/**
 * The file name a downloaded package gets in the step's folder: the source's own name with the
 * characters Windows forbids replaced by `_`, and `.msi` added when it ends otherwise (msiexec
 * and the signature check go by the extension for some file types; an installer should look like one).
 */
export function localPackageName(name: string): string {
  let safe = name.replace(/[<>:"/\\|?*\u0000-\u001f]/g, "_").replace(/[. ]+$/, "");
  if (safe === "") safe = "package";
  return /\.msi$/i.test(safe) ? safe : `${safe}.msi`;
}
