/**
 * WebDownload's memory with the compiled awstoe: a 200 MB body must be streamed to disk, never
 * held, also when the disk is slower than the network. Only awstoe's own peak is measured (VmHWM
 * of the child from /proc/<pid>/status, polled while it runs); the HTTP server lives in this test
 * process, whose memory (server buffers, the suite's garbage) used to be counted too — which made
 * the old in-process measurement fail under load (RSS +284 MB) although awstoe was fine.
 *
 * The slow disk: every write() awstoe makes is delayed by strace's fault injection
 * (`-e inject=write:delay_enter=…`), about 15 MB/s here. Bun makes its system calls directly,
 * so an LD_PRELOAD shim cannot slow them; strace delays only the thread that writes (the file
 * writes run on Bun's thread pool), so the socket side stays as fast as before — the situation in
 * which a body reader that does not wait for the writes would fill memory. Measured (2 cores,
 * bun 1.4.5): peak VmHWM 94–108 MB with the fast disk and 95 MB with writes delayed 20 ms, and the
 * server's lead over the file stayed within the socket buffers (a few MB): back-pressure holds.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http, { type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { awstoeBinary } from "../helpers/binary.ts";

const BIG_SIZE = 200 * 1024 * 1024;
const CHUNK = Buffer.alloc(1 << 16, "0123456789abcdef");
/**
 * awstoe's peak with the body streamed is about 95–110 MB (a trivial run alone is ~55 MB); a body
 * held in memory, even once, would add 200 MB.
 */
const PEAK_LIMIT = 180 * 1024 * 1024;
/** Microseconds each write() of awstoe waits in the slow-disk test. */
const WRITE_DELAY_US = 15_000;

let binary: string;
let dir: string;
let server: Server;
let base: string;
/** Set by the slow-disk test: called when the server has handed the whole body to the socket. */
let onServerDone: (() => void) | undefined;

function sendBig(response: ServerResponse): void {
  response.writeHead(200, { "content-length": String(BIG_SIZE) });
  let sent = 0;
  const more = () => {
    while (sent < BIG_SIZE) {
      sent += CHUNK.length;
      if (!response.write(CHUNK)) return void response.once("drain", more);
    }
    response.end(() => onServerDone?.());
  };
  more();
}

function bigDigest(): string {
  const hash = createHash("sha256");
  for (let sent = 0; sent < BIG_SIZE; sent += CHUNK.length) hash.update(CHUNK);
  return hash.digest("hex");
}

beforeAll(async () => {
  binary = await awstoeBinary();
  dir = mkdtempSync(join(tmpdir(), "opentoe-wd-memory-"));
  server = http.createServer((request, response) => (request.url === "/big.bin" ? sendBig(response) : response.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 600_000);

afterAll(() => {
  server?.closeAllConnections();
  server?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** A document downloading the big body into `folder` with its SHA256 checked by awstoe. */
function documentFor(folder: string): string {
  const doc = join(folder, "wd.yaml");
  writeFileSync(
    doc,
    `name: big\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: wd\n        action: WebDownload\n        inputs:\n          - source: ${base}/big.bin\n            destination: ${join(folder, "big.bin")}\n            algorithm: SHA256\n            checksum: ${bigDigest()}\n`,
  );
  return doc;
}

/** Peak RSS of `pid` in bytes, from VmHWM (which only grows), polled until `done` settles. */
async function peakOf(pid: () => number | undefined, done: Promise<unknown>): Promise<number> {
  let finished = false;
  void done.finally(() => (finished = true));
  let peakKb = 0;
  while (!finished) {
    const id = pid();
    if (id !== undefined) {
      try {
        const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${id}/status`, "utf8"));
        if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
      } catch {
        // exited between the check and the read
      }
    }
    await Bun.sleep(20);
  }
  return peakKb * 1024;
}

/** The awstoe process strace started (strace's only child), once it exists. */
function childOf(parent: number): number | undefined {
  try {
    for (const task of readdirSync(`/proc/${parent}/task`)) {
      const children = readFileSync(`/proc/${parent}/task/${task}/children`, "utf8").trim();
      if (children !== "") return Number(children.split(" ")[0]);
    }
  } catch {
    // not started yet, or gone
  }
  return undefined;
}

function spawn(argv: string[], folder: string) {
  return Bun.spawn(argv, { cwd: folder, env: { ...process.env, NO_COLOR: "1" }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
}

describe("WebDownload memory (compiled awstoe, its own peak RSS)", () => {
  test("a 200 MB body is streamed to disk: right size and digest, awstoe's peak far below the body", async () => {
    const folder = mkdtempSync(join(dir, "fast-"));
    const proc = spawn([binary, "run", "--documents", documentFor(folder), "--log-directory", join(folder, "logs")], folder);
    const peak = await peakOf(() => proc.pid, proc.exited);
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(stderr).toContain("build/wd: success");
    expect(code).toBe(0);
    expect(statSync(join(folder, "big.bin")).size).toBe(BIG_SIZE);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(PEAK_LIMIT);
    process.stderr.write(`[web-download-memory] fast disk: awstoe peak ${(peak / 1048576).toFixed(0)} MB\n`);
  }, 120_000);

  test("with a slow disk the body is read no faster than it is written: bounded lead and memory", async () => {
    const strace = Bun.which("strace");
    if (strace === null) throw new Error("this test needs strace (Debian package strace) to slow awstoe's writes");
    const folder = mkdtempSync(join(dir, "slow-"));
    // When the server has handed over the last byte, how much had reached the temporary file?
    let fileAtServerEnd = -1;
    onServerDone = () => {
      const temporary = readdirSync(folder).find((name) => name.startsWith(".big.bin.opentoe-"));
      fileAtServerEnd = temporary === undefined ? BIG_SIZE : statSync(join(folder, temporary)).size;
    };
    try {
      const proc = spawn(
        [strace, "-f", "-qq", "-o", "/dev/null", "-e", "trace=write", "-e", `inject=write:delay_enter=${WRITE_DELAY_US}`, binary, "run", "--documents", documentFor(folder), "--log-directory", join(folder, "logs")],
        folder,
      );
      const started = performance.now();
      const peak = await peakOf(() => childOf(proc.pid), proc.exited);
      const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      const seconds = (performance.now() - started) / 1000;
      expect(stderr).toContain("build/wd: success");
      expect(code).toBe(0);
      expect(statSync(join(folder, "big.bin")).size).toBe(BIG_SIZE);
      // The disk really was the bottleneck (unthrottled, the whole run takes 1–3 s; with 15 ms per
      // write about 13 s).
      expect(seconds).toBeGreaterThan(5);
      // What the server had sent beyond the file is what sat in socket buffers and awstoe's
      // memory: a reader that ran ahead of the writes would have taken nearly all 200 MB.
      expect(fileAtServerEnd).toBeGreaterThanOrEqual(0);
      const lead = BIG_SIZE - fileAtServerEnd;
      expect(lead).toBeLessThan(48 * 1024 * 1024);
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThan(PEAK_LIMIT);
      process.stderr.write(
        `[web-download-memory] slow disk: ${seconds.toFixed(1)} s, server ahead of the file by ${(lead / 1048576).toFixed(1)} MB at its end, awstoe peak ${(peak / 1048576).toFixed(0)} MB\n`,
      );
    } finally {
      onServerDone = undefined;
    }
  }, 180_000);
});
