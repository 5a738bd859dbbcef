/**
 * @module engine/document-sources: reading a document from where it lives (cli.md §5) — a local
 * path, `s3://bucket/key` through the S3 port (with the expected bucket owner when given), or an
 * Image Builder component ARN through GetComponent in the ARN's region. Remote documents are read
 * no further than the document size limit. Used by `run` (top-level documents, config documents,
 * ExecuteDocument children) and by `validate`, so every command reads sources the same way.
 */
import type { S3Port } from "../aws/s3-port.ts";
import { createImageBuilderPort, type ImageBuilderPort } from "../aws/imagebuilder.ts";
import { decodeDocument, failureFor, formatBytes, loadLocalDocument, MAX_DOCUMENT_BYTES, type LoadResult } from "../document/load.ts";
import { COMPONENT_ARN_FORM, isArnSource, parseComponentArn } from "../model/component-arn.ts";

export type DocumentLoader = (source: string, options?: { bucketOwner?: string }) => Promise<LoadResult>;

export interface RemoteSourceOptions {
  /** GetComponent for ARNs; by default the SDK's, loaded on the first ARN. */
  imageBuilder?: ImageBuilderPort;
  /** Stops a fetch under way when the run is interrupted. */
  signal?: AbortSignal;
}

/**
 * JSON escapes can make a response up to six times the text it carries (`\u0001`), so any document
 * within the limit fits in this; the cap only stops an endpoint sending far more than that.
 */
const MAX_COMPONENT_RESPONSE_BYTES = 6 * MAX_DOCUMENT_BYTES + 64 * 1024;

export function documentLoader(s3: S3Port, bucketOwner?: string, remote: RemoteSourceOptions = {}): DocumentLoader {
  let imageBuilder = remote.imageBuilder;
  return async (source, options) => {
    if (/^s3:\/\//i.test(source)) return loadFromS3(s3, source, options?.bucketOwner || bucketOwner);
    if (isArnSource(source)) return loadFromImageBuilder((imageBuilder ??= createImageBuilderPort()), source, remote.signal);
    return loadLocalDocument(source);
  };
}

async function loadFromS3(s3: S3Port, source: string, bucketOwner: string | undefined): Promise<LoadResult> {
  const fail = failureFor(source);
  const match = /^s3:\/\/([^/]+)\/(.+)$/i.exec(source);
  if (match === null) return fail("E_SOURCE_UNREADABLE", `failed to load document '${source}': not an s3://bucket/key URI`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    const body = await s3.getObject(match[1]!, match[2]!, bucketOwner ? { expectedBucketOwner: bucketOwner } : {});
    for await (const chunk of body) {
      size += chunk.length;
      if (size > MAX_DOCUMENT_BYTES) return fail("E_SOURCE_TOO_LARGE", `failed to load document '${source}': it is larger than ${formatBytes(MAX_DOCUMENT_BYTES)}`);
      chunks.push(chunk);
    }
  } catch (error) {
    return fail("E_SOURCE_UNREADABLE", `failed to load document '${source}': ${(error as Error).message}`);
  }
  return decodeDocument(Buffer.concat(chunks), fail);
}

/** GetComponent's `data` is the document; it passes the same size and text checks as a file. */
async function loadFromImageBuilder(port: ImageBuilderPort, source: string, signal: AbortSignal | undefined): Promise<LoadResult> {
  const fail = failureFor(source);
  const parsed = parseComponentArn(source);
  if (!parsed.ok) {
    return fail("E_SOURCE_UNREADABLE", `failed to load document '${source}': not an Image Builder component ARN (${parsed.problem})`, `expected ${COMPONENT_ARN_FORM}`);
  }
  const fetched = await port.getComponentData(parsed.arn, { maxResponseBytes: MAX_COMPONENT_RESPONSE_BYTES, ...(signal ? { signal } : {}) });
  if (!fetched.ok) return fail("E_SOURCE_UNREADABLE", `failed to load document '${source}': ${fetched.reason}`);
  const bytes = Buffer.from(fetched.data, "utf8");
  if (bytes.length > MAX_DOCUMENT_BYTES) {
    return fail("E_SOURCE_TOO_LARGE", `failed to load document '${source}': the component's document is ${formatBytes(bytes.length)}; the limit is ${formatBytes(MAX_DOCUMENT_BYTES)}`);
  }
  return decodeDocument(bytes, fail);
}
