/**
 * @module test/helpers/ssm-server: Parameter Store (and STS GetCallerIdentity) on 127.0.0.1.
 *
 * Parameter Store speaks the JSON 1.1 protocol (`X-Amz-Target: AmazonSSM.GetParameter`, errors as
 * `{"__type", "message"}`); STS the Query protocol (form body `Action=GetCallerIdentity`, XML
 * answer). Every request's Signature V4 is checked against the key the server was started with
 * (test/helpers/sigv4), so the unmodified SDK in awstoe talks to it through AWS_ENDPOINT_URL_SSM /
 * AWS_ENDPOINT_URL_STS. A SecureString is only returned in clear when WithDecryption is true, as
 * the service does. Calls are recorded, so tests can count fetches; failures can be injected.
 */
import { parseAuthorization, signingRefusal, type TestKey } from "./sigv4.ts";

export const SSM_ACCESS_KEY_ID = "AKIDLOCALPARAMETERS";
export const SSM_SECRET_ACCESS_KEY = "local-parameter-store-secret";
export const ACCOUNT_ID = "123456789012";

export interface StoredParameter {
  type: "String" | "StringList" | "SecureString";
  value: string;
}

export type SsmFailure = "throttle" | "access-denied" | "server-error";

export interface SsmCall {
  operation: string;
  name?: string;
  withDecryption?: boolean;
  status: number;
}

export interface LocalParameterStore {
  endpoint: string;
  calls: SsmCall[];
  /** Requests refused for their signature. */
  badSignatures: number;
  set(name: string, parameter: StoredParameter): void;
  /** The next `count` GetParameter calls (for `name`, or any) fail with `failure`. */
  failNext(count: number, failure: SsmFailure, name?: string): void;
  close(): void;
}

export async function startLocalParameterStore(options: { parameters?: Record<string, StoredParameter>; key?: TestKey } = {}): Promise<LocalParameterStore> {
  const parameters = new Map(Object.entries(options.parameters ?? {}));
  const key = options.key ?? { accessKeyId: SSM_ACCESS_KEY_ID, secret: SSM_SECRET_ACCESS_KEY };
  const calls: SsmCall[] = [];
  const injected: { count: number; failure: SsmFailure; name?: string }[] = [];
  const state = { badSignatures: 0 };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const body = await request.text();
      const url = new URL(request.url);
      const auth = parseAuthorization(request.headers.get("authorization"));
      const refusal = await signingRefusal(request, url, body, key, auth);
      if (auth?.service === "sts") return sts(body, refusal);
      const operation = (request.headers.get("x-amz-target") ?? "").replace(/^AmazonSSM\./, "");
      const call: SsmCall = { operation, status: 200 };
      calls.push(call);
      if (refusal !== undefined) {
        state.badSignatures++;
        return jsonError(call, 400, refusal.type, refusal.message);
      }
      if (operation !== "GetParameter") return jsonError(call, 400, "UnknownOperationException", `${operation} is not served by this test server`);
      const input = JSON.parse(body) as { Name?: string; WithDecryption?: boolean };
      call.name = input.Name;
      call.withDecryption = input.WithDecryption;
      const failure = takeFailure(input.Name);
      if (failure === "throttle") return jsonError(call, 400, "ThrottlingException", "Rate exceeded");
      if (failure === "access-denied") return jsonError(call, 400, "AccessDeniedException", `User is not authorized to perform: ssm:GetParameter on resource: parameter${input.Name}`);
      if (failure === "server-error") return jsonError(call, 500, "InternalServerError", "internal error");
      const stored = input.Name === undefined ? undefined : parameters.get(input.Name);
      if (stored === undefined) return jsonError(call, 400, "ParameterNotFound", "");
      const clear = stored.type !== "SecureString" || input.WithDecryption === true;
      const parameter = { Name: input.Name, Type: stored.type, Value: clear ? stored.value : "AQICAHh-encrypted-blob", Version: 1, ARN: `arn:aws:ssm:us-east-1:${ACCOUNT_ID}:parameter${input.Name}` };
      return new Response(JSON.stringify({ Parameter: parameter }), { headers: { "content-type": "application/x-amz-json-1.1" } });
    },
  });

  function sts(body: string, refusal: { type: string; message: string } | undefined): Response {
    calls.push({ operation: "sts:GetCallerIdentity", status: refusal === undefined ? 200 : 403 });
    if (refusal !== undefined) {
      state.badSignatures++;
      return new Response(`<ErrorResponse><Error><Type>Sender</Type><Code>${refusal.type}</Code><Message>${refusal.message}</Message></Error></ErrorResponse>`, { status: 403, headers: { "content-type": "text/xml" } });
    }
    if (!new URLSearchParams(body).get("Action")?.startsWith("GetCallerIdentity")) return new Response("<ErrorResponse/>", { status: 400 });
    const xml = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${ACCOUNT_ID}:user/tester</Arn><UserId>AIDATESTER</UserId><Account>${ACCOUNT_ID}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
    return new Response(xml, { headers: { "content-type": "text/xml" } });
  }

  function takeFailure(name: string | undefined): SsmFailure | undefined {
    const next = injected[0];
    if (next === undefined || (next.name !== undefined && next.name !== name)) return undefined;
    if (--next.count <= 0) injected.shift();
    return next.failure;
  }

  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    calls,
    get badSignatures() {
      return state.badSignatures;
    },
    set: (name, parameter) => void parameters.set(name, parameter),
    failNext: (count, failure, name) => void injected.push({ count, failure, ...(name === undefined ? {} : { name }) }),
    close: () => void server.stop(true),
  };
}

function jsonError(call: SsmCall, status: number, type: string, message: string): Response {
  call.status = status;
  return new Response(JSON.stringify({ __type: type, message }), { status, headers: { "content-type": "application/x-amz-json-1.1" } });
}

/** What awstoe (or this process's SDK) needs to reach the server; `key` when it was started with another. */
export function parameterStoreEnv(store: LocalParameterStore, key: Omit<TestKey, "service"> = { accessKeyId: SSM_ACCESS_KEY_ID, secret: SSM_SECRET_ACCESS_KEY }, region = "us-east-1"): Record<string, string> {
  return { AWS_ENDPOINT_URL_SSM: store.endpoint, AWS_ENDPOINT_URL_STS: store.endpoint, AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secret, AWS_REGION: region };
}
