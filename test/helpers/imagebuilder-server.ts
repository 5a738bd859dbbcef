/**
 * @module test/helpers/imagebuilder-server: a local stand-in for EC2 Image Builder's GetComponent
 * on 127.0.0.1, for tests: the unmodified AWS SDK (or the compiled awstoe) is pointed at it with
 * AWS_ENDPOINT_URL_IMAGEBUILDER. There is no Image Builder emulator to run here, so this speaks
 * the service's REST-JSON wire format as its API reference documents it:
 *
 *   GET /GetComponent?componentBuildVersionArn=<arn>  →  200 {"requestId", "component": {...},
 *                                                           "latestVersionReferences": {...}}
 *   errors: status + `x-amzn-errortype: <Name>:<namespace>` + {"message": "..."}
 *
 * Every request must carry a valid AWS Signature V4 for service `imagebuilder` (checked with the
 * SDK's own signer and the test secret, test/helpers/sigv4); the signed region of each request is
 * recorded. A build ARN returns that build; a version ARN (also with trailing `x` wildcards) the
 * newest matching one.
 */
import { isolatedAwsEnv } from "./aws-env.ts";
import { parseAuthorization, signingRefusal } from "./sigv4.ts";

export const IB_ACCESS_KEY_ID = "AKIDIMAGEBUILDERTEST";
export const IB_SECRET_ACCESS_KEY = "image-builder-test-secret";

/** The pattern GetComponent's API reference gives for componentBuildVersionArn. */
const SERVICE_ARN_PATTERN =
  /^arn:aws[^:]*:imagebuilder:[^:]+:(?:[0-9]{12}|aws(?:-[a-z-]+)?|third-party):component\/[a-z0-9-_]+\/(?:(?:([0-9]+|x)\.([0-9]+|x)\.([0-9]+|x))|(?:[0-9]+\.[0-9]+\.[0-9]+\/[0-9]+))$/;

export interface SeenRequest {
  /** componentBuildVersionArn as received. */
  arn: string;
  /** Region from the SigV4 credential scope, or "" when unsigned. */
  region: string;
  /** Service from the credential scope. */
  service: string;
  signatureValid: boolean;
}

export interface ServiceError {
  status: number;
  type: string;
  message: string;
}

export interface LocalImageBuilder {
  endpoint: string;
  /** Every GetComponent request, in order. */
  requests: SeenRequest[];
  /** Stores a build: `arn` must be a build-version ARN (…/x.y.z/n). */
  addComponent(arn: string, data: string, extra?: { platform?: string }): void;
  /** Answers requests for exactly this ARN with an error instead. */
  failFor(arn: string, error: ServiceError): void;
  /** Sends this ARN's response without a content-length (chunked), as a streaming server may. */
  chunkedFor(arn: string): void;
  close(): void;
}

interface Build {
  arn: string;
  prefix: string;
  version: number[];
  build: number;
  data: string;
  platform: string;
}

export const SERVICE_ERRORS = {
  notFound: (arn: string): ServiceError => ({ status: 404, type: "ResourceNotFoundException", message: `The resource ARN '${arn}' does not exist.` }),
  forbidden: (): ServiceError => ({ status: 403, type: "ForbiddenException", message: "You are not authorized to perform this operation." }),
  invalidArn: (): ServiceError => ({
    status: 400,
    type: "InvalidParameterValueException",
    message: `The value supplied for parameter 'componentBuildVersionArn' is not valid. 'componentBuildVersionArn' must match pattern ${SERVICE_ARN_PATTERN.source}`,
  }),
  internal: (): ServiceError => ({ status: 500, type: "ServiceException", message: "An internal error occurred." }),
};

export function startImageBuilder(): LocalImageBuilder {
  const builds: Build[] = [];
  const failures = new Map<string, ServiceError>();
  const chunked = new Set<string>();
  const requests: SeenRequest[] = [];
  let counter = 0;

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const requestId = `00000000-0000-4000-8000-${String(++counter).padStart(12, "0")}`;
      const fail = (error: ServiceError) =>
        Response.json(
          { message: error.message },
          { status: error.status, headers: { "x-amzn-errortype": `${error.type}:http://internal.amazon.com/coral/com.amazon.imagebuilder/`, "x-amzn-requestid": requestId } },
        );
      if (request.method !== "GET" || url.pathname !== "/GetComponent") {
        return fail({ status: 404, type: "UnknownOperationException", message: `no operation at ${request.method} ${url.pathname}` });
      }
      const arn = url.searchParams.get("componentBuildVersionArn") ?? "";
      const auth = parseAuthorization(request.headers.get("authorization"));
      const seen: SeenRequest = { arn, region: auth?.region ?? "", service: auth?.service ?? "", signatureValid: false };
      requests.push(seen);
      const refusal = await signingRefusal(request, url, undefined, { accessKeyId: IB_ACCESS_KEY_ID, secret: IB_SECRET_ACCESS_KEY }, auth);
      seen.signatureValid = refusal === undefined;
      if (refusal !== undefined) return fail({ status: 403, ...refusal });
      const forced = failures.get(arn);
      if (forced !== undefined) return fail(forced);
      if (!SERVICE_ARN_PATTERN.test(arn)) return fail(SERVICE_ERRORS.invalidArn());
      const found = resolve(builds, arn);
      if (found === undefined) return fail(SERVICE_ERRORS.notFound(arn));
      const body = JSON.stringify(responseFor(found, requestId));
      const headers = { "content-type": "application/json", "x-amzn-requestid": requestId };
      if (!chunked.has(arn)) return new Response(body, { headers });
      const bytes = new TextEncoder().encode(body);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 64 * 1024) controller.enqueue(bytes.subarray(at, at + 64 * 1024));
          controller.close();
        },
      });
      return new Response(stream, { headers });
    },
  });

  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    requests,
    addComponent(arn, data, extra = {}) {
      const match = /^(arn:[^:]+:imagebuilder:[^:]+:[^:]+:component\/[^/]+\/)(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(arn);
      if (match === null) throw new Error(`addComponent needs a build-version ARN, got ${arn}`);
      builds.push({ arn, prefix: match[1]!, version: [Number(match[2]), Number(match[3]), Number(match[4])], build: Number(match[5]), data, platform: extra.platform ?? "Linux" });
    },
    failFor(arn, error) {
      failures.set(arn, error);
    },
    chunkedFor(arn) {
      chunked.add(arn);
    },
    close() {
      server.stop(true);
    },
  };
}

/** A build ARN names itself; a version ARN (x wildcards allowed) the newest matching build. */
function resolve(builds: Build[], arn: string): Build | undefined {
  const exact = builds.find((b) => b.arn === arn);
  if (exact !== undefined) return exact;
  const match = /^(.*\/)([0-9x]+)\.([0-9x]+)\.([0-9x]+)$/.exec(arn);
  if (match === null) return undefined;
  const wanted = [match[2]!, match[3]!, match[4]!];
  const candidates = builds.filter((b) => b.prefix === match[1] && wanted.every((part, i) => part === "x" || Number(part) === b.version[i]));
  candidates.sort((a, b) => compare([...a.version, a.build], [...b.version, b.build]));
  return candidates.at(-1);
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function responseFor(build: Build, requestId: string) {
  const [, partition, , region, owner, resource] = build.arn.split(":") as string[];
  const name = resource!.split("/")[1]!;
  const base = `arn:${partition}:imagebuilder:${region}:${owner}:component/${name}`;
  const [major, minor, patch] = build.version;
  return {
    requestId,
    component: {
      arn: build.arn,
      name,
      version: build.version.join("."),
      description: "test component",
      type: "BUILD",
      platform: build.platform,
      owner,
      data: build.data,
      encrypted: true,
      dateCreated: "2024-03-05T08:09:10.000Z",
      state: { status: "ACTIVE" },
      tags: {},
    },
    latestVersionReferences: {
      latestVersionArn: `${base}/x.x.x`,
      latestMajorVersionArn: `${base}/${major}.x.x`,
      latestMinorVersionArn: `${base}/${major}.${minor}.x`,
      latestPatchVersionArn: `${base}/${major}.${minor}.${patch}`,
    },
  };
}

/**
 * Environment for a child awstoe (or this process's SDK) that reaches only this server: every
 * AWS_* variable removed, shared files and instance metadata out of reach, then `extra` merged
 * (`undefined` removes a variable). AWS_REGION is deliberately a different region than the test
 * ARNs use, so the signed region proves the ARN's region was taken.
 */
export function imageBuilderEnv(ib: { endpoint: string }, dir: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  return isolatedAwsEnv(dir, {
    AWS_ENDPOINT_URL_IMAGEBUILDER: ib.endpoint,
    AWS_REGION: "ap-southeast-2",
    AWS_ACCESS_KEY_ID: IB_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: IB_SECRET_ACCESS_KEY,
    ...extra,
  });
}
