/**
 * @module test/helpers/ssm-server: Parameter Store GetParameter on 127.0.0.1, in the service's
 * JSON 1.1 protocol (`X-Amz-Target: AmazonSSM.GetParameter`, errors as `{"__type", "message"}`).
 * Every request's Signature V4 is checked against the key the server was started with
 * (test/helpers/sigv4), so the unmodified SDK in awstoe talks to it through AWS_ENDPOINT_URL_SSM.
 *
 * As the service does: a SecureString is only returned in clear when WithDecryption is true; a
 * Secrets Manager secret read through /aws/reference/secretsmanager/<name> needs WithDecryption
 * and comes back as a SecureString. Calls are recorded (so tests can count fetches) and failures
 * can be injected. Requests signed for STS are answered by test/helpers/sts-server's answerSts,
 * so one endpoint serves a run that needs both (AWS_ENDPOINT_URL_STS in parameterStoreEnv).
 */
import { parseAuthorization, signingRefusal, type TestKey } from "./sigv4.ts";
import { ACCOUNT_ID, answerSts, type StsCall, type StsState } from "./sts-server.ts";

export const SSM_ACCESS_KEY_ID = "AKIDLOCALPARAMETERS";
export const SSM_SECRET_ACCESS_KEY = "local-parameter-store-secret";
export const SECRETS_PREFIX = "/aws/reference/secretsmanager/";

export interface StoredParameter {
  type: "String" | "StringList" | "SecureString";
  value: string;
}

/** `kms-denied` is the AccessDeniedException SSM gives when the parameter's KMS key refuses the caller. */
export type SsmFailure = "throttle" | "access-denied" | "kms-denied" | "server-error" | "hang";

export interface SsmCall {
  operation: string;
  name?: string;
  withDecryption?: boolean;
  /** The region of the request's signing scope. */
  region: string;
  status: number;
}

export interface LocalParameterStore {
  endpoint: string;
  calls: SsmCall[];
  /** GetCallerIdentity calls answered by the same endpoint. */
  stsCalls: StsCall[];
  /** Requests refused for their signing. */
  readonly badSignatures: number;
  set(name: string, parameter: StoredParameter): void;
  /** A Secrets Manager secret, read as /aws/reference/secretsmanager/<name>. */
  setSecret(name: string, value: string): void;
  /** The next `count` GetParameter calls (for `name`, or any) fail with `failure`. */
  failNext(count: number, failure: SsmFailure, name?: string): void;
  close(): void;
}

export interface ParameterStoreOptions {
  /** Parameters by full name; any name, also one under /aws/reference/secretsmanager/. */
  parameters?: Record<string, StoredParameter>;
  /** Secrets Manager secrets by secret name (without the reference prefix). */
  secrets?: Record<string, string>;
  key?: TestKey;
}

export async function startLocalParameterStore(options: ParameterStoreOptions = {}): Promise<LocalParameterStore> {
  const parameters = new Map(Object.entries(options.parameters ?? {}));
  for (const [name, value] of Object.entries(options.secrets ?? {})) parameters.set(SECRETS_PREFIX + name, { type: "SecureString", value });
  const key = options.key ?? { accessKeyId: SSM_ACCESS_KEY_ID, secret: SSM_SECRET_ACCESS_KEY };
  const calls: SsmCall[] = [];
  const injected: { count: number; failure: SsmFailure; name?: string }[] = [];
  const sts: StsState = { key, account: ACCOUNT_ID, calls: [], badSignatures: 0, injected: [] };
  const state = { badSignatures: 0 };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const body = await request.text();
      const url = new URL(request.url);
      const auth = parseAuthorization(request.headers.get("authorization"));
      if (auth?.service === "sts") return answerSts(request, url, body, sts);
      const operation = (request.headers.get("x-amz-target") ?? "").replace(/^AmazonSSM\./, "");
      const call: SsmCall = { operation, region: auth?.region ?? "", status: 200 };
      calls.push(call);
      const refusal = await signingRefusal(request, url, body, { ...key, service: "ssm" }, auth);
      if (refusal !== undefined) {
        state.badSignatures++;
        return jsonError(call, 400, refusal.type, refusal.message);
      }
      if (operation !== "GetParameter") return jsonError(call, 400, "UnknownOperationException", `${operation} is not served by this test server`);
      const input = JSON.parse(body) as { Name?: string; WithDecryption?: boolean };
      const name = input.Name ?? "";
      call.name = input.Name;
      call.withDecryption = input.WithDecryption;
      const secret = name.startsWith(SECRETS_PREFIX);
      const failure = takeFailure(name);
      if (failure === "hang") return new Promise<Response>(() => {});
      if (failure === "throttle") return jsonError(call, 400, "ThrottlingException", "Rate exceeded");
      if (failure === "access-denied") {
        const action = secret ? `secretsmanager:GetSecretValue on resource: ${name.slice(SECRETS_PREFIX.length)}` : `ssm:GetParameter on resource: arn:aws:ssm:${call.region}:${ACCOUNT_ID}:parameter${name}`;
        return jsonError(call, 400, "AccessDeniedException", `User: arn:aws:iam::${ACCOUNT_ID}:user/tester is not authorized to perform: ${action} because no identity-based policy allows the action`);
      }
      if (failure === "kms-denied") return jsonError(call, 400, "AccessDeniedException", "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.");
      if (failure === "server-error") return jsonError(call, 500, "InternalServerError", "An internal error occurred.");
      if (secret && input.WithDecryption !== true) return jsonError(call, 400, "ValidationException", "WithDecryption flag must be True for retrieving a Secret Manager secret.");
      const stored = parameters.get(name);
      if (stored === undefined) return jsonError(call, 400, "ParameterNotFound", secret ? `Secret ${name} not found.` : "");
      const clear = stored.type !== "SecureString" || input.WithDecryption === true;
      const parameter = {
        Name: name,
        Type: stored.type,
        Value: clear ? stored.value : "AQICAHh-encrypted-blob",
        Version: 1,
        ARN: `arn:aws:ssm:${call.region}:${ACCOUNT_ID}:parameter${name}`,
        DataType: "text",
        ...(secret ? { SourceResult: JSON.stringify({ Name: name.slice(SECRETS_PREFIX.length) }) } : {}),
      };
      return new Response(JSON.stringify({ Parameter: parameter }), { headers: { "content-type": "application/x-amz-json-1.1" } });
    },
  });

  function takeFailure(name: string): SsmFailure | undefined {
    const next = injected[0];
    if (next === undefined || (next.name !== undefined && next.name !== name)) return undefined;
    if (--next.count <= 0) injected.shift();
    return next.failure;
  }

  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    calls,
    stsCalls: sts.calls,
    get badSignatures() {
      return state.badSignatures + sts.badSignatures;
    },
    set: (name, parameter) => void parameters.set(name, parameter),
    setSecret: (name, value) => void parameters.set(SECRETS_PREFIX + name, { type: "SecureString", value }),
    failNext: (count, failure, name) => void injected.push({ count, failure, ...(name === undefined ? {} : { name }) }),
    close: () => void server.stop(true),
  };
}

function jsonError(call: SsmCall, status: number, type: string, message: string): Response {
  call.status = status;
  return new Response(JSON.stringify({ __type: type, message }), { status, headers: { "content-type": "application/x-amz-json-1.1" } });
}

/**
 * What this process's SDK (or a child awstoe, merged into test/helpers/aws-env's isolatedAwsEnv)
 * needs to reach the server: AWS_ENDPOINT_URL_SSM and AWS_ENDPOINT_URL_STS (both this server),
 * AWS_REGION and the access key pair; `key` when it was started with another.
 */
export function parameterStoreEnv(store: LocalParameterStore, key: Omit<TestKey, "service"> = { accessKeyId: SSM_ACCESS_KEY_ID, secret: SSM_SECRET_ACCESS_KEY }, region = "us-east-1"): Record<string, string> {
  return { AWS_ENDPOINT_URL_SSM: store.endpoint, AWS_ENDPOINT_URL_STS: store.endpoint, AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secret, AWS_REGION: region };
}
