/**
 * @module aws/imagebuilder: fetching a component's document text with Image Builder's
 * GetComponent, for component ARNs used as document sources (docs/cli.md §5).
 *
 * The SDK is imported on first use, so commands and documents that never name an ARN start without
 * loading it. Each call goes to the ARN's own region; credentials and endpoint come from the SDK's
 * standard chain (environment, shared config and profiles, web identity, container and instance
 * roles; AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_IMAGEBUILDER / a profile's endpoint_url). The
 * response is read no further than a cap the caller sets, so a wrong endpoint cannot fill memory.
 * Failures come back as one sentence naming the cause — never an SDK dump.
 */
import type { Readable } from "node:stream";
import type { ComponentArn } from "../model/component-arn.ts";
import { commonCause, CONNECT_TIMEOUT_MS, idleTimeoutMs, isTransient } from "./_cause.ts";
import { firstLine } from "../errors.ts";

type Sdk = typeof import("@aws-sdk/client-imagebuilder");
type Client = InstanceType<Sdk["ImagebuilderClient"]>;

export interface ComponentFetchOptions {
  signal?: AbortSignal;
  /** Largest HTTP response body accepted; longer ones are cut off with an error. */
  maxResponseBytes: number;
}

export type ComponentFetch =
  | { ok: true; data: string; /** The build the service resolved the ARN to. */ resolvedArn: string }
  | { ok: false; reason: string; /** Trying again later could succeed (network, time limit, 5xx, throttling). */ transient?: boolean };

export interface ImageBuilderPort {
  /** The component's document text (GetComponent's `data`). */
  getComponentData(arn: ComponentArn, options: ComponentFetchOptions): Promise<ComponentFetch>;
}

export function createImageBuilderPort(): ImageBuilderPort {
  let sdk: Promise<Sdk> | undefined;
  const clients = new Map<string, Client>();
  const clientFor = async (region: string): Promise<{ sdk: Sdk; client: Client }> => {
    const loaded = await (sdk ??= import("@aws-sdk/client-imagebuilder"));
    let client = clients.get(region);
    if (client === undefined) {
      // The limits of aws/_cause.ts, so an endpoint that never answers cannot hang a run: 10 s to
      // connect, 30 s without a byte (AWSTOE_AWS_IDLE_TIMEOUT_MS), and the SDK's standard retries
      // (3 attempts with backoff) for network errors, timeouts, 5xx and throttling.
      client = new loaded.ImagebuilderClient({
        region,
        requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: idleTimeoutMs() },
      });
      clients.set(region, client);
    }
    return { sdk: loaded, client };
  };
  return {
    async getComponentData(arn, options) {
      try {
        const { sdk, client } = await clientFor(arn.region);
        const command = new sdk.GetComponentCommand({ componentBuildVersionArn: arn.text });
        command.middlewareStack.addRelativeTo(responseLimit(options.maxResponseBytes) as never, {
          name: "opentoeResponseLimit",
          relation: "after",
          toMiddleware: "deserializerMiddleware",
        });
        const result = await client.send(command, { abortSignal: options.signal as never });
        const data = result.component?.data;
        if (typeof data !== "string") return { ok: false, reason: `Image Builder in ${arn.region} returned the component without its document text (data)` };
        return { ok: true, data, resolvedArn: result.component?.arn ?? arn.text };
      } catch (error) {
        return { ok: false, reason: imageBuilderFailure(error, arn), ...(isTransient(error) ? { transient: true } : {}) };
      }
    },
  };
}

class ResponseTooLarge extends Error {
  override name = "ResponseTooLarge";
}

/**
 * Sits between the deserializer and the HTTP handler: refuses a declared length over the cap and
 * counts the bytes of the body stream as the deserializer reads it, stopping past the cap.
 */
function responseLimit(maxBytes: number) {
  const limit = maxBytes >= 1024 * 1024 ? `${(maxBytes / (1024 * 1024)).toFixed(1)} MiB` : `${maxBytes} bytes`;
  const tooLarge = () => new ResponseTooLarge(`Image Builder's response is larger than ${limit}, far more than a component document`);
  return (next: (args: unknown) => Promise<{ response: unknown }>) => async (args: unknown) => {
    const out = await next(args);
    const response = out.response as { headers?: Record<string, string>; body?: unknown };
    const declared = Number(response.headers?.["content-length"] ?? Number.NaN);
    if (declared > maxBytes) {
      (response.body as Readable | undefined)?.destroy?.();
      throw tooLarge();
    }
    const body = response.body as Readable | undefined;
    if (body !== undefined && typeof body.pipe === "function") {
      // Loaded here, not at the top: node:stream costs every command (validate too) ~10 ms to load.
      const { Transform } = require("node:stream") as typeof import("node:stream");
      let seen = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          seen += chunk.length;
          if (seen > maxBytes) {
            body.destroy();
            callback(tooLarge());
          } else callback(null, chunk);
        },
      });
      body.on("error", (error) => counter.destroy(error));
      response.body = body.pipe(counter);
    }
    return out;
  };
}

/** An SDK error as the reason a component could not be fetched: one sentence, with what to do. */
export function imageBuilderFailure(error: unknown, arn: ComponentArn): string {
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
  const name = e.name ?? e.code ?? "";
  const status = e.$metadata?.httpStatusCode;
  const serviceSays = firstLine(e.message ?? "");
  if (error instanceof ResponseTooLarge) return serviceSays;
  switch (name) {
    case "ResourceNotFoundException":
      return `Image Builder in ${arn.region} has no such component (check its name, version and build, the account, and that it is shared with you)`;
    case "ForbiddenException":
    case "AccessDeniedException":
      return `Image Builder denied access (${name}); the credentials need imagebuilder:GetComponent on this component${serviceSays ? `: ${serviceSays}` : ""}`;
    case "InvalidParameterValueException":
    case "InvalidParameterException":
    case "InvalidRequestException":
    case "ClientException":
      return `Image Builder refused the request (${name})${serviceSays ? `: ${serviceSays}` : ""}`;
    case "CallRateLimitExceededException":
    case "TooManyRequestsException":
    case "ThrottlingException":
      return `Image Builder is throttling requests (${name}); try again later`;
    case "ServiceException":
    case "ServiceUnavailableException":
      return `Image Builder failed with ${name}${status ? ` (HTTP ${status})` : ""}${attempts(e)}; try again later`;
    case "InvalidSignatureException":
    case "SignatureDoesNotMatch":
      return "Image Builder refused the request signature (check the secret access key)";
    case "UnrecognizedClientException":
    case "InvalidClientTokenId":
      return "Image Builder does not know the access key id (check the credentials)";
    case "ExpiredTokenException":
      return "the AWS session token has expired (refresh the credentials)";
  }
  const shared = commonCause(error, {
    endpoint: `the Image Builder endpoint for ${arn.region}`,
    tries: attempts(e),
    stopped: "stopped before the component was fetched",
    networkHint: "check the network, proxy settings and the endpoint (AWS_ENDPOINT_URL_IMAGEBUILDER, a profile's endpoint_url)",
  });
  if (shared !== undefined) return shared;
  if (/timed? ?out/i.test(`${e.code ?? ""} ${e.message ?? ""}`)) return `the Image Builder endpoint for ${arn.region} did not answer in time${attempts(e)}`;
  return `${name || "error"}${status ? ` (HTTP ${status})` : ""}${serviceSays ? `: ${serviceSays}` : ""}`;
}

function attempts(e: { $metadata?: { attempts?: number } }): string {
  const n = e.$metadata?.attempts;
  return n !== undefined && n > 1 ? ` after ${n} attempts` : "";
}
