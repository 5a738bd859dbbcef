/** The test S3 server itself: the unmodified SDK works through it, and a wrong secret is refused. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ACCESS_KEY_ID, peakConcurrency, SECRET_ACCESS_KEY, startLocalS3, testClient, THROTTLED_RATE, type LocalS3 } from "../helpers/s3-server.ts";

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startLocalS3(["probe-bucket"]);
});
afterAll(() => s3.close());

const client = (secret: string) =>
  new S3Client({ endpoint: s3.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: secret } });

test("put and get through the signature-checking proxy", async () => {
  await client(SECRET_ACCESS_KEY).send(new PutObjectCommand({ Bucket: "probe-bucket", Key: "a/b.txt", Body: "hello" }));
  const got = await client(SECRET_ACCESS_KEY).send(new GetObjectCommand({ Bucket: "probe-bucket", Key: "a/b.txt" }));
  expect(await got.Body!.transformToString()).toBe("hello");
});

test("a wrong secret is refused with SignatureDoesNotMatch", async () => {
  const before = s3.rejected;
  await expect(client("wrong-secret").send(new GetObjectCommand({ Bucket: "probe-bucket", Key: "a/b.txt" }))).rejects.toThrow(/signature/i);
  expect(s3.rejected).toBeGreaterThan(before);
});

test("throttled: each connection is paced, ranges answer 206 with Content-Length, If-Match is enforced, overlap is counted", async () => {
  const slow = await startLocalS3(["paced"], { bytesPerSecondPerConnection: THROTTLED_RATE });
  try {
    const c = await testClient(slow);
    const body = new Uint8Array(1_600_000).map((_, i) => i % 251);
    await c.send(new PutObjectCommand({ Bucket: "paced", Key: "k", Body: body }));
    const head = await c.send(new HeadObjectCommand({ Bucket: "paced", Key: "k" }));
    expect(head.ContentLength).toBe(body.length);
    const whole = await c.send(new GetObjectCommand({ Bucket: "paced", Key: "k" }));
    expect(whole.ContentLength).toBe(body.length);
    expect(await whole.Body!.transformToByteArray()).toEqual(body);
    // 1.6 MB at 16 MB/s: at least 100 ms from arrival to the last byte (a bound, not a timing).
    const get = slow.requests.filter((r) => r.method === "GET").at(-1)!;
    expect(get.endedAt! - get.startedAt).toBeGreaterThanOrEqual(95);
    const range = await c.send(new GetObjectCommand({ Bucket: "paced", Key: "k", Range: "bytes=100-199", IfMatch: head.ETag }));
    expect(range.$metadata.httpStatusCode).toBe(206);
    expect(range.ContentRange).toBe(`bytes 100-199/${body.length}`);
    expect(range.ContentLength).toBe(100);
    expect(await range.Body!.transformToByteArray()).toEqual(body.subarray(100, 200));
    await expect(c.send(new GetObjectCommand({ Bucket: "paced", Key: "k", Range: "bytes=0-9", IfMatch: '"0123"' }))).rejects.toMatchObject({ name: "PreconditionFailed" });
    const before = slow.requests.length;
    await Promise.all([0, 1, 2, 3].map((n) => c.send(new GetObjectCommand({ Bucket: "paced", Key: "k", Range: `bytes=${n * 400_000}-${n * 400_000 + 399_999}` })).then((r) => r.Body!.transformToByteArray())));
    expect(peakConcurrency(slow.requests.slice(before))).toBe(4);
    expect(peakConcurrency(slow.requests.slice(0, before))).toBe(1);
  } finally {
    await slow.close();
  }
});
