/**
 * @module platform/probe: the real answers to the machine questions of `if`/Assert conditions
 * (docs/component-documents.md §10) — programs on PATH, files, folders and file digests.
 */
import type { DigestAlgorithm, Probe } from "../model/ports.ts";
import { accessSync, closeSync, constants, openSync, readSync, statSync } from "node:fs";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { extname, isAbsolute, join, resolve } from "node:path";

const DEFAULT_PATHEXT = ".COM;.EXE;.BAT;.CMD";
const CHUNK = 64 * 1024;

/**
 * `env` and `platform` are parameters so tests can give their own PATH or act as Windows; relative
 * paths are the run's, from `cwd` (the folder steps run in), not wherever this process happens to be.
 */
export function createProbe(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, cwd: string = process.cwd()): Probe {
  const windows = platform === "win32";
  const at = (path: string) => (path === "" || isAbsolute(path) ? path : resolve(cwd, path));
  return {
    binaryExists: (name) => findProgram(name, env, windows) !== undefined,
    fileExists: (path) => stat(at(path))?.isFile() === true,
    folderExists: (path) => stat(at(path))?.isDirectory() === true,
    fileDigest: (path, algorithm) => digest(at(path), algorithm),
  };
}

/** The full path of the program `name` would start, like a shell's PATH search; undefined if none. */
export function findProgram(name: string, env: NodeJS.ProcessEnv, windows: boolean): string | undefined {
  if (name === "" || name.includes("\0")) return undefined;
  const extensions = windows ? pathExtensions(lookup(env, "PATHEXT", true)) : [""];
  const candidates = (base: string): string[] => {
    if (!windows) return [base];
    // A name that already ends in a PATHEXT extension (tool.exe) is tried as written first.
    const own = extensions.includes(extname(base).toLowerCase()) ? [base] : [];
    return [...own, ...extensions.map((ext) => base + ext)];
  };
  // A name with a directory part is not searched for, it is checked where it points.
  if (name.includes("/") || (windows && name.includes("\\"))) return candidates(name).find((c) => isProgram(c, windows));
  // The list separator follows `windows`; joining uses the host's rules, since the files are real.
  for (const dir of (lookup(env, "PATH", windows) ?? "").split(windows ? ";" : ":")) {
    // Empty and relative entries would find programs in the current folder, which depends on
    // where awstoe was started; skip them like Go's exec.LookPath does since Go 1.19.
    if (dir === "" || !isAbsolute(dir)) continue;
    const found = candidates(join(dir, name)).find((c) => isProgram(c, windows));
    if (found !== undefined) return found;
  }
  return undefined;
}

function pathExtensions(value: string | undefined): string[] {
  const list = (value === undefined || value.trim() === "" ? DEFAULT_PATHEXT : value)
    .split(";")
    .map((ext) => ext.trim().toLowerCase())
    .filter((ext) => ext !== "");
  return list.map((ext) => (ext.startsWith(".") ? ext : `.${ext}`));
}

/** Windows environment names ignore case (Path, PATH); a plain object passed in does not. */
function lookup(env: NodeJS.ProcessEnv, key: string, ignoreCase: boolean): string | undefined {
  if (!ignoreCase || env[key] !== undefined) return env[key];
  const found = Object.keys(env).find((k) => k.toUpperCase() === key);
  return found === undefined ? undefined : env[found];
}

function isProgram(file: string, windows: boolean): boolean {
  if (stat(file)?.isFile() !== true) return false;
  if (windows) return true; // Windows has no execute bit; PATHEXT decides what runs.
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** statSync follows symlinks, so a link to a file counts as a file (§10). */
function stat(path: string) {
  if (path === "" || path.includes("\0")) return undefined;
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Hex digest read in chunks, so a large file is never held in memory; undefined on any error. */
function digest(path: string, algorithm: DigestAlgorithm): string | undefined {
  // Only regular files: opening a FIFO or a device would block or never end.
  if (stat(path)?.isFile() !== true) return undefined;
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const hash = createHash(algorithm);
    const buffer = Buffer.alloc(CHUNK);
    for (;;) {
      const read = readSync(fd, buffer, 0, CHUNK, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
    }
    return hash.digest("hex");
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // Nothing to do: the digest is already known or the read already failed.
      }
    }
  }
}
