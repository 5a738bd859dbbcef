/**
 * @module test/helpers/sigv4: AWS Signature V4 checking for the local test services (S3, Image
 * Builder, CloudWatch Logs). Each service reads the Authorization header with parseAuthorization;
 * signatureMatches recomputes the signature with the SDK's own signer (@smithy/signature-v4) and
 * the test secret, and signingRefusal words a refusal the way the JSON-protocol services do — so a
 * request the unmodified SDK signed with the wrong key, secret or headers is refused as AWS would.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

/** The parts of an `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header. */
export interface SigV4Authorization {
  accessKeyId: string;
  /** The credential scope's day, YYYYMMDD. */
  date: string;
  region: string;
  service: string;
  /** Lower-case header names, in the order the client listed them. */
  signedHeaders: string[];
  /** 64 hex digits. */
  signature: string;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

/** The request's SigV4 Authorization header taken apart, or undefined when it is missing or not SigV4. */
export function parseAuthorization(header: string | null | undefined): SigV4Authorization | undefined {
  const match = AUTHORIZATION.exec(header ?? "");
  if (match === null) return undefined;
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match as unknown as string[];
  return { accessKeyId: accessKeyId!, date: date!, region: region!, service: service!, signedHeaders: signedHeaders!.split(";"), signature: signature! };
}

/**
 * Whether `auth.signature` is what the client should have sent when signing this request with
 * `secret`. `body` is the payload for services that sign it (CloudWatch's JSON); leave it out where
 * the client states the payload hash in x-amz-content-sha256 (S3) or sends none (a GET). S3 signs
 * the path as sent; every other service escapes it once more, as the SDK does for each.
 */
export async function signatureMatches(request: Request, url: URL, body: string | undefined, secret: string, auth: SigV4Authorization): Promise<boolean> {
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) headers[name] = request.headers.get(name) ?? "";
  const token = request.headers.get("x-amz-security-token");
  const signer = new SignatureV4({
    service: auth.service,
    region: auth.region,
    sha256: Sha256,
    uriEscapePath: auth.service !== "s3",
    // Add no header of its own: the signed headers are exactly the ones the client listed.
    applyChecksum: false,
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) },
  });
  const signed = await signer.sign(
    { method: request.method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname, query: queryOf(url), headers, ...(body !== undefined ? { body } : {}) },
    { signingDate: signingDate(request), unsignableHeaders: new Set(), signableHeaders: new Set(auth.signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? signed.headers.Authorization))?.[1];
  return expected === auth.signature;
}

/** The query string as the signer takes it: a repeated parameter becomes a list. */
function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) query[key] = key in query ? ([] as string[]).concat(query[key]!, value) : value;
  return query;
}

/** The x-amz-date header (YYYYMMDDTHHMMSSZ) as a Date, so the recomputed signature uses the client's time. */
function signingDate(request: Request): Date {
  const amzDate = request.headers.get("x-amz-date") ?? "";
  return new Date(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"));
}

/** The key a test service accepts: its access key id and secret, and the service name it signs for. */
export interface TestKey {
  accessKeyId: string;
  secret: string;
  /** When set, a request signed for another service is refused as a bad signature. */
  service?: string;
}

/**
 * Why a JSON-protocol service (Image Builder, CloudWatch Logs) refuses the request's signing —
 * no SigV4 header, an unknown access key id, a wrong signature — as the service's own error type
 * and message; undefined when the request is signed with `key`. Each service picks its status.
 */
export async function signingRefusal(request: Request, url: URL, body: string | undefined, key: TestKey, auth: SigV4Authorization | undefined): Promise<{ type: string; message: string } | undefined> {
  if (auth === undefined) return { type: "MissingAuthenticationTokenException", message: "Missing Authentication Token" };
  if (auth.accessKeyId !== key.accessKeyId) return { type: "UnrecognizedClientException", message: "The security token included in the request is invalid." };
  if ((key.service !== undefined && auth.service !== key.service) || !(await signatureMatches(request, url, body, key.secret, auth))) {
    return { type: "InvalidSignatureException", message: "The request signature we calculated does not match the signature you provided." };
  }
  return undefined;
}
