/**
 * @module aws/s3: the S3Port on the AWS SDK for JavaScript v3. The SDK is imported on first use,
 * so commands that never touch S3 start without loading it. Credentials, region and endpoint come
 * from the SDK's own chain (environment, shared config/profiles, web identity, container and
 * instance roles; AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 / a profile's endpoint_url). With an
 * endpoint override, path-style addressing is used, which S3-compatible stores expect.
 */
import { createReadStream } from "node:fs";
import { StepError } from "../errors.ts";
import { commonCause, firstLine, statusOf } from "./_cause.ts";
import type { S3Options, S3Port } from "./s3-port.ts";

type Sdk = typeof import("@aws-sdk/client-s3");

export function createS3Port(): S3Port {
  let loaded: Promise<{ sdk: Sdk; client: InstanceType<Sdk["S3Client"]>; downloads: InstanceType<Sdk["S3Client"]> }> | undefined;
  const connect = () =>
    (loaded ??= Promise.all([import("@aws-sdk/client-s3"), import("@smithy/fetch-http-handler")]).then(async ([sdk, { FetchHttpHandler }]) => {
      const forcePathStyle = await endpointOverridden(sdk);
      return {
        sdk,
        client: new sdk.S3Client({ forcePathStyle }),
        // Object bodies come through fetch: under Bun, the node:http client grew by 50–85 MB while
        // streaming a 512 MB object (peak RSS 160–167 MB); through fetch the peak stayed at
        // ~113 MB at the same speed (scripts/bench-download.ts).
        downloads: new sdk.S3Client({ forcePathStyle, requestHandler: new FetchHttpHandler() }),
      };
    }));
  return {
    async getObject(bucket, key, options) {
      const { sdk, downloads: client } = await connect();
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
      const tokens = new Set<string>();
      try {
        do {
          const page = await client.send(
            new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, ...owner(options) }),
            { abortSignal: options.signal as never },
          );
          for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
          if (keys.length > limit) throw new StepError(`s3://${bucket}/${prefix} holds more than ${limit} objects; download fewer at a time`);
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
          // A broken or hostile server could page forever (a repeated token, or pages without
          // keys that never end): every token must be new, and a truncated page must carry one.
          if (page.IsTruncated && !token) throw new StepError(`cannot list s3://${bucket}/${prefix}: the server said the listing goes on but sent no continuation token`);
          if (token !== undefined && tokens.has(token)) {
            throw new StepError(`cannot list s3://${bucket}/${prefix}: the server sent the continuation token '${token.slice(0, 80)}' again after ${tokens.size + 1} pages, so the listing would never end`);
          }
          if (token !== undefined) tokens.add(token);
        } while (token !== undefined);
      } catch (error) {
        throw s3Failure(error, "list", bucket, prefix);
      }
      return keys;
    },
  };
}

/**
 * Whether the SDK's chain names an endpoint of its own for S3 — AWS_ENDPOINT_URL_S3,
 * AWS_ENDPOINT_URL, or the profile's `endpoint_url` (also under `services`). S3-compatible stores
 * behind such an endpoint expect path-style addresses (`host/bucket/key`), since `bucket.host`
 * names rarely resolve for them. The SDK resolves this itself; a throwaway client asks it.
 */
export async function endpointOverridden(sdk: Sdk): Promise<boolean> {
  const probe = new sdk.S3Client({});
  try {
    const configured = (probe.config as { serviceConfiguredEndpoint?: () => Promise<string | undefined> }).serviceConfiguredEndpoint;
    return (await configured?.().catch(() => undefined)) !== undefined;
  } finally {
    probe.destroy();
  }
}

function owner(options: S3Options): { ExpectedBucketOwner?: string } {
  return options.expectedBucketOwner ? { ExpectedBucketOwner: options.expectedBucketOwner } : {};
}

/** An SDK error as one sentence naming the object, the operation and the cause — never an SDK dump. */
export function s3Failure(error: unknown, operation: string, bucket: string, key: string): StepError {
  if (error instanceof StepError) return error;
  const e = error as { name?: string; code?: string };
  const status = statusOf(error);
  const ownCauses: Record<string, string> = {
    NoSuchKey: "no such key",
    NotFound: "no such key",
    NoSuchBucket: `bucket '${bucket}' does not exist`,
  };
  const name = e.name ?? e.code ?? "";
  const cause =
    ownCauses[name] ??
    commonCause(error, {
      endpoint: "the S3 endpoint",
      regionHint: "set AWS_REGION or a profile's region",
      accessHint: "check the credentials' permissions and expectedBucketOwner",
      unknownKey: "the access key id is not known to S3",
      stopped: "stopped",
    }) ??
    `${name || "error"}${status ? ` (HTTP ${status})` : ""}: ${firstLine(error)}`;
  return new StepError(`cannot ${operation} s3://${bucket}/${key}: ${cause}`);
}
