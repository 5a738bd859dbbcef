/**
 * @module test/helpers/wine: runs the Windows build of awstoe for real, under Wine (TOOLCHAIN.md §4).
 *
 * - `windowsBinary()` builds dist/awstoe-windows-x64.exe when it is missing or older than its
 *   sources (scripts/build.ts, through the same freshBinary() as the host binary), builds the
 *   bcryptprimitives.dll stub that Bun's .exe needs on Wine 8, and creates the Wine prefix.
 * - `runUnderWine()` runs that .exe; `runWine()` runs any Windows program of the prefix (reg,
 *   msiexec, cmd). Output always goes through files: a pipe would stay open for as long as the
 *   wineserver (which inherits it) lives, and some Windows programs mishandle Unix pipes.
 * - A throwaway prefix per test file: `wineboot` makes a pristine one once per machine and Wine
 *   version (~7 s, ~700 MB, kept in .cache/wine/), and each test file works on a copy of it
 *   (~0.5 s) in tmpdir, so no test sees another's registry or installed files. `stopWine()` (for
 *   afterAll) ends its wineserver and every Windows process in it and deletes the copy; a copy
 *   left by a test process that was killed is swept by the next one.
 * - Registry helpers go through Wine's own reg.exe, so tests see what a Windows program would.
 *
 * Exit codes: a Windows exit code reaches Linux modulo 256 (3010 arrives as 194, 1605 as 69).
 * Inside Wine, cmd.exe sees its children's full 32-bit code, but awstoe (Bun) does not: Bun's
 * Windows runtime keeps only the low byte (see src/modules/_exec.ts and _msiexec.ts).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, posix, relative, sep } from "node:path";
import { outputPath, REPO, TARGETS, type Target } from "../../scripts/build.ts";
import { freshBinary } from "./binary.ts";

/** Commands the Wine tests need; scripts/ci-deps.sh installs them. */
const REQUIRED_TOOLS = ["wine", "wineserver", "x86_64-w64-mingw32-gcc"] as const;

const STUB_SOURCE = join(REPO, "scripts/wine/bcryptprimitives.c");
const STUB_EXPORTS = join(REPO, "scripts/wine/bcryptprimitives.def");
/** Built stub, in the git-ignored cache; rebuilt when older than its two source files. */
export const STUB_DLL = join(REPO, ".cache/wine/bcryptprimitives.dll");

export interface WineRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** True when the run was killed for going over its timeout. */
  timedOut: boolean;
}

export interface WineRunOptions {
  /** Linux folder the program starts in (Wine shows it as Z:\…); default: the repository. */
  cwd?: string;
  /** Merged over the test's environment; `undefined` removes a variable. Wine passes them on to the Windows process. */
  env?: Record<string, string | undefined>;
  stdin?: string | Uint8Array;
  /** Kill the run after this long; default 60 s. */
  timeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Availability

/** The commands of REQUIRED_TOOLS that are not on PATH. */
export function missingWineTools(): string[] {
  return REQUIRED_TOOLS.filter((tool) => Bun.which(tool) === null);
}

/** True when Wine and the mingw compiler (for the stub DLL) are installed. */
export function wineAvailable(): boolean {
  return missingWineTools().length === 0;
}

/** True when msitools' wixl (builds test MSIs) is installed. */
export function wixlAvailable(): boolean {
  return Bun.which("wixl") !== null;
}

/** One line saying why Wine tests are skipped, or undefined when they can run. */
export function wineSkipReason(): string | undefined {
  const missing = [...missingWineTools(), ...(wixlAvailable() ? [] : ["wixl"])];
  if (missing.length === 0) return undefined;
  return `Windows tests skipped: ${missing.join(", ")} not installed (run scripts/ci-deps.sh as root)`;
}

// ---------------------------------------------------------------------------------------------
// The stub DLL and the Windows executable

/** Builds .cache/wine/bcryptprimitives.dll when it is missing or older than its sources; returns its path. */
export function stubDll(): string {
  if (isFresh(STUB_DLL, [STUB_SOURCE, STUB_EXPORTS])) return STUB_DLL;
  mkdirSync(join(STUB_DLL, ".."), { recursive: true });
  const partial = `${STUB_DLL}.${process.pid}.tmp`;
  const gcc = spawnSync(
    "x86_64-w64-mingw32-gcc",
    ["-O2", "-Wall", "-Wextra", "-Werror", "-s", "-shared", "-o", partial, STUB_SOURCE, STUB_EXPORTS, "-ladvapi32"],
    { encoding: "utf8" },
  );
  if (gcc.status !== 0) {
    rmSync(partial, { force: true });
    const why = gcc.error?.message ?? `${gcc.stderr}${gcc.stdout}`.trim();
    throw new Error(`building ${relative(REPO, STUB_DLL)} from ${relative(REPO, STUB_SOURCE)} failed: ${why}`);
  }
  renameSync(partial, STUB_DLL); // atomic, so a half-written DLL is never picked up
  return STUB_DLL;
}

function isFresh(output: string, inputs: readonly string[]): boolean {
  if (!existsSync(output)) return false;
  const built = statSync(output).mtimeMs;
  return inputs.every((input) => statSync(input).mtimeMs <= built);
}

function windowsTarget(): Target {
  const target = TARGETS.find((t) => t.name === "windows-x64");
  if (target === undefined) throw new Error("scripts/build.ts has no windows-x64 target");
  return target;
}

/**
 * Compiles the Windows target with scripts/build.ts in a child bun: the script points bun's
 * runtime cache at .cache/bun, which must be set when bun starts, so an in-process Bun.build
 * would download the Windows runtime to ~/.bun instead.
 */
async function buildWindowsExecutable(): Promise<string> {
  const target = windowsTarget();
  const child = Bun.spawn([process.execPath, join(REPO, "scripts/build.ts"), "--target", target.name], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`scripts/build.ts --target ${target.name} exited ${code}:\n${out}${err}`);
  return outputPath(target);
}

let exePath: string | undefined;
let exePending: Promise<string> | undefined;

/**
 * Absolute path of dist/awstoe-windows-x64.exe, built once per test process when missing or
 * stale, with the stub DLL built and a Wine prefix ready. Call in beforeAll: the first call can
 * take ~15 s (the build, plus the pristine prefix on a machine that has none yet).
 */
export async function windowsBinary(): Promise<string> {
  exePending ??= freshBinary(outputPath(windowsTarget()), buildWindowsExecutable);
  const exe = await exePending;
  winePrefix();
  exePath = exe;
  return exe;
}

// ---------------------------------------------------------------------------------------------
// The prefix

/** Pristine prefixes, one per Wine version, copied for each test session (git-ignored cache). */
const TEMPLATE_ROOT = join(REPO, ".cache/wine");

let prefixDir: string | undefined;
let ioDir: string | undefined;
let ioCount = 0;

/**
 * The Linux path of the current Wine prefix, made on first use (and again after stopWine()) by
 * copying the cached pristine prefix (~0.5 s) and putting the stub DLL in its system32, so every
 * .exe in the prefix finds it wherever the .exe lives (dist/ keeps only what is released).
 */
export function winePrefix(): string {
  if (prefixDir !== undefined) return prefixDir;
  const missing = missingWineTools();
  if (missing.length > 0) throw new Error(`cannot run Windows programs: ${missing.join(", ")} not installed (run scripts/ci-deps.sh as root)`);
  const dll = stubDll();
  const template = prefixTemplate();
  sweepAbandoned(tmpdir(), SESSION_PREFIX);
  const parent = mkdtempSync(join(tmpdir(), `${SESSION_PREFIX}${process.pid}-`));
  const prefix = join(parent, "prefix");
  ioDir = join(parent, "io");
  mkdirSync(ioDir);
  copyTree(template, prefix);
  copyFileSync(dll, join(prefix, "drive_c/windows/system32/bcryptprimitives.dll"));
  prefixDir = prefix;
  return prefix;
}

/** Linux path of the prefix's C: drive. */
export function driveC(): string {
  return join(winePrefix(), "drive_c");
}

/**
 * Ends the prefix's wineserver and every Windows process in it, then deletes the prefix (for
 * afterAll; `bun test` runs no exit handlers, so this is the only clean-up point). The next
 * winePrefix() call starts from a fresh copy.
 */
export function stopWine(): void {
  if (prefixDir === undefined) return;
  removePrefix(join(prefixDir, ".."), prefixDir);
  prefixDir = undefined;
  ioDir = undefined;
}

const SESSION_PREFIX = "opentoe-wine-";
const TEMPLATE_BUILD_PREFIX = "building-";

/**
 * `.cache/wine/prefix-<wine version>`, created the first time (`wineboot -i`, ~7 s, ~700 MB: Wine
 * copies its DLLs into the prefix). Built beside its final name and renamed into place, so a
 * half-made template is never used; templates of other Wine versions are deleted.
 */
function prefixTemplate(): string {
  const template = join(TEMPLATE_ROOT, `prefix-${wineVersionTag()}`);
  if (existsSync(template)) return template;
  mkdirSync(TEMPLATE_ROOT, { recursive: true });
  sweepAbandoned(TEMPLATE_ROOT, TEMPLATE_BUILD_PREFIX);
  const building = mkdtempSync(join(TEMPLATE_ROOT, `${TEMPLATE_BUILD_PREFIX}${process.pid}-`));
  const prefix = join(building, "prefix");
  try {
    // Mono and Gecko are turned off so wineboot never tries to fetch their installers.
    const boot = runInPrefix(prefix, building, ["wineboot", "-i"], { env: { WINEDLLOVERRIDES: "mscoree,mshtml=" }, timeoutMs: 120_000 });
    // The registry reaches system.reg/user.reg when the wineserver exits; end it now rather than
    // wait out its idle timeout.
    killWineserver(prefix);
    removeServerTmpdir(prefix);
    if (boot.exitCode !== 0 || !existsSync(join(prefix, "drive_c/windows/system32/cmd.exe")) || !existsSync(join(prefix, "system.reg"))) {
      throw new Error(`creating a Wine prefix in ${prefix} failed (wineboot exit ${boot.exitCode}): ${(boot.stderr || boot.stdout).trim()}`);
    }
    for (const old of readdirSync(TEMPLATE_ROOT)) {
      if (old.startsWith("prefix-") && join(TEMPLATE_ROOT, old) !== template) rmSync(join(TEMPLATE_ROOT, old), { recursive: true, force: true });
    }
    try {
      renameSync(prefix, template);
    } catch (error) {
      if (!existsSync(template)) throw error; // else another test process finished first; use its copy
    }
    return template;
  } finally {
    removePrefix(building, prefix);
  }
}

/** `wine --version` as a file-name-safe tag, e.g. `wine-8.0-Debian-8.0-repack-4`. */
function wineVersionTag(): string {
  const run = spawnSync("wine", ["--version"], { encoding: "utf8", env: { ...process.env, WINEDEBUG: "-all" } });
  const version = run.stdout.trim();
  if (run.status !== 0 || version === "") throw new Error(`'wine --version' failed: ${(run.error?.message ?? run.stderr).trim()}`);
  return version.replace(/[^A-Za-z0-9.]+/g, "-").replace(/^-|-$/g, "");
}

/** `cp -a` of ~900 files / 700 MB: about 0.5 s here with a warm page cache. */
function copyTree(from: string, to: string): void {
  const cp = spawnSync("cp", ["-a", from, to], { encoding: "utf8" });
  if (cp.status !== 0) throw new Error(`copying the Wine prefix ${from} to ${to} failed: ${(cp.error?.message ?? cp.stderr).trim()}`);
}

/** Ends the prefix's wineserver and its processes, and waits until it is gone (it saves the registry on the way out). */
function killWineserver(prefix: string): void {
  if (!existsSync(prefix)) return;
  const env = { ...process.env, WINEPREFIX: prefix };
  spawnSync("wineserver", ["-k"], { env, stdio: "ignore", timeout: 15_000 });
  spawnSync("wineserver", ["-w"], { env, stdio: "ignore", timeout: 15_000 });
}

/**
 * Debian's wineserver keeps its socket in `$TMPDIR/wine-XXXXXX/`, named in the prefix's
 * `wineserver` file, and leaves it behind; remove it with the prefix (the template's file is
 * removed too, so each copy gets a folder of its own).
 */
function removeServerTmpdir(prefix: string): void {
  const record = join(prefix, "wineserver");
  let name: string;
  try {
    name = readFileSync(record, "utf8").trim();
  } catch {
    return;
  }
  if (/^wine-[A-Za-z0-9]{6}$/.test(name)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  rmSync(record, { force: true });
}

function removePrefix(parent: string, prefix: string): void {
  killWineserver(prefix);
  removeServerTmpdir(prefix);
  rmSync(parent, { recursive: true, force: true });
}

/**
 * Deletes `<dir>/<namePrefix><pid>-*` folders whose process no longer exists: what a test
 * process killed before its afterAll leaves behind.
 */
function sweepAbandoned(dir: string, namePrefix: string): void {
  const pattern = new RegExp(`^${namePrefix}(\\d+)-`);
  for (const name of readdirSync(dir)) {
    const pid = Number(pattern.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid || processExists(pid)) continue;
    const parent = join(dir, name);
    removePrefix(parent, join(parent, "prefix"));
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

// ---------------------------------------------------------------------------------------------
// Running programs

/** Runs the Windows awstoe under Wine. Call `await windowsBinary()` first (e.g. in beforeAll). */
export function runUnderWine(args: readonly string[], opts: WineRunOptions = {}): WineRun {
  if (exePath === undefined) throw new Error("runUnderWine: call `await windowsBinary()` first (e.g. in beforeAll)");
  const prefix = winePrefix();
  return runInPrefix(prefix, ioDir!, [exePath, ...args], opts);
}

/**
 * Runs a Windows program of the prefix (`reg`, `msiexec`, `cmd`, or a Linux/Windows path to an
 * .exe) with its arguments, e.g. `runWine("cmd", ["/c", "echo hi"])`.
 */
export function runWine(program: string, args: readonly string[], opts: WineRunOptions = {}): WineRun {
  const prefix = winePrefix();
  return runInPrefix(prefix, ioDir!, [program, ...args], opts);
}

/** Runs `wine <wineArgs>` in `prefix`, with stdin/stdout/stderr as files in the folder `io`. */
function runInPrefix(prefix: string, io: string, wineArgs: readonly string[], opts: WineRunOptions): WineRun {
  const base = join(io, String(++ioCount));
  const files = { stdin: `${base}.in`, stdout: `${base}.out`, stderr: `${base}.err` };
  writeFileSync(files.stdin, opts.stdin ?? "");
  const run = Bun.spawnSync(["wine", ...wineArgs], {
    cwd: opts.cwd ?? REPO,
    env: wineEnv(prefix, opts.env),
    stdin: Bun.file(files.stdin),
    stdout: Bun.file(files.stdout),
    stderr: Bun.file(files.stderr),
    timeout: opts.timeoutMs ?? 60_000,
    killSignal: "SIGKILL",
  });
  const result: WineRun = {
    exitCode: run.exitCode ?? -1,
    stdout: readText(files.stdout),
    stderr: readText(files.stderr),
    timedOut: run.exitedDueToTimeout === true,
  };
  for (const file of Object.values(files)) rmSync(file, { force: true });
  return result;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** The test's environment plus what Wine needs: this prefix, no debug chatter, no colour, no display. */
function wineEnv(prefix: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  const merged = { ...process.env, DISPLAY: undefined, FORCE_COLOR: undefined, NO_COLOR: "1", WINEDEBUG: "-all", ...extra, WINEPREFIX: prefix };
  for (const [key, value] of Object.entries(merged)) if (value !== undefined) env[key] = value;
  return env;
}

// ---------------------------------------------------------------------------------------------
// Paths

/** `/tmp/a b/x.yaml` → `Z:\tmp\a b\x.yaml` (Wine maps Z: to the Linux root). */
export function toWinePath(linuxPath: string): string {
  if (!isAbsolute(linuxPath)) throw new Error(`toWinePath needs an absolute Linux path, got '${linuxPath}'`);
  return `Z:${linuxPath.split(sep).join("\\")}`;
}

/**
 * A Windows path of the prefix to the Linux path of the same file: `Z:\tmp\x` → `/tmp/x`,
 * `C:\Program Files\A` → `<prefix>/drive_c/Program Files/A`. Letters and names keep their case
 * (Wine looks names up case-insensitively; Linux will not).
 */
export function fromWinePath(windowsPath: string): string {
  const m = /^([A-Za-z]):[\\/]?(.*)$/.exec(windowsPath);
  if (m === null) throw new Error(`fromWinePath needs a drive-letter path, got '${windowsPath}'`);
  const rest = m[2]!.split(/[\\/]+/).filter((part) => part !== "");
  const drive = m[1]!.toUpperCase();
  if (drive === "Z") return posix.join("/", ...rest);
  if (drive === "C") return join(driveC(), ...rest);
  throw new Error(`fromWinePath: drive ${drive}: is not mapped in the test prefix (only C: and Z:)`);
}

// ---------------------------------------------------------------------------------------------
// Registry, through Wine's reg.exe

export type RegistryValue =
  | { type: "REG_SZ" | "REG_EXPAND_SZ"; value: string }
  | { type: "REG_MULTI_SZ"; value: string[] }
  | { type: "REG_DWORD"; value: number }
  | { type: "REG_QWORD"; value: bigint }
  | { type: "REG_BINARY" | "REG_NONE" | `REG_TYPE_${number}`; value: Uint8Array };

export type RegistryType = RegistryValue["type"];

/** The short and long spellings of the registry roots reg.exe accepts. */
const ROOTS: Record<string, string> = {
  HKLM: "HKEY_LOCAL_MACHINE",
  HKCU: "HKEY_CURRENT_USER",
  HKCR: "HKEY_CLASSES_ROOT",
  HKU: "HKEY_USERS",
  HKCC: "HKEY_CURRENT_CONFIG",
};

/** `HKLM\Software\X` → `HKEY_LOCAL_MACHINE\SOFTWARE\X` in upper case, for comparing key names. */
function canonicalKey(key: string): string {
  const [root = "", ...rest] = key.replace(/\//g, "\\").replace(/\\+$/, "").split("\\");
  const upperRoot = root.toUpperCase();
  return [ROOTS[upperRoot] ?? upperRoot, ...rest].join("\\").toUpperCase();
}

/**
 * Every value directly under `key` (not its subkeys), by name (`""` is the default value), or
 * undefined when the key does not exist. Reads `reg export`, which, unlike Wine 8's
 * `reg query` (it prints REG_QWORD as "(null)"), gives the exact data of every type.
 */
export function readRegistryKey(key: string): Map<string, RegistryValue> | undefined {
  winePrefix();
  const file = join(ioDir!, `export-${++ioCount}.reg`);
  const run = runWine("reg", ["export", key, toWinePath(file), "/y"]);
  if (run.exitCode !== 0) {
    if (/unable to find|not find/i.test(`${run.stdout}${run.stderr}`)) return undefined;
    throw new Error(`wine reg export ${key} failed (exit ${run.exitCode}): ${`${run.stderr}${run.stdout}`.trim()}`);
  }
  try {
    return parseRegExport(decodeRegFile(readFileSync(file)), key);
  } finally {
    rmSync(file, { force: true });
  }
}

/** One value of a key, or undefined when the key or the value does not exist. */
export function readRegistryValue(key: string, name: string): RegistryValue | undefined {
  const values = readRegistryKey(key);
  if (values === undefined) return undefined;
  // Value names are case-insensitive on Windows.
  for (const [valueName, value] of values) if (valueName.toLowerCase() === name.toLowerCase()) return value;
  return undefined;
}

/** Writes one value with `reg add … /f` (creating the key). `name` "" is the key's default value. */
export function writeRegistryValue(key: string, name: string, type: "REG_SZ" | "REG_EXPAND_SZ", data: string): void;
export function writeRegistryValue(key: string, name: string, type: "REG_MULTI_SZ", data: readonly string[]): void;
export function writeRegistryValue(key: string, name: string, type: "REG_DWORD", data: number): void;
export function writeRegistryValue(key: string, name: string, type: "REG_QWORD", data: bigint | number): void;
export function writeRegistryValue(key: string, name: string, type: "REG_BINARY", data: Uint8Array): void;
export function writeRegistryValue(key: string, name: string, type: RegistryType, data: string | readonly string[] | number | bigint | Uint8Array): void {
  const text =
    typeof data === "string"
      ? data
      : typeof data === "number" || typeof data === "bigint"
        ? String(data)
        : data instanceof Uint8Array
          ? Buffer.from(data).toString("hex")
          : data.join("\\0"); // reg.exe's separator for REG_MULTI_SZ items
  const nameArgs = name === "" ? ["/ve"] : ["/v", name];
  const run = runWine("reg", ["add", key, ...nameArgs, "/t", type, "/d", text, "/f"]);
  if (run.exitCode !== 0) throw new Error(`wine reg add ${key} /v ${name} failed (exit ${run.exitCode}): ${`${run.stderr}${run.stdout}`.trim()}`);
}

/** Deletes a key and everything under it; a missing key is fine. */
export function deleteRegistryKey(key: string): void {
  runWine("reg", ["delete", key, "/f"]);
}

/** .reg files from `reg export` are UTF-16LE with a byte-order mark. */
function decodeRegFile(bytes: Uint8Array): string {
  const utf16 = bytes[0] === 0xff && bytes[1] === 0xfe;
  return utf16 ? new TextDecoder("utf-16le").decode(bytes.subarray(2)) : new TextDecoder().decode(bytes);
}

/** The values of the `[key]` section of a .reg export. Exported for tests of the parser itself. */
export function parseRegExport(text: string, key: string): Map<string, RegistryValue> {
  const wanted = canonicalKey(key);
  const values = new Map<string, RegistryValue>();
  let inKey = false;
  for (const line of joinContinuations(text)) {
    const section = /^\[(.*)\]$/.exec(line);
    if (section !== null) {
      inKey = canonicalKey(section[1]!) === wanted;
      continue;
    }
    if (!inKey || line === "") continue;
    const entry = /^(@|"(?:[^"\\]|\\.)*")=(.*)$/.exec(line);
    if (entry === null) throw new Error(`unreadable line in reg export of ${key}: ${line}`);
    const name = entry[1] === "@" ? "" : unescapeRegString(entry[1]!.slice(1, -1));
    values.set(name, parseRegData(entry[2]!, key, name));
  }
  return values;
}

/** Lines of the file with `\`-continued hex data joined back into one line each. */
function joinContinuations(text: string): string[] {
  const lines: string[] = [];
  let pending = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = pending === "" ? raw : pending + raw.trimStart();
    if (line.endsWith("\\") && /=hex/.test(line)) {
      pending = line.slice(0, -1);
      continue;
    }
    pending = "";
    lines.push(line);
  }
  if (pending !== "") lines.push(pending);
  return lines;
}

function unescapeRegString(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c === "r" ? "\r" : c));
}

function parseRegData(data: string, key: string, name: string): RegistryValue {
  if (data.startsWith('"') && data.endsWith('"')) return { type: "REG_SZ", value: unescapeRegString(data.slice(1, -1)) };
  const dword = /^dword:([0-9a-fA-F]{8})$/.exec(data);
  if (dword !== null) return { type: "REG_DWORD", value: Number.parseInt(dword[1]!, 16) };
  const hex = /^hex(?:\(([0-9a-fA-F]+)\))?:(.*)$/.exec(data);
  if (hex === null) throw new Error(`unreadable data of ${key}\\${name} in reg export: ${data}`);
  const kind = hex[1] === undefined ? 3 : Number.parseInt(hex[1], 16);
  const bytes = Uint8Array.from(hex[2]!.split(",").filter((b) => b.trim() !== "").map((b) => Number.parseInt(b.trim(), 16)));
  switch (kind) {
    case 0:
      return { type: "REG_NONE", value: bytes };
    case 1:
      return { type: "REG_SZ", value: utf16Strings(bytes)[0] ?? "" };
    case 2:
      return { type: "REG_EXPAND_SZ", value: utf16Strings(bytes)[0] ?? "" };
    case 3:
      return { type: "REG_BINARY", value: bytes };
    case 4:
      return { type: "REG_DWORD", value: new DataView(bytes.buffer).getUint32(0, true) };
    case 7:
      return { type: "REG_MULTI_SZ", value: utf16Strings(bytes) };
    case 0xb:
      return { type: "REG_QWORD", value: new DataView(bytes.buffer).getBigUint64(0, true) };
    default:
      return { type: `REG_TYPE_${kind}`, value: bytes };
  }
}

/** NUL-separated UTF-16LE strings, without the empty ones the terminators leave. */
function utf16Strings(bytes: Uint8Array): string[] {
  return new TextDecoder("utf-16le")
    .decode(bytes)
    .split("\0")
    .filter((s) => s !== "");
}

// ---------------------------------------------------------------------------------------------
// MSI packages

/**
 * Builds an MSI from a WiX source with msitools' wixl (`arch` x64 by default, so its files go
 * to "Program Files" rather than "Program Files (x86)"). Relative `Source=` paths in the .wxs
 * are resolved from the .wxs's folder. Returns `out`.
 */
export function buildMsi(wxs: string, out: string, arch: "x86" | "x64" = "x64"): string {
  const run = spawnSync("wixl", ["--arch", arch, "-o", out, wxs], { cwd: join(wxs, ".."), encoding: "utf8" });
  if (run.status !== 0 || !existsSync(out)) {
    throw new Error(`wixl could not build ${out} from ${wxs}: ${run.error?.message ?? `${run.stderr}${run.stdout}`.trim()}`);
  }
  return out;
}

export interface TestProduct {
  /** Product code, `{GUID}`: fixed so tests can find and uninstall the product by it. */
  productCode: string;
  upgradeCode: string;
  componentGuid: string;
  name: string;
  version: string;
  /** Folder under Program Files (64-bit) that receives hello.txt. */
  folder: string;
  /** Extra elements inside the component (a RegistryValue, say). */
  componentExtra?: string;
  /** Extra elements inside the product after the feature (an InstallExecuteSequence, say). */
  productExtra?: string;
}

/**
 * WiX source of a per-machine x64 product that installs one file, hello.txt (put it beside the
 * .wxs before buildMsi()), into Program Files\<folder>.
 */
export function singleFileProductWxs(p: TestProduct): string {
  const indent = (text: string | undefined, spaces: number) => (text === undefined ? "" : `${text.split("\n").map((l) => `${" ".repeat(spaces)}${l}`).join("\n")}\n`);
  return `<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="${p.productCode}" Name="${p.name}" Language="1033" Version="${p.version}"
           Manufacturer="opentoe tests" UpgradeCode="${p.upgradeCode}">
    <Package InstallerVersion="200" Compressed="yes" InstallScope="perMachine" />
    <Media Id="1" Cabinet="payload.cab" EmbedCab="yes" />
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFiles64Folder">
        <Directory Id="INSTALLDIR" Name="${p.folder}">
          <Component Id="Hello" Guid="${p.componentGuid}" Win64="yes">
            <File Id="HelloTxt" Name="hello.txt" Source="hello.txt" KeyPath="yes" />
${indent(p.componentExtra, 12)}          </Component>
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Main" Level="1">
      <ComponentRef Id="Hello" />
    </Feature>
${indent(p.productExtra, 4)}  </Product>
</Wix>
`;
}
