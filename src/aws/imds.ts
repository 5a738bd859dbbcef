/**
 * @module aws/imds: the instance metadata service (IMDSv2) for `{{ aws:imds:PATH }}` and for
 * `{{ context:accountId }}`/`region` on EC2. A small client of our own on node:http — the SDK's
 * is internal to its credential providers — loaded on first use, so start-up does not pay for it.
 *
 * - Session tokens only (IMDSv2): one token per port, reused; asked again once when a request
 *   answers 401 (the token expired or the service restarted).
 * - The endpoint is the one the AWS SDK would use: AWS_EC2_METADATA_SERVICE_ENDPOINT, else
 *   AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE (IPv4 169.254.169.254, IPv6 fd00:ec2::254);
 *   AWS_EC2_METADATA_DISABLED=true turns it off. Nothing is ever sent anywhere else.
 * - Short limits, since off EC2 nothing answers: 1 s per try (AWSTOE_IMDS_TIMEOUT_MS), 3 tries
 *   100 ms and 200 ms apart for no answer, a refused connection and 5xx; 404 is final.
 */
import type { MetadataPort } from "../model/ports.ts";

const TOKEN_TTL_SECONDS = "21600";
const DEFAULT_TIMEOUT_MS = 1_000;
const DEFAULT_ATTEMPTS = 3;
const BACKOFF_MS = [100, 200];
const IPV4 = "http://169.254.169.254";
const IPV6 = "http://[fd00:ec2::254]";

export interface MetadataPortOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  attempts?: number;
}

interface Answer {
  status: number;
  body: string;
}

/** Why a request got no HTTP answer; `unreachable` means IMDS is not there at all (not on EC2). */
class NoAnswer extends Error {
  constructor(
    message: string,
    readonly unreachable: boolean,
  ) {
    super(message);
  }
}

export function createMetadataPort(options: MetadataPortOptions = {}): MetadataPort {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? positive(env.AWSTOE_IMDS_TIMEOUT_MS) ?? DEFAULT_TIMEOUT_MS;
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  const endpoint = endpointOf(env);
  const disabled = /^true$/i.test(env.AWS_EC2_METADATA_DISABLED?.trim() ?? "");
  let token: Promise<string> | undefined;

  /** One request, tried up to `attempts` times for causes that may pass. */
  const request = async (method: "GET" | "PUT", path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Answer> => {
    let last: NoAnswer | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await pause(BACKOFF_MS[attempt - 2] ?? 200, signal);
      try {
        const answer = await send(endpoint, method, path, headers, timeoutMs, signal);
        if (answer.status < 500) return answer;
        last = new NoAnswer(`${endpoint} answered HTTP ${answer.status}`, false);
      } catch (error) {
        if (!(error instanceof NoAnswer) || signal?.aborted) throw error;
        last = error;
      }
    }
    throw new NoAnswer(`${last!.message} (${attempts} ${attempts === 1 ? "try" : "tries"})`, last!.unreachable);
  };

  const newToken = async (signal?: AbortSignal): Promise<string> => {
    const answer = await request("PUT", "/latest/api/token", { "x-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL_SECONDS }, signal);
    if (answer.status !== 200 || answer.body === "") throw new NoAnswer(`${endpoint} gave no session token (HTTP ${answer.status})`, false);
    return answer.body;
  };

  /** GET with the session token; a 401 gets one fresh token and one more try. */
  const get = async (path: string, signal?: AbortSignal): Promise<Answer> => {
    if (disabled) throw new NoAnswer("instance metadata is turned off (AWS_EC2_METADATA_DISABLED)", true);
    for (let fresh = false; ; fresh = true) {
      const current = (token ??= newToken(signal));
      let value: string;
      try {
        value = await current;
      } catch (error) {
        if (token === current) token = undefined; // the next call asks again
        throw error;
      }
      const answer = await request("GET", path, { "x-aws-ec2-metadata-token": value }, signal);
      if (answer.status !== 401 || fresh) return answer;
      if (token === current) token = undefined;
    }
  };

  return {
    async get(path, signal) {
      const clean = path.replace(/^\/+/, "");
      const fail = (why: string) => new Error(`instance metadata '${clean}' could not be read: ${why}`);
      let answer: Answer;
      try {
        answer = await get(`/latest/meta-data/${clean}`, signal);
      } catch (error) {
        throw fail(describe(error, timeoutMs));
      }
      if (answer.status === 404) throw fail("there is no such metadata path on this instance (HTTP 404); see the instance metadata categories in the EC2 documentation");
      if (answer.status !== 200) throw fail(`${endpoint} answered HTTP ${answer.status}`);
      return answer.body;
    },
    async identity(signal) {
      let answer: Answer;
      try {
        answer = await get("/latest/dynamic/instance-identity/document", signal);
      } catch (error) {
        if (error instanceof NoAnswer && error.unreachable) return undefined; // not on EC2
        throw new Error(`the instance identity document could not be read: ${describe(error, timeoutMs)}`);
      }
      if (answer.status !== 200) throw new Error(`the instance identity document could not be read: ${endpoint} answered HTTP ${answer.status}`);
      try {
        const document = JSON.parse(answer.body) as { accountId?: unknown; region?: unknown };
        if (typeof document.accountId === "string" && typeof document.region === "string") return { accountId: document.accountId, region: document.region };
      } catch {
        // worded below
      }
      throw new Error("the instance identity document could not be read: it is not JSON with accountId and region");
    },
  };
}

/** The SDK's endpoint settings: an explicit endpoint wins over the mode. */
function endpointOf(env: NodeJS.ProcessEnv): string {
  const explicit = env.AWS_EC2_METADATA_SERVICE_ENDPOINT?.trim();
  if (explicit) return explicit.replace(/\/+$/, "");
  return /^ipv6$/i.test(env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE?.trim() ?? "") ? IPV6 : IPV4;
}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof NoAnswer) {
    return error.unreachable ? `${error.message}; awstoe is probably not running on EC2 (or IMDS is turned off for this instance)` : error.message;
  }
  const name = (error as Error)?.name;
  if (name === "AbortError") return "stopped: awstoe was interrupted";
  return `${(error as Error)?.message ?? String(error)} (limit ${timeoutMs} ms per try)`;
}

/** One HTTP exchange within `timeoutMs`; rejects with NoAnswer when no answer came. */
function send(endpoint: string, method: string, path: string, headers: Record<string, string>, timeoutMs: number, signal?: AbortSignal): Promise<Answer> {
  const http = require("node:http") as typeof import("node:http");
  const url = new URL(path, `${endpoint}/`);
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      outcome();
    };
    const request = http.request(url, { method, headers: { ...headers, "content-length": "0" }, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => finish(() => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") })));
      response.on("error", (error) => finish(() => reject(new NoAnswer(`${url.origin}: ${error.message}`, false))));
    });
    const timer = setTimeout(() => {
      request.destroy();
      finish(() => reject(new NoAnswer(`no answer from ${url.origin} within ${timeoutMs} ms`, true)));
    }, timeoutMs);
    const onAbort = () => {
      request.destroy();
      finish(() => reject(Object.assign(new Error("stopped"), { name: "AbortError" })));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    request.on("error", (error: NodeJS.ErrnoException) => {
      const refused = ["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "ENOTFOUND"].includes(error.code ?? "");
      finish(() => reject(new NoAnswer(`${url.origin} could not be reached (${error.code ?? error.message})`, refused)));
    });
    request.end();
  });
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

function positive(text: string | undefined): number | undefined {
  return text !== undefined && /^\d+$/.test(text.trim()) && Number(text) > 0 ? Number(text) : undefined;
}
