#!/usr/bin/env bun
/**
 * @module scripts/bench-download: S3Download and WebDownload of a 512 MiB object from loopback,
 * against curl fetching the same bytes from the same servers in the same run.
 *
 *   bun scripts/bench-download.ts                  (or: bun run bench:download)
 *   bun scripts/bench-download.ts --in /dev/shm    scratch files in another folder than os.tmpdir()
 *   bun scripts/bench-download.ts --runs 7         repetitions per method (default 5)
 *   bun scripts/bench-download.ts --binary <path>  measure that executable instead of dist/'s
 *
 * Setup, once: a 512 MiB file of random bytes (and a 1 KiB one) in a temporary folder on disk,
 * served by two servers, each a separate process so that neither competes with this script's
 * event loop and their CPU time can be read from /proc:
 *   - HTTP: Bun.serve on 127.0.0.1 answering GET /<name> with the file (sendfile from the page
 *     cache, so the server costs almost nothing and cannot be the bottleneck);
 *   - S3: test/helpers/s3-server.ts (s3rver behind the SigV4-verifying proxy, S3RVER/S3RVER), the
 *     objects put there with the AWS SDK. Its storage folder is inside the scratch folder.
 * curl and awstoe fetch the very same URL / object through the very same server process.
 *
 * Measured, medians of --runs rounds after one warm-up run of each method whose output is checked
 * (size and sha256), each round the four big downloads then the four tiny ones, in the order
 * HTTP curl, WebDownload, S3 curl, S3Download — reversed every other round, so no method always
 * follows the same one:
 *   - curl -o <file>            (S3: --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER)
 *   - compiled `awstoe run` of a one-step WebDownload / S3Download document to a file.
 * Every process runs under /usr/bin/time (wall, CPU, peak RSS); without it, peak RSS is polled from
 * /proc/<pid>/status (VmHWM). Before each run the previous output is removed and `sync` is run
 * (untimed), so no run pays for an earlier run's disk write-back.
 *
 * Two corrections, both measured in this same run and both shown next to the raw figures:
 *   - fsync: awstoe syncs the downloaded file before renaming it into place (a crash never leaves
 *     a torn file under the final name); curl does not. The curl baseline is therefore timed as
 *     curl followed by an fsync of its output (done by this script right after curl exits), so
 *     both sides have put the same bytes on disk. Plain curl, and the ratios against it, are
 *     printed too.
 *   - fixed cost: the same four downloads of the 1 KiB object (alternating in the same loop) give
 *     each method's fixed cost (process start-up, SDK load, credentials, connect, log folder).
 *     Throughput = (512 MiB − 1 KiB) / (median big − median tiny), for curl and awstoe alike.
 *     End-to-end MB/s (nothing subtracted) is printed as well.
 *
 * Targets: awstoe throughput ≥ 0.90 × curl's, and peak RSS of the awstoe process < 150 MB
 * (1 MB = 10^6 bytes everywhere here). Prints PASS/MISS; exits 0 unless it could not measure.
 * The server processes' CPU use is printed: the local S3 (s3rver and the proxy in one process)
 * uses about a whole core at curl's speed, so the S3 figures are bounded by it, and on a 2-core
 * machine a client that needs more CPU slows the server down too. A note says so when it happens.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { hostBinary, median, option, randomFile, runBench, sha256Of } from "./_bench.ts";

const BIG = 512 * 1024 * 1024;
const TINY = 1024;
const BUCKET = "bench";
const REGION = "us-east-1";
const KEY_ID = "S3RVER";
const SECRET = "S3RVER";
const EMPTY_SHA256 = createHash("sha256").digest("hex");
const THROUGHPUT_TARGET = 0.9;
const RSS_TARGET_MB = 150;
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

type Kind = "http" | "s3";
type Tool = "curl" | "awstoe";
type Size = "big" | "tiny";

interface Method {
  kind: Kind;
  tool: Tool;
  label: string;
}

const METHODS: Method[] = [
  { kind: "http", tool: "curl", label: "HTTP  curl" },
  { kind: "http", tool: "awstoe", label: "HTTP  awstoe WebDownload" },
  { kind: "s3", tool: "curl", label: "S3    curl --aws-sigv4" },
  { kind: "s3", tool: "awstoe", label: "S3    awstoe S3Download" },
];

/** One timed process: wall ms (process only), fsync ms after it (curl), CPU s, peak RSS, server CPU s. */
interface Sample {
  ms: number;
  syncMs: number;
  cpuS: number;
  rssKiB: number;
  serverCpuS: number;
}

interface Server {
  kind: Kind;
  /** Base URL: http://127.0.0.1:port (HTTP: GET /<name>; S3: the path-style endpoint). */
  url: string;
  process: Bun.Subprocess<"pipe", "pipe", "inherit">;
}

const mb = (bytes: number) => bytes / 1e6;

// --- the server processes (this same file, run with --serve) ---

/** Child mode: serve `folder` over HTTP, or run the local S3; print the URL; stop when stdin closes. */
async function serve(kind: Kind, folder: string): Promise<void> {
  let stop: () => Promise<void>;
  let url: string;
  if (kind === "http") {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        const name = new URL(request.url).pathname.slice(1);
        if (!/^[\w.-]+$/.test(name) || !existsSync(join(folder, name))) return new Response("not found\n", { status: 404 });
        return new Response(Bun.file(join(folder, name)), { headers: { "content-type": "application/octet-stream" } });
      },
    });
    url = `http://127.0.0.1:${server.port}`;
    stop = async () => void server.stop(true);
  } else {
    const { startLocalS3 } = await import("../test/helpers/s3-server.ts");
    const s3 = await startLocalS3([BUCKET]);
    url = s3.endpoint;
    stop = () => s3.close();
  }
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => void stop().finally(() => process.exit(0)));
}

async function startServer(kind: Kind, folder: string, scratch: string): Promise<Server> {
  const child = Bun.spawn([process.execPath, import.meta.path, "--serve", kind, folder], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
    // The local S3 keeps its objects under os.tmpdir(): inside the scratch folder, removed with it.
    env: { ...process.env, TMPDIR: scratch },
  });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the ${kind} server process exited before it was ready`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const { url } = JSON.parse(text.slice(0, text.indexOf("\n"))) as { url: string };
  return { kind, url, process: child };
}

async function stopServer(server: Server): Promise<void> {
  server.process.stdin.end();
  const exited = await Promise.race([server.process.exited.then(() => true), Bun.sleep(15_000).then(() => false)]);
  if (!exited) server.process.kill("SIGKILL");
}

/** User + system CPU seconds a process has used so far (/proc/<pid>/stat, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

// --- the files ---

async function putObjects(s3: Server, source: string): Promise<void> {
  const { S3Client } = await import("@aws-sdk/client-s3");
  const { Upload } = await import("@aws-sdk/lib-storage");
  const client = new S3Client({ endpoint: s3.url, region: REGION, forcePathStyle: true, credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET } });
  for (const name of ["big.bin", "tiny.bin"]) {
    // Multipart in 64 MiB parts: the proxy (Bun.serve) refuses request bodies over 128 MiB. A
    // Buffer body has a known length, so no aws-chunked encoding (which s3rver would store as is).
    const upload = new Upload({ client, params: { Bucket: BUCKET, Key: name, Body: readFileSync(join(source, name)) }, partSize: 64 * 1024 * 1024, queueSize: 2 });
    await upload.done();
  }
  client.destroy();
}

// --- one download ---

function documentText(method: Method, source: string, destination: string): string {
  const action = method.kind === "http" ? "WebDownload" : "S3Download";
  return `name: Bench${action}
description: one ${action} step (scripts/bench-download.ts)
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Download
        action: ${action}
        inputs:
          - source: ${JSON.stringify(source)}
            destination: ${JSON.stringify(destination)}
`;
}

interface Setup {
  binary: string;
  scratch: string;
  http: Server;
  s3: Server;
  env: Record<string, string>;
}

/** argv of one download of `size` by `method` into `out`. */
function commandFor(setup: Setup, method: Method, size: Size, out: string): string[] {
  const name = `${size}.bin`;
  const url = method.kind === "http" ? `${setup.http.url}/${name}` : `${setup.s3.url}/${BUCKET}/${name}`;
  if (method.tool === "curl") {
    // curl 7.x signs for S3 but does not send x-amz-content-sha256, which S3 requires; given
    // here (the hash of the empty GET body), curl signs it along with the rest.
    const sign = method.kind === "s3" ? ["--aws-sigv4", `aws:amz:${REGION}:s3`, "--user", `${KEY_ID}:${SECRET}`, "--header", `x-amz-content-sha256: ${EMPTY_SHA256}`] : [];
    return ["curl", "--silent", "--show-error", "--fail", ...sign, "--output", out, url];
  }
  const doc = join(setup.scratch, `${method.kind}-${size}.yaml`);
  writeFileSync(doc, documentText(method, method.kind === "http" ? url : `s3://${BUCKET}/${name}`, out));
  return [setup.binary, "run", "--documents", doc, "--log-directory", join(setup.scratch, "logs")];
}

/** Runs argv under /usr/bin/time (or with /proc polling); throws unless it exited 0. */
async function measured(argv: string[], env: Record<string, string>, scratch: string): Promise<Omit<Sample, "syncMs" | "serverCpuS">> {
  const report = join(scratch, "time.txt");
  const command = TIME === undefined ? argv : [TIME, "-f", "%U %S %M", "-o", report, ...argv];
  const started = performance.now();
  const child = Bun.spawn(command, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env });
  let hwm = 0;
  const poll = TIME === undefined ? setInterval(() => (hwm = Math.max(hwm, vmHwmKiB(child.pid))), 10) : undefined;
  const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  const ms = performance.now() - started;
  clearInterval(poll);
  if (code !== 0) {
    const tail = `${stdout}${stderr}`.trim().split("\n").slice(-8).join("\n");
    throw new Error(`${argv.slice(0, 3).join(" ")} … exited ${code}:\n${tail}`);
  }
  if (TIME === undefined) return { ms, cpuS: Number.NaN, rssKiB: hwm };
  const [user, system, rss] = readFileSync(report, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number);
  return { ms, cpuS: user! + system!, rssKiB: rss! };
}

function vmHwmKiB(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Untimed: remove the last output and flush the page cache's dirty pages to disk. */
function clean(out: string): void {
  rmSync(out, { force: true });
  Bun.spawnSync(["sync"]);
}

async function downloadOnce(setup: Setup, method: Method, size: Size): Promise<{ sample: Sample; out: string }> {
  const out = join(setup.scratch, "out", `${method.kind}-${method.tool}.bin`);
  clean(out);
  const server = method.kind === "http" ? setup.http : setup.s3;
  const serverBefore = cpuSeconds(server.process.pid);
  const run = await measured(commandFor(setup, method, size, out), setup.env, setup.scratch);
  const serverCpuS = cpuSeconds(server.process.pid) - serverBefore;
  let syncMs = 0;
  if (method.tool === "curl") {
    const started = performance.now();
    const fd = openSync(out, "r+");
    fsyncSync(fd);
    closeSync(fd);
    syncMs = performance.now() - started;
  }
  return { sample: { ...run, syncMs, serverCpuS }, out };
}

// --- reporting ---

interface Result {
  method: Method;
  big: Sample[];
  tiny: Sample[];
}

const pick = (samples: Sample[], f: (s: Sample) => number) => median(samples.map(f));
/** The timed figure a method is compared on: curl + fsync for curl, the whole process for awstoe. */
const timedMs = (s: Sample) => s.ms + s.syncMs;

function summarise(result: Result) {
  const big = pick(result.big, timedMs);
  const tiny = pick(result.tiny, timedMs);
  return {
    big,
    tiny,
    plainMs: pick(result.big, (s) => s.ms),
    /** Throughput without the fsync after the process (differs from `throughput` for curl only). */
    plainThroughput: mb(BIG - TINY) / ((pick(result.big, (s) => s.ms) - pick(result.tiny, (s) => s.ms)) / 1000),
    endToEnd: mb(BIG) / (big / 1000),
    throughput: mb(BIG - TINY) / ((big - tiny) / 1000),
    cpuS: pick(result.big, (s) => s.cpuS),
    serverCpu: pick(result.big, (s) => s.serverCpuS / (s.ms / 1000)),
    peakRssMb: Math.max(...result.big.map((s) => s.rssKiB)) * 1024 / 1e6,
    tinyRssMb: Math.max(...result.tiny.map((s) => s.rssKiB)) * 1024 / 1e6,
  };
}

function printTable(results: Result[], runs: number): void {
  console.log(`\n512 MiB from 127.0.0.1; medians of ${runs} alternating runs each (after a checked warm-up); 1 MB = 10^6 B`);
  console.log("curl rows are curl + fsync of its file (plain curl in brackets); awstoe fsyncs its file itself.");
  const head = ["method", "big ms", "tiny ms", "end-to-end MB/s", "throughput MB/s", "client CPU s", "server CPU", "peak RSS MB", "(tiny)"];
  const widths = [26, 16, 8, 16, 16, 13, 11, 12, 7];
  const line = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" "));
  line(head);
  for (const result of results) {
    const s = summarise(result);
    const big = result.method.tool === "curl" ? `${s.big.toFixed(0)} (${s.plainMs.toFixed(0)})` : s.big.toFixed(0);
    line([result.method.label, big, s.tiny.toFixed(1), s.endToEnd.toFixed(0), s.throughput.toFixed(0), s.cpuS.toFixed(2), `${(s.serverCpu * 100).toFixed(0)}%`, s.peakRssMb.toFixed(1), s.tinyRssMb.toFixed(1)]);
  }
  console.log("\nsamples (ms):");
  for (const result of results) {
    const list = (samples: Sample[]) => samples.map((s) => timedMs(s).toFixed(0)).join(", ");
    console.log(`  ${result.method.label.padEnd(26)} big [${list(result.big)}]  tiny [${list(result.tiny)}]`);
  }
}

function printVerdicts(results: Result[]): void {
  console.log("");
  for (const kind of ["http", "s3"] as const) {
    const curl = summarise(results.find((r) => r.method.kind === kind && r.method.tool === "curl")!);
    const ours = results.find((r) => r.method.kind === kind && r.method.tool === "awstoe")!;
    const s = summarise(ours);
    const name = kind === "http" ? "WebDownload" : "S3Download";
    const ratio = s.throughput / curl.throughput;
    const plainCurl = mb(BIG) / (curl.plainMs / 1000);
    console.log(
      `${`${name} throughput / curl`.padEnd(36)} ${ratio.toFixed(2).padStart(6)}   (target ≥ ${THROUGHPUT_TARGET.toFixed(2)})  ${ratio >= THROUGHPUT_TARGET ? "PASS" : "MISS"}` +
        `   [end-to-end ${(s.endToEnd / curl.endToEnd).toFixed(2)}; against curl without its fsync: throughput ${(s.throughput / curl.plainThroughput).toFixed(2)}, end-to-end ${(s.endToEnd / plainCurl).toFixed(2)}]`,
    );
    if (curl.serverCpu >= 0.9) {
      console.log(`${"".padEnd(36)}   note: the ${kind === "http" ? "HTTP" : "S3"} server process used ${(curl.serverCpu * 100).toFixed(0)}% of a core during curl's download: these figures are bounded by the server`);
    }
    console.log(`${`${name} peak RSS`.padEnd(36)} ${s.peakRssMb.toFixed(1).padStart(6)} MB (target < ${RSS_TARGET_MB} MB)   ${s.peakRssMb < RSS_TARGET_MB ? "PASS" : "MISS"}`);
  }
}

// --- main ---

async function main(): Promise<number> {
  const runs = Number(option("--runs") ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes a whole number ≥ 1");
  if (Bun.which("curl") === null) throw new Error("curl is not installed; it is the baseline");
  const scratch = mkdtempSync(join(option("--in") ?? tmpdir(), "opentoe-bench-download-"));
  const servers: Server[] = [];
  // Interrupted, the 512 MiB scratch folder still goes (the servers stop when our pipe closes).
  process.once("SIGINT", () => {
    rmSync(scratch, { recursive: true, force: true });
    process.exit(130);
  });
  try {
    const given = option("--binary");
    const binary = given === undefined ? await hostBinary() : resolve(given);
    if (given !== undefined) console.log(`using ${binary} (--binary)`);
    const www = join(scratch, "www");
    mkdirSync(www);
    mkdirSync(join(scratch, "out"));
    let started = performance.now();
    const digest = { big: randomFile(join(www, "big.bin"), BIG), tiny: randomFile(join(www, "tiny.bin"), TINY) };
    console.log(`512 MiB random file written in ${(performance.now() - started).toFixed(0)} ms (${scratch})${TIME ? "" : "; /usr/bin/time missing: RSS polled from /proc"}`);

    const http = await startServer("http", www, scratch);
    servers.push(http);
    const s3 = await startServer("s3", www, scratch);
    servers.push(s3);
    started = performance.now();
    await putObjects(s3, www);
    console.log(`servers: HTTP ${http.url} (pid ${http.process.pid}), S3 ${s3.url} (pid ${s3.process.pid}); objects put in ${(performance.now() - started).toFixed(0)} ms`);

    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: scratch, // no ~/.aws files: the credentials below are the only ones
      NO_COLOR: "1",
      AWS_ENDPOINT_URL_S3: s3.url,
      AWS_ACCESS_KEY_ID: KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_REGION: REGION,
      AWS_EC2_METADATA_DISABLED: "true",
    };
    const setup: Setup = { binary, scratch, http, s3, env };

    // Warm-up: every method once, big and tiny, its output checked.
    for (const method of METHODS) {
      for (const size of ["big", "tiny"] as const) {
        const { out } = await downloadOnce(setup, method, size);
        const bytes = statSync(out).size;
        const want = size === "big" ? BIG : TINY;
        if (bytes !== want) throw new Error(`${method.label} wrote ${bytes} bytes, not ${want}`);
        if ((await sha256Of(out)) !== digest[size]) throw new Error(`${method.label} wrote other bytes than the ${size} object (sha256 differs)`);
      }
    }
    console.log("warm-up: each method's big and tiny output has the right size and sha256");

    const results: Result[] = METHODS.map((method) => ({ method, big: [], tiny: [] }));
    for (let i = 0; i < runs; i++) {
      // Odd rounds reverse the order so that neither tool always runs right after the other.
      const order = i % 2 === 0 ? results : [...results].reverse();
      for (const result of order) result.big.push((await downloadOnce(setup, result.method, "big")).sample);
      for (const result of order) result.tiny.push((await downloadOnce(setup, result.method, "tiny")).sample);
      process.stdout.write(`round ${i + 1}/${runs} done\n`);
    }
    printTable(results, runs);
    printVerdicts(results);
    return 0;
  } finally {
    for (const server of servers) await stopServer(server);
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const at = process.argv.indexOf("--serve");
  if (at !== -1) void serve(process.argv[at + 1] as Kind, process.argv[at + 2]!);
  else runBench("bench-download", main);
}
