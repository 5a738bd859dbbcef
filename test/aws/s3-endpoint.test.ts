/**
 * Path-style addressing follows every way the SDK's chain can name an S3 endpoint. The e2e tests
 * cannot show the difference (the SDK already uses path style for IP-address endpoints such as
 * 127.0.0.1), so this checks the decision itself, with the real SDK reading real config files.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { endpointOverridden } from "../../src/aws/s3.ts";
import { isolatedAwsEnv } from "../helpers/aws-env.ts";

const dir = mkdtempSync(join(tmpdir(), "opentoe-s3-endpoint-"));
const config = join(dir, "config");
writeFileSync(config, ["[profile store]", "region = us-east-1", "endpoint_url = http://minio.internal:9000", "", "[profile plain]", "region = us-east-1", ""].join("\n"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function decide(env: Record<string, string | undefined>): Promise<boolean> {
  const saved = process.env;
  process.env = isolatedAwsEnv(dir, { AWS_REGION: "us-east-1", ...env });
  try {
    return await endpointOverridden(await import("@aws-sdk/client-s3"));
  } finally {
    process.env = saved;
  }
}

describe("endpointOverridden (path-style addressing)", () => {
  test("a profile's endpoint_url counts, as do AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL", async () => {
    expect(await decide({ AWS_CONFIG_FILE: config, AWS_PROFILE: "store" })).toBe(true);
    expect(await decide({ AWS_ENDPOINT_URL_S3: "http://minio.internal:9000" })).toBe(true);
    expect(await decide({ AWS_ENDPOINT_URL: "http://minio.internal:9000" })).toBe(true);
  });
  test("no endpoint anywhere: virtual-hosted addressing, as for AWS itself", async () => {
    expect(await decide({ AWS_CONFIG_FILE: config, AWS_PROFILE: "plain" })).toBe(false);
    expect(await decide({})).toBe(false);
  });
});
