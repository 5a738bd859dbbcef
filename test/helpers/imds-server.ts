/**
 * @module test/helpers/imds-server: a stand-in for the EC2 instance metadata service (IMDSv2) on
 * 127.0.0.1. `PUT /latest/api/token` (with a TTL header of 1–21600 seconds) gives a session token;
 * GETs need it (401 without, or after `expireTokens()`); paths come from a map (404 otherwise);
 * the identity document is served at /latest/dynamic/instance-identity/document. Requests are
 * counted, and the next N can be made to answer 500, never answer, or redirect. awstoe finds it
 * through AWS_EC2_METADATA_SERVICE_ENDPOINT, as the AWS SDK would.
 */

export type MetadataFailure = "error" | "hang" | { redirect: string };

export interface LocalMetadata {
  endpoint: string;
  /** Every request that arrived, whatever it asked. */
  readonly requests: number;
  readonly tokenRequests: number;
  /** Paths of the GETs that carried a valid token, in order. */
  gets: string[];
  /** Tokens handed out so far stop working. */
  expireTokens(): void;
  /** The next `count` requests answer HTTP 500, not at all, or 301 to another place. */
  failNext(count: number, how: MetadataFailure): void;
  close(): void;
}

export interface LocalMetadataOptions {
  metadata?: Record<string, string>;
  identity?: { accountId: string; region: string };
  /** Where to listen; "::1" for the IPv6 tests. Default 127.0.0.1. */
  hostname?: string;
}

export async function startLocalMetadata(options: LocalMetadataOptions = {}): Promise<LocalMetadata> {
  const metadata = new Map(Object.entries(options.metadata ?? {}));
  const valid = new Set<string>();
  const injected: { count: number; how: MetadataFailure }[] = [];
  const state = { requests: 0, tokenRequests: 0, tokens: 0 };
  const gets: string[] = [];

  const server = Bun.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: 0,
    async fetch(request) {
      state.requests++;
      const next = injected[0];
      if (next !== undefined) {
        if (--next.count <= 0) injected.shift();
        if (next.how === "hang") return new Promise<Response>(() => {});
        if (next.how === "error") return new Response("boom", { status: 500 });
        return new Response("", { status: 301, headers: { location: next.how.redirect } });
      }
      const url = new URL(request.url);
      if (request.method === "PUT" && url.pathname === "/latest/api/token") {
        state.tokenRequests++;
        const ttl = Number(request.headers.get("x-aws-ec2-metadata-token-ttl-seconds") ?? "none");
        if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return new Response("", { status: 400 });
        const token = `token-${++state.tokens}`;
        valid.add(token);
        return new Response(token);
      }
      if (request.method !== "GET") return new Response("", { status: 405 });
      if (!valid.has(request.headers.get("x-aws-ec2-metadata-token") ?? "")) return new Response("", { status: 401 });
      gets.push(url.pathname);
      if (url.pathname === "/latest/dynamic/instance-identity/document" && options.identity !== undefined) {
        return Response.json({ ...options.identity, instanceId: metadata.get("instance-id") ?? "i-0123456789abcdef0", architecture: "x86_64" });
      }
      const path = decodeURIComponent(url.pathname.replace(/^\/latest\/meta-data\//, ""));
      const value = url.pathname.startsWith("/latest/meta-data/") ? metadata.get(path) : undefined;
      return value === undefined ? new Response("Not Found", { status: 404 }) : new Response(value);
    },
  });

  const host = server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname;
  return {
    endpoint: `http://${host}:${server.port}`,
    get requests() {
      return state.requests;
    },
    get tokenRequests() {
      return state.tokenRequests;
    },
    gets,
    expireTokens: () => valid.clear(),
    failNext: (count, how) => void injected.push({ count, how }),
    close: () => void server.stop(true),
  };
}

/** Points the SDK's IMDS settings (as awstoe reads them) at the stand-in. */
export function metadataEnv(imds: LocalMetadata): Record<string, string | undefined> {
  return { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint, AWS_EC2_METADATA_DISABLED: undefined };
}
