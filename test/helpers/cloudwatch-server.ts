/**
 * @module test/helpers/cloudwatch-server: a small CloudWatch Logs service on 127.0.0.1 for tests.
 *
 * It speaks the service's JSON 1.1 protocol (POST /, `X-Amz-Target: Logs_20140328.<Operation>`,
 * `application/x-amz-json-1.1`, errors as `{"__type", "message"}`) for CreateLogStream and
 * PutLogEvents, so the unmodified AWS SDK talks to it through AWS_ENDPOINT_URL_CLOUDWATCH_LOGS.
 * Every request's Signature V4 is verified against the test secret (test/helpers/sigv4).
 * PutLogEvents refuses what the real service refuses (batch bytes with the 26-byte overhead, event
 * count, event size, empty messages, order, 24-hour span) and reports too-old / too-new events in
 * rejectedLogEventsInfo.
 * Failures can be injected before a request is processed, so a retried request is never stored
 * twice by the server's own doing.
 */
import { parseAuthorization, signingRefusal, type SigV4Authorization } from "./sigv4.ts";

export const CW_ACCESS_KEY_ID = "AKIDLOCALCLOUDWATCH";
export const CW_SECRET_ACCESS_KEY = "local-cloudwatch-secret";

/** The service's published PutLogEvents limits (API reference, PutLogEvents). */
export const LIMITS = {
  batchBytes: 1_048_576,
  eventOverhead: 26,
  batchEvents: 10_000,
  /** Event size including the 26-byte overhead (the long-standing 256 KB quota). */
  eventBytes: 262_144,
  spanMs: 24 * 3600_000,
  futureMs: 2 * 3600_000,
  pastMs: 14 * 24 * 3600_000,
} as const;

export type Failure = "throttle" | "server-error" | "unavailable" | "access-denied" | "close-connection";

export interface StoredEvent {
  timestamp: number;
  message: string;
}

/** One request as the server saw it. */
export interface CallRecord {
  operation: string;
  /** Region the request was signed for (from the Authorization header's scope). */
  region: string;
  status: number;
  /** The error's __type, when the answer was an error ("ConnectionReset", status 0, for a cut connection). */
  error?: string;
  /** PutLogEvents: events in the request and their bytes counted the service's way. */
  events?: number;
  batchBytes?: number;
}

export interface LocalCloudWatch {
  endpoint: string;
  /** Every request, in arrival order. */
  readonly calls: CallRecord[];
  /** Requests refused for a missing or wrong signature. */
  readonly badSignatures: number;
  createGroup(name: string): void;
  /** Events stored in a stream, or undefined when the stream does not exist. */
  events(group: string, stream: string): StoredEvent[] | undefined;
  /** Answer the next `count` requests (of `operation`, or any) with `failure` before processing them. */
  failNext(count: number, failure: Failure, operation?: string): void;
  /** Answer every request with `failure` until called again with undefined. */
  failAlways(failure: Failure | undefined): void;
  /** Shifts the server's clock (for too-old / too-new rejections). */
  clockOffsetMs: number;
  /** Forgets recorded calls (not groups or events). */
  resetCalls(): void;
  close(): void;
}

const TARGET_PREFIX = "Logs_20140328.";

class ServiceError {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly message: string,
  ) {}
}

export async function startLocalCloudWatch(options: { groups?: string[] } = {}): Promise<LocalCloudWatch> {
  const groups = new Map<string, Map<string, StoredEvent[]>>();
  for (const name of options.groups ?? []) groups.set(name, new Map());
  const calls: CallRecord[] = [];
  const injected: { count: number; failure: Failure; operation?: string }[] = [];
  const state = { always: undefined as Failure | undefined, badSignatures: 0, clockOffsetMs: 0, sequence: 0 };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const body = await request.text();
      const target = request.headers.get("x-amz-target") ?? "";
      const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
      const auth = parseAuthorization(request.headers.get("authorization"));
      const call: CallRecord = { operation, region: auth?.region ?? "", status: 200 };
      calls.push(call);
      try {
        await checkSignature(request, body, auth);
        const failure = takeFailure(operation);
        if (failure === "close-connection") {
          call.status = 0;
          call.error = "ConnectionReset";
          return brokenResponse();
        }
        if (failure !== undefined) throw failureError(failure, operation);
        if (request.method !== "POST" || !(request.headers.get("content-type") ?? "").startsWith("application/x-amz-json-1.1")) {
          throw new ServiceError(400, "SerializationException", "Expected a POST with content-type application/x-amz-json-1.1.");
        }
        const input = parseInput(body);
        if (operation === "CreateLogStream") return answer(createLogStream(input));
        if (operation === "PutLogEvents") return answer(putLogEvents(input, call));
        throw new ServiceError(400, "UnknownOperationException", `Operation '${operation}' is not served by this test server.`);
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        call.status = error.status;
        call.error = error.type;
        return new Response(JSON.stringify({ __type: error.type, message: error.message }), {
          status: error.status,
          headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": crypto.randomUUID() },
        });
      }
    },
  });

  async function checkSignature(request: Request, body: string, auth: SigV4Authorization | undefined): Promise<void> {
    const refusal = await signingRefusal(request, new URL(request.url), body, { accessKeyId: CW_ACCESS_KEY_ID, secret: CW_SECRET_ACCESS_KEY, service: "logs" }, auth);
    if (refusal === undefined) return;
    state.badSignatures++;
    throw new ServiceError(400, refusal.type, refusal.message);
  }

  function takeFailure(operation: string): Failure | undefined {
    if (state.always !== undefined) return state.always;
    const next = injected[0];
    if (next === undefined || (next.operation !== undefined && next.operation !== operation)) return undefined;
    if (--next.count <= 0) injected.shift();
    return next.failure;
  }

  function createLogStream(input: Record<string, unknown>): object {
    const group = groupNamed(input.logGroupName);
    const name = input.logStreamName;
    if (typeof name !== "string" || name.length < 1 || name.length > 512 || /[:*]/.test(name)) {
      throw new ServiceError(400, "InvalidParameterException", "1 validation error detected: Value at 'logStreamName' failed to satisfy constraint.");
    }
    if (group.has(name)) throw new ServiceError(400, "ResourceAlreadyExistsException", "The specified log stream already exists");
    group.set(name, []);
    return {};
  }

  function putLogEvents(input: Record<string, unknown>, call: CallRecord): object {
    const events = input.logEvents;
    if (!Array.isArray(events) || events.length < 1 || events.length > LIMITS.batchEvents) {
      throw new ServiceError(400, "InvalidParameterException", `1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length between 1 and ${LIMITS.batchEvents}`);
    }
    let batchBytes = 0;
    for (const [i, event] of (events as { timestamp?: unknown; message?: unknown }[]).entries()) {
      if (typeof event.message !== "string" || event.message.length < 1 || typeof event.timestamp !== "number") {
        throw new ServiceError(400, "InvalidParameterException", `1 validation error detected: Value at 'logEvents.${i + 1}.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1`);
      }
      const size = Buffer.byteLength(event.message, "utf8") + LIMITS.eventOverhead;
      if (size > LIMITS.eventBytes) throw new ServiceError(400, "InvalidParameterException", `Log event too large: ${size} bytes exceeds limit of ${LIMITS.eventBytes}`);
      batchBytes += size;
    }
    call.events = events.length;
    call.batchBytes = batchBytes;
    if (batchBytes > LIMITS.batchBytes) throw new ServiceError(400, "InvalidParameterException", `Upload too large: ${batchBytes} bytes exceeds limit of ${LIMITS.batchBytes}`);
    const stream = groupNamed(input.logGroupName).get(String(input.logStreamName));
    if (stream === undefined) throw new ServiceError(400, "ResourceNotFoundException", "The specified log stream does not exist.");
    const list = events as StoredEvent[];
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.timestamp < list[i - 1]!.timestamp) throw new ServiceError(400, "InvalidParameterException", "Log events in a single PutLogEvents request must be in chronological order.");
    }
    if (list[list.length - 1]!.timestamp - list[0]!.timestamp > LIMITS.spanMs) {
      throw new ServiceError(400, "InvalidParameterException", "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.");
    }
    const now = Date.now() + state.clockOffsetMs;
    let tooOldEnd = 0;
    while (tooOldEnd < list.length && list[tooOldEnd]!.timestamp < now - LIMITS.pastMs) tooOldEnd++;
    let tooNewStart = list.length;
    while (tooNewStart > tooOldEnd && list[tooNewStart - 1]!.timestamp > now + LIMITS.futureMs) tooNewStart--;
    for (let i = tooOldEnd; i < tooNewStart; i++) stream.push({ timestamp: list[i]!.timestamp, message: list[i]!.message });
    const rejected = {
      ...(tooOldEnd > 0 ? { tooOldLogEventEndIndex: tooOldEnd } : {}),
      ...(tooNewStart < list.length ? { tooNewLogEventStartIndex: tooNewStart } : {}),
    };
    return { nextSequenceToken: String(++state.sequence).padStart(56, "0"), ...(Object.keys(rejected).length > 0 ? { rejectedLogEventsInfo: rejected } : {}) };
  }

  function groupNamed(name: unknown): Map<string, StoredEvent[]> {
    const group = typeof name === "string" ? groups.get(name) : undefined;
    if (group === undefined) throw new ServiceError(400, "ResourceNotFoundException", "The specified log group does not exist.");
    return group;
  }

  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    calls,
    get badSignatures() {
      return state.badSignatures;
    },
    get clockOffsetMs() {
      return state.clockOffsetMs;
    },
    set clockOffsetMs(value: number) {
      state.clockOffsetMs = value;
    },
    createGroup(name) {
      if (!groups.has(name)) groups.set(name, new Map());
    },
    events(group, stream) {
      return groups.get(group)?.get(stream);
    },
    failNext(count, failure, operation) {
      injected.push({ count, failure, ...(operation !== undefined ? { operation } : {}) });
    },
    failAlways(failure) {
      state.always = failure;
    },
    resetCalls() {
      calls.length = 0;
    },
    close() {
      server.stop(true);
    },
  };
}

function parseInput(body: string): Record<string, unknown> {
  try {
    const value = JSON.parse(body) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new ServiceError(400, "SerializationException", "The request body is not a JSON object.");
}

function answer(output: object): Response {
  const text = JSON.stringify(output);
  // CreateLogStream answers with an empty body, as the service does.
  return new Response(text === "{}" ? "" : text, { status: 200, headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": crypto.randomUUID() } });
}

function failureError(failure: Exclude<Failure, "close-connection">, operation: string): ServiceError {
  switch (failure) {
    case "throttle":
      return new ServiceError(400, "ThrottlingException", "Rate exceeded");
    case "server-error":
      return new ServiceError(500, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure.");
    case "unavailable":
      return new ServiceError(503, "ServiceUnavailableException", "The service cannot complete the request.");
    case "access-denied":
      return new ServiceError(400, "AccessDeniedException", `User: arn:aws:iam::000000000000:user/test is not authorized to perform: logs:${operation} because no identity-based policy allows the logs:${operation} action`);
  }
}

/**
 * A response whose body fails after the headers promise more: the connection is cut mid-answer,
 * which is what a client sees when a load balancer or the network drops it.
 */
function brokenResponse(): Response {
  const body = new ReadableStream({
    pull(controller) {
      // An undefined reason: Bun then resets the connection without printing an error of its own.
      controller.error(undefined);
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "application/x-amz-json-1.1", "content-length": "4096" } });
}

/** The environment the SDK's own chain needs to reach the server (as awstoe would be configured). */
export function cloudWatchEnv(cw: LocalCloudWatch, region = "us-east-1"): Record<string, string> {
  return { AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: cw.endpoint, AWS_ACCESS_KEY_ID: CW_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: CW_SECRET_ACCESS_KEY, AWS_REGION: region };
}

/** Points this process's SDK chain at the server; returns the undo. */
export function useLocalCloudWatch(cw: LocalCloudWatch, region = "us-east-1"): () => void {
  const saved = { ...process.env };
  Object.assign(process.env, cloudWatchEnv(cw, region));
  return () => {
    process.env = saved;
  };
}
