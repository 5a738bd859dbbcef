/** S3Download against a real S3-compatible server on 127.0.0.1 (s3rver behind a SigV4 check). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createS3Port } from "../../src/aws/s3.ts";
import { modules } from "../../src/modules/index.ts";
import { moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";
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
  const hardening = [
    // What the S3 console's "Create folder" makes: an empty object named like the prefix.
    ["marker/", ""], ["marker/a.txt", "in marker"], ["marker/empty/", ""], ["marker/sub/", ""], ["marker/sub/c.txt", "C"],
    // One key needs the other's file to be a folder.
    ["clash/a.txt", "file"], ["clash/a.txt/b", "below the file"],
  ];
  for (const [key, body] of [["one.txt", "first"], ["pre/a.txt", "A"], ["pre/sub/b.txt", "B"], ...many, ...hardening]) {
    await client.send(new PutObjectCommand({ Bucket: "bucket", Key: key!, Body: Buffer.from(body!) }));
  }
});
afterAll(async () => {
  restoreEnv();
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = (items: WrittenInput<typeof modules.S3Download>, cwd = dir) =>
  runModule(modules.S3Download, items, moduleContext({ cwd, s3: createS3Port() }));

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

  test("a folder marker (key ending in /) is no file: the prefix's own is skipped, others just make their folder", async () => {
    await run([{ source: "s3://bucket/marker/*", destination: "marked" }]);
    expect(readdirSync(join(dir, "marked")).sort()).toEqual(["a.txt", "empty", "sub"]);
    expect(readFileSync(join(dir, "marked/a.txt"), "utf8")).toBe("in marker");
    expect(statSync(join(dir, "marked/empty")).isDirectory()).toBe(true);
    expect(readdirSync(join(dir, "marked/empty"))).toEqual([]);
    expect(readFileSync(join(dir, "marked/sub/c.txt"), "utf8")).toBe("C");
  });
  test("a symbolic link planted inside the destination is refused, and nothing is written where it leads", async () => {
    const outside = mkdtempSync(join(tmpdir(), "opentoe-s3dl-outside-"));
    try {
      mkdirSync(join(dir, "planted"));
      symlinkSync(outside, join(dir, "planted/sub"));
      await expect(run([{ source: "s3://bucket/pre/*", destination: "planted" }])).rejects.toThrow(
        `refusing object key 'pre/sub/b.txt': 'planted/sub' inside the destination folder is a symbolic link (to '${outside}'); S3Download does not write through links`,
      );
      expect(readdirSync(outside)).toEqual([]);
      expect(lstatSync(join(dir, "planted/sub")).isSymbolicLink()).toBe(true);
      // A link at the file's own name is refused too (the rename would replace it, but the
      // document named a folder, not a link).
      mkdirSync(join(dir, "planted2/sub"), { recursive: true });
      symlinkSync(join(outside, "b.txt"), join(dir, "planted2/sub/b.txt"));
      await expect(run([{ source: "s3://bucket/pre/*", destination: "planted2" }])).rejects.toThrow("'planted2/sub/b.txt' inside the destination folder is a symbolic link");
      expect(readdirSync(outside)).toEqual([]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
  test("keys 'a.txt' and 'a.txt/b' are a clear error naming both, before anything is written", async () => {
    await expect(run([{ source: "s3://bucket/clash/*", destination: "clash" }])).rejects.toThrow(
      "objects 'clash/a.txt' and 'clash/a.txt/b' cannot both be downloaded: 'a.txt' would have to be a file for the first and a folder for the second; nothing was downloaded",
    );
    expect(existsSync(join(dir, "clash"))).toBe(false);
  });
  test("planPrefix: a file key and a folder marker of the same name, and two keys for one path, are refused", async () => {
    const { planPrefix } = await import("../../src/modules/_s3-download.ts");
    expect(() => planPrefix("/dest", "p/", ["p/a", "p/a/"])).toThrow("objects 'p/a' and 'p/a/' cannot both be downloaded");
    expect(() => planPrefix("/dest", "p/", ["p/x//a", "p/x/a"])).toThrow("objects 'p/x//a' and 'p/x/a' would both be written to 'x/a'");
    expect(planPrefix("/dest", "", ["top/", "top/f"]).map((e) => [e.key, e.path, e.folder])).toEqual([["top/", "/dest/top", true], ["top/f", "/dest/top/f", false]]);
  });
});

describe("S3Download against a server that repeats its continuation token", () => {
  test("the listing stops with a clear error within seconds instead of paging forever", async () => {
    let pages = 0;
    const looping = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        const url = new URL(request.url);
        if (url.searchParams.get("list-type") !== "2") return new Response("unexpected", { status: 500 });
        pages++;
        return new Response(
          `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix>loop/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>same-token</NextContinuationToken></ListBucketResult>`,
          { headers: { "content-type": "application/xml" } },
        );
      },
    });
    const saved = process.env.AWS_ENDPOINT_URL_S3;
    process.env.AWS_ENDPOINT_URL_S3 = `http://127.0.0.1:${looping.port}`;
    const stop = new AbortController();
    try {
      const ctx = moduleContext({ cwd: dir, s3: createS3Port(), signal: stop.signal });
      const download = modules.S3Download.execute([{ source: "s3://bucket/loop/*", destination: "loop", overwrite: true }], ctx);
      const outcome = await Promise.race([
        download.then(() => "succeeded", (error: Error) => error.message),
        new Promise<string>((resolve) => setTimeout(() => resolve(`still listing after 10 s (${pages} pages)`), 10_000)),
      ]);
      expect(outcome).toBe("cannot list s3://bucket/loop/: the server sent the continuation token 'same-token' again after 2 pages, so the listing would never end");
      expect(pages).toBe(2);
      expect(existsSync(join(dir, "loop"))).toBe(false);
    } finally {
      stop.abort();
      process.env.AWS_ENDPOINT_URL_S3 = saved;
      looping.stop(true);
    }
  }, 20_000);
});
