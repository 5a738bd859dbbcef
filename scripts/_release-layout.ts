/**
 * @module scripts/_release-layout: the shape of a release, in one place — what scripts/release-tree.ts
 * writes, scripts/publish.ts uploads and scripts/install.sh reads (dist/README.md documents it).
 *
 *   <version>/                       e.g. 0.1.0 (no leading "v"); published again as latest/
 *     SHA256SUMS  SHA256SUMS.sig     `<hex>  <path>` for every file below but the signatures
 *     awstoe.gpg                     the release key, armored public half
 *     awstoe.gpg.fingerprint         its fingerprint: 40 upper-case hex digits and a newline
 *     install.sh  install.sh.sig
 *     <os>/<arch>/awstoe[.exe]       os linux|windows|darwin, arch amd64|arm64|386 (Go's names, as AWSTOE)
 *     <os>/<arch>/awstoe.sig         detached OpenPGP signature of the file beside it
 *
 * Pure apart from reading a folder: no signing, no network.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export type ReleaseOs = "linux" | "windows" | "darwin";
export type ReleaseArch = "amd64" | "arm64" | "386";

export interface ReleasePlatform {
  os: ReleaseOs;
  arch: ReleaseArch;
  /** The file name inside `<os>/<arch>/`. */
  file: "awstoe" | "awstoe.exe";
  /** What it is made from, relative to the repository. */
  source: string;
  /** The Node bundle runs under a `node` on PATH (its first line is `#!/usr/bin/env node`). */
  needsNode: boolean;
  /** Absent from a build without its optional step (windows/386 needs wine32: scripts/build-windows-386.ts). */
  optional: boolean;
  /** Windows executables also carry an Authenticode signature. */
  authenticode: boolean;
}

const platform = (os: ReleaseOs, arch: ReleaseArch, source: string, extra: Partial<ReleasePlatform> = {}): ReleasePlatform => ({
  os,
  arch,
  file: os === "windows" ? "awstoe.exe" : "awstoe",
  source,
  needsNode: false,
  optional: false,
  authenticode: os === "windows",
  ...extra,
});

/** Every platform of a release, in the order they are listed and uploaded. */
export const PLATFORMS: readonly ReleasePlatform[] = [
  platform("linux", "amd64", "dist/awstoe-linux-x64"),
  platform("linux", "arm64", "dist/awstoe-linux-arm64"),
  platform("linux", "386", "dist/awstoe-node.cjs", { needsNode: true }),
  platform("windows", "amd64", "dist/awstoe-windows-x64.exe"),
  platform("windows", "386", "dist/awstoe-windows-386.exe", { optional: true }),
  platform("darwin", "amd64", "dist/awstoe-darwin-x64"),
  platform("darwin", "arm64", "dist/awstoe-darwin-arm64"),
];

export const SUMS = "SHA256SUMS";
export const SUMS_SIGNATURE = "SHA256SUMS.sig";
export const PUBLIC_KEY = "awstoe.gpg";
export const FINGERPRINT = "awstoe.gpg.fingerprint";
export const INSTALLER = "install.sh";
export const SIGNATURE_SUFFIX = ".sig";
/** The folder every release is copied to last. */
export const LATEST = "latest";

/** `<os>/<arch>/awstoe[.exe]` */
export function binaryPath(p: ReleasePlatform): string {
  return `${p.os}/${p.arch}/${p.file}`;
}

/**
 * The detached signature of a file in the tree: `<os>/<arch>/awstoe.sig` beside a binary (the
 * name AWSTOE uses, for the .exe too), `<name>.sig` for anything else.
 */
export function signaturePath(path: string): string {
  const platform = PLATFORMS.find((p) => binaryPath(p) === path);
  return platform !== undefined ? `${platform.os}/${platform.arch}/awstoe${SIGNATURE_SUFFIX}` : `${path}${SIGNATURE_SUFFIX}`;
}

/** Files that carry a detached signature: each binary, the installer, the checksum list. */
export function isSigned(path: string): boolean {
  return path === SUMS || path === INSTALLER || PLATFORMS.some((p) => binaryPath(p) === path);
}

/** A version folder name: 1.2.3 or 1.2.3-rc.1 style, never "latest", never with a slash. */
export function isVersionName(name: string): boolean {
  return /^[0-9]+\.[0-9]+\.[0-9]+(?:[-+][0-9A-Za-z.-]+)?$/.test(name);
}

/** The MIME type a file is served with. */
export function contentType(path: string): string {
  if (path.endsWith(SIGNATURE_SUFFIX)) return "application/pgp-signature";
  if (path === PUBLIC_KEY) return "application/pgp-keys";
  if (path === SUMS || path === FINGERPRINT) return "text/plain; charset=utf-8";
  if (path === INSTALLER) return "text/x-shellscript; charset=utf-8";
  return "application/octet-stream";
}

/**
 * Cache headers: a version folder never changes, so caches may keep it for a year; latest/ changes
 * with every release, and a cache that kept a binary longer than its signature would serve a pair
 * that disagrees, so every cache must revalidate it on each request.
 */
export function cacheControl(folder: "version" | "latest"): string {
  return folder === "version" ? "public, max-age=31536000, immutable" : "no-cache";
}

export interface SumEntry {
  path: string;
  sha256: string;
}

/** `<hex>  <path>` lines (GNU text mode: what coreutils and busybox `sha256sum -c` read), sorted by path. */
export function formatSums(entries: readonly SumEntry[]): string {
  return [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.path}\n`)
    .join("");
}

/** Reads a SHA256SUMS text; throws naming the first line that is not `<64 hex>  <path>` (or `<hex> *<path>`). */
export function parseSums(text: string): SumEntry[] {
  const entries: SumEntry[] = [];
  text.split("\n").forEach((line, index) => {
    if (line === "") return;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.replace(/\r$/, ""));
    if (match === null) throw new Error(`${SUMS} line ${index + 1} is not '<sha256>  <path>': ${JSON.stringify(line.slice(0, 120))}`);
    entries.push({ sha256: match[1]!, path: match[2]! });
  });
  return entries;
}

/** Every file under `dir`, as sorted `/`-separated relative paths. Refuses links and other odd entries. */
export function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else if (entry.isFile()) out.push(rel);
    else throw new Error(`${join(dir, rel)} is neither a file nor a folder; a release holds only plain files`);
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Files SHA256SUMS lists: everything but itself and the signatures. */
export function isSummed(path: string): boolean {
  return path !== SUMS && !path.endsWith(SIGNATURE_SUFFIX);
}

export interface ReleaseCheck {
  /** The version folder's name. */
  version: string;
  /** Every file, relative. */
  files: string[];
  /** Everything wrong with it, one sentence each; empty when it can be published. */
  problems: string[];
}

/**
 * Checks a version folder before it is published: a version name, SHA256SUMS listing exactly the
 * files it should with the right hashes, the key and its fingerprint, and a signature beside
 * every signed file. Signatures are not verified here (that needs gpg: scripts/release-tree.ts
 * verifies them when it writes them; the tests verify them again).
 */
export async function checkReleaseFolder(dir: string, sha256File: (path: string) => Promise<string>): Promise<ReleaseCheck> {
  const version = dir.replace(/\/+$/, "").split("/").pop() ?? "";
  const problems: string[] = [];
  if (!isVersionName(version)) problems.push(`'${version}' is not a version folder name (like 0.1.0)`);
  let files: string[] = [];
  try {
    files = listFiles(dir);
  } catch (error) {
    return { version, files, problems: [...problems, `cannot read ${dir}: ${(error as Error).message}`] };
  }
  for (const required of [SUMS, SUMS_SIGNATURE, PUBLIC_KEY, FINGERPRINT, INSTALLER]) {
    if (!files.includes(required)) problems.push(`${required} is missing`);
  }
  if (files.includes(FINGERPRINT) && !/^[0-9A-F]{40}\n$/.test(readFileSync(join(dir, FINGERPRINT), "utf8"))) {
    problems.push(`${FINGERPRINT} does not hold one 40-digit upper-case hex fingerprint and a newline`);
  }
  const binaries = PLATFORMS.filter((p) => files.includes(binaryPath(p)));
  if (binaries.length === 0) problems.push("no binary: expected <os>/<arch>/awstoe[.exe] files");
  for (const p of PLATFORMS) if (!p.optional && !files.includes(binaryPath(p))) problems.push(`${binaryPath(p)} is missing`);
  for (const file of files) {
    if (isSigned(file) && !files.includes(signaturePath(file))) problems.push(`${file} has no signature (${signaturePath(file)}); sign the release (dist/README.md)`);
    if (file.endsWith(SIGNATURE_SUFFIX) && !files.some((f) => isSigned(f) && signaturePath(f) === file)) problems.push(`${file} signs nothing in the release`);
  }
  if (files.includes(SUMS)) {
    let listed: SumEntry[] = [];
    try {
      listed = parseSums(readFileSync(join(dir, SUMS), "utf8"));
    } catch (error) {
      problems.push((error as Error).message);
    }
    const want = files.filter(isSummed);
    for (const path of want) if (!listed.some((e) => e.path === path)) problems.push(`${SUMS} does not list ${path}`);
    for (const entry of listed) {
      if (!want.includes(entry.path)) problems.push(`${SUMS} lists ${entry.path}, which is not in the release`);
      else if ((await sha256File(join(dir, entry.path))) !== entry.sha256) problems.push(`${entry.path} does not match its ${SUMS} entry`);
    }
  }
  return { version, files, problems };
}
