/**
 * @module engine/document-sources: reading a document from where it lives — a local path, or
 * `s3://bucket/key` through the S3 port (with the expected bucket owner when given). The S3 body
 * is read no further than the document size limit. Image Builder ARNs are not handled yet.
 */
import type { S3Port } from "../aws/s3-port.ts";
import { decodeDocument, failureFor, formatBytes, loadLocalDocument, MAX_DOCUMENT_BYTES, type LoadResult } from "../document/load.ts";

export function documentLoader(s3: S3Port, bucketOwner?: string): (source: string) => Promise<LoadResult> {
  return async (source) => {
    if (!/^s3:\/\//i.test(source)) return loadLocalDocument(source);
    const fail = failureFor(source);
    const match = /^s3:\/\/([^/]+)\/(.+)$/i.exec(source);
    if (match === null) return fail("E_SOURCE_UNREADABLE", `failed to load document '${source}': not an s3://bucket/key URI`);
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      const body = await s3.getObject(match[1]!, match[2]!, bucketOwner ? { expectedBucketOwner: bucketOwner } : {});
      for await (const chunk of body) {
        size += chunk.length;
        if (size > MAX_DOCUMENT_BYTES) return fail("E_SOURCE_TOO_LARGE", `document is larger than ${formatBytes(MAX_DOCUMENT_BYTES)}`);
        chunks.push(chunk);
      }
    } catch (error) {
      return fail("E_SOURCE_UNREADABLE", `failed to load document '${source}': ${(error as Error).message}`);
    }
    return decodeDocument(Buffer.concat(chunks), fail);
  };
}
