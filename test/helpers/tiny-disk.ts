/**
 * @module test/helpers/tiny-disk: a small tmpfs mounted by the test, for what a full disk does.
 *
 * Mounting needs root (CI runs as root). Elsewhere the tests that need it skip, saying so once;
 * with CI set a failed mount is an error instead, so CI can never quietly lose those tests.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TinyDisk {
  path: string;
  mounted: boolean;
  unmount(): void;
}

export function mountTinyDisk(label: string, bytes: number): TinyDisk {
  const path = mkdtempSync(join(tmpdir(), `opentoe-disk-${label}-`));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes},mode=0755`, "tmpfs", path], { stdio: "pipe" });
  } catch (error) {
    const why = `cannot mount a tmpfs (${(error as Error).message.split("\n")[0]}); needs root`;
    if (process.env.CI) throw new Error(`${why}: CI must run the disk-full tests`);
    console.warn(`skipped: disk-full tests of ${label}: ${why}`);
    return { path, mounted: false, unmount: () => rmSync(path, { recursive: true, force: true }) };
  }
  return {
    path,
    mounted: true,
    unmount() {
      try {
        execFileSync("umount", ["-l", path], { stdio: "pipe" });
      } finally {
        rmSync(path, { recursive: true, force: true });
      }
    },
  };
}
