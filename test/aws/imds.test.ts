/** aws/imds.ts against a stand-in IMDSv2 on 127.0.0.1 (test/helpers/imds-server.ts). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMetadataPort, type MetadataPortOptions } from "../../src/aws/imds.ts";
import { metadataEnv, startLocalMetadata, type LocalMetadata } from "../helpers/imds-server.ts";

const IDENTITY = { accountId: "111122223333", region: "eu-west-1" };
let imds: LocalMetadata;
let dir: string;
/** An address where nothing listens: a server's port, once it is closed. */
let closed: string;
beforeAll(async () => {
  imds = await startLocalMetadata({ metadata: { "instance-id": "i-0abc", "placement/region": "eu-west-1", "tags/instance/Name": "web server" }, identity: IDENTITY });
  const gone = await startLocalMetadata();
  closed = gone.endpoint;
  gone.close();
  dir = mkdtempSync(join(tmpdir(), "imds-test-"));
});
afterAll(() => {
  imds.close();
  rmSync(dir, { recursive: true, force: true });
});

/** No developer's ~/.aws/config can change where the port goes. */
const isolated = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ AWS_CONFIG_FILE: join(dir, "no-such-config"), HOME: dir, ...extra });
const port = (extra: NodeJS.ProcessEnv = {}, options: Omit<MetadataPortOptions, "env"> = { timeoutMs: 300 }) =>
  createMetadataPort({ env: isolated({ ...metadataEnv(imds), ...extra }), ...options });
const aborted = () => AbortSignal.abort();
/** IPv6 loopback, where the machine has it (a container may not). */
const ipv6 = await startLocalMetadata({ hostname: "::1", metadata: { "instance-id": "i-v6" } }).catch(() => undefined);
afterAll(() => ipv6?.close());

describe("session tokens", () => {
  test("one token serves every request, also concurrent ones; a leading / is dropped", async () => {
    const before = imds.tokenRequests;
    const metadata = port();
    const answers = await Promise.all([metadata.get("instance-id"), metadata.get("/placement/region"), metadata.get("instance-id")]);
    expect(answers).toEqual(["i-0abc", "eu-west-1", "i-0abc"]);
    expect(await metadata.identity()).toEqual(IDENTITY);
    expect(await metadata.get("tags/instance/Name")).toBe("web server");
    expect(imds.tokenRequests - before).toBe(1);
  });

  test("a token that answers 401 is replaced once, and the new one is kept", async () => {
    const metadata = port();
    await metadata.get("instance-id");
    const before = imds.tokenRequests;
    imds.expireTokens();
    expect(await metadata.get("instance-id")).toBe("i-0abc");
    expect(await metadata.get("placement/region")).toBe("eu-west-1");
    expect(imds.tokenRequests - before).toBe(1);
  });
});

describe("retries and time limits", () => {
  test("5xx is tried again (100 ms, 200 ms apart) and then succeeds", async () => {
    const before = { requests: imds.requests, tokens: imds.tokenRequests };
    imds.failNext(2, "error");
    const started = performance.now();
    expect(await port().get("instance-id")).toBe("i-0abc");
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(imds.requests - before.requests).toBe(4); // PUT 500, PUT 500, PUT, GET
    expect(imds.tokenRequests - before.tokens).toBe(1);
  });

  test("5xx on every attempt: a sentence with the status, without blaming the place", async () => {
    const metadata = port();
    await metadata.get("instance-id");
    imds.failNext(3, "error");
    const error = await metadata.get("instance-id").catch((e: Error) => e);
    expect((error as Error).message).toBe(`instance metadata 'instance-id' could not be read: ${imds.endpoint} answered HTTP 500 (3 attempts)`);
  });

  test("404 is not tried again, and is worded", async () => {
    const metadata = port();
    await metadata.get("instance-id");
    const gets = imds.gets.length;
    await expect(metadata.get("no/such/path")).rejects.toThrow("instance metadata 'no/such/path' could not be read: there is no such metadata path on this instance (HTTP 404)");
    expect(imds.gets.length - gets).toBe(1);
  });

  test("silence: three short attempts under AWSTOE_IMDS_TIMEOUT_MS, then a sentence saying it is probably not EC2", async () => {
    imds.failNext(3, "hang");
    const started = performance.now();
    const error = await port({ AWSTOE_IMDS_TIMEOUT_MS: "200" }, {}).get("placement/region").catch((e: Error) => e);
    const took = performance.now() - started;
    expect((error as Error).message).toBe(
      `instance metadata 'placement/region' could not be read: no answer from ${imds.endpoint} within 200 ms (3 attempts); awstoe is probably not running on EC2 (in a container on EC2, the instance's metadata hop limit must be at least 2)`,
    );
    expect(took).toBeGreaterThanOrEqual(3 * 200 + 300 - 20);
    expect(took).toBeLessThan(3_000);
  });

  test("the default limit is 1 s per attempt", async () => {
    imds.failNext(1, "hang");
    const started = performance.now();
    await expect(port({}, { attempts: 1 }).get("instance-id")).rejects.toThrow(`no answer from ${imds.endpoint} within 1 s (1 attempt)`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(980);
  });

  test("nothing listening: identity() is undefined, get() names the refusal", async () => {
    const metadata = createMetadataPort({ env: isolated({ AWS_EC2_METADATA_SERVICE_ENDPOINT: closed }), timeoutMs: 300 });
    expect(await metadata.identity()).toBeUndefined();
    await expect(metadata.get("instance-id")).rejects.toThrow(`instance metadata 'instance-id' could not be read: ${closed} could not be reached (ECONNREFUSED) (3 attempts); awstoe is probably not running on EC2`);
  });

  test("identity() rejects when IMDS is there but fails", async () => {
    imds.failNext(3, "error");
    await expect(port().identity()).rejects.toThrow(`the instance identity document (latest/dynamic/instance-identity/document) could not be read: ${imds.endpoint} answered HTTP 500 (3 attempts)`);
    const bare = await startLocalMetadata();
    try {
      await expect(createMetadataPort({ env: isolated(metadataEnv(bare)) }).identity()).rejects.toThrow("answered HTTP 404");
    } finally {
      bare.close();
    }
  });
});

describe("stops", () => {
  test("a stop ends a waiting request at once", async () => {
    imds.failNext(1, "hang");
    const controller = new AbortController();
    const started = performance.now();
    const pending = port({}, { timeoutMs: 5_000 }).get("instance-id", controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow(`instance metadata 'instance-id' could not be read: stopped before ${imds.endpoint} answered (awstoe was interrupted)`);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  test("one caller's stop does not fail another caller waiting for the same token", async () => {
    imds.failNext(1, "hang"); // the shared token request
    const metadata = port({}, { timeoutMs: 5_000 });
    const controller = new AbortController();
    const stopped = metadata.get("instance-id", controller.signal);
    const waiting = metadata.get("placement/region");
    setTimeout(() => controller.abort(), 50);
    await expect(stopped).rejects.toThrow(/stopped before/);
    expect(await waiting).toBe("eu-west-1");
  });

  test("a stop during the backoff ends it, and a stopped signal sends nothing", async () => {
    imds.failNext(1, "error");
    const controller = new AbortController();
    const before = imds.requests;
    const pending = port().get("instance-id", controller.signal);
    setTimeout(() => controller.abort(), 50); // the first answer is back by then; the pause is 100 ms
    await expect(pending).rejects.toThrow(/stopped before/);
    await Bun.sleep(150);
    expect(imds.requests - before).toBe(1); // the 500, and no second attempt
    const requests = imds.requests;
    await expect(port().get("instance-id", aborted())).rejects.toThrow(/stopped before/);
    await expect(port().identity(aborted())).rejects.toThrow(/stopped before/);
    expect(imds.requests).toBe(requests);
  });
});

describe("where requests go", () => {
  test("AWS_EC2_METADATA_DISABLED turns every call off before anything is sent; 'false' does not", async () => {
    const before = imds.requests;
    const off = port({ AWS_EC2_METADATA_DISABLED: "true" });
    expect(await off.identity()).toBeUndefined();
    await expect(off.get("instance-id")).rejects.toThrow("instance metadata 'instance-id' could not be read: instance metadata is turned off (AWS_EC2_METADATA_DISABLED)");
    await expect(port({ AWS_EC2_METADATA_DISABLED: "1" }).get("instance-id")).rejects.toThrow("turned off");
    expect(imds.requests).toBe(before);
    expect(await port({ AWS_EC2_METADATA_DISABLED: "false" }).get("instance-id")).toBe("i-0abc");
  });

  test("the mode picks the address (IPv4 by default), the endpoint wins over the mode", async () => {
    // A stopped signal names the endpoint without sending anything to the real addresses.
    const at = (env: NodeJS.ProcessEnv) => createMetadataPort({ env: isolated(env) }).get("instance-id", aborted()).catch((e: Error) => e.message);
    expect(await at({})).toContain("stopped before http://169.254.169.254 answered");
    expect(await at({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6" })).toContain("stopped before http://[fd00:ec2::254] answered");
    expect(await at({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv4" })).toContain("stopped before http://169.254.169.254 answered");
    expect(await at({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6", AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint })).toContain(`stopped before ${imds.endpoint} answered`);
    expect(await at({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "ipv5" })).toBe("instance metadata 'instance-id' could not be read: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is 'ipv5'; it must be IPv4 or IPv6");
    expect(await at({ AWS_EC2_METADATA_SERVICE_ENDPOINT: "169.254.169.254" })).toBe(
      "instance metadata 'instance-id' could not be read: AWS_EC2_METADATA_SERVICE_ENDPOINT is '169.254.169.254', which is not an http:// or https:// URL",
    );
  });

  test("the profile's ec2_metadata_service_endpoint(_mode) in the shared config file; the environment wins", async () => {
    const config = join(dir, "config");
    writeFileSync(config, `[default]\nregion = us-east-1\n\n[profile imds]\n# a comment\nec2_metadata_service_endpoint = ${imds.endpoint} ; trailing comment\n[profile v6]\nec2_metadata_service_endpoint_mode = IPv6\n`);
    const env = (extra: NodeJS.ProcessEnv) => ({ AWS_CONFIG_FILE: config, HOME: dir, ...extra });
    expect(await createMetadataPort({ env: env({ AWS_PROFILE: "imds" }) }).get("instance-id")).toBe("i-0abc");
    const at = (extra: NodeJS.ProcessEnv) => createMetadataPort({ env: env(extra) }).get("instance-id", aborted()).catch((e: Error) => e.message);
    expect(await at({ AWS_PROFILE: "v6" })).toContain("http://[fd00:ec2::254]");
    expect(await at({})).toContain("http://169.254.169.254");
    expect(await at({ AWS_PROFILE: "imds", AWS_EC2_METADATA_SERVICE_ENDPOINT: closed })).toContain(closed);
    expect(await at({ AWS_PROFILE: "imds", AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6" })).toContain(imds.endpoint);
  });

  test("no proxy and no redirect take a request elsewhere", async () => {
    const elsewhere = await startLocalMetadata({ metadata: { "instance-id": "i-elsewhere" } });
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
    try {
      Object.assign(process.env, { HTTP_PROXY: elsewhere.endpoint, http_proxy: elsewhere.endpoint });
      delete process.env.NO_PROXY;
      delete process.env.no_proxy;
      const metadata = port();
      expect(await metadata.get("instance-id")).toBe("i-0abc");
      imds.failNext(1, { redirect: `${elsewhere.endpoint}/latest/meta-data/instance-id` });
      await expect(metadata.get("instance-id")).rejects.toThrow(`${imds.endpoint} answered HTTP 301`);
      expect(elsewhere.requests).toBe(0);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      elsewhere.close();
    }
  });

  test("a path cannot climb out of meta-data/, and odd characters stay in the path", async () => {
    const before = imds.requests;
    await expect(port().get("placement/../../dynamic/instance-identity/document")).rejects.toThrow(
      "instance metadata 'placement/../../dynamic/instance-identity/document' could not be read: a metadata path may not contain '.' or '..' segments",
    );
    expect(imds.requests).toBe(before);
    await expect(port().get("instance-id?x=1#y")).rejects.toThrow("HTTP 404");
    expect(imds.gets.at(-1)).toBe("/latest/meta-data/instance-id%3Fx%3D1%23y");
  });

  test.skipIf(ipv6 === undefined)("an IPv6 endpoint (bracketed in the URL) is reached", async () => {
    expect(ipv6!.endpoint).toStartWith("http://[::1]:");
    expect(await createMetadataPort({ env: isolated(metadataEnv(ipv6!)) }).get("instance-id")).toBe("i-v6");
  });
});
