/**
 * @module aws/account: where a run is, as the AWS SDK's configuration sees it — for
 * `{{ context:region }}` and `{{ context:accountId }}` off EC2 (on EC2 the instance identity
 * document answers, aws/imds.ts). The region is the SDK's configured one (AWS_REGION, the
 * profile) or the AWS CLI's AWS_DEFAULT_REGION; the account is that of the current credentials,
 * from STS GetCallerIdentity, which needs no permission. The SDK is loaded on first use.
 */
import type { AccountPort } from "../model/ports.ts";
import { commonCause, CONNECT_TIMEOUT_MS, errorName, idleTimeoutMs, statusOf } from "./_cause.ts";
import { firstLine } from "../errors.ts";

type Sdk = typeof import("@aws-sdk/client-sts");
type Client = InstanceType<Sdk["STSClient"]>;

export function createAccountPort(): AccountPort {
  let loaded: Promise<{ sdk: Sdk; client: Client }> | undefined;
  const connect = () =>
    (loaded ??= import("@aws-sdk/client-sts").then((sdk) => ({
      sdk,
      client: new sdk.STSClient({ requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: idleTimeoutMs() } }),
    })));
  return {
    async region() {
      // The SDK reads AWS_REGION and the profile; AWS_DEFAULT_REGION is the AWS CLI's name, which
      // people set on build machines and expect awstoe to see too.
      const fromEnv = process.env.AWS_REGION?.trim() || process.env.AWS_DEFAULT_REGION?.trim();
      if (fromEnv) return fromEnv;
      try {
        const { client } = await connect();
        return (await client.config.region())?.trim() || undefined;
      } catch {
        return undefined; // "Region is missing": none configured anywhere
      }
    },

    async accountId(signal) {
      let account: string | undefined;
      try {
        const { sdk, client } = await connect();
        account = (await client.send(new sdk.GetCallerIdentityCommand({}), { abortSignal: signal as never })).Account;
      } catch (error) {
        throw new Error(`the AWS account of the current credentials could not be found (STS GetCallerIdentity): ${accountFailure(error)}`);
      }
      if (!account) throw new Error("the AWS account of the current credentials could not be found: STS answered GetCallerIdentity without an account");
      return account;
    },
  };
}

/** The clause after "could not be found (…): ", saying what to do. */
function accountFailure(error: unknown): string {
  const tries = attempts(error);
  switch (errorName(error)) {
    case "ExpiredToken":
    case "ExpiredTokenException":
      return "the AWS session token has expired; refresh the credentials";
    case "Throttling":
    case "ThrottlingException":
      return `STS throttled the request${tries}; try again later`;
  }
  const shared = commonCause(error, {
    endpoint: "the STS endpoint",
    tries,
    regionHint: "set AWS_REGION or a profile's region",
    unknownKey: "STS does not know the access key id (check the credentials)",
    stopped: "stopped before STS answered (awstoe was interrupted)",
    networkHint: "check the network, proxy settings and the endpoint (AWS_ENDPOINT_URL_STS, a profile's endpoint_url)",
  });
  if (shared !== undefined) return shared;
  const status = statusOf(error);
  return `${errorName(error) || "error"}${status ? ` (HTTP ${status}${tries})` : ""}: ${firstLine(error)}`;
}

/** " after N attempts" when the SDK tried more than once. */
function attempts(error: unknown): string {
  const n = (error as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
  return n !== undefined && n > 1 ? ` after ${n} attempts` : "";
}
