/**
 * @module aws/ssm: Parameter Store for `{{ aws:ssm:NAME }}` — GetParameter with decryption, on
 * the AWS SDK v3, loaded on first use. Credentials, region and endpoint come from the SDK's own
 * chain (AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL included), with the limits and retries of
 * aws/_cause.ts. A SecureString, and any value read through /aws/reference/secretsmanager/, is a
 * secret (logs/mask.ts keeps it out of everything awstoe writes).
 */
import type { ParameterPort, ParameterValue } from "../model/ports.ts";
import { commonCause, CONNECT_TIMEOUT_MS, errorName, idleTimeoutMs, statusOf } from "./_cause.ts";
import { firstLine } from "../errors.ts";

type Sdk = typeof import("@aws-sdk/client-ssm");
type Client = InstanceType<Sdk["SSMClient"]>;

/** Names under this prefix read Secrets Manager secrets through Parameter Store. */
const SECRETS_MANAGER_PREFIX = "/aws/reference/secretsmanager/";

/** `signal` stops every call of the port (the run's stop); each get() may add its own. */
export function createParameterPort(options: { signal?: AbortSignal } = {}): ParameterPort {
  let loaded: Promise<{ sdk: Sdk; client: Client }> | undefined;
  const connect = () =>
    (loaded ??= import("@aws-sdk/client-ssm").then((sdk) => ({
      sdk,
      client: new sdk.SSMClient({ requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: idleTimeoutMs() } }),
    })));
  return {
    async get(name, signal) {
      const stop = eitherSignal(options.signal, signal);
      let parameter: { Value?: string; Type?: string } | undefined;
      try {
        const { sdk, client } = await connect();
        parameter = (await client.send(new sdk.GetParameterCommand({ Name: name, WithDecryption: true }), { abortSignal: stop.signal as never })).Parameter;
      } catch (error) {
        throw new Error(parameterFailure(error, name, await regionOf(loaded)));
      } finally {
        stop.release();
      }
      if (parameter?.Value === undefined) throw new Error(`parameter '${name}' could not be read: Parameter Store answered without a value`);
      const type: ParameterValue["type"] = parameter.Type === "StringList" || parameter.Type === "SecureString" ? parameter.Type : "String";
      return { value: parameter.Value, type, secret: type === "SecureString" || name.startsWith(SECRETS_MANAGER_PREFIX) };
    },
  };
}

/**
 * One signal aborted when either is; `release` detaches it, so the run's long-lived signal does
 * not collect a listener per call. (Not AbortSignal.any: the Node bundle runs on Node 18.3.)
 */
function eitherSignal(a: AbortSignal | undefined, b: AbortSignal | undefined): { signal: AbortSignal | undefined; release: () => void } {
  if (!a || !b || a === b) return { signal: a ?? b, release: () => undefined };
  const both = new AbortController();
  const onAbort = () => both.abort();
  if (a.aborted || b.aborted) both.abort();
  a.addEventListener("abort", onAbort, { once: true });
  b.addEventListener("abort", onAbort, { once: true });
  return {
    signal: both.signal,
    release: () => {
      a.removeEventListener("abort", onAbort);
      b.removeEventListener("abort", onAbort);
    },
  };
}

/** An SDK error as one sentence naming the parameter, with what to do. */
function parameterFailure(error: unknown, name: string, region: string | undefined): string {
  const serviceSays = firstLine(error);
  const secretName = name.startsWith(SECRETS_MANAGER_PREFIX) ? name.slice(SECRETS_MANAGER_PREFIX.length) : undefined;
  const what = `parameter '${name}'`;
  const where = region ? ` in region ${region}` : "";
  switch (errorName(error)) {
    case "ParameterNotFound":
    case "ResourceNotFoundException":
      return secretName !== undefined
        ? `Secrets Manager has no secret '${secretName}'${where} (read as ${what}); check the secret's name and the region`
        : `Parameter Store has no ${what}${where}; check the name and the region (names are case-sensitive)`;
    case "ParameterVersionNotFound":
      return `Parameter Store has no such version of ${what}${where}; check the version or label after the ':'`;
    case "AccessDeniedException":
    case "AccessDenied":
      // SSM answers a key that refuses the caller with AccessDeniedException too, worded by KMS.
      if (/kms|ciphertext|master key/i.test(serviceSays)) return keyRefused(what, serviceSays);
      return `access to ${what} was denied: the credentials need ssm:GetParameter on it${
        secretName !== undefined ? ` and secretsmanager:GetSecretValue on the secret '${secretName}'` : ", and kms:Decrypt on its key when it is a SecureString with a customer managed key"
      } (the service said: ${serviceSays})`;
    case "InvalidKeyId":
    case "KMSAccessDeniedException":
      return keyRefused(what, serviceSays);
    case "ThrottlingException":
    case "TooManyRequestsException":
      return `Parameter Store throttled the request for ${what}${attempts(error)}; try again later, or raise the account's GetParameter throughput`;
    case "ValidationException":
    case "InvalidParameters":
      return `Parameter Store refused the name '${name}': ${serviceSays}`;
    case "ExpiredTokenException":
      return `${what} could not be read: the AWS session token has expired; refresh the credentials`;
  }
  const shared = commonCause(error, {
    endpoint: `the Systems Manager endpoint${where}`,
    tries: attempts(error),
    regionHint: "set AWS_REGION or a profile's region",
    accessHint: `the credentials need ssm:GetParameter on ${name}`,
    unknownKey: "Systems Manager does not know the access key id (check the credentials)",
    stopped: "the call was stopped (awstoe was interrupted)",
    networkHint: "check the network, proxy settings and the endpoint (AWS_ENDPOINT_URL_SSM, a profile's endpoint_url)",
  });
  if (shared !== undefined) return `${what} could not be read: ${shared}`;
  const status = statusOf(error);
  return `${what} could not be read: ${errorName(error) || "error"}${status ? ` (HTTP ${status}${attempts(error)})` : ""}: ${serviceSays}`;
}

function keyRefused(what: string, serviceSays: string): string {
  return `${what} could not be decrypted: the credentials need kms:Decrypt on the parameter's KMS key (the service said: ${serviceSays})`;
}

/** The client's region, for messages; undefined when none is configured. */
async function regionOf(loaded: Promise<{ client: Client }> | undefined): Promise<string | undefined> {
  try {
    return loaded === undefined ? undefined : await (await loaded).client.config.region();
  } catch {
    return undefined;
  }
}

/** " after N attempts" when the SDK tried more than once. */
function attempts(error: unknown): string {
  const n = (error as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
  return n !== undefined && n > 1 ? ` after ${n} attempts` : "";
}
