/**
 * @module aws/account: where a run is, as the AWS SDK's configuration sees it — for
 * `{{ context:region }}` and `{{ context:accountId }}` off EC2 (on EC2 the instance identity
 * document answers, aws/imds.ts). The region is the SDK's configured one (AWS_REGION,
 * AWS_DEFAULT_REGION, the profile); the account is that of the current credentials, from STS
 * GetCallerIdentity, which needs no permission. The SDK is loaded on first use.
 */
import type { AccountPort } from "../model/ports.ts";
import { commonCause, CONNECT_TIMEOUT_MS, firstLine, idleTimeoutMs } from "./_cause.ts";

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
      // AWS_DEFAULT_REGION is the AWS CLI's name; the SDK itself reads AWS_REGION and the profile.
      const fromEnv = process.env.AWS_REGION?.trim() || process.env.AWS_DEFAULT_REGION?.trim();
      if (fromEnv) return fromEnv;
      try {
        const { client } = await connect();
        return (await client.config.region()) || undefined;
      } catch {
        return undefined; // no region configured anywhere
      }
    },
    async accountId(signal) {
      try {
        const { sdk, client } = await connect();
        const identity = await client.send(new sdk.GetCallerIdentityCommand({}), { abortSignal: signal as never });
        if (identity.Account === undefined) throw new Error("STS answered without an account");
        return identity.Account;
      } catch (error) {
        const shared = commonCause(error, {
          endpoint: "the STS endpoint",
          regionHint: "set AWS_REGION or a profile's region",
          unknownKey: "STS does not know the access key id (check the credentials)",
          stopped: "stopped before the account was known",
          networkHint: "check the network, proxy settings and the endpoint (AWS_ENDPOINT_URL_STS)",
        });
        throw new Error(`the AWS account could not be found (not on EC2, so STS GetCallerIdentity was asked): ${shared ?? firstLine((error as Error)?.message ?? String(error))}`);
      }
    },
  };
}
