/**
 * S3Download's ranged, parallel transfers (modules/_s3-parts.ts) against the local S3 capped at
 * THROTTLED_RATE per connection: byte-exact parts around part boundaries, a part retried on its
 * own, a replaced object refused, a stop mid-transfer (time limit here; SIGTERM of the compiled
 * binary below), a 1,000-object prefix over many pages, and parallelism read from the server's
 * request log (requests in flight at once), never from timings.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createS3Port } from "../../src/aws/s3.ts";
import { fetchParts, planParts, retryPause } from "../../src/modules/_s3-parts.ts";
import { TransferLimit } from "../../src/model/transfer-limit.ts";
import { temporaryFileBeside, type TemporaryFile } from "../../src/safe-fs/durable.ts";
import { modules } from "../../src/modules/index.ts";
import { awstoeBinary } from "../helpers/binary.ts";
import { mountTinyDisk } from "../helpers/tiny-disk.ts";
import { isolatedAwsEnv } from "../helpers/aws-env.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";
import { ACCESS_KEY_ID, peakConcurrency, s3Error, SECRET_ACCESS_KEY, startLocalS3, testClient, THROTTLED_RATE, useLocalS3, type LocalS3, type RecordedRequest } from "../helpers/s3-server.ts";

const PART = 64 * 1024;
const CONCURRENCY = 4;
const OBJECTS = 1000;

let s3: LocalS3;
let dir: string;
let restoreEnv: () => void;
let client: Awaited<ReturnType<typeof testClient>>;
/** What the server does with each request of the current test (undefined: pass it on). */
let intercept: ((request: RecordedRequest) => Response | undefined | Promise<Response | undefined>) | undefined;

/** Seeded bytes (xorshift32), so a failure can be reproduced. */
function seeded(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

beforeAll(async () => {
  s3 = await startLocalS3(["bucket"], { bytesPerSecondPerConnection: THROTTLED_RATE, pageSize: 100, intercept: (request) => intercept?.(request) });
  dir = mkdtempSync(join(tmpdir(), "opentoe-s3par-"));
  restoreEnv = useLocalS3(s3);
  process.env.OPENTOE_S3_PART_SIZE = String(PART);
  process.env.OPENTOE_S3_MAX_CONCURRENCY = String(CONCURRENCY);
  client = await testClient(s3);
});
afterAll(async () => {
  restoreEnv();
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  intercept = undefined;
});

const run = (items: WrittenInput<typeof modules.S3Download>, signal?: AbortSignal) => runModule(modules.S3Download, items, moduleContext({ cwd: dir, s3: createS3Port(), ...(signal ? { signal } : {}) }));
const put = (key: string, body: Uint8Array) => client.send(new PutObjectCommand({ Bucket: "bucket", Key: key, Body: body }));
const since = (from: number) => s3.requests.slice(from);
/** Files left in a folder that are not `expected` (a temporary file would be one). */
const strays = (folder: string, expected: string[] = []) => readdirSync(folder).filter((name) => !expected.includes(name));
const isPart = (r: RecordedRequest) => r.method === "GET" && r.headers.range !== undefined;

describe("planning", () => {
  test("parts cover the object exactly, the last one shorter", () => {
    expect(planParts(0, 10)).toEqual([]);
    expect(planParts(1, 10)).toEqual([{ index: 0, start: 0, end: 0 }]);
    expect(planParts(10, 10)).toEqual([{ index: 0, start: 0, end: 9 }]);
    expect(planParts(21, 10)).toEqual([
      { index: 0, start: 0, end: 9 },
      { index: 1, start: 10, end: 19 },
      { index: 2, start: 20, end: 20 },
    ]);
    for (const size of [1, 999, 1000, 1001, 123_457]) {
      const parts = planParts(size, 1000);
      expect(parts.reduce((sum, p) => sum + (p.end - p.start + 1), 0)).toBe(size);
      parts.forEach((p, i) => expect(p.start).toBe(i * 1000));
    }
    expect(() => planParts(10, 0)).toThrow();
  });
  test("retry pauses grow: 200, 400, 800 ms ±25 %", () => {
    expect(retryPause(1, () => 0.5)).toBe(200);
    expect(retryPause(3, () => 0.5)).toBe(800);
    expect(retryPause(2, () => 0)).toBe(300);
    expect(retryPause(2, () => 1)).toBe(500);
  });
});

describe("memory with a slow disk", () => {
  test("parts are streamed to the file: bytes read but not yet written, and the budget, stay within concurrency × part size", async () => {
    const partSize = 256 * 1024;
    const chunk = 16 * 1024;
    const size = 20 * partSize + 5;
    const limit = new TransferLimit(3, 3 * partSize);
    let produced = 0;
    let written = 0;
    let mostBuffered = 0;
    let inFlight = 0;
    let mostInFlight = 0;
    const s3 = {
      async getObjectRange(_bucket: string, _key: string, range: { start: number; end: number; ifMatch: string }) {
        expect(range.ifMatch).toBe('"etag"');
        return (async function* () {
          mostInFlight = Math.max(mostInFlight, ++inFlight);
          try {
            for (let at = range.start; at <= range.end; at += chunk) {
              const n = Math.min(chunk, range.end + 1 - at);
              produced += n;
              mostBuffered = Math.max(mostBuffered, produced - written);
              yield new Uint8Array(n);
            }
          } finally {
            inFlight--;
          }
        })();
      },
    };
    // A disk that takes 1 ms for every write: the network side waits for it, never piles up.
    const file: TemporaryFile = {
      path: "/nonexistent",
      write: async () => undefined,
      writeAt: async (bytes) => {
        await Bun.sleep(1);
        written += bytes.length;
      },
      appendFrom: async () => 0,
      size: async () => written,
      commit: async () => undefined,
      discard: async () => undefined,
    };
    const checked = await fetchParts({ s3, bucket: "b", key: "k", info: { size, etag: '"etag"' }, partSize, limit, options: { signal: new AbortController().signal }, file });
    expect(checked).toBe("size");
    expect(written).toBe(size);
    expect(mostInFlight).toBe(3);
    // Each request gathers at most one write batch (here the whole 256 KiB part) before writing.
    expect(mostBuffered).toBeLessThanOrEqual(3 * partSize);
    expect(limit.peakRequests).toBe(3);
    expect(limit.peakBytes).toBeLessThanOrEqual(3 * partSize);
    expect(limit.bytes).toBe(0);
  });
});

describe("disk with a slow first part", () => {
  test("parts written natively run at most 2 × the request limit ahead of the next one to append, in a private folder beside the temporary file that goes afterwards", async () => {
    const folder = mkdtempSync(join(dir, "ahead-"));
    const partSize = 1000;
    const size = 20 * partSize - 1;
    const body = seeded(size, 3);
    const limit = new TransferLimit(2, Number.POSITIVE_INFINITY);
    const started: number[] = [];
    let startedBeforeFirst: number[] = [];
    const file = await temporaryFileBeside(join(folder, "out"));
    // A stand-in for the port's native writer (the runtime's own copy cannot be slowed down here).
    const s3 = {
      getObjectRange: () => Promise.reject(new Error("the streamed path was taken")),
      writesRangesNatively: async () => true,
      async getObjectRangeToFile(_bucket: string, _key: string, range: { start: number; end: number; ifMatch: string }, path: string) {
        const index = range.start / partSize;
        started.push(index);
        expect(dirname(dirname(path))).toBe(folder);
        expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
        if (index === 0) {
          await Bun.sleep(150);
          startedBeforeFirst = [...started];
        }
        writeFileSync(path, body.subarray(range.start, range.end + 1), { flag: "wx" });
        return range.end - range.start + 1;
      },
    };
    const checked = await fetchParts({ s3, bucket: "b", key: "k", info: { size, etag: '"etag"', md5: createHash("md5").update(body).digest("hex") }, partSize, limit, options: { signal: new AbortController().signal }, file });
    expect(checked).toBe("size, MD5 (its ETag)");
    // Part 0 holds one of the two requests; the other goes through parts 1–3, then waits.
    expect(startedBeforeFirst.sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    expect(started.length).toBe(20);
    await file.commit(join(folder, "out"), false);
    expect(Buffer.compare(readFileSync(join(folder, "out")), Buffer.from(body))).toBe(0);
    expect(readdirSync(folder)).toEqual(["out"]);
  });

  test("a part that cannot be appended (the disk) stops the download; the part files go", async () => {
    const folder = mkdtempSync(join(dir, "append-"));
    const file = await temporaryFileBeside(join(folder, "out"));
    const failing: TemporaryFile = { ...file, appendFrom: async () => Promise.reject(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" })) };
    const s3 = {
      getObjectRange: () => Promise.reject(new Error("the streamed path was taken")),
      writesRangesNatively: async () => true,
      async getObjectRangeToFile(_bucket: string, _key: string, range: { start: number; end: number; ifMatch: string }, path: string) {
        writeFileSync(path, new Uint8Array(range.end - range.start + 1), { flag: "wx" });
        return range.end - range.start + 1;
      },
    };
    const download = fetchParts({ s3, bucket: "b", key: "k", info: { size: 5000, etag: '"etag"' }, partSize: 1000, limit: new TransferLimit(2, 10_000), options: { signal: new AbortController().signal }, file: failing });
    await expect(download).rejects.toThrow(`cannot put the downloaded parts together in '${file.path}': no space left on the device`);
    await file.discard();
    expect(readdirSync(folder)).toEqual([]);
  });
});

describe("one object", () => {
  for (const size of [0, 1, PART - 1, PART, PART + 1, 5 * PART + 17]) {
    test(`${size} bytes arrive byte-exact, ${size > PART ? "as ranged parts with If-Match" : "in one GET"}`, async () => {
      const body = seeded(size, size + 7);
      await put(`sized/${size}`, body);
      const from = s3.requests.length;
      const folder = join(dir, `sized-${size}`);
      mkdirSync(folder);
      await run([{ source: `s3://bucket/sized/${size}`, destination: `sized-${size}/out` }]);
      expect(Buffer.compare(readFileSync(join(folder, "out")), Buffer.from(body))).toBe(0);
      expect(strays(folder, ["out"])).toEqual([]);
      const gets = since(from).filter((r) => r.method === "GET");
      if (size > PART) {
        expect(gets.length).toBe(Math.ceil(size / PART));
        expect(gets.every((r) => r.status === 206 && r.headers["if-match"] !== undefined)).toBe(true);
        expect(gets.map((r) => r.headers.range).sort()).toEqual(planParts(size, PART).map((p) => `bytes=${p.start}-${p.end}`).sort());
      } else {
        expect(gets.length).toBe(1);
        expect(gets[0]!.headers.range).toBeUndefined();
      }
    });
  }

  test("parts run in parallel: as many in flight as the concurrency, never more", async () => {
    const body = seeded(24 * PART, 99);
    await put("big/parallel", body);
    const from = s3.requests.length;
    await run([{ source: "s3://bucket/big/parallel", destination: "parallel.bin" }]);
    expect(Buffer.compare(readFileSync(join(dir, "parallel.bin")), Buffer.from(body))).toBe(0);
    // At 16 MB/s a 64 KiB part takes ≈ 4 ms, long enough for the others to start meanwhile.
    expect(peakConcurrency(since(from), isPart)).toBe(CONCURRENCY);
  });

  test("under Bun each part is written by the runtime into a file of its own, then appended in order; the streamed path (Node's, the SDK client's) gives the same bytes", async () => {
    const body = seeded(6 * PART + 3, 81);
    await put("big/paths", body);
    const port = createS3Port();
    expect(await port.writesRangesNatively!("bucket")).toBe(true);
    let toFile = 0;
    const counted = { ...port, getObjectRangeToFile: (...args: Parameters<NonNullable<typeof port.getObjectRangeToFile>>) => (toFile++, port.getObjectRangeToFile!(...args)) };
    await runModule(modules.S3Download, [{ source: "s3://bucket/big/paths", destination: "native.bin" }], moduleContext({ cwd: dir, s3: counted }));
    expect(toFile).toBe(7);
    // The same port without its native methods: every part streamed through JavaScript.
    const { writesRangesNatively: _native, getObjectRangeToFile: _toFile, ...streamed } = createS3Port();
    let ranged = 0;
    const countedStreamed = { ...streamed, getObjectRange: (...args: Parameters<NonNullable<typeof streamed.getObjectRange>>) => (ranged++, streamed.getObjectRange!(...args)) };
    await runModule(modules.S3Download, [{ source: "s3://bucket/big/paths", destination: "streamed.bin" }], moduleContext({ cwd: dir, s3: countedStreamed }));
    expect(ranged).toBe(7);
    for (const name of ["native.bin", "streamed.bin"]) expect(Buffer.compare(readFileSync(join(dir, name)), Buffer.from(body))).toBe(0);
  });

  test("a part whose answer stalls past the idle limit is aborted and fetched again; the stalled request does not linger", async () => {
    const body = seeded(4 * PART, 91);
    await put("big/stalled", body);
    const stalled = `bytes=${PART}-${2 * PART - 1}`;
    let stalls = 0;
    let cancelled = false;
    intercept = (r) => {
      if (r.key !== "big/stalled" || r.headers.range !== stalled || stalls >= 1) return undefined;
      stalls++;
      const stream = new ReadableStream<Uint8Array>({
        start: (controller) => controller.enqueue(body.subarray(PART, PART + 1000)),
        pull: () => new Promise<void>(() => undefined), // nothing more, ever
        cancel: () => void (cancelled = true),
      });
      return new Response(stream, { status: 206, headers: { "content-length": String(PART), "content-range": `bytes ${PART}-${2 * PART - 1}/${body.length}` } });
    };
    process.env.AWSTOE_AWS_IDLE_TIMEOUT_MS = "300";
    try {
      await run([{ source: "s3://bucket/big/stalled", destination: "stalled.bin" }]);
    } finally {
      delete process.env.AWSTOE_AWS_IDLE_TIMEOUT_MS;
    }
    expect(stalls).toBe(1);
    expect(Buffer.compare(readFileSync(join(dir, "stalled.bin")), Buffer.from(body))).toBe(0);
    await Bun.sleep(50);
    expect(cancelled).toBe(true);
  });

  test("OPENTOE_S3_MAX_CONCURRENCY=1 keeps the single stream: one GET, no ranges", async () => {
    const body = seeded(3 * PART, 5);
    await put("big/single", body);
    const from = s3.requests.length;
    process.env.OPENTOE_S3_MAX_CONCURRENCY = "1";
    try {
      await run([{ source: "s3://bucket/big/single", destination: "single.bin" }]);
    } finally {
      process.env.OPENTOE_S3_MAX_CONCURRENCY = String(CONCURRENCY);
    }
    expect(Buffer.compare(readFileSync(join(dir, "single.bin")), Buffer.from(body))).toBe(0);
    expect(since(from).map((r) => `${r.method} ${r.headers.range ?? "-"}`)).toEqual(["GET -"]);
  });

  test("a part that fails twice (a 500, then an answer cut short) is fetched again on its own", async () => {
    const body = seeded(6 * PART, 11);
    await put("big/flaky", body);
    const flaky = `bytes=${2 * PART}-${3 * PART - 1}`;
    let failures = 0;
    intercept = (r) => {
      if (r.key !== "big/flaky" || r.headers.range !== flaky || failures >= 2) return undefined;
      failures++;
      if (failures === 1) return s3Error(500, "InternalError", "We encountered an internal error. Please try again.");
      // 206 promising the whole part, then the connection ends after half of it.
      const half = body.subarray(2 * PART, 2 * PART + PART / 2);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(half);
        },
        pull(controller) {
          controller.error(new Error("connection reset"));
        },
      });
      return new Response(stream, { status: 206, headers: { "content-length": String(PART), "content-range": `bytes ${2 * PART}-${3 * PART - 1}/${body.length}`, etag: '"whatever"' } });
    };
    const from = s3.requests.length;
    await run([{ source: "s3://bucket/big/flaky", destination: "flaky.bin" }]);
    expect(failures).toBe(2);
    expect(Buffer.compare(readFileSync(join(dir, "flaky.bin")), Buffer.from(body))).toBe(0);
    const ranges = since(from).filter(isPart).map((r) => r.headers.range);
    expect(ranges.filter((range) => range === flaky).length).toBe(3);
    expect(ranges.length).toBe(6 + 2); // every other part once
  });

  test("an object replaced mid-download is refused: nothing at the destination, no temporary file", async () => {
    const folder = join(dir, "replaced");
    mkdirSync(folder);
    await put("big/replaced", seeded(8 * PART, 21));
    let replaced = false;
    let replacing: Promise<unknown> | undefined;
    intercept = async (r) => {
      if (r.key !== "big/replaced" || r.method !== "GET") return undefined;
      if (r.headers.range === `bytes=${5 * PART}-${6 * PART - 1}` && !replaced) {
        replaced = true;
        replacing = put("big/replaced", seeded(8 * PART, 22));
      }
      // s3rver rewrites a file in place (S3 swaps objects whole): reads wait for the new one.
      await replacing;
      return undefined;
    };
    await expect(run([{ source: "s3://bucket/big/replaced", destination: "replaced/out" }])).rejects.toThrow(
      "cannot download s3://bucket/big/replaced: the object changed during the download (its ETag is not the one it had when the download started); nothing was written",
    );
    expect(replaced).toBe(true);
    expect(strays(folder)).toEqual([]);
  });

  test("bytes that do not match the object's MD5 (its ETag) are refused: a part answered with other bytes of the right length", async () => {
    const folder = join(dir, "corrupt");
    mkdirSync(folder);
    const body = seeded(4 * PART, 61);
    await put("big/corrupt", body);
    intercept = (r) => {
      if (r.key !== "big/corrupt" || r.headers.range !== `bytes=${PART}-${2 * PART - 1}`) return undefined;
      return new Response(new Uint8Array(PART), { status: 206, headers: { "content-range": `bytes ${PART}-${2 * PART - 1}/${body.length}`, etag: r.headers["if-match"]! } });
    };
    await expect(run([{ source: "s3://bucket/big/corrupt", destination: "corrupt/out" }])).rejects.toThrow(
      "cannot download s3://bucket/big/corrupt: the bytes that arrived do not match the object's MD5 (its ETag); nothing was written",
    );
    expect(strays(folder)).toEqual([]);
  });

  test("a store that ignores Range (200 with everything) fails with a hint, nothing written; one without ETags gets one GET", async () => {
    const folder = join(dir, "norange");
    mkdirSync(folder);
    const body = seeded(3 * PART, 71);
    await put("big/norange", body);
    intercept = (r) => (r.key === "big/norange" && r.headers.range !== undefined ? new Response(body, { status: 200 }) : undefined);
    await expect(run([{ source: "s3://bucket/big/norange", destination: "norange/out" }])).rejects.toThrow(/HTTP 200 and no range \(a store without ranged reads: set OPENTOE_S3_MAX_CONCURRENCY=1 for one stream per object\)$/);
    expect(strays(folder)).toEqual([]);
    intercept = (r) => (r.key === "big/norange" && r.method === "HEAD" ? new Response(null, { status: 200, headers: { "content-length": String(body.length) } }) : undefined);
    const from = s3.requests.length;
    await run([{ source: "s3://bucket/big/norange", destination: "norange/out" }]);
    expect(Buffer.compare(readFileSync(join(folder, "out")), Buffer.from(body))).toBe(0);
    expect(since(from).map((r) => `${r.method} ${r.headers.range ?? "-"}`)).toEqual(["HEAD -", "GET -"]);
  });

  test("a stop mid-transfer (the step's time limit) fails the step and leaves nothing", async () => {
    const folder = join(dir, "stopped");
    mkdirSync(folder);
    await put("big/stopped", seeded(10 * PART, 31));
    const stop = new AbortController();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    intercept = async (r) => {
      if (r.key === "big/stopped" && r.headers.range === `bytes=${3 * PART}-${4 * PART - 1}`) {
        stop.abort(new Error("time limit"));
        await held;
      }
      return undefined;
    };
    try {
      await expect(run([{ source: "s3://bucket/big/stopped", destination: "stopped/out" }], stop.signal)).rejects.toThrow(/cannot download s3:\/\/bucket\/big\/stopped: .*stopped/);
    } finally {
      release();
    }
    expect(strays(folder)).toEqual([]);
  });
});

describe("a full disk (tmpfs mounted by the test)", () => {
  const disk = mountTinyDisk("s3par", 256 * 1024);
  afterAll(() => disk.unmount());

  test.skipIf(!disk.mounted)("parts that do not fit fail the step in words, and nothing is left on the disk", async () => {
    await put("big/too-big", seeded(12 * PART, 41));
    const error = await runModule(modules.S3Download, [{ source: "s3://bucket/big/too-big", destination: "out.bin" }], moduleContext({ cwd: disk.path, s3: createS3Port() })).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    // Where the disk fills up decides which: a part being written, or parts being put together.
    expect([`cannot download s3://bucket/big/too-big: cannot write into '${disk.path}': no space left on the device`, "cannot put the downloaded parts together in <file>: no space left on the device"]).toContain((error as Error).message.replace(/ in '[^']*'/, " in <file>"));
    expect(readdirSync(disk.path)).toEqual([]);
  });
});

describe("a prefix", () => {
  test(`${OBJECTS} objects over ${OBJECTS / 100} pages, several at a time, listed in key order`, async () => {
    const bodies = new Map<string, Uint8Array>();
    const keys = Array.from({ length: OBJECTS }, (_, i) => `thousand/${String((i * 7919) % OBJECTS).padStart(4, "0")}.bin`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((key, j) => {
          const body = seeded(100 + ((i + j) % 300), i + j + 1);
          bodies.set(key, body);
          return put(key, body);
        }),
      );
    }
    const logged: string[] = [];
    const from = s3.requests.length;
    const lists = s3.listRequests;
    await runModule(modules.S3Download, [{ source: "s3://bucket/thousand/*", destination: "thousand" }], {
      ...moduleContext({ cwd: dir, s3: createS3Port() }),
      log: { debug: () => undefined, info: (m: string) => logged.push(m), warn: () => undefined },
    });
    expect(s3.listRequests - lists).toBe(OBJECTS / 100);
    for (const [key, body] of bodies) expect(Buffer.compare(readFileSync(join(dir, "thousand", key.slice("thousand/".length))), Buffer.from(body))).toBe(0);
    expect(readdirSync(join(dir, "thousand")).length).toBe(OBJECTS);
    const gets = since(from).filter((r) => r.method === "GET" && r.key !== "");
    expect(gets.length).toBe(OBJECTS); // small objects: one GET each, no HEAD
    expect(peakConcurrency(gets)).toBeGreaterThan(1);
    expect(peakConcurrency(gets)).toBeLessThanOrEqual(CONCURRENCY);
    const lines = logged.filter((m) => m.startsWith("downloaded s3://"));
    expect(lines).toEqual([...keys].sort().map((key) => `downloaded s3://bucket/${key} to '${join("thousand", key.slice("thousand/".length))}'`));
    expect(logged.at(-1)).toBe(`downloaded ${OBJECTS} object(s) from s3://bucket/thousand/`);
  }, 120_000);

  test("big and small objects together share the limit; a failure stops the rest and says how many were done", async () => {
    const keys = ["mixed/a", "mixed/b", "mixed/c-big", "mixed/d", "mixed/e-fails", "mixed/f-big", "mixed/g", "mixed/h"];
    for (const [i, key] of keys.entries()) await put(key, seeded(key.endsWith("big") ? 6 * PART + i : 1000 + i, 40 + i));
    intercept = (r) => (r.key === "mixed/e-fails" && r.method === "GET" ? s3Error(403, "AccessDenied", "Access Denied") : undefined);
    const from = s3.requests.length;
    const error = await run([{ source: "s3://bucket/mixed/*", destination: "mixed" }]).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /^cannot download s3:\/\/bucket\/mixed\/e-fails: access denied \(check the credentials' permissions and expectedBucketOwner\) \(\d of 8 objects under the prefix were downloaded; the others were stopped or not started\)$/,
    );
    // Whatever is there is complete: no temporary file anywhere.
    for (const name of readdirSync(join(dir, "mixed"))) expect(name.startsWith(".")).toBe(false);
    expect(peakConcurrency(since(from), (r) => r.method === "GET" || r.method === "HEAD")).toBeLessThanOrEqual(CONCURRENCY);
  });
});

describe("a prefix stopped", () => {
  test("by the time limit while objects are under way: one sentence with the count, no temporary file", async () => {
    for (let i = 0; i < 12; i++) await put(`stopping/${String(i).padStart(2, "0")}`, seeded(i % 3 === 0 ? 3 * PART : 2000, 80 + i));
    const stop = new AbortController();
    let gets = 0;
    intercept = (r) => {
      if (r.key.startsWith("stopping/") && r.method === "GET" && ++gets === 6) stop.abort(new Error("time limit"));
      return undefined;
    };
    const error = await run([{ source: "s3://bucket/stopping/*", destination: "stopping" }], stop.signal).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/^cannot download s3:\/\/bucket\/stopping\/.*: stopped before it finished.* \(\d+ of 12 objects under the prefix were downloaded; the others were stopped or not started\)$/);
    for (const name of readdirSync(join(dir, "stopping"))) expect(name.startsWith(".")).toBe(false);
  });
});

describe("SIGTERM of the compiled binary", () => {
  let binary: string;
  beforeAll(async () => {
    binary = await awstoeBinary();
  }, 300_000);

  test("ends the download at once: the step fails, no file, no temporary file", async () => {
    const work = mkdtempSync(join(tmpdir(), "opentoe-s3term-"));
    try {
      await put("big/term", seeded(16 * PART, 51));
      let held = 0;
      let release: () => void = () => undefined;
      const hold = new Promise<void>((resolve) => (release = resolve));
      intercept = async (r) => {
        if (r.key === "big/term" && r.headers.range === `bytes=${PART}-${2 * PART - 1}`) {
          held++;
          await hold;
        }
        return undefined;
      };
      mkdirSync(join(work, "out"));
      const doc = ["name: term", "schemaVersion: 1.0", "phases:", "  - name: build", "    steps:", "      - name: Fetch", "        action: S3Download", "        inputs:", "          - source: s3://bucket/big/term", `            destination: ${join(work, "out", "term.bin")}`, ""].join("\n");
      writeFileSync(join(work, "doc.yaml"), doc);
      const env = isolatedAwsEnv(work, { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_REGION: "us-east-1", OPENTOE_S3_PART_SIZE: String(PART), OPENTOE_S3_MAX_CONCURRENCY: String(CONCURRENCY) });
      const proc = Bun.spawn([binary, "run", "--log-directory", join(work, "logs"), "-d", join(work, "doc.yaml")], { cwd: work, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      const killer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
      try {
        while (held === 0 && proc.exitCode === null) await Bun.sleep(10);
        proc.kill("SIGTERM");
        const code = await proc.exited;
        const stdout = await new Response(proc.stdout).text();
        expect(code).not.toBe(0);
        expect(stdout).toContain("failed");
      } finally {
        clearTimeout(killer);
        release();
      }
      expect(existsSync(join(work, "out", "term.bin"))).toBe(false);
      expect(readdirSync(join(work, "out"))).toEqual([]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 300_000);
});
