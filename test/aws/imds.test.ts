/** aws/imds.ts against a stand-in IMDSv2 on 127.0.0.1 (test/helpers/imds-server.ts). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createMetadataPort } from "../../src/aws/imds.ts";
import { startLocalMetadata, type LocalMetadata } from "../helpers/imds-server.ts";

let imds: LocalMetadata;
beforeAll(async () => {
  imds = await startLocalMetadata({ metadata: { "instance-id": "i-0abc", "placement/region": "eu-west-1" }, identity: { accountId: "111122223333", region: "eu-west-1" } });
});
afterAll(() => imds.close());

const port = (extra: NodeJS.ProcessEnv = {}, timeoutMs = 300) => createMetadataPort({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint, ...extra }, timeoutMs });

describe("instance metadata (IMDSv2)", () => {
  test("one session token serves every request; a leading / is dropped", async () => {
    const before = imds.tokenRequests;
    const metadata = port();
    expect(await metadata.get("instance-id")).toBe("i-0abc");
    expect(await metadata.get("/placement/region")).toBe("eu-west-1");
    expect(await metadata.identity()).toEqual({ accountId: "111122223333", region: "eu-west-1" });
    expect(imds.tokenRequests - before).toBe(1);
  });

  test("an expired token is replaced once", async () => {
    const metadata = port();
    await metadata.get("instance-id");
    const before = imds.tokenRequests;
    imds.expireTokens();
    expect(await metadata.get("instance-id")).toBe("i-0abc");
    expect(imds.tokenRequests - before).toBe(1);
  });

  test("5xx and silence are tried again; 404 is not, and is worded", async () => {
    imds.failNext(1, "error");
    imds.failNext(1, "hang");
    expect(await port().get("instance-id")).toBe("i-0abc");
    const gets = imds.gets.length;
    await expect(port().get("no/such/path")).rejects.toThrow("instance metadata 'no/such/path' could not be read: there is no such metadata path on this instance (HTTP 404)");
    expect(imds.gets.length - gets).toBe(1);
  });

  test("nothing answering: three short tries, then a sentence saying it is probably not EC2", async () => {
    imds.failNext(3, "hang");
    const started = performance.now();
    await expect(port({}, 200).get("instance-id")).rejects.toThrow(/no answer from http:\/\/127\.0\.0\.1:\d+ within 200 ms \(3 tries\); awstoe is probably not running on EC2/);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  test("identity() is undefined off EC2 (nothing listening), and IMDS can be turned off", async () => {
    const closed = createMetadataPort({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:9" }, timeoutMs: 200 });
    expect(await closed.identity()).toBeUndefined();
    await expect(closed.get("instance-id")).rejects.toThrow(/could not be reached \(ECONNREFUSED\)/);
    const off = port({ AWS_EC2_METADATA_DISABLED: "true" });
    const before = imds.tokenRequests;
    expect(await off.identity()).toBeUndefined();
    await expect(off.get("instance-id")).rejects.toThrow("instance metadata is turned off (AWS_EC2_METADATA_DISABLED)");
    expect(imds.tokenRequests).toBe(before);
  });

  test("a stop ends a call at once", async () => {
    imds.failNext(1, "hang");
    const controller = new AbortController();
    const pending = port({}, 5_000).get("instance-id", controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow(/stopped/);
  });
});
