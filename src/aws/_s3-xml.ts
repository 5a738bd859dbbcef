/**
 * @module aws/_s3-xml: the two XML answers the direct S3 requests read — a ListObjectsV2 page and
 * an error — taken apart by their few fixed elements. S3's XML is flat and generated, so element
 * matching is enough; keys are asked for with `encoding-type=url`, so no key text (which may hold
 * any character, XML-special or not) has to survive XML escaping.
 */
import type { S3Listed } from "../model/ports.ts";

/** One page of a listing: the objects, and the token of the next page when there is one. */
export interface ListPage {
  objects: S3Listed[];
  truncated: boolean;
  next?: string;
}

/**
 * A ListObjectsV2 answer. With `<EncodingType>url</EncodingType>` keys are URL-encoded with `+`
 * for a space (as S3 and the AWS CLI do it); a store that ignored the request sends them plain.
 * A Contents entry without a key or with a size that is not a number makes the page unreadable.
 */
export function parseListPage(xml: string): ListPage {
  const urlEncoded = elementText(xml, "EncodingType")?.toLowerCase() === "url";
  const objects: S3Listed[] = [];
  for (const match of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const entry = match[1]!;
    const rawKey = elementText(entry, "Key");
    const size = Number(elementText(entry, "Size") ?? "0");
    if (rawKey === undefined || !Number.isSafeInteger(size) || size < 0) throw new Error(`the listing has an entry without a key or size: ${entry.slice(0, 200)}`);
    objects.push({ key: urlEncoded ? decodeURIComponent(rawKey.replace(/\+/g, " ")) : rawKey, size });
  }
  const truncated = elementText(xml, "IsTruncated") === "true";
  const next = elementText(xml, "NextContinuationToken");
  return { objects, truncated, ...(next ? { next } : {}) };
}

/** The `<Code>` and `<Message>` of an S3 error answer, when it has them. */
export function parseError(xml: string): { code?: string; message?: string } {
  const code = elementText(xml, "Code");
  const message = elementText(xml, "Message");
  return { ...(code ? { code } : {}), ...(message ? { message } : {}) };
}

/** The text of the first `<name>…</name>` in `xml`, XML escapes undone; undefined when absent. */
function elementText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match === null ? undefined : unescapeXml(match[1]!);
}

const NAMED_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (whole, entity: string) => {
    if (entity[0] !== "#") return NAMED_ENTITIES[entity.toLowerCase()] ?? whole;
    const point = entity[1] === "x" || entity[1] === "X" ? Number.parseInt(entity.slice(2), 16) : Number.parseInt(entity.slice(1), 10);
    return point <= 0x10ffff ? String.fromCodePoint(point) : whole;
  });
}
