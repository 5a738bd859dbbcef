/**
 * Small file trees for the file-system module tests: write one in a line or two, and read one
 * back as a flat description (kind, permission bits, content hash or link text per entry) that
 * two trees can be compared by.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Writes a file (creating its folders) and returns its path. */
export function put(root: string, relative: string, content: string | Uint8Array = relative, mode?: number): string {
  const path = join(root, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, mode === undefined ? {} : { mode });
  return path;
}

/** Creates a symbolic link `relative` → `target` (target text as given). */
export function link(root: string, relative: string, target: string): string {
  const path = join(root, relative);
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path);
  return path;
}

export function sha1(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}

/**
 * Every entry under `root` (not `root` itself), by relative path with `/`:
 * `dir 755`, `file 644 <sha1>` or `link -> <target>`. Links are never followed.
 */
export function describeTree(root: string, withModes = true): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (folder: string, prefix: string) => {
    for (const name of readdirSync(folder).sort()) {
      const path = join(folder, name);
      const relative = prefix + name;
      const stats = lstatSync(path);
      const mode = withModes ? ` ${(stats.mode & 0o7777).toString(8)}` : "";
      if (stats.isSymbolicLink()) out[relative] = `link -> ${readlinkSync(path)}`;
      else if (stats.isDirectory()) {
        out[relative] = `dir${mode}`;
        walk(path, `${relative}/`);
      } else out[relative] = `file${mode} ${sha1(readFileSync(path))}`;
    }
  };
  walk(root, "");
  return out;
}

/** The modules' temporary names: `.<name>.opentoe-<16 hex digits>.tmp` (writeAtomically, _transfer). */
export const TEMPORARY_NAME = /^\..*\.opentoe-[0-9a-f]{16}\.tmp$/;

/** Names in a folder that look like the modules' temporary files. */
export function temporaries(folder: string): string[] {
  return readdirSync(folder).filter((name) => TEMPORARY_NAME.test(name));
}

/** A temporary folder for one test file, a fresh sub-folder per test, everything removed at the end. */
export function scratch(prefix = "opentoe-fs-"): { dir: string; folder(): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let count = 0;
  return {
    dir,
    folder() {
      const path = join(dir, `t${++count}`);
      mkdirSync(path);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Makes a folder immutable (chattr +i) so that even root cannot create or replace entries in it —
 * the one way to provoke a permission failure when tests run as root. Returns an undo, or
 * undefined when the file system or the sandbox does not allow it (the caller skips).
 */
export function immutable(folder: string): (() => void) | undefined {
  try {
    execFileSync("chattr", ["+i", folder], { stdio: "ignore" });
    return () => execFileSync("chattr", ["-i", folder], { stdio: "ignore" });
  } catch {
    return undefined;
  }
}

/** A folder on another file system than os.tmpdir() (for moves across devices), or undefined. */
export function otherDevice(): string | undefined {
  const candidate = "/dev/shm";
  try {
    return statSync(candidate).isDirectory() && statSync(candidate).dev !== statSync(tmpdir()).dev ? candidate : undefined;
  } catch {
    return undefined;
  }
}
