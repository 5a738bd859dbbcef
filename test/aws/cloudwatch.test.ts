/**
 * The CloudWatch Logs console mirror (src/aws/cloudwatch.ts) with the real AWS SDK against the
 * local CloudWatch Logs server (test/helpers/cloudwatch-server.ts), which verifies signatures and
 * refuses what the service refuses. Retry waits are shortened through the options.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CloudWatchLogsClient, CreateLogStreamCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { createCloudWatchMirror, MAX_MESSAGE_BYTES, splitUtf8, type CloudWatchMirrorOptions } from "../../src/aws/cloudwatch.ts";
import { LIMITS, startLocalCloudWatch, useLocalCloudWatch, type LocalCloudWatch } from "../helpers/cloudwatch-server.ts";

const REPO = new URL("../..", import.meta.url).pathname;

let cw: LocalCloudWatch;
let undoEnv: () => void;
beforeAll(async () => {
  cw = await startLocalCloudWatch({ groups: ["g"] });
  undoEnv = useLocalCloudWatch(cw, "us-east-1");
});
afterAll(() => {
  undoEnv();
  cw.close();
});

let streams = 0;
/** A fresh stream name per test, so tests never see each other's events. */
const fresh = () => `s-${++streams}`;

const mirror = (stream: string, extra: Partial<CloudWatchMirrorOptions> = {}) => createCloudWatchMirror({ group: "g", stream, retryBaseMs: 5, ...extra });

const callsTo = (operation: string) => cw.calls.filter((c) => c.operation === operation);

/** Runs `body` with environment changes, restoring the environment afterwards. */
async function withEnv<T>(changes: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    return await body();
  } finally {
    process.env = saved;
  }
}

/** A port on 127.0.0.1 that nothing listens on (it was just released). */
function closedPort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = server.port!;
  server.stop(true);
  return port;
}

describe("opening the stream", () => {
  test("creates a missing stream, and close() with nothing written sends nothing else", async () => {
    cw.resetCalls();
    const stream = fresh();
    const m = mirror(stream);
    expect(m.description).toBe(`CloudWatch Logs group 'g', stream '${stream}'`);
    await m.open();
    expect(cw.events("g", stream)).toEqual([]);
    expect(m.description).toBe(`CloudWatch Logs group 'g', stream '${stream}' in us-east-1`);
    expect(await m.close()).toBeUndefined();
    expect(cw.calls.map((c) => `${c.operation} ${c.status}`)).toEqual(["CreateLogStream 200"]);
    expect(cw.badSignatures).toBe(0);
  });

  test("an existing stream is used as it is, after its earlier events", async () => {
    const stream = fresh();
    const client = new CloudWatchLogsClient({});
    await client.send(new CreateLogStreamCommand({ logGroupName: "g", logStreamName: stream }));
    await client.send(new PutLogEventsCommand({ logGroupName: "g", logStreamName: stream, logEvents: [{ timestamp: Date.now(), message: "from before" }] }));
    client.destroy();
    const m = mirror(stream);
    await m.open();
    m.write("from the run\n");
    expect(await m.close()).toBeUndefined();
    expect(cw.events("g", stream)!.map((e) => e.message)).toEqual(["from before", "from the run"]);
  });

  test("a missing group is refused with how to create it, naming the region", async () => {
    cw.resetCalls();
    const m = createCloudWatchMirror({ group: "no-such-group", stream: "s", region: "eu-central-1", retryBaseMs: 5 });
    const error = await m.open().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toBe(
      "CreateLogStream failed: log group 'no-such-group' does not exist in eu-central-1; create it first (aws logs create-log-group --log-group-name no-such-group --region eu-central-1) or name an existing group",
    );
    // A refusal is not retried, and a mirror that never opened sends nothing and reports nothing more.
    m.write("lost quietly\n");
    expect(await m.close()).toBeUndefined();
    expect(cw.calls.map((c) => c.operation)).toEqual(["CreateLogStream"]);
  });

  test("the region option overrides the SDK chain's region (seen in the signature scope)", async () => {
    cw.resetCalls();
    const stream = fresh();
    const m = mirror(stream, { region: "ap-southeast-2" });
    expect(m.description).toBe(`CloudWatch Logs group 'g', stream '${stream}' in ap-southeast-2`);
    await m.open();
    m.write("hello\n");
    expect(await m.close()).toBeUndefined();
    expect(cw.calls.map((c) => `${c.operation} ${c.region}`)).toEqual(["CreateLogStream ap-southeast-2", "PutLogEvents ap-southeast-2"]);
    expect(process.env.AWS_REGION).toBe("us-east-1");
  });

  test("an unreachable endpoint is reported with the endpoint and the cause after the retries", async () => {
    const endpoint = `http://127.0.0.1:${closedPort()}`;
    await withEnv({ AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: endpoint }, async () => {
      const m = mirror(fresh());
      await expect(m.open()).rejects.toThrow(`CreateLogStream failed after 5 attempts: ${endpoint} could not be reached (ECONNREFUSED)`);
      expect(await m.close()).toBeUndefined();
    });
  });

  test("throttling at CreateLogStream is retried", async () => {
    const stream = fresh();
    cw.failNext(2, "throttle", "CreateLogStream");
    const m = mirror(stream);
    await m.open();
    expect(cw.events("g", stream)).toEqual([]);
    expect(await m.close()).toBeUndefined();
  });

  test("access denied, a wrong secret, no region and no credentials each get their own sentence", async () => {
    cw.failNext(1, "access-denied", "CreateLogStream");
    await expect(mirror(fresh()).open()).rejects.toThrow("CreateLogStream failed: access denied (the credentials need logs:CreateLogStream on log group 'g')");
    const refusedBefore = cw.badSignatures;
    await withEnv({ AWS_SECRET_ACCESS_KEY: "not-the-secret" }, async () => {
      await expect(mirror(fresh()).open()).rejects.toThrow("CreateLogStream failed: the request signature was refused (check the secret access key)");
    });
    expect(cw.badSignatures).toBe(refusedBefore + 1);
    const noFiles = { AWS_CONFIG_FILE: "/nonexistent/config", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials", AWS_PROFILE: undefined };
    await withEnv({ ...noFiles, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined }, async () => {
      await expect(mirror(fresh()).open()).rejects.toThrow("CreateLogStream failed: no AWS region is configured (pass --cw-log-region or set AWS_REGION)");
    });
    // No instance metadata here: the chain would otherwise wait for 169.254.169.254.
    await withEnv({ ...noFiles, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_EC2_METADATA_DISABLED: "true" }, async () => {
      await expect(mirror(fresh()).open()).rejects.toThrow("CreateLogStream failed: no AWS credentials were found (environment, shared files, or instance role)");
    });
  });
});

describe("lines", () => {
  test("arrive complete and in order, with partial lines joined, CRLF trimmed and empty lines skipped", async () => {
    const stream = fresh();
    const m = mirror(stream);
    await m.open();
    for (const chunk of ["first line\nsec", "ond ", "line\r\n", "\n", "third\n\nfourth", "\nno newline at the end"]) m.write(chunk);
    expect(await m.close()).toBeUndefined();
    expect(cw.events("g", stream)!.map((e) => e.message)).toEqual(["first line", "second line", "third", "fourth", "no newline at the end"]);
  });

  test("each line carries the time its first character was written, never going backwards", async () => {
    const stream = fresh();
    const base = Date.now() - 60_000;
    let clock = base;
    const m = mirror(stream, { now: () => clock });
    await m.open();
    m.write("a");
    clock = base + 5;
    m.write("b\nc");
    clock = base + 10;
    m.write("\nd\n");
    clock = base + 3; // the clock stepped back
    m.write("e\n");
    expect(await m.close()).toBeUndefined();
    expect(cw.events("g", stream)).toEqual([
      { timestamp: base, message: "ab" },
      { timestamp: base + 5, message: "c" },
      { timestamp: base + 10, message: "d" },
      { timestamp: base + 10, message: "e" },
    ]);
  });

  test("unicode arrives unchanged; a lone surrogate becomes U+FFFD", async () => {
    const stream = fresh();
    const lines = ["héllo wörld", "日本語のテキスト", "emoji 👩‍🚀🚀 and flags 🇳🇿", "combining e\u0301 and zero\u200bwidth", "tab\tand \u0007 bell"];
    const m = mirror(stream);
    await m.open();
    // Split inside a surrogate pair: the halves meet again in the line.
    const text = `${lines.join("\n")}\nbroken \ud800 half\n`;
    const cut = text.indexOf("🚀") + 1;
    m.write(text.slice(0, cut));
    m.write(text.slice(cut));
    expect(await m.close()).toBeUndefined();
    expect(cw.events("g", stream)!.map((e) => e.message)).toEqual([...lines, "broken \ufffd half"]);
  });

  test("a line longer than one event is split into consecutive events at character boundaries", async () => {
    const stream = fresh();
    // 3-byte characters so a naive byte cut would break one; written in 4 KiB pieces.
    const long = "€".repeat(200_000) + "tail";
    const m = mirror(stream);
    await m.open();
    m.write("before\n");
    for (let i = 0; i < long.length; i += 4096) m.write(long.slice(i, i + 4096));
    m.write("\nafter\n");
    expect(await m.close()).toBeUndefined();
    const events = cw.events("g", stream)!;
    expect(events[0]!.message).toBe("before");
    expect(events.at(-1)!.message).toBe("after");
    const pieces = events.slice(1, -1);
    expect(pieces.length).toBe(Math.ceil((600_000 + 4) / MAX_MESSAGE_BYTES));
    for (const piece of pieces) expect(Buffer.byteLength(piece.message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(pieces.map((p) => p.message).join("")).toBe(long);
    expect(new Set(pieces.map((p) => p.timestamp)).size).toBe(1);
  });

  test("a long line of emoji written in odd-sized pieces keeps every surrogate pair whole", async () => {
    const stream = fresh();
    const long = "🚀".repeat(150_000); // 600,000 bytes; 4,095-unit writes end inside pairs
    const m = mirror(stream);
    await m.open();
    for (let i = 0; i < long.length; i += 4095) m.write(long.slice(i, i + 4095));
    m.write("\n");
    expect(await m.close()).toBeUndefined();
    const pieces = cw.events("g", stream)!.map((e) => e.message);
    expect(pieces.length).toBe(3);
    expect(pieces.join("")).toBe(long);
  });

  test("splitUtf8 keeps pairs whole and fills pieces to the limit", () => {
    expect(splitUtf8("abcdef", 4)).toEqual(["abcd", "ef"]);
    expect(splitUtf8("a🚀b", 4)).toEqual(["a", "🚀", "b"]);
    expect(splitUtf8("éé", 3)).toEqual(["é", "é"]);
    expect(splitUtf8("short", 100)).toEqual(["short"]);
  });
});

describe("batches", () => {
  test("30 MB of output in 200,000 lines arrives whole, in order, in batches within the service limits", async () => {
    cw.resetCalls();
    const stream = fresh();
    // The writer outruns the sender here; a larger queue than the default keeps this test about batching.
    const m = mirror(stream, { maxQueuedBytes: 64 * 1024 * 1024 });
    await m.open();
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) lines.push(`${String(i).padStart(6, "0")} ${"step output ünïcode ".repeat(1 + (i % 14))}`);
    const text = `${lines.join("\n")}\n`;
    expect(Buffer.byteLength(text)).toBeGreaterThan(30_000_000);
    for (let i = 0; i < text.length; i += 65_536) {
      m.write(text.slice(i, i + 65_536));
      if (i % (16 * 65_536) === 0) await Bun.sleep(0); // let sends overlap the writing
    }
    expect(await m.close()).toBeUndefined();
    const stored = cw.events("g", stream)!;
    expect(stored.length).toBe(lines.length);
    expect(stored.map((e) => e.message).join("\n")).toBe(lines.join("\n"));
    const puts = callsTo("PutLogEvents");
    expect(puts.every((c) => c.status === 200)).toBe(true);
    expect(puts.length).toBeGreaterThanOrEqual(Math.ceil(Buffer.byteLength(text) / LIMITS.batchBytes));
    expect(Math.max(...puts.map((c) => c.batchBytes!))).toBeLessThanOrEqual(LIMITS.batchBytes);
    // Batches are filled, not sent a line at a time.
    expect(puts.length).toBeLessThan(2 * Math.ceil(Buffer.byteLength(text) / LIMITS.batchBytes) + 2);
  });

  test("many short lines are cut at 10,000 events per batch", async () => {
    cw.resetCalls();
    const stream = fresh();
    const m = mirror(stream);
    await m.open();
    for (let i = 0; i < 25_000; i++) m.write(`${i}\n`);
    expect(await m.close()).toBeUndefined();
    expect(callsTo("PutLogEvents").map((c) => c.events)).toEqual([10_000, 10_000, 5_000]);
    expect(cw.events("g", stream)!.map((e) => e.message)).toEqual(Array.from({ length: 25_000 }, (_, i) => String(i)));
  });

  test("a batch never spans 24 hours", async () => {
    cw.resetCalls();
    const stream = fresh();
    const now = Date.now();
    let clock = now - 25 * 3600_000;
    const m = mirror(stream, { now: () => clock });
    await m.open();
    m.write("yesterday\n");
    clock = now;
    m.write("today\n");
    expect(await m.close()).toBeUndefined();
    expect(callsTo("PutLogEvents").map((c) => c.events)).toEqual([1, 1]);
    expect(cw.events("g", stream)!.map((e) => e.message)).toEqual(["yesterday", "today"]);
  });

  test("the server refuses batches the service would refuse (so the limits above are real)", async () => {
    const stream = fresh();
    const client = new CloudWatchLogsClient({});
    await client.send(new CreateLogStreamCommand({ logGroupName: "g", logStreamName: stream }));
    const put = (logEvents: { timestamp: number; message: string }[]) => client.send(new PutLogEventsCommand({ logGroupName: "g", logStreamName: stream, logEvents }));
    const t = Date.now();
    await expect(put([{ timestamp: t, message: "b" }, { timestamp: t - 1, message: "a" }])).rejects.toThrow("chronological order");
    await expect(put([{ timestamp: t, message: "x".repeat(MAX_MESSAGE_BYTES + 1) }])).rejects.toThrow("Log event too large");
    await expect(put(Array.from({ length: 5 }, () => ({ timestamp: t, message: "x".repeat(MAX_MESSAGE_BYTES) })))).rejects.toThrow("Upload too large");
    await expect(put(Array.from({ length: 10_001 }, () => ({ timestamp: t, message: "x" })))).rejects.toThrow("10000");
    await expect(put([{ timestamp: t - 25 * 3600_000, message: "a" }, { timestamp: t, message: "b" }])).rejects.toThrow("24 hours");
    await expect(put([{ timestamp: t, message: "" }])).rejects.toThrow("length greater than or equal to 1");
    await put([{ timestamp: t, message: "x".repeat(MAX_MESSAGE_BYTES) }]);
    client.destroy();
  });
});

describe("delivery failures", () => {
  test("throttling, 500s, 503s and dropped connections are retried without duplicates", async () => {
    cw.resetCalls();
    const stream = fresh();
    const m = mirror(stream);
    await m.open();
    cw.failNext(2, "throttle", "PutLogEvents");
    cw.failNext(1, "server-error", "PutLogEvents");
    cw.failNext(1, "close-connection", "PutLogEvents");
    for (let i = 0; i < 30; i++) m.write(`line ${i}\n`);
    expect(await m.close()).toBeUndefined();
    expect(cw.events("g", stream)!.map((e) => e.message)).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i}`));
    expect(callsTo("PutLogEvents").map((c) => c.error ?? c.status)).toEqual(["ThrottlingException", "ThrottlingException", "InternalFailure", "ConnectionReset", 200]);
  });

  test("an endpoint that keeps failing: close() reports the loss in one sentence", async () => {
    cw.resetCalls();
    const stream = fresh();
    const m = mirror(stream);
    await m.open();
    cw.failAlways("server-error");
    try {
      for (let i = 0; i < 100; i++) m.write(`line ${i}\n`);
      const report = await m.close();
      expect(report).toBe(
        `100 of 100 console lines did not reach CloudWatch Logs group 'g', stream '${stream}' in us-east-1: 100 not delivered (PutLogEvents failed after 5 attempts: InternalFailure (HTTP 500): The request processing has failed because of an unknown error, exception or failure.).`,
      );
      expect(callsTo("PutLogEvents").length).toBe(5);
    } finally {
      cw.failAlways(undefined);
    }
  });

  test("after a batch is given up, later batches get one attempt each until one gets through", async () => {
    cw.resetCalls();
    const stream = fresh();
    const m = mirror(stream);
    await m.open();
    cw.failAlways("unavailable");
    try {
      for (let i = 0; i < 25_000; i++) m.write(`${i}\n`);
      const report = await m.close();
      expect(report).toStartWith(`25,000 of 25,000 console lines did not reach CloudWatch Logs group 'g', stream '${stream}' in us-east-1: 25,000 not delivered (PutLogEvents failed`);
      // 5 attempts for the first batch, then one each for the other two.
      expect(callsTo("PutLogEvents").length).toBe(7);
    } finally {
      cw.failAlways(undefined);
    }
  });

  test("access denied mid-run stops the copy; the rest is counted, not sent", async () => {
    cw.resetCalls();
    const stream = fresh();
    const m = mirror(stream, { flushIntervalMs: 20 });
    await m.open();
    cw.failNext(1, "access-denied", "PutLogEvents");
    m.write("one\ntwo\n");
    await Bun.sleep(200); // the first flush meets the refusal
    m.write("three\n");
    const report = await m.close();
    expect(report).toBe(
      `3 of 3 console lines did not reach CloudWatch Logs group 'g', stream '${stream}' in us-east-1: 2 not delivered (PutLogEvents failed: access denied (the credentials need logs:PutLogEvents on log group 'g')); 1 not sent because of that.`,
    );
    expect(callsTo("PutLogEvents").length).toBe(1);
  });

  test("events the service rejects as too old are reported", async () => {
    const stream = fresh();
    const m = mirror(stream, { now: () => Date.now() - 15 * 24 * 3600_000 });
    await m.open();
    m.write("from a wrong clock\n");
    expect(await m.close()).toBe(
      `1 of 1 console lines did not reach CloudWatch Logs group 'g', stream '${stream}' in us-east-1: 1 refused by the service as too old or too far in the future (check this machine's clock).`,
    );
    expect(cw.events("g", stream)).toEqual([]);
  });

  test("lines beyond the memory cap are dropped and counted", async () => {
    const stream = fresh();
    const m = mirror(stream, { maxQueuedBytes: 10_000 });
    // Written before open(), so nothing is sent while the queue fills: 100 of these fit.
    for (let i = 0; i < 1000; i++) m.write(`${"x".repeat(70)} ${String(i).padStart(3, "0")}\n`);
    await m.open();
    expect(await m.close()).toBe(
      `900 of 1,000 console lines did not reach CloudWatch Logs group 'g', stream '${stream}' in us-east-1: 900 dropped because sending fell more than 10000 bytes behind.`,
    );
    expect(cw.events("g", stream)!.length).toBe(100);
  });

  test("an endpoint that never answers cannot hold close() past its bound", async () => {
    // A server that accepts requests and never answers: a black hole, on loopback.
    const hole = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => (request.headers.get("x-amz-target")?.endsWith("PutLogEvents") ? new Promise<Response>(() => {}) : new Response("", { status: 200 })) });
    try {
      await withEnv({ AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: `http://127.0.0.1:${hole.port}` }, async () => {
        const m = mirror("s", { deadlineMs: 1500, requestTimeoutMs: 60_000 });
        await m.open();
        m.write("into the void\n");
        expect(await m.close()).toBe(
          "1 of 1 console lines did not reach CloudWatch Logs group 'g', stream 's' in us-east-1: 1 still waiting when the 1.5 s allowed for the final upload ran out.",
        );
      });
    } finally {
      hole.stop(true);
    }
  });

  test("a request without an answer times out and is retried", async () => {
    let seen = 0;
    const slow = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) => (request.headers.get("x-amz-target")?.endsWith("PutLogEvents") && seen++ === 0 ? new Promise<Response>(() => {}) : new Response("{}", { status: 200 })),
    });
    try {
      await withEnv({ AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: `http://127.0.0.1:${slow.port}` }, async () => {
        const m = mirror("s", { requestTimeoutMs: 300 });
        await m.open();
        m.write("eventually\n");
        expect(await m.close()).toBeUndefined();
        expect(seen).toBe(2);
      });
    } finally {
      slow.stop(true);
    }
  });
});

describe("lifecycle", () => {
  test("close() twice gives the same answer, and writes after close are ignored", async () => {
    cw.resetCalls();
    const stream = fresh();
    const m = mirror(stream);
    await m.open();
    m.write("only\n");
    const first = m.close();
    m.write("too late\n");
    expect(await first).toBeUndefined();
    expect(await m.close()).toBeUndefined();
    expect(cw.events("g", stream)!.map((e) => e.message)).toEqual(["only"]);
    expect(callsTo("PutLogEvents").length).toBe(1);
  });

  test("nothing keeps the process alive after close(), even after retries", async () => {
    // A separate process: if a timer or socket stayed referenced, it would not exit by itself.
    const script = `
      import { createCloudWatchMirror } from "./src/aws/cloudwatch.ts";
      import { startLocalCloudWatch, useLocalCloudWatch } from "./test/helpers/cloudwatch-server.ts";
      const cw = await startLocalCloudWatch({ groups: ["g"] });
      useLocalCloudWatch(cw);
      const m = createCloudWatchMirror({ group: "g", stream: "s", retryBaseMs: 5 });
      await m.open();
      cw.failNext(2, "throttle");
      m.write("partial line without an end");
      const report = await m.close();
      cw.close();
      console.log(JSON.stringify({ report: report ?? null, events: cw.events("g", "s").map((e) => e.message) }));
    `;
    const child = Bun.spawnSync([process.execPath, "-e", script], { cwd: REPO, env: { ...process.env }, timeout: 20_000, killSignal: "SIGKILL" });
    expect(child.exitedDueToTimeout ?? false).toBe(false);
    expect(child.stderr.toString()).toBe("");
    expect(JSON.parse(child.stdout.toString())).toEqual({ report: null, events: ["partial line without an end"] });
    expect(child.exitCode).toBe(0);
  });
});
