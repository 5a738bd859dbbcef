/**
 * @module test/helpers/sts-server: STS GetCallerIdentity on 127.0.0.1, in the service's Query
 * protocol: a POST with the form body `Action=GetCallerIdentity&Version=2011-06-15`, answered in
 * XML; errors as `<ErrorResponse><Error><Type/><Code/><Message/></Error></ErrorResponse>`. Every
 * request's Signature V4 is checked against the key the server was started with
 * (test/helpers/sigv4), and refused with STS's own codes (InvalidClientTokenId,
 * SignatureDoesNotMatch), so the unmodified SDK in awstoe talks to it through
 * AWS_ENDPOINT_URL_STS. Calls are recorded; failures can be injected.
 *
 * `answerSts` is also used by the Parameter Store stand-in (ssm-server.ts), so one local endpoint
 * can serve a run that needs both.
 */
import { parseAuthorization, signingRefusal, type TestKey } from "./sigv4.ts";

export const STS_ACCESS_KEY_ID = "AKIDLOCALSTS";
export const STS_SECRET_ACCESS_KEY = "local-sts-secret";
export const ACCOUNT_ID = "123456789012";

export type StsFailure = "throttle" | "expired-token" | "server-error" | "hang";

export interface StsCall {
  action: string;
  /** The region of the request's signing scope. */
  region: string;
  status: number;
}

export interface LocalSts {
  endpoint: string;
  calls: StsCall[];
  /** Requests refused for their signing. */
  readonly badSignatures: number;
  /** The next `count` calls fail with `failure`. */
  failNext(count: number, failure: StsFailure): void;
  close(): void;
}

/** What one STS endpoint knows and remembers; shared with ssm-server.ts. */
export interface StsState {
  key: TestKey;
  account: string;
  calls: StsCall[];
  badSignatures: number;
  injected: { count: number; failure: StsFailure }[];
}

export function startLocalSts(options: { key?: TestKey; account?: string } = {}): LocalSts {
  const state: StsState = { key: options.key ?? { accessKeyId: STS_ACCESS_KEY_ID, secret: STS_SECRET_ACCESS_KEY }, account: options.account ?? ACCOUNT_ID, calls: [], badSignatures: 0, injected: [] };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      return answerSts(request, new URL(request.url), await request.text(), state);
    },
  });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    calls: state.calls,
    get badSignatures() {
      return state.badSignatures;
    },
    failNext: (count, failure) => void state.injected.push({ count, failure }),
    close: () => void server.stop(true),
  };
}

/** STS's codes for the refusals the JSON services word as sigv4.ts does. */
const STS_CODES: Record<string, string> = {
  MissingAuthenticationTokenException: "MissingAuthenticationToken",
  UnrecognizedClientException: "InvalidClientTokenId",
  InvalidSignatureException: "SignatureDoesNotMatch",
};

/** One Query-protocol request to STS, answered as the service would. */
export async function answerSts(request: Request, url: URL, body: string, state: StsState): Promise<Response> {
  const form = new URLSearchParams(body);
  const auth = parseAuthorization(request.headers.get("authorization"));
  const call: StsCall = { action: form.get("Action") ?? "", region: auth?.region ?? "", status: 200 };
  state.calls.push(call);
  const fail = (status: number, code: string, message: string, type = "Sender") => {
    call.status = status;
    const xml = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${crypto.randomUUID()}</RequestId></ErrorResponse>`;
    return new Response(xml, { status, headers: { "content-type": "text/xml" } });
  };
  if (request.method !== "POST") return fail(400, "InvalidAction", "STS takes POST requests here");
  const refusal = await signingRefusal(request, url, body, { ...state.key, service: "sts" }, auth);
  if (refusal !== undefined) {
    state.badSignatures++;
    return fail(403, STS_CODES[refusal.type] ?? refusal.type, refusal.message);
  }
  if (form.get("Action") !== "GetCallerIdentity" || form.get("Version") !== "2011-06-15") return fail(400, "InvalidAction", `Could not find operation ${form.get("Action")} for version ${form.get("Version")}`);
  const next = state.injected[0];
  if (next !== undefined) {
    if (--next.count <= 0) state.injected.shift();
    if (next.failure === "hang") return new Promise<Response>(() => {});
    if (next.failure === "throttle") return fail(400, "Throttling", "Rate exceeded");
    if (next.failure === "expired-token") return fail(403, "ExpiredToken", "The security token included in the request is expired");
    return fail(500, "InternalFailure", "An internal error occurred.", "Receiver");
  }
  const xml = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${state.account}:user/tester</Arn><UserId>AIDATESTER</UserId><Account>${state.account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${crypto.randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
  return new Response(xml, { headers: { "content-type": "text/xml" } });
}

/**
 * What this process's SDK (or a child awstoe, merged into test/helpers/aws-env's isolatedAwsEnv)
 * needs to reach the server: AWS_ENDPOINT_URL_STS, AWS_REGION and the access key pair.
 */
export function stsEnv(sts: LocalSts, key: Omit<TestKey, "service"> = { accessKeyId: STS_ACCESS_KEY_ID, secret: STS_SECRET_ACCESS_KEY }, region = "us-east-1"): Record<string, string> {
  return { AWS_ENDPOINT_URL_STS: sts.endpoint, AWS_REGION: region, AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secret };
}
