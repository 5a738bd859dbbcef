/**
 * @module aws/s3: the S3Port on the AWS SDK for JavaScript v3. The SDK is imported on first use,
 * so commands that never touch S3 start without loading it. Credentials, region and endpoint come
 * from the SDK's own chain (environment, shared config/profiles, web identity, container and
 * instance roles; AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 / a profile's endpoint_url). With an
 * endpoint override, path-style addressing is used, which S3-compatible stores expect.
 */
import { createReadStream } from "node:fs";
import { StepError } from "../errors.ts";
import type { S3Options, S3Port } from "./s3-port.ts";

type Sdk = typeof import("@aws-sdk/client-s3");

export function createS3Port(env: NodeJS.ProcessEnv = process.env): S3Port {
  let loaded: Promise<{ sdk: Sdk; client: InstanceType<Sdk["S3Client"]> }> | undefined;
  const connect = () =>
    (loaded ??= import("@aws-sdk/client-s3").then((sdk) => ({
      sdk,
      client: new sdk.S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL) }),
    })));
  return {
    async getObject(bucket, key, options) {
      const { sdk, client } = await connect();
      try {
        const result = await client.send(
          new sdk.GetObjectCommand({ Bucket: bucket, Key: key, ...owner(options) }),
          { abortSignal: options.signal as never },
        );
        return result.Body as AsyncIterable<Uint8Array>;
      } catch (error) {
        throw s3Failure(error, "download", bucket, key);
      }
    },
    async putFile(bucket, key, file, options) {
      const { client } = await connect();
      const { Upload } = await import("@aws-sdk/lib-storage");
      try {
        // lib-storage switches to multipart above one part (5 MiB) and streams the file.
        const upload = new Upload({ client, params: { Bucket: bucket, Key: key, Body: createReadStream(file), ...owner(options) }, partSize: 8 * 1024 * 1024, queueSize: 4 });
        options.signal?.addEventListener("abort", () => void upload.abort(), { once: true });
        await upload.done();
      } catch (error) {
        throw s3Failure(error, "upload to", bucket, key);
      }
    },
    async listKeys(bucket, prefix, limit, options) {
      const { sdk, client } = await connect();
      const keys: string[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await client.send(
            new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, ...owner(options) }),
            { abortSignal: options.signal as never },
          );
          for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
          if (keys.length > limit) throw new StepError(`s3://${bucket}/${prefix} holds more than ${limit} objects; download fewer at a time`);
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token !== undefined);
      } catch (error) {
        throw s3Failure(error, "list", bucket, prefix);
      }
      return keys;
    },
  };
}

function owner(options: S3Options): { ExpectedBucketOwner?: string } {
  return options.expectedBucketOwner ? { ExpectedBucketOwner: options.expectedBucketOwner } : {};
}

/** An SDK error as one sentence naming the object, the operation and the cause — never an SDK dump. */
export function s3Failure(error: unknown, operation: string, bucket: string, key: string): StepError {
  if (error instanceof StepError) return error;
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const where = `cannot ${operation} s3://${bucket}/${key}`;
  const status = e.$metadata?.httpStatusCode;
  const causes: Record<string, string> = {
    NoSuchKey: "no such key",
    NotFound: "no such key",
    NoSuchBucket: `bucket '${bucket}' does not exist`,
    AccessDenied: "access denied (check the credentials' permissions and expectedBucketOwner)",
    SignatureDoesNotMatch: "the request signature was refused (check the secret access key)",
    InvalidAccessKeyId: "the access key id is not known to S3",
    CredentialsProviderError: "no AWS credentials were found (environment, shared files, or instance role)",
    AbortError: "stopped",
  };
  const name = e.name ?? e.code ?? "";
  let cause = causes[name];
  if (cause === undefined && /region/i.test(e.message ?? "")) cause = "no AWS region is configured (set AWS_REGION or a profile's region)";
  if (cause === undefined && /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|socket|connect/i.test(`${e.code ?? ""} ${e.message ?? ""}`)) cause = `the S3 endpoint could not be reached (${e.code ?? e.message})`;
  cause ??= `${name || "error"}${status ? ` (HTTP ${status})` : ""}: ${(e.message ?? String(error)).split("\n")[0]}`;
  return new StepError(`${where}: ${cause}`);
}
