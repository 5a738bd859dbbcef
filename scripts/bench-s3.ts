#!/usr/bin/env bun
/**
 * @module scripts/bench-s3: S3Download and S3Upload against `aws s3 cp` (the AWS CLI) and against
 * awstoe's own single-stream/serial path, all against the same local S3 whose every connection is
 * capped at a fixed rate, as S3 caps each connection: parallelism shows on one machine.
 *
 *   bun scripts/bench-s3.ts                  (or: bun run bench:s3)
 *   bun scripts/bench-s3.ts --quick          128 MiB and 200 files instead of 1 GiB and 1,000
 *   bun scripts/bench-s3.ts --runs 5         timed runs per method and case (default 3)
 *   bun scripts/bench-s3.ts --rate 16000000  bytes per second per connection (default 16 MB/s)
 *   bun scripts/bench-s3.ts --in /dev/shm    scratch files in another folder than os.tmpdir()
 *   bun scripts/bench-s3.ts --binary <path>  measure that executable instead of dist/'s
 *   bun scripts/bench-s3.ts --only upload    one case: big, prefix or upload
 *   bun scripts/bench-s3.ts --no-serial      leave out the serial path (its 1 GiB run takes ~70 s)
 *
 * The three cases (1 MB = 10^6 bytes everywhere here):
 *   big     S3Download of one 1 GiB object of random bytes to a file
 *   prefix  S3Download of a prefix of 1,000 objects of 32 KiB (s3://bench/small/*) to a folder
 *   upload  S3Upload of a folder of 1,000 files of 32 KiB (recurse) to a new prefix each run
 * each done by three methods:
 *   awstoe          the compiled `awstoe run` of a one-step document, default settings
 *   awstoe serial   the same with OPENTOE_S3_MAX_CONCURRENCY=1: one object at a time, one stream
 *   aws s3 cp       the AWS CLI (Debian's `awscli`, installed with apt-get when /usr/bin/aws is
 *                   missing): `aws s3 cp`, with --recursive for the prefix and the folder, its
 *                   defaults (10 requests in flight, 8 MB parts), path-style addressing
 * all with the same endpoint (AWS_ENDPOINT_URL_S3 / --endpoint-url), the test credentials
 * (S3RVER/S3RVER) and a HOME of their own (no other configuration).
 *
 * The local S3 is test/helpers/s3-server.ts (s3rver behind the SigV4-verifying proxy) in a
 * process of its own, started with bytesPerSecondPerConnection = --rate. Each process measured
 * runs under /usr/bin/time (wall time, CPU, peak RSS). Every method's first run is checked (the
 * file's sha256, the folder's file count and bytes, the uploaded prefix's object count). Rounds
 * alternate the order of the methods, so none always follows the same one. Before each run its
 * output is removed and `sync` is run, untimed.
 *
 * Printed: per case and method the median wall time, throughput (case bytes / median time),
 * median CPU, peak RSS (the most of any run), the ratios against the CLI, and the targets —
 * awstoe at least as fast as `aws s3 cp` on each case (time ratio ≤ 1.00) with a peak RSS no
 * higher than the CLI's — each PASS or MISS. Exits 0 unless it could not measure.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { hostBinary, median, option, randomFile, runBench, sha256Of } from "./_bench.ts";

const BUCKET = "bench";
const REGION = "us-east-1";
const KEY_ID = "S3RVER";
const SECRET = "S3RVER";
const DEFAULT_RATE = 16_000_000;
const SMALL = 32 * 1024;
const TIME = "/usr/bin/time";
const AWS = "/usr/bin/aws";

type Case = "big" | "prefix" | "upload";
type Tool = "awstoe" | "serial" | "cli";
const CASES: Case[] = ["big", "prefix", "upload"];
const TOOLS: { tool: Tool; label: string }[] = [
  { tool: "awstoe", label: "awstoe" },
  { tool: "serial", label: "awstoe serial (concurrency 1)" },
  { tool: "cli", label: "aws s3 cp" },
].filter(({ tool }) => tool !== "serial" || !process.argv.includes("--no-serial")) as { tool: Tool; label: string }[];

interface Sizes {
  big: number;
  files: number;
}

interface Sample {
  ms: number;
  cpuS: number;
  rssKiB: number;
}

const mb = (bytes: number) => bytes / 1e6;

// --- the local S3, in a process of its own (this file with --serve) ---

async function serve(rate: number): Promise<void> {
  const { startLocalS3 } = await import("../test/helpers/s3-server.ts");
  const s3 = await startLocalS3([BUCKET], { bytesPerSecondPerConnection: rate });
  process.stdout.write(`${JSON.stringify({ url: s3.endpoint })}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => void s3.close().finally(() => process.exit(0)));
}

interface Server {
  url: string;
  process: Bun.Subprocess<"pipe", "pipe", "inherit">;
}

async function startServer(rate: number, scratch: string): Promise<Server> {
  const child = Bun.spawn([process.execPath, import.meta.path, "--serve", String(rate)], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env, TMPDIR: scratch }, // its objects live in the scratch folder
  });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the S3 server process exited before it was ready");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { url: (JSON.parse(text.slice(0, text.indexOf("\n"))) as { url: string }).url, process: child };
}

async function stopServer(server: Server): Promise<void> {
  server.process.stdin.end();
  const exited = await Promise.race([server.process.exited.then(() => true), Bun.sleep(15_000).then(() => false)]);
  if (!exited) server.process.kill("SIGKILL");
}

// --- setup: the files and objects ---

/** The SDK client the setup and the checks use (many connections, so the capped rate is no bother). */
async function client(url: string) {
  const { S3Client } = await import("@aws-sdk/client-s3");
  return new S3Client({ endpoint: url, region: REGION, forcePathStyle: true, credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET }, requestHandler: { httpAgent: { maxSockets: 64 } } as never });
}

async function putObjects(url: string, source: string, files: string[]): Promise<void> {
  const { PutObjectCommand } = await import("@aws-sdk/client-s3");
  const { Upload } = await import("@aws-sdk/lib-storage");
  const { createReadStream } = await import("node:fs");
  const s3 = await client(url);
  // 32 parts of up to 32 MiB in flight: the capped connections together.
  await new Upload({ client: s3, params: { Bucket: BUCKET, Key: "big.bin", Body: createReadStream(join(source, "big.bin")) }, partSize: 32 * 1024 * 1024, queueSize: 32 }).done();
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const name = files[next++]!;
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `small/${name}`, Body: readFileSync(join(source, "folder", name)) }));
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  s3.destroy();
}

async function countObjects(url: string, prefix: string): Promise<number> {
  const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
  const s3 = await client(url);
  let count = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
    count += page.KeyCount ?? 0;
    token = page.NextContinuationToken;
  } while (token);
  s3.destroy();
  return count;
}

/** /usr/bin/aws, installed from Debian's `awscli` when missing (the bench may change packages). */
function ensureCli(): void {
  if (existsSync(AWS)) return;
  console.log("installing Debian's awscli (apt-get)…");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => Bun.spawnSync(["apt-get", "install", "-y", "--no-install-recommends", "awscli"], { env, stdout: "inherit", stderr: "inherit" }).exitCode;
  if (install() !== 0) {
    Bun.spawnSync(["apt-get", "update"], { env, stdout: "inherit", stderr: "inherit" });
    if (install() !== 0) throw new Error("apt-get install awscli failed; the AWS CLI is the baseline");
  }
  if (!existsSync(AWS)) throw new Error(`${AWS} is still missing after installing awscli`);
}

// --- one run ---

interface Setup {
  binary: string;
  scratch: string;
  url: string;
  sizes: Sizes;
  env: Record<string, string>;
}

function documentFor(setup: Setup, kase: Case, out: string, runId: string): string {
  const [action, source, destination, recurse] =
    kase === "big"
      ? ["S3Download", `s3://${BUCKET}/big.bin`, out, false]
      : kase === "prefix"
        ? ["S3Download", `s3://${BUCKET}/small/*`, `${out}/`, false]
        : ["S3Upload", join(setup.scratch, "www", "folder"), `s3://${BUCKET}/up-${runId}/`, true];
  const path = join(setup.scratch, `doc-${kase}.yaml`);
  writeFileSync(
    path,
    `name: BenchS3
description: one ${action} step (scripts/bench-s3.ts)
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Transfer
        action: ${action}
        inputs:
          - source: ${JSON.stringify(source)}
            destination: ${JSON.stringify(destination)}${recurse ? "\n            recurse: true" : ""}
`,
  );
  return path;
}

function commandFor(setup: Setup, tool: Tool, kase: Case, out: string, runId: string): { argv: string[]; env: Record<string, string> } {
  if (tool === "cli") {
    const argv =
      kase === "big"
        ? ["s3", "cp", "--only-show-errors", `s3://${BUCKET}/big.bin`, out]
        : kase === "prefix"
          ? ["s3", "cp", "--only-show-errors", "--recursive", `s3://${BUCKET}/small/`, out]
          : ["s3", "cp", "--only-show-errors", "--recursive", join(setup.scratch, "www", "folder"), `s3://${BUCKET}/up-${runId}/`];
    return { argv: [AWS, "--endpoint-url", setup.url, ...argv], env: setup.env };
  }
  const argv = [setup.binary, "run", "--documents", documentFor(setup, kase, out, runId), "--log-directory", join(setup.scratch, "logs")];
  return { argv, env: tool === "serial" ? { ...setup.env, OPENTOE_S3_MAX_CONCURRENCY: "1" } : setup.env };
}

async function measured(argv: string[], env: Record<string, string>, scratch: string): Promise<Sample> {
  const report = join(scratch, "time.txt");
  const started = performance.now();
  const child = Bun.spawn([TIME, "-f", "%U %S %M", "-o", report, ...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env });
  const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  const ms = performance.now() - started;
  if (code !== 0) {
    const tail = `${stdout}${stderr}`.trim().split("\n").slice(-8).join("\n");
    throw new Error(`${argv.slice(0, 3).join(" ")} … exited ${code}:\n${tail}`);
  }
  const [user, system, rss] = readFileSync(report, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number);
  return { ms, cpuS: user! + system!, rssKiB: rss! };
}

let runs = 0;

async function once(setup: Setup, tool: Tool, kase: Case, check: { sha?: string }): Promise<Sample> {
  const out = join(setup.scratch, "out", `${tool}-${kase}`);
  rmSync(out, { recursive: true, force: true });
  if (kase === "prefix") mkdirSync(out, { recursive: true });
  Bun.spawnSync(["sync"]);
  const runId = `${tool}-${++runs}`;
  const { argv, env } = commandFor(setup, tool, kase, out, runId);
  const sample = await measured(argv, env, setup.scratch);
  if (check.sha !== undefined || kase !== "big") await verify(setup, tool, kase, out, runId, check);
  return sample;
}

async function verify(setup: Setup, tool: Tool, kase: Case, out: string, runId: string, check: { sha?: string }): Promise<void> {
  const label = `${tool} ${kase}`;
  if (kase === "big") {
    if (statSync(out).size !== setup.sizes.big) throw new Error(`${label}: wrote ${statSync(out).size} bytes, not ${setup.sizes.big}`);
    if ((await sha256Of(out)) !== check.sha) throw new Error(`${label}: the file's sha256 is not the object's`);
  } else if (kase === "prefix") {
    const names = readdirSync(out);
    const bytes = names.reduce((sum, name) => sum + statSync(join(out, name)).size, 0);
    if (names.length !== setup.sizes.files || bytes !== setup.sizes.files * SMALL) throw new Error(`${label}: ${names.length} files of ${bytes} bytes, not ${setup.sizes.files} of ${setup.sizes.files * SMALL}`);
  } else {
    const count = await countObjects(setup.url, `up-${runId}/`);
    if (count !== setup.sizes.files) throw new Error(`${label}: ${count} objects uploaded, not ${setup.sizes.files}`);
  }
}

// --- report ---

type Results = Record<Case, Record<Tool, Sample[]>>;

function caseBytes(kase: Case, sizes: Sizes): number {
  return kase === "big" ? sizes.big : sizes.files * SMALL;
}

function caseName(kase: Case, sizes: Sizes): string {
  const big = sizes.big >= 1024 ** 3 ? `${sizes.big / 1024 ** 3} GiB` : `${sizes.big / 1024 ** 2} MiB`;
  return kase === "big" ? `S3Download of one ${big} object` : kase === "prefix" ? `S3Download of a ${sizes.files}-object prefix (32 KiB each)` : `S3Upload of a ${sizes.files}-file folder (32 KiB each)`;
}

function report(results: Results, sizes: Sizes, rate: number, runCount: number): void {
  console.log(`\nlocal S3 capped at ${mb(rate)} MB/s per connection; medians of ${runCount} runs; peak RSS = the most of any run; 1 MB = 10^6 B`);
  const widths = [30, 10, 10, 9, 10, 12, 12];
  const line = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" "));
  const verdicts: string[] = [];
  for (const kase of CASES) {
    if (results[kase].cli.length === 0) continue;
    console.log(`\n${caseName(kase, sizes)}`);
    line(["method", "median s", "MB/s", "CPU s", "peak RSS MB", "time / CLI", "RSS / CLI"]);
    const cliMs = median(results[kase].cli.map((s) => s.ms));
    const cliRss = Math.max(...results[kase].cli.map((s) => s.rssKiB));
    for (const { tool, label } of TOOLS) {
      const samples = results[kase][tool];
      const ms = median(samples.map((s) => s.ms));
      const rss = Math.max(...samples.map((s) => s.rssKiB));
      line([label, (ms / 1000).toFixed(2), mb(caseBytes(kase, sizes) / (ms / 1000)).toFixed(1), median(samples.map((s) => s.cpuS)).toFixed(2), ((rss * 1024) / 1e6).toFixed(1), (ms / cliMs).toFixed(2), (rss / cliRss).toFixed(2)]);
    }
    console.log(`  samples s: ${TOOLS.map(({ tool }) => `${tool} [${results[kase][tool].map((s) => (s.ms / 1000).toFixed(2)).join(", ")}]`).join("  ")}`);
    const ours = results[kase].awstoe;
    const timeRatio = median(ours.map((s) => s.ms)) / cliMs;
    const rssRatio = Math.max(...ours.map((s) => s.rssKiB)) / cliRss;
    verdicts.push(`${caseName(kase, sizes)}:`.padEnd(56) + ` time ${timeRatio.toFixed(2)} of the CLI's (target ≤ 1.00) ${timeRatio <= 1 ? "PASS" : "MISS"}; peak RSS ${rssRatio.toFixed(2)} of the CLI's (target ≤ 1.00) ${rssRatio <= 1 ? "PASS" : "MISS"}`);
  }
  console.log("\ntargets: at least as fast as aws s3 cp on each case, with a peak RSS no higher than the CLI's");
  for (const verdict of verdicts) console.log(`  ${verdict}`);
}

// --- main ---

async function main(): Promise<number> {
  const runCount = Number(option("--runs") ?? 3);
  if (!Number.isInteger(runCount) || runCount < 1) throw new Error("--runs takes a whole number ≥ 1");
  const rate = Number(option("--rate") ?? DEFAULT_RATE);
  if (!(rate >= 1)) throw new Error("--rate takes bytes per second ≥ 1");
  const only = option("--only") as Case | undefined;
  if (only !== undefined && !CASES.includes(only)) throw new Error(`--only takes ${CASES.join(", ")}`);
  const sizes: Sizes = process.argv.includes("--quick") ? { big: 128 * 1024 ** 2, files: 200 } : { big: 1024 ** 3, files: 1000 };
  if (!existsSync(TIME)) throw new Error(`${TIME} is missing (Debian's time package): it measures peak RSS`);
  ensureCli();
  const scratch = mkdtempSync(join(option("--in") ?? tmpdir(), "opentoe-bench-s3-"));
  process.once("SIGINT", () => {
    rmSync(scratch, { recursive: true, force: true });
    process.exit(130);
  });
  let server: Server | undefined;
  try {
    const given = option("--binary");
    const binary = given === undefined ? await hostBinary() : resolve(given);
    const cliVersion = Bun.spawnSync([AWS, "--version"], { env: { PATH: "/usr/bin:/bin", HOME: scratch } }).stdout.toString().trim();
    console.log(`awstoe: ${binary}; CLI: ${cliVersion}`);
    const www = join(scratch, "www");
    mkdirSync(join(www, "folder"), { recursive: true });
    mkdirSync(join(scratch, "out"));
    let started = performance.now();
    const sha = randomFile(join(www, "big.bin"), sizes.big);
    const files = Array.from({ length: sizes.files }, (_, i) => `file-${String(i).padStart(4, "0")}.bin`);
    for (const name of files) randomFile(join(www, "folder", name), SMALL);
    console.log(`files written in ${(performance.now() - started).toFixed(0)} ms (${scratch})`);
    server = await startServer(rate, scratch);
    started = performance.now();
    await putObjects(server.url, www, files);
    console.log(`local S3 ${server.url} (pid ${server.process.pid}), ${mb(rate)} MB/s per connection; objects put in ${(performance.now() - started).toFixed(0)} ms`);
    const home = join(scratch, "home");
    mkdirSync(join(home, ".aws"), { recursive: true });
    // Path-style addresses for the CLI too (the bucket is not a host name here).
    writeFileSync(join(home, ".aws", "config"), `[default]\nregion = ${REGION}\ns3 =\n  addressing_style = path\n`);
    const env: Record<string, string> = {
      PATH: "/usr/bin:/bin",
      HOME: home,
      NO_COLOR: "1",
      AWS_ENDPOINT_URL_S3: server.url,
      AWS_ACCESS_KEY_ID: KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_REGION: REGION,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_PAGER: "",
    };
    const setup: Setup = { binary, scratch, url: server.url, sizes, env };
    const results = Object.fromEntries(CASES.map((kase) => [kase, { awstoe: [], serial: [], cli: [] }])) as unknown as Results;
    for (const kase of CASES) {
      if (only !== undefined && kase !== only) continue;
      for (let round = 0; round < runCount; round++) {
        const order = round % 2 === 0 ? TOOLS : [...TOOLS].reverse();
        for (const { tool } of order) results[kase][tool].push(await once(setup, tool, kase, round === 0 ? { sha } : {}));
        console.log(`${kase}: round ${round + 1}/${runCount} done (${TOOLS.map(({ tool }) => `${tool} ${(results[kase][tool].at(-1)!.ms / 1000).toFixed(2)} s`).join(", ")})`);
      }
    }
    report(results, sizes, rate, runCount);
    return 0;
  } finally {
    if (server !== undefined) await stopServer(server);
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const at = process.argv.indexOf("--serve");
  if (at !== -1) void serve(Number(process.argv[at + 1]));
  else runBench("bench-s3", main);
}
