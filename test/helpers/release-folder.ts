/**
 * @module test/helpers/release-folder: fake release folders for the installer tests — SHA256SUMS
 * and detached signatures written as a release writes them (scripts/_release-layout.ts), signed
 * with throwaway keys (test/helpers/gpg.ts), and served over HTTP on 127.0.0.1.
 */
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatSums, isSummed, listFiles, signaturePath, SUMS } from "../../scripts/_release-layout.ts";
import { gpg, type ThrowawayKey } from "./gpg.ts";

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Rewrites `<dir>/SHA256SUMS` over the files in it, as the release does. */
export function writeSums(dir: string): void {
  const entries = listFiles(dir)
    .filter(isSummed)
    .map((path) => ({ path, sha256: sha256(join(dir, path)) }));
  writeFileSync(join(dir, SUMS), formatSums(entries));
}

/** Writes the detached signature of `<dir>/<path>` beside it, made with `signer`. */
export function signReleaseFile(dir: string, path: string, signer: ThrowawayKey): void {
  const out = join(dir, signaturePath(path));
  rmSync(out, { force: true });
  const made = gpg(signer.home, ["--pinentry-mode", "loopback", "--passphrase", "", "--local-user", signer.fingerprint, "--detach-sign", "-o", out, join(dir, path)]);
  if (made.code !== 0) throw new Error(`signing ${path} failed: ${made.stderr}`);
}

/** Serves files under `root` at their relative paths (404 for anything else), noting each path asked for in `requests`. */
export function serveFolder(root: string, requests: string[]): ReturnType<typeof Bun.serve> {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = decodeURIComponent(new URL(req.url).pathname);
      requests.push(path);
      if (path.split("/").includes("..")) return new Response("bad path\n", { status: 400 });
      const file = Bun.file(join(root, path));
      return (await file.exists()) ? new Response(file) : new Response("not found\n", { status: 404 });
    },
  });
}
