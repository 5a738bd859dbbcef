/**
 * S3Upload of many files at once (issue #18) against the local S3 with each connection capped at
 * THROTTLED_RATE, so several connections are what makes it fast, as against S3. Parallelism is
 * read from the server's request log (requests overlapping), never from timings.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createS3Port } from "../../src/aws/s3.ts";
import { modules } from "../../src/modules/index.ts";
import { planFile, uploadAll } from "../../src/modules/_s3-upload.ts";
import type { S3Port, S3UploadOptions } from "../../src/model/ports.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";
import { peakConcurrency, s3Error, startLocalS3, testClient, THROTTLED_RATE, useLocalS3, type LocalS3, type RecordedRequest } from "../helpers/s3-server.ts";

const MiB = 1024 * 1024;
let s3: LocalS3;
let dir: string;
let client: S3Client;
let restoreEnv: () => void;
/** What the server does with a request now (set per test); undefined lets it through. */
let interceptor: ((request: RecordedRequest) => Response | undefined) | undefined;
/** The 1,000 files of `many/`, relative path → content. */
const many = new Map<string, Buffer>();

/** Deterministic content for `seed`: sha256 of "seed:block" for each 32-byte block, cut to `length`. */
function seeded(seed: number, length: number): Buffer {
  const blocks = Array.from({ length: Math.ceil(length / 32) }, (_, block) => createHash("sha256").update(`${seed}:${block}`).digest());
  return Buffer.concat(blocks).subarray(0, length);
}

beforeAll(async () => {
  s3 = await startLocalS3(["up"], { bytesPerSecondPerConnection: THROTTLED_RATE, intercept: (request) => interceptor?.(request) });
  dir = mkdtempSync(join(tmpdir(), "opentoe-s3up-par-"));
  restoreEnv = useLocalS3(s3);
  client = await testClient(s3);
  // 1,000 files: 900 at the top, 100 in ten sub-folders; sizes from 0 bytes to ~6 KB.
  for (let i = 0; i < 1000; i++) {
    const relative = i < 900 ? `f${String(i).padStart(4, "0")}.bin` : `d${i % 10}/g${String(i).padStart(4, "0")}.bin`;
    const content = seeded(i + 1, i % 7 === 0 ? i % 3 : (i * 37) % 6000);
    many.set(relative, content);
    mkdirSync(join(dir, "many", relative, ".."), { recursive: true });
    writeFileSync(join(dir, "many", relative), content);
  }
});
afterAll(async () => {
  restoreEnv();
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs S3Upload with the given environment settings (OPENTOE_S3_*), restored afterwards. */
async function upload(items: WrittenInput<typeof modules.S3Upload>, env: Record<string, string> = {}, signal?: AbortSignal) {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    return await runModule(modules.S3Upload, items, moduleContext({ cwd: dir, s3: createS3Port(), ...(signal ? { signal } : {}) }));
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: "up", Prefix: prefix, ContinuationToken: token }));
    out.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return out.sort();
}

async function bytes(key: string): Promise<Buffer> {
  return Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: "up", Key: key }))).Body!.transformToByteArray());
}

/** The requests that arrived since `from` (an index into s3.requests). */
const since = (from: number) => s3.requests.slice(from);
const isPut = (r: RecordedRequest) => r.method === "PUT" && !r.query.includes("uploadId");
const isPart = (r: RecordedRequest) => r.method === "PUT" && r.query.includes("uploadId");

/** The order S3Upload plans a folder in: each folder's files by name, then its sub-folders. */
function plannedOrder(prefix: string): string[] {
  const names = [...many.keys()];
  const top = names.filter((n) => !n.includes("/")).sort();
  const below = names.filter((n) => n.includes("/")).sort();
  return [...top, ...below].map((n) => `s3://up/${prefix}${n}`);
}

describe("planFile (pure)", () => {
  const settings = { partSize: 8 * MiB, concurrency: 10 };
  test("up to one part is one PutObject holding the file's bytes", () => {
    expect(planFile(0, settings)).toEqual({ multipart: false, partSize: 8 * MiB, partConcurrency: 1, bytes: 0 });
    expect(planFile(8 * MiB, settings)).toEqual({ multipart: false, partSize: 8 * MiB, partConcurrency: 1, bytes: 8 * MiB });
  });
  test("beyond one part: multipart, as many parts in flight as the concurrency allows and no more than there are", () => {
    expect(planFile(8 * MiB + 1, settings)).toEqual({ multipart: true, partSize: 8 * MiB, partConcurrency: 2, bytes: 0 });
    expect(planFile(1024 * MiB, settings)).toEqual({ multipart: true, partSize: 8 * MiB, partConcurrency: 10, bytes: 0 });
    expect(planFile(1024 * MiB, { partSize: 8 * MiB, concurrency: 1 }).partConcurrency).toBe(1);
  });
  test("parts are at least S3's 5 MiB, and large enough that 10,000 of them hold the file", () => {
    expect(planFile(12 * MiB, { partSize: 1 * MiB, concurrency: 4 })).toEqual({ multipart: true, partSize: 5 * MiB, partConcurrency: 3, bytes: 0 });
    const huge = 200 * 1024 * MiB;
    expect(planFile(huge, settings).partSize).toBe(Math.ceil(huge / 10_000));
  });
});

describe("uploadAll with a stand-in port (no network)", () => {
  const settings = { partSize: 5 * MiB, concurrency: 3, maxBytes: 15 * MiB };
  /** A port whose putFile takes `delay` ms, fails for `failing`, and records what was in flight. */
  function standIn(failing?: string) {
    const seen = { inFlight: 0, peak: 0, started: [] as string[], limited: [] as string[], startedAtFailure: -1 };
    const port = {
      getObject: () => Promise.reject(new Error("not here")),
      listKeys: () => Promise.reject(new Error("not here")),
      async putFile(_bucket: string, key: string, _file: string, options: S3UploadOptions) {
        seen.started.push(key);
        const multipart = options.limit !== undefined;
        if (multipart) seen.limited.push(key);
        seen.peak = Math.max(seen.peak, ++seen.inFlight);
        try {
          await Bun.sleep(key.endsWith("0") ? 5 : 1); // finishing out of order
          if (key === failing) seen.startedAtFailure = seen.started.length;
          if (key === failing) throw new Error(`cannot upload to s3://b/${key}: access denied`);
        } finally {
          seen.inFlight--;
        }
      },
    } as unknown as S3Port;
    return { port, seen };
  }
  const files = () => {
    const folder = mkdtempSync(join(tmpdir(), "opentoe-s3up-plan-"));
    const list = Array.from({ length: 40 }, (_, i) => {
      const file = join(folder, `f${i}`);
      writeFileSync(file, "x");
      if (i % 10 === 3) truncateSync(file, 6 * MiB); // larger than a part: multipart
      return { file, key: `k${String(i).padStart(2, "0")}` };
    });
    return { folder, list };
  };

  test("at most `concurrency` files at once, multipart files with the budget, the list in planned order", async () => {
    const { folder, list } = files();
    const { port, seen } = standIn();
    try {
      const uploaded = await uploadAll(list, "b", {}, settings, { s3: port, signal: new AbortController().signal });
      expect(uploaded).toEqual(list.map((u) => `s3://b/${u.key}`));
      expect(seen.peak).toBeLessThanOrEqual(3);
      expect(seen.peak).toBeGreaterThan(1);
      expect(seen.limited).toEqual(["k03", "k13", "k23", "k33"]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test("the first failure stops the files not yet started and is the one reported, with the count", async () => {
    const { folder, list } = files();
    const { port, seen } = standIn("k10");
    try {
      const failure = await uploadAll(list, "b", {}, settings, { s3: port, signal: new AbortController().signal }).then(() => "", (error: Error) => error.message);
      expect(failure).toMatch(/^cannot upload to s3:\/\/b\/k10: access denied \((\d+) of 40 files were already uploaded\)$/);
      expect(seen.startedAtFailure).toBeGreaterThan(0);
      expect(seen.started.length).toBe(seen.startedAtFailure); // nothing started after it
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test("an aborted signal starts nothing", async () => {
    const { folder, list } = files();
    const { port, seen } = standIn();
    try {
      const stop = new AbortController();
      stop.abort();
      await expect(uploadAll(list, "b", {}, settings, { s3: port, signal: stop.signal })).rejects.toThrow("cannot upload to s3://b/k00: stopped before it finished");
      expect(seen.started).toEqual([]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe("S3Upload, several files at once", () => {
  test("a 1,000-file folder: every object byte-exact, the output list in planned order, requests overlapping within the limit", async () => {
    const from = s3.requests.length;
    const result = await upload([{ source: "many", destination: "s3://up/all/", recurse: true }]);
    const listed = String(result.outputs.uploaded).split(",");
    expect(listed).toEqual(plannedOrder("all/"));
    expect(await keys("all/")).toEqual([...many.keys()].map((n) => `all/${n}`).sort());
    // Read back in batches of 25.
    const names = [...many.keys()];
    for (let i = 0; i < names.length; i += 25) {
      const batch = names.slice(i, i + 25);
      const got = await Promise.all(batch.map((n) => bytes(`all/${n}`)));
      batch.forEach((n, j) => expect(got[j]!.equals(many.get(n)!), n).toBe(true));
    }
    const puts = since(from).filter(isPut);
    expect(puts).toHaveLength(1000);
    expect(peakConcurrency(puts)).toBeGreaterThan(1);
    expect(peakConcurrency(puts)).toBeLessThanOrEqual(10); // OPENTOE_S3_MAX_CONCURRENCY's default
  }, 60_000);

  test("OPENTOE_S3_MAX_CONCURRENCY=1 is the serial path: one request at a time", async () => {
    const from = s3.requests.length;
    const result = await upload([{ source: "many/d3", destination: "s3://up/serial/", recurse: true }], { OPENTOE_S3_MAX_CONCURRENCY: "1" });
    expect(String(result.outputs.uploaded).split(",")).toHaveLength(10);
    expect(peakConcurrency(since(from))).toBe(1);
  });

  test("a large file's parts go up in parallel within the limit and reassemble byte-exact", async () => {
    const big = seeded(99, 23 * MiB + 12345);
    writeFileSync(join(dir, "big.bin"), big);
    const from = s3.requests.length;
    await upload([{ source: "big.bin", destination: "s3://up/big/big.bin" }], { OPENTOE_S3_PART_SIZE: "5MiB", OPENTOE_S3_MAX_CONCURRENCY: "3" });
    const parts = since(from).filter(isPart);
    expect(parts).toHaveLength(5);
    expect(peakConcurrency(parts)).toBeGreaterThan(1);
    expect(peakConcurrency(since(from))).toBeLessThanOrEqual(3);
    const got = await bytes("big/big.bin");
    expect(createHash("sha256").update(got).digest("hex")).toBe(createHash("sha256").update(big).digest("hex"));
  }, 60_000);

  test("a part is read from the file only when the budget lets it go: no part waits in memory beyond the limit", async () => {
    // One part in flight at a time (concurrency 1). While S3 receives part 1, the test rewrites
    // the file's later bytes: a part read ahead (as lib-storage did) would carry the old bytes.
    const original = seeded(7, 11 * MiB);
    const file = join(dir, "read-late.bin");
    writeFileSync(file, original);
    const rewritten = Buffer.from(original);
    rewritten.fill(0x5a, 5 * MiB);
    interceptor = (request) => {
      if (request.method === "PUT" && request.key === "late/read-late.bin" && /(^|&)partNumber=1(&|$)/.test(request.query)) writeFileSync(file, rewritten);
      return undefined;
    };
    try {
      await upload([{ source: "read-late.bin", destination: "s3://up/late/read-late.bin" }], { OPENTOE_S3_PART_SIZE: "5MiB", OPENTOE_S3_MAX_CONCURRENCY: "1" });
    } finally {
      interceptor = undefined;
    }
    const got = await bytes("late/read-late.bin");
    expect(got.length).toBe(rewritten.length);
    expect(createHash("sha256").update(got).digest("hex")).toBe(createHash("sha256").update(rewritten).digest("hex"));
  }, 60_000);

  test("a failing object stops the rest, and the message says how many were done", async () => {
    const failing = "stop/f0100.bin"; // the 101st file planned
    interceptor = (request) => (request.method === "PUT" && request.key === failing ? s3Error(403, "AccessDenied", "Access Denied") : undefined);
    const from = s3.requests.length;
    try {
      const failure = await upload([{ source: "many", destination: "s3://up/stop/", recurse: true }]).then(
        () => undefined,
        (error: Error) => error.message,
      );
      expect(failure).toMatch(/^cannot upload to s3:\/\/up\/stop\/f0100\.bin: access denied.* \((\d+) of 1000 files were already uploaded\)$/);
      const done = Number(/\((\d+) of 1000/.exec(failure!)![1]);
      expect(await keys("stop/")).toHaveLength(done);
      // Files are taken in order by at most 10 workers: after the failure none but those
      // already started went out.
      expect(since(from).filter(isPut).length).toBeLessThanOrEqual(101 + 10);
    } finally {
      interceptor = undefined;
    }
  }, 60_000);

  test("stopped mid-upload (the step's signal): the step fails once, and no multipart upload is left open", async () => {
    mkdirSync(join(dir, "large"), { recursive: true });
    for (const name of ["a.bin", "b.bin", "c.bin"]) writeFileSync(join(dir, "large", name), seeded(name.charCodeAt(0), 16 * MiB));
    writeFileSync(join(dir, "large", "small.txt"), "small");
    const stop = new AbortController();
    let parts = 0;
    // Stop once a few parts are on their way (each 5 MiB part takes ~0.3 s at the capped rate).
    interceptor = (request) => {
      if (isPart(request) && ++parts === 3) setTimeout(() => stop.abort(), 50);
      return undefined;
    };
    const from = s3.requests.length;
    try {
      const failure = await upload([{ source: "large", destination: "s3://up/cut/", recurse: true }], { OPENTOE_S3_PART_SIZE: "5MiB" }, stop.signal).then(
        () => undefined,
        (error: Error) => error.message,
      );
      expect(failure).toMatch(/^cannot upload to s3:\/\/up\/cut\/\w+\.bin: stopped before it finished/);
      expect(failure!.split("\n")).toHaveLength(1);
      // The uploads under way were aborted (not merely abandoned) before the step failed.
      expect(since(from).some((r) => r.method === "DELETE" && r.query.includes("uploadId"))).toBe(true);
      const open = await client.send(new ListMultipartUploadsCommand({ Bucket: "up" }));
      expect(open.Uploads ?? []).toEqual([]);
      for (const name of ["a.bin", "b.bin", "c.bin"]) {
        const head = await client.send(new HeadObjectCommand({ Bucket: "up", Key: `cut/${name}` })).then(
          (h) => h.ContentLength,
          () => undefined,
        );
        // Either not there at all, or whole (finished before the stop) — never a part of it.
        if (head !== undefined) expect(head).toBe(16 * MiB);
      }
    } finally {
      interceptor = undefined;
    }
  }, 60_000);
});
