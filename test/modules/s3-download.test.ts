/** S3Download against a real S3-compatible server on 127.0.0.1 (s3rver behind a SigV4 check). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createS3Port } from "../../src/aws/s3.ts";
import { modules } from "../../src/modules/index.ts";
import { moduleContext } from "../helpers/module-context.ts";
import { SECRET_ACCESS_KEY, startLocalS3, testClient, useLocalS3, type LocalS3 } from "../helpers/s3-server.ts";

const OWNER = "111122223333";
let s3: LocalS3;
let dir: string;
let restoreEnv: () => void;

beforeAll(async () => {
  // Two keys a page, so every prefix download below crosses page boundaries.
  s3 = await startLocalS3(["bucket"], { pageSize: 2, owners: { bucket: OWNER } });
  dir = mkdtempSync(join(tmpdir(), "opentoe-s3dl-"));
  restoreEnv = useLocalS3(s3); // the SDK chain as awstoe uses it: endpoint, credentials, region
  const client = await testClient(s3);
  const many = Array.from({ length: 7 }, (_, i) => [`many/k${i}.txt`, `body ${i}`]);
  for (const [key, body] of [["one.txt", "first"], ["pre/a.txt", "A"], ["pre/sub/b.txt", "B"], ...many]) {
    await client.send(new PutObjectCommand({ Bucket: "bucket", Key: key!, Body: body! }));
  }
});
afterAll(async () => {
  restoreEnv();
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = (items: Record<string, unknown>[], cwd = dir) =>
  modules.S3Download.execute!(items.map((i) => ({ overwrite: true, ...i })), moduleContext({ cwd, s3: createS3Port() }));

describe("S3Download", () => {
  test("one object to a file", async () => {
    await run([{ source: "s3://bucket/one.txt", destination: "one.txt" }]);
    expect(readFileSync(join(dir, "one.txt"), "utf8")).toBe("first");
  });
  test("overwrite false with an existing file fails with the documented text, file kept", async () => {
    writeFileSync(join(dir, "kept.txt"), "mine");
    await expect(run([{ source: "s3://bucket/one.txt", destination: "kept.txt", overwrite: false }])).rejects.toThrow('File already exists and "overwrite" property for "destination" file is set to false. Cannot download.');
    expect(readFileSync(join(dir, "kept.txt"), "utf8")).toBe("mine");
  });
  test("the destination's folder must exist", async () => {
    await expect(run([{ source: "s3://bucket/one.txt", destination: "no/such/folder/x.txt" }])).rejects.toThrow("destination folder does not exist");
  });
  test("prefix/* downloads every object below, creating sub-folders", async () => {
    await run([{ source: "s3://bucket/pre/*", destination: "prefixed" }]);
    expect(readFileSync(join(dir, "prefixed/a.txt"), "utf8")).toBe("A");
    expect(readFileSync(join(dir, "prefixed/sub/b.txt"), "utf8")).toBe("B");
  });
  test("prefix/* follows continuation tokens past the first page", async () => {
    const before = s3.listRequests;
    await run([{ source: "s3://bucket/many/*", destination: "many" }]);
    expect(readdirSync(join(dir, "many")).sort()).toEqual(Array.from({ length: 7 }, (_, i) => `k${i}.txt`));
    expect(readFileSync(join(dir, "many/k6.txt"), "utf8")).toBe("body 6");
    expect(s3.listRequests - before).toBe(4); // 7 keys at 2 a page
  });
  test("expectedBucketOwner: the right account downloads, another is refused and writes nothing", async () => {
    await run([{ source: "s3://bucket/one.txt", destination: "owned.txt", expectedBucketOwner: OWNER }]);
    expect(readFileSync(join(dir, "owned.txt"), "utf8")).toBe("first");
    await expect(run([{ source: "s3://bucket/one.txt", destination: "foreign.txt", expectedBucketOwner: "444455556666" }])).rejects.toThrow(
      "cannot download s3://bucket/one.txt: access denied (check the credentials' permissions and expectedBucketOwner)",
    );
    await expect(run([{ source: "s3://bucket/pre/*", destination: "foreign", expectedBucketOwner: "444455556666" }])).rejects.toThrow("cannot list s3://bucket/pre/: access denied");
    expect(existsSync(join(dir, "foreign.txt"))).toBe(false);
    expect(existsSync(join(dir, "foreign"))).toBe(false);
  });
  // Keys with "/..", "//" or backslashes cannot be stored through the test server (its URLs are
  // normalised), so the traversal rule is tested on insideFolder(), which every key goes through.
  test("insideFolder refuses ../, absolute and drive-letter keys", async () => {
    const { insideFolder } = await import("../../src/modules/_s3-download.ts");
    for (const rest of ["../../etc/x", "a/../../x", "/abs", "C:\\x", "..\\x", "./"]) expect(() => insideFolder("/dest", rest, rest)).toThrow("outside the destination folder");
    expect(insideFolder("/dest", "a/b.txt", "a/b.txt")).toBe("/dest/a/b.txt");
  });
  test("a missing key names the object and the cause", async () => {
    await expect(run([{ source: "s3://bucket/missing.txt", destination: "m.txt" }])).rejects.toThrow("cannot download s3://bucket/missing.txt: no such key");
    expect(existsSync(join(dir, "m.txt"))).toBe(false);
  });
  test("a wrong secret is reported as a refused signature", async () => {
    process.env.AWS_SECRET_ACCESS_KEY = "wrong";
    try {
      await expect(run([{ source: "s3://bucket/one.txt", destination: "w.txt" }])).rejects.toThrow(/cannot download s3:\/\/bucket\/one.txt: the request signature was refused/);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = SECRET_ACCESS_KEY;
    }
  });
});
