/**
 * @module aws/ssm: Parameter Store for `{{ aws:ssm:NAME }}` — GetParameter with decryption, on
 * the AWS SDK v3, loaded on first use. Credentials, region and endpoint come from the SDK's own
 * chain (AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL included), with the limits of aws/_cause.ts.
 * A SecureString, and any value read through /aws/reference/secretsmanager/, is a secret
 * (logs/mask.ts keeps it out of everything awstoe writes).
 */
import type { ParameterPort, ParameterValue } from "../model/ports.ts";
import { commonCause, CONNECT_TIMEOUT_MS, firstLine, idleTimeoutMs } from "./_cause.ts";

type Sdk = typeof import("@aws-sdk/client-ssm");
type Client = InstanceType<Sdk["SSMClient"]>;

/** Names under this prefix read Secrets Manager secrets through Parameter Store. */
export const SECRETS_MANAGER_PREFIX = "/aws/reference/secretsmanager/";

export function createParameterPort(options: { signal?: AbortSignal } = {}): ParameterPort {
  let loaded: Promise<{ sdk: Sdk; client: Client }> | undefined;
  const connect = () =>
    (loaded ??= import("@aws-sdk/client-ssm").then((sdk) => ({
      sdk,
      client: new sdk.SSMClient({ requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: idleTimeoutMs() } }),
    })));
  return {
    async get(name, signal) {
      const abort = signal ?? options.signal;
      try {
        const { sdk, client } = await connect();
        const result = await client.send(new sdk.GetParameterCommand({ Name: name, WithDecryption: true }), { abortSignal: abort as never });
        const parameter = result.Parameter;
        if (parameter?.Value === undefined) throw new Error(`Parameter Store returned '${name}' without a value`);
        const type = (parameter.Type ?? "String") as ParameterValue["type"];
        return { value: parameter.Value, type, secret: type === "SecureString" || name.startsWith(SECRETS_MANAGER_PREFIX) };
      } catch (error) {
        throw new Error(parameterFailure(error, name, await regionOf(loaded)));
      }
    },
  };
}

/** An SDK error as one sentence naming the parameter, with what to do. */
export function parameterFailure(error: unknown, name: string, region: string | undefined): string {
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
  const kind = e.name ?? e.code ?? "";
  const serviceSays = firstLine(e.message ?? "");
  const secretsManager = name.startsWith(SECRETS_MANAGER_PREFIX);
  const what = `parameter '${name}'`;
  const where = region ? ` in ${region}` : "";
  switch (kind) {
    case "ParameterNotFound":
    case "ResourceNotFoundException":
      return secretsManager
        ? `Secrets Manager has no secret '${name.slice(SECRETS_MANAGER_PREFIX.length)}'${where}; check its name and the region`
        : `Parameter Store has no ${what}${where}; check the name (names are case-sensitive and paths start with /) and the region`;
    case "ParameterVersionNotFound":
      return `Parameter Store has no such version of ${what}${where}`;
    case "AccessDeniedException":
    case "AccessDenied":
      return `access to ${what} was denied: the credentials need ssm:GetParameter on it${secretsManager ? " and secretsmanager:GetSecretValue on the secret" : ", and kms:Decrypt on its key when it is a SecureString with a customer managed key"}${serviceSays ? ` (${serviceSays})` : ""}`;
    case "InvalidKeyId":
    case "KMSAccessDeniedException":
      return `${what} could not be decrypted: ${serviceSays || kind}; the credentials need kms:Decrypt on the parameter's key`;
    case "ThrottlingException":
    case "TooManyRequestsException":
      return `Parameter Store throttled the request for ${what}${attempts(e)}; try again later, or read fewer parameters at once`;
    case "ValidationException":
    case "InvalidParameters":
      return `Parameter Store refused the name '${name}': ${serviceSays || kind}`;
    case "ExpiredTokenException":
      return `${what} could not be read: the AWS session token has expired (refresh the credentials)`;
  }
  const shared = commonCause(error, {
    endpoint: `the Systems Manager endpoint${where}`,
    tries: attempts(e),
    regionHint: "set AWS_REGION or a profile's region",
    accessHint: `the credentials need ssm:GetParameter on ${name}`,
    unknownKey: "Systems Manager does not know the access key id (check the credentials)",
    stopped: `stopped before ${what} was read`,
    networkHint: "check the network, proxy settings and the endpoint (AWS_ENDPOINT_URL_SSM, a profile's endpoint_url)",
  });
  if (shared !== undefined) return `${what} could not be read: ${shared}`;
  const status = e.$metadata?.httpStatusCode;
  return `${what} could not be read: ${kind || "error"}${status ? ` (HTTP ${status})` : ""}${serviceSays ? `: ${serviceSays}` : ""}`;
}

async function regionOf(loaded: Promise<{ client: Client }> | undefined): Promise<string | undefined> {
  try {
    return loaded === undefined ? undefined : await (await loaded).client.config.region();
  } catch {
    return undefined;
  }
}

function attempts(e: { $metadata?: { attempts?: number } }): string {
  const n = e.$metadata?.attempts;
  return n !== undefined && n > 1 ? ` after ${n} attempts` : "";
}
