/** S3Upload against a real S3-compatible server on 127.0.0.1 (s3rver behind a SigV4 check). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createS3Port } from "../../src/aws/s3.ts";
import { modules } from "../../src/modules/index.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";
import { startLocalS3, testClient, useLocalS3, type LocalS3 } from "../helpers/s3-server.ts";

const OWNER = "111122223333";
let s3: LocalS3;
let dir: string;
let client: S3Client;
let restoreEnv: () => void;

beforeAll(async () => {
  s3 = await startLocalS3(["up"], { owners: { up: OWNER } });
  dir = mkdtempSync(join(tmpdir(), "opentoe-s3up-"));
  restoreEnv = useLocalS3(s3); // the SDK chain as awstoe uses it: endpoint, credentials, region
  client = await testClient(s3);
  // src/ a.txt, b.log, sub/c.txt, sub/deep/d.txt, and a symlinked folder that must not be entered
  for (const [path, body] of [["src/a.txt", "A"], ["src/b.log", "B"], ["src/sub/c.txt", "C"], ["src/sub/deep/d.txt", "D"], ["outside/secret.txt", "S"]]) {
    mkdirSync(join(dir, path!, ".."), { recursive: true });
    writeFileSync(join(dir, path!), body!);
  }
  symlinkSync(join(dir, "outside"), join(dir, "src/linked"));
});
afterAll(async () => {
  restoreEnv();
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

const upload = (items: WrittenInput<typeof modules.S3Upload>) =>
  runModule(modules.S3Upload, items, moduleContext({ cwd: dir, s3: createS3Port() }));

async function keys(prefix: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: "up", Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

async function body(key: string): Promise<string> {
  return (await client.send(new GetObjectCommand({ Bucket: "up", Key: key }))).Body!.transformToString();
}

describe("S3Upload", () => {
  test("a file to a key, and to a prefix keeping its name", async () => {
    await upload([{ source: "src/a.txt", destination: "s3://up/exact/name.txt" }, { source: "src/a.txt", destination: "s3://up/folder/" }]);
    expect(await body("exact/name.txt")).toBe("A");
    expect(await keys("folder/")).toEqual(["folder/a.txt"]);
  });
  test("a pattern without recurse sends matching files only", async () => {
    await upload([{ source: "src/*", destination: "s3://up/flat/" }]);
    expect(await keys("flat/")).toEqual(["flat/a.txt", "flat/b.log"]);
  });
  test("a pattern with recurse sends matching folders whole, never entering symlinked folders", async () => {
    await upload([{ source: "src/*", destination: "s3://up/deep/", recurse: true }]);
    expect(await keys("deep/")).toEqual(["deep/a.txt", "deep/b.log", "deep/sub/c.txt", "deep/sub/deep/d.txt"]);
  });
  test("a folder with recurse sends its content without the folder's own name", async () => {
    await upload([{ source: "src/sub", destination: "s3://up/tree/", recurse: true }]);
    expect(await keys("tree/")).toEqual(["tree/c.txt", "tree/deep/d.txt"]);
  });
  test("a folder without recurse, no match and a missing file are clear failures", async () => {
    await expect(upload([{ source: "src/sub", destination: "s3://up/x/" }])).rejects.toThrow("source 'src/sub' is a folder; set recurse to true");
    await expect(upload([{ source: "src/*.none", destination: "s3://up/x/" }])).rejects.toThrow("no files match source 'src/*.none'");
    await expect(upload([{ source: "src/missing.txt", destination: "s3://up/x/m" }])).rejects.toThrow("'src/missing.txt' does not exist");
  });
  test("a 20 MiB file goes up whole (multipart) with the same bytes", async () => {
    const big = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    writeFileSync(join(dir, "big.bin"), big);
    await upload([{ source: "big.bin", destination: "s3://up/big.bin" }]);
    const head = await client.send(new HeadObjectCommand({ Bucket: "up", Key: "big.bin" }));
    expect(head.ContentLength).toBe(big.length);
    const got = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: "up", Key: "big.bin" }))).Body!.transformToByteArray());
    expect(createHash("sha256").update(got).digest("hex")).toBe(createHash("sha256").update(big).digest("hex"));
  }, 30_000);
  test("expectedBucketOwner: the owner's bucket takes small and multipart files; another account is refused", async () => {
    writeFileSync(join(dir, "mid.bin"), Buffer.alloc(12 * 1024 * 1024, 7)); // two parts
    await upload([{ source: "src/a.txt", destination: "s3://up/owned/a.txt", expectedBucketOwner: OWNER }, { source: "mid.bin", destination: "s3://up/owned/mid.bin", expectedBucketOwner: OWNER }]);
    expect(await keys("owned/")).toEqual(["owned/a.txt", "owned/mid.bin"]);
    for (const source of ["src/a.txt", "mid.bin"]) {
      await expect(upload([{ source, destination: "s3://up/foreign/", expectedBucketOwner: "444455556666" }])).rejects.toThrow(/cannot upload to s3:\/\/up\/foreign\/.*: access denied/);
    }
    expect(await keys("foreign/")).toEqual([]);
  });
  test("an unknown bucket is named in the failure", async () => {
    await expect(upload([{ source: "src/a.txt", destination: "s3://nope/a.txt" }])).rejects.toThrow(/cannot upload to s3:\/\/nope\/a.txt: /);
  });
});
