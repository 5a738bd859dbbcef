/**
 * @module aws/imds: the instance metadata service (IMDSv2) for `{{ aws:imds:PATH }}` and for
 * `{{ context:accountId }}`/`region` on EC2. A small client of our own on node:http — the SDK's
 * is internal to its credential providers — loaded on first use, so start-up does not pay for it.
 * node:http rather than fetch because Bun's fetch sends through HTTP_PROXY even for a literal
 * address, and it follows redirects: neither may take a metadata request anywhere else.
 *
 * - Session tokens only (IMDSv2): one token per port, reused; asked again once when a request
 *   answers 401 (the token expired or the service restarted).
 * - The endpoint is the one the AWS SDK would use: AWS_EC2_METADATA_SERVICE_ENDPOINT, else the
 *   profile's ec2_metadata_service_endpoint, else the mode (AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE,
 *   else the profile's ec2_metadata_service_endpoint_mode): IPv4 169.254.169.254 (the default) or
 *   IPv6 fd00:ec2::254. AWS_EC2_METADATA_DISABLED set to anything but "false" turns it off, as in
 *   the SDK. Nothing is ever sent anywhere else: no proxy, no redirect, no '..' in a path.
 * - Short limits, since off EC2 nothing answers: 1 s per attempt (AWSTOE_IMDS_TIMEOUT_MS), 3
 *   attempts 100 ms and 200 ms apart for no answer, a failed connection and 5xx; 404 is final.
 */
import type { MetadataPort } from "../model/ports.ts";
import { durationText } from "./_cause.ts";

const TOKEN_TTL_SECONDS = "21600";
const DEFAULT_TIMEOUT_MS = 1_000;
const DEFAULT_ATTEMPTS = 3;
const BACKOFF_MS = [100, 200];
/** Metadata values are small (user-data tops out at 16 KiB); more than this is not IMDS. */
const MAX_BODY_BYTES = 1024 * 1024;
const IPV4 = "http://169.254.169.254";
const IPV6 = "http://[fd00:ec2::254]";
const NOT_ON_EC2 = "awstoe is probably not running on EC2 (in a container on EC2, the instance's metadata hop limit must be at least 2)";

export interface MetadataPortOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  attempts?: number;
}

interface Answer {
  status: number;
  body: string;
}

/**
 * Why a call failed, worded as the clause after "could not be read: ". `absent` (no connection,
 * no answer) and `off` (turned off) mean there is no IMDS to ask: identity() answers undefined.
 */
class MetadataFailure extends Error {
  constructor(
    message: string,
    readonly kind: "absent" | "off" | "failed" | "stopped" = "failed",
  ) {
    super(message);
  }
}

export function createMetadataPort(options: MetadataPortOptions = {}): MetadataPort {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? positive(env.AWSTOE_IMDS_TIMEOUT_MS) ?? DEFAULT_TIMEOUT_MS;
  const attempts = Math.max(1, options.attempts ?? DEFAULT_ATTEMPTS);
  // Settled on the first call, so creating a port reads no file.
  let endpoint: URL | MetadataFailure | undefined;
  let token: Promise<string> | undefined;

  const where = (): URL => {
    endpoint ??= settle(env);
    if (endpoint instanceof MetadataFailure) throw endpoint;
    return endpoint;
  };

  /** One exchange, tried up to `attempts` times while the cause may pass (no answer, 5xx). */
  const request = async (url: URL, method: "GET" | "PUT", path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Answer> => {
    let last: MetadataFailure | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await pause(BACKOFF_MS[attempt - 2] ?? BACKOFF_MS.at(-1)!, url, signal);
      try {
        const answer = await send(url, method, path, headers, timeoutMs, signal);
        if (answer.status < 500) return answer;
        last = new MetadataFailure(`${url.origin} answered HTTP ${answer.status}`);
      } catch (error) {
        if (!(error instanceof MetadataFailure) || error.kind === "stopped") throw error;
        last = error;
      }
    }
    const tries = `${attempts} ${attempts === 1 ? "attempt" : "attempts"}`;
    throw new MetadataFailure(`${last!.message} (${tries})${last!.kind === "absent" ? `; ${NOT_ON_EC2}` : ""}`, last!.kind);
  };

  const newToken = async (url: URL, signal?: AbortSignal): Promise<string> => {
    const answer = await request(url, "PUT", "/latest/api/token", { "x-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL_SECONDS }, signal);
    if (answer.status === 200 && answer.body !== "") return answer.body;
    const hint = answer.status === 403 ? "; instance metadata may be turned off for this instance" : "";
    throw new MetadataFailure(`${url.origin} gave no session token (HTTP ${answer.status})${hint}`);
  };

  /** The port's token, shared by concurrent calls; a failed request for it is not kept. */
  const tokenFor = async (url: URL, signal?: AbortSignal): Promise<{ value: string; from: Promise<string> }> => {
    for (;;) {
      const current = (token ??= newToken(url, signal));
      try {
        return { value: await current, from: current };
      } catch (error) {
        if (token === current) token = undefined; // the next call asks again
        // Another caller's stop ended the shared request: ask again under this call's own signal.
        if (error instanceof MetadataFailure && error.kind === "stopped" && !signal?.aborted) continue;
        throw error;
      }
    }
  };

  /** GET with the session token; a 401 gets one fresh token and one more request. */
  const get = async (path: string, signal?: AbortSignal): Promise<Answer> => {
    const url = where();
    for (let fresh = false; ; fresh = true) {
      const current = await tokenFor(url, signal);
      const answer = await request(url, "GET", path, { "x-aws-ec2-metadata-token": current.value }, signal);
      if (answer.status !== 401) return answer;
      if (fresh) throw new MetadataFailure(`${url.origin} refused a new session token too (HTTP 401)`);
      if (token === current.from) token = undefined;
    }
  };

  return {
    async get(path, signal) {
      const clean = path.replace(/^\/+/, "");
      const fail = (why: string) => new Error(`instance metadata '${clean}' could not be read: ${why}`);
      const segments = clean.split("/");
      if (segments.some((s) => s === "." || s === "..")) throw fail("a metadata path may not contain '.' or '..' segments");
      let answer: Answer;
      try {
        answer = await get(`/latest/meta-data/${segments.map(encodeURIComponent).join("/")}`, signal);
      } catch (error) {
        throw fail(reason(error));
      }
      if (answer.status === 404) throw fail("there is no such metadata path on this instance (HTTP 404); see the instance metadata categories in the EC2 documentation");
      if (answer.status !== 200) throw fail(`${where().origin} answered HTTP ${answer.status}`);
      return answer.body;
    },

    async identity(signal) {
      const fail = (why: string) => new Error(`the instance identity document (latest/dynamic/instance-identity/document) could not be read: ${why}`);
      let answer: Answer;
      try {
        answer = await get("/latest/dynamic/instance-identity/document", signal);
      } catch (error) {
        if (error instanceof MetadataFailure && (error.kind === "absent" || error.kind === "off")) return undefined; // not on EC2
        throw fail(reason(error));
      }
      if (answer.status !== 200) throw fail(`${where().origin} answered HTTP ${answer.status}`);
      try {
        const document = JSON.parse(answer.body) as { accountId?: unknown; region?: unknown };
        if (typeof document.accountId === "string" && typeof document.region === "string") return { accountId: document.accountId, region: document.region };
      } catch {
        // worded below
      }
      throw fail("it is not JSON with accountId and region");
    },
  };
}

/** The endpoint the SDK would use, or why there is none; see the module comment for the order. */
function settle(env: NodeJS.ProcessEnv): URL | MetadataFailure {
  const disabled = env.AWS_EC2_METADATA_DISABLED?.trim();
  if (disabled && !/^false$/i.test(disabled)) return new MetadataFailure("instance metadata is turned off (AWS_EC2_METADATA_DISABLED)", "off");
  const explicit = env.AWS_EC2_METADATA_SERVICE_ENDPOINT?.trim();
  const profile = explicit ? {} : profileSettings(env);
  const [name, value] = explicit ? ["AWS_EC2_METADATA_SERVICE_ENDPOINT", explicit] : ["ec2_metadata_service_endpoint in the AWS config file", profile.ec2_metadata_service_endpoint];
  if (value) {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      // worded below
    }
    if (url?.protocol !== "http:" && url?.protocol !== "https:") return new MetadataFailure(`${name} is '${value}', which is not an http:// or https:// URL`);
    return url;
  }
  const fromEnv = env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE?.trim();
  const mode = fromEnv || profile.ec2_metadata_service_endpoint_mode || "IPv4";
  if (/^ipv4$/i.test(mode)) return new URL(IPV4);
  if (/^ipv6$/i.test(mode)) return new URL(IPV6);
  const modeName = fromEnv ? "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE" : "ec2_metadata_service_endpoint_mode in the AWS config file";
  return new MetadataFailure(`${modeName} is '${mode}'; it must be IPv4 or IPv6`);
}

/**
 * The ec2_metadata_* settings of the current profile (AWS_PROFILE, else default) in the shared
 * config file (AWS_CONFIG_FILE, else ~/.aws/config). Only top-level `key = value` lines: indented
 * lines are the sub-settings of a service section, which IMDS has none of.
 */
function profileSettings(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const fs = require("node:fs") as typeof import("node:fs");
  const home = env.HOME || env.USERPROFILE || (require("node:os") as typeof import("node:os")).homedir();
  let text: string;
  try {
    text = fs.readFileSync(env.AWS_CONFIG_FILE?.trim() || `${home}/.aws/config`, "utf8");
  } catch {
    return {}; // no config file: the defaults apply, as in the SDK
  }
  const profile = env.AWS_PROFILE?.trim() || "default";
  const wanted = profile === "default" ? ["default", "profile default"] : [`profile ${profile}`];
  const found: Record<string, string | undefined> = {};
  let inside = false;
  for (const line of text.split(/\r?\n/)) {
    const section = /^\s*\[([^\]]+)\]/.exec(line);
    if (section) {
      inside = wanted.includes(section[1]!.trim().replace(/\s+/g, " "));
      continue;
    }
    const setting = /^([\w-]+)\s*=\s*(.*)$/.exec(line.split(/(?:^|\s)[#;]/)[0]!);
    if (inside && setting) found[setting[1]!.toLowerCase()] = setting[2]!.trim();
  }
  return found;
}

function reason(error: unknown): string {
  if (error instanceof MetadataFailure) return error.message;
  return (error as Error)?.message ?? String(error);
}

/** One HTTP exchange, whole within `timeoutMs`, to the endpoint's host only; rejects with a MetadataFailure. */
function send(endpoint: URL, method: string, path: string, headers: Record<string, string>, timeoutMs: number, signal?: AbortSignal): Promise<Answer> {
  if (signal?.aborted) return Promise.reject(stopped(endpoint));
  const client = (endpoint.protocol === "https:" ? require("node:https") : require("node:http")) as typeof import("node:http");
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      request.destroy();
      outcome();
    };
    const request = client.request(
      {
        protocol: endpoint.protocol,
        // node:http wants an IPv6 address without its URL brackets.
        hostname: endpoint.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: endpoint.port || undefined,
        path,
        method,
        headers: { ...headers, "content-length": "0" },
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) finish(() => reject(new MetadataFailure(`${endpoint.origin} sent more than ${MAX_BODY_BYTES / 1024 / 1024} MiB for one value`)));
          else chunks.push(chunk);
        });
        response.on("end", () => finish(() => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") })));
        response.on("error", (error) => finish(() => reject(new MetadataFailure(`the answer from ${endpoint.origin} broke off (${error.message})`))));
      },
    );
    const timer = setTimeout(() => finish(() => reject(new MetadataFailure(`no answer from ${endpoint.origin} within ${durationText(timeoutMs)}`, "absent"))), timeoutMs);
    const onAbort = () => finish(() => reject(stopped(endpoint)));
    signal?.addEventListener("abort", onAbort, { once: true });
    request.on("error", (error: NodeJS.ErrnoException) => {
      // No connection at all: nothing listens there, so this is not EC2 (or IMDS is off).
      const absent = ["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "ENOTFOUND", "ETIMEDOUT"].includes(error.code ?? "");
      finish(() => reject(new MetadataFailure(`${endpoint.origin} could not be reached (${error.code ?? error.message})`, absent ? "absent" : "failed")));
    });
    request.end();
  });
}

function stopped(endpoint: URL): MetadataFailure {
  return new MetadataFailure(`stopped before ${endpoint.origin} answered (awstoe was interrupted)`, "stopped");
}

/** The backoff between attempts; a stop ends it at once. */
function pause(ms: number, endpoint: URL, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(stopped(endpoint));
    const onAbort = () => {
      clearTimeout(timer);
      reject(stopped(endpoint));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function positive(text: string | undefined): number | undefined {
  return text !== undefined && /^\d+$/.test(text.trim()) && Number(text) > 0 ? Number(text) : undefined;
}
