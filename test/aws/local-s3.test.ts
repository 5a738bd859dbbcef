/** The test S3 server itself: the unmodified SDK works through it, and a wrong secret is refused. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, startLocalS3, type LocalS3 } from "../helpers/s3-server.ts";

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
