/**
 * The direct S3 requests (aws/s3-direct.ts) and the port's use of them (aws/s3.ts): addressing,
 * the listing's parsing, which configurations are left to the SDK client, and — against the local
 * S3 behind its SigV4-checking proxy — that HEAD, GET, ranged GET, ListObjectsV2 and a one-request
 * PUT are signed correctly, go out without the SDK client (the proxy sees no SDK user agent) and
 * fail in the same words as the SDK path.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { parseError, parseListPage } from "../../src/aws/_s3-xml.ts";
import { createS3Port } from "../../src/aws/s3.ts";
import { addressOf, openDirectS3 } from "../../src/aws/s3-direct.ts";
import { type LocalS3, startLocalS3, testClient, useLocalS3 } from "../helpers/s3-server.ts";

describe("addressOf", () => {
  test("regional endpoints: virtual-hosted for plain names, path-style for dotted ones, .cn for China", () => {
    expect(addressOf({ bucket: "my-bucket", key: "a/b.txt" }, undefined, "eu-west-1").href).toBe("https://my-bucket.s3.eu-west-1.amazonaws.com/a/b.txt");
    expect(addressOf({ bucket: "my.bucket", key: "k" }, undefined, "us-east-1").href).toBe("https://s3.us-east-1.amazonaws.com/my.bucket/k");
    expect(addressOf({ bucket: "b-cn", key: "k" }, undefined, "cn-north-1").href).toBe("https://b-cn.s3.cn-north-1.amazonaws.com.cn/k");
    expect(addressOf({ bucket: "my-bucket", key: "k" }, undefined, "eu-west-1", "path").href).toBe("https://s3.eu-west-1.amazonaws.com/my-bucket/k");
  });

  test("a configured endpoint is path-style under its own path; keys are percent-encoded per segment", () => {
    const url = addressOf({ bucket: "bkt", key: "dir/a b+c!*'()&ü.txt", query: { "list-type": "2" } }, new URL("http://127.0.0.1:9000/base/"), "us-east-1");
    expect(url.href).toBe("http://127.0.0.1:9000/base/bkt/dir/a%20b%2Bc%21%2A%27%28%29%26%C3%BC.txt?list-type=2");
    expect(addressOf({ bucket: "bkt", query: { prefix: "a b/" } }, new URL("http://h:1"), "us-east-1").href).toBe("http://h:1/bkt/?prefix=a+b%2F");
  });
});

describe("parseListPage / parseError", () => {
  test("url-encoded keys are decoded ('+' is a space, %2B a plus); truncation and the next token are read", () => {
    const page = parseListPage(
      "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;1</NextContinuationToken>" +
        "<Contents><Key>a+b%2Bc/%C3%BC</Key><Size>3</Size></Contents><Contents><Key>x%26%3C</Key><Size>0</Size></Contents></ListBucketResult>",
    );
    expect(page).toEqual({ objects: [{ key: "a b+c/ü", size: 3 }, { key: "x&<", size: 0 }], truncated: true, next: "t&1" });
  });

  test("a store that ignores encoding-type sends keys XML-escaped: only the escapes are undone", () => {
    const page = parseListPage("<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a+b &amp; &#x263A; &#65;</Key><Size>1</Size></Contents></ListBucketResult>");
    expect(page).toEqual({ objects: [{ key: "a+b & ☺ A", size: 1 }], truncated: false });
  });

  test("an entry without a key, or with a size that is not a count, makes the page unreadable", () => {
    expect(() => parseListPage("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>")).toThrow(/without a key or size/);
    expect(() => parseListPage("<ListBucketResult><Contents><Key>k</Key><Size>-4</Size></Contents></ListBucketResult>")).toThrow(/without a key or size/);
  });

  test("an error answer's code and message", () => {
    expect(parseError("<Error><Code>NoSuchKey</Code><Message>The key &lt;k&gt; does not exist</Message></Error>")).toEqual({ code: "NoSuchKey", message: "The key <k> does not exist" });
    expect(parseError("")).toEqual({});
  });
});

describe("openDirectS3: which configurations go direct", () => {
  const saved = { ...process.env };
  const folder = mkdtempSync(join(tmpdir(), "opentoe-direct-"));
  afterEach(() => {
    process.env = { ...saved };
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  let files = 0;
  // A new file each time: the SDK caches the shared config files it has read, by path.
  const base = () => {
    const config = join(folder, `config-${++files}`);
    writeFileSync(config, "[default]\nregion = eu-west-1\n");
    process.env = { ...saved, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(folder, "none"), AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b" };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL_S3;
    delete process.env.AWS_PROFILE;
    return config;
  };

  test("the region from the profile, standard names handled; ARNs, directory buckets and invalid names are not", async () => {
    base();
    const direct = await openDirectS3(process.env);
    expect(direct).toBeDefined();
    expect(direct!.handles("my-bucket")).toBe(true);
    expect(direct!.handles("arn:aws:s3:us-east-1:123456789012:accesspoint/ap")).toBe(false);
    expect(direct!.handles("bucket--use1-az4--x-s3")).toBe(false);
    expect(direct!.handles("Up")).toBe(false);
  });

  test("left to the SDK: OPENTOE_S3_DIRECT=0, FIPS, dual-stack, no region, an ISO region, a profile endpoint or s3 settings, a bad endpoint URL", async () => {
    const cases: [string, () => void][] = [
      ["OPENTOE_S3_DIRECT=0", () => (process.env.OPENTOE_S3_DIRECT = "0")],
      ["FIPS", () => (process.env.AWS_USE_FIPS_ENDPOINT = "true")],
      ["dual-stack", () => (process.env.AWS_USE_DUALSTACK_ENDPOINT = "true")],
      ["no region", () => writeFileSync(process.env.AWS_CONFIG_FILE!, "[default]\n")],
      ["ISO region", () => (process.env.AWS_REGION = "us-iso-east-1")],
      ["profile endpoint_url", () => writeFileSync(process.env.AWS_CONFIG_FILE!, "[default]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:1\n")],
      ["profile s3 settings", () => writeFileSync(process.env.AWS_CONFIG_FILE!, "[default]\nregion = eu-west-1\ns3 =\n  use_accelerate_endpoint = true\n")],
      ["unknown addressing style", () => writeFileSync(process.env.AWS_CONFIG_FILE!, "[default]\nregion = eu-west-1\ns3 =\n  addressing_style = sideways\n")],
      ["endpoint that is no URL", () => (process.env.AWS_ENDPOINT_URL_S3 = "not a url")],
    ];
    for (const [what, arrange] of cases) {
      base();
      arrange();
      expect({ what, direct: await openDirectS3(process.env) }).toEqual({ what, direct: undefined });
    }
    // The one s3 setting followed here: addressing_style (path, virtual, auto).
    for (const style of ["path", "virtual", "auto"]) {
      base();
      writeFileSync(process.env.AWS_CONFIG_FILE!, `[default]\nregion = eu-west-1\ns3 =\n  addressing_style = ${style}\n`);
      expect({ style, direct: (await openDirectS3(process.env)) !== undefined }).toEqual({ style, direct: true });
    }
    // AWS_IGNORE_CONFIGURED_ENDPOINT_URLS drops the bad endpoint: direct again, to the regional one.
    base();
    process.env.AWS_ENDPOINT_URL_S3 = "not a url";
    process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "true";
    expect(await openDirectS3(process.env)).toBeDefined();
  });
});

describe("the port's direct requests against the local S3", () => {
  let s3: LocalS3;
  let restore: () => void;
  const BUCKET = "direct-bucket";
  const folder = mkdtempSync(join(tmpdir(), "opentoe-direct-s3-"));
  beforeAll(async () => {
    s3 = await startLocalS3([BUCKET], { pageSize: 3 });
    restore = useLocalS3(s3);
    const client = await testClient(s3);
    for (const key of ["odd/a b.txt", "odd/plus+sign", "odd/amp&lt<gt>", "odd/ü/deep", "odd/sp  two"]) await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `content of ${key}` }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "big.bin", Body: new Uint8Array(100_000).map((_, i) => i % 251) }));
  });
  afterAll(async () => {
    restore();
    await s3.close();
    rmSync(folder, { recursive: true, force: true });
  });
  const port = () => createS3Port();
  const sdkAgent = () => s3.requests.filter((r) => /aws-sdk-js/.test(r.headers["user-agent"] ?? ""));

  test("listing over pages: keys with spaces, '+', '&', '<', non-ASCII come back exact, in order, signed and without the SDK", async () => {
    const before = sdkAgent().length;
    const listed = await port().listObjects!(BUCKET, "odd/", 100, {});
    expect(listed.map((o) => o.key)).toEqual(["odd/a b.txt", "odd/amp&lt<gt>", "odd/plus+sign", "odd/sp  two", "odd/ü/deep"]);
    expect(listed.find((o) => o.key === "odd/a b.txt")!.size).toBe("content of odd/a b.txt".length);
    const lists = s3.requests.filter((r) => r.query.includes("list-type=2") && r.bucket === BUCKET);
    expect(lists.length).toBeGreaterThanOrEqual(2);
    expect(lists.every((r) => r.query.includes("encoding-type=url") && r.status === 200)).toBe(true);
    expect(sdkAgent().length).toBe(before);
    expect(s3.rejected).toBe(0);
  });

  test("HEAD, a whole GET and ranged GETs direct; a ranged GET pinned by If-Match refuses a changed object", async () => {
    const p = port();
    const before = sdkAgent().length;
    const info = await p.headObject!(BUCKET, "big.bin", {});
    expect(info.size).toBe(100_000);
    expect(info.md5).toMatch(/^[0-9a-f]{32}$/);
    const whole = Buffer.concat(await Array.fromAsync(await p.getObject(BUCKET, "odd/plus+sign", {})));
    expect(whole.toString()).toBe("content of odd/plus+sign");
    const part = Buffer.concat(await Array.fromAsync(await p.getObjectRange!(BUCKET, "big.bin", { start: 1000, end: 1009, ifMatch: info.etag }, {})));
    expect([...part]).toEqual(Array.from({ length: 10 }, (_, i) => (1000 + i) % 251));
    const changed = await p.getObjectRange!(BUCKET, "big.bin", { start: 0, end: 9, ifMatch: '"0123456789abcdef0123456789abcdef"' }, {}).catch((e: Error & { changed?: boolean }) => e);
    expect((changed as Error).message).toMatch(/the object changed during the download/);
    expect((changed as { changed?: boolean }).changed).toBe(true);
    const ranged = s3.requests.filter((r) => r.method === "GET" && r.key === "big.bin");
    expect(ranged.map((r) => [r.headers.range, r.headers["if-match"]])).toEqual([
      ["bytes=1000-1009", info.etag],
      ["bytes=0-9", '"0123456789abcdef0123456789abcdef"'],
    ]);
    expect(sdkAgent().length).toBe(before);
  });

  test("a one-request PUT arrives byte-exact and signed over its content; a multipart one still goes through the SDK", async () => {
    const small = join(folder, "small.bin");
    writeFileSync(small, new Uint8Array(70_000).map((_, i) => (i * 7) % 256));
    await port().putFile(BUCKET, "up/small.bin", small, {});
    const put = s3.requests.findLast((r) => r.method === "PUT" && r.key === "up/small.bin")!;
    expect(put.headers["x-amz-content-sha256"]).toMatch(/^[0-9a-f]{64}$/);
    expect(put.headers["user-agent"] ?? "").not.toMatch(/aws-sdk-js/);
    const client = await testClient(s3);
    const back = await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "up/small.bin" }))).Body!.transformToByteArray();
    expect(Buffer.from(back).equals(Buffer.from(new Uint8Array(70_000).map((_, i) => (i * 7) % 256)))).toBe(true);
    const big = join(folder, "big.bin");
    writeFileSync(big, new Uint8Array(6 * 1024 * 1024));
    await port().putFile(BUCKET, "up/big.bin", big, { partSize: 5 * 1024 * 1024 });
    expect(s3.requests.some((r) => r.key === "up/big.bin" && r.query.includes("uploads") && /aws-sdk-js/.test(r.headers["user-agent"] ?? ""))).toBe(true);
  });

  test("failures read as on the SDK path: a missing key, a missing bucket, a wrong secret, another owner", async () => {
    const p = port();
    const message = (promise: Promise<unknown>) => promise.then(() => "resolved", (e: Error) => e.message);
    expect(await message(p.getObject(BUCKET, "nope", {}))).toBe(`cannot download s3://${BUCKET}/nope: no such key`);
    expect(await message(p.listObjects!("no-such-bucket", "", 10, {}))).toBe("cannot list s3://no-such-bucket/: bucket 'no-such-bucket' does not exist");
    process.env.AWS_SECRET_ACCESS_KEY = "wrong";
    try {
      expect(await message(createS3Port().getObject(BUCKET, "odd/a b.txt", {}))).toBe(`cannot download s3://${BUCKET}/odd/a b.txt: the request signature was refused (check the secret access key)`);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
    }
  });

  test("a stopped request ends at once with the stop's words", async () => {
    const stop = new AbortController();
    stop.abort();
    const error = await port().headObject!(BUCKET, "big.bin", { signal: stop.signal }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/cannot download s3:\/\/direct-bucket\/big.bin: stopped/);
  });
});
