/**
 * WebDownload against real servers on 127.0.0.1 (node:http and node:https with a self-signed
 * certificate made by the openssl CLI): downloads, TLS, redirects, retries, checksums, overwrite,
 * folder destinations, stopping, and network failures; a large streamed body is measured in
 * test/e2e/web-download-memory.test.ts. The retry waits are shortened with
 * AWSTOE_WEBDOWNLOAD_RETRY_BASE_MS so the file runs in seconds.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, chmodSync } from "node:fs";
import http, { type IncomingMessage, type Server, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { StepError } from "../../src/errors.ts";
import { modules } from "../../src/modules/index.ts";
import { CHECKSUM_ALGORITHMS } from "../../src/modules/web-download.ts";
import { put, scratch } from "../helpers/fs-tree.ts";
import { listedChoice, moduleContext, runModule, type WrittenInput } from "../helpers/module-context.ts";

process.env.AWSTOE_WEBDOWNLOAD_RETRY_BASE_MS = "20";

const temp = scratch();
const context = moduleContext();
const logged: string[] = [];
const log = { debug: () => {}, info: (m: string) => logged.push(`info ${m}`), warn: (m: string) => logged.push(`warn ${m}`) };
const download = (dir: string, items: WrittenInput<typeof modules.WebDownload>, signal?: AbortSignal) =>
  runModule(modules.WebDownload, items, { ...context, cwd: dir, log, ...(signal ? { signal } : {}) });

const HELLO = "hello, opentoe\n";

/** Requests per path, so tests can say how often the server was asked. */
const hits = new Map<string, number>();
const count = (path: string) => hits.get(path) ?? 0;
/** Paths whose request has arrived, for the stop test. */
const arrived = new Map<string, () => void>();

let httpServer: Server;
let httpsServer: https.Server;
let base = "";
let secureBase = "";

function route(request: IncomingMessage, response: ServerResponse): void {
  const path = request.url ?? "/";
  hits.set(path, count(path) + 1);
  arrived.get(path)?.();
  const send = (status: number, body: string | Buffer = "", headers: Record<string, string> = {}) => {
    response.writeHead(status, { "content-length": String(Buffer.byteLength(body)), ...headers });
    response.end(body);
  };
  if (path === "/file.txt" || path.startsWith("/named/")) return send(200, HELLO);
  if (path === "/r/a") return send(301, "", { location: "/r/b" });
  if (path === "/r/b") return send(302, "", { location: `${base}/r/c` });
  if (path === "/r/c") return send(307, "", { location: "../file.txt" });
  if (path === "/to-https") return send(302, "", { location: `${secureBase}/file.txt` });
  if (path === "/to-http") return send(302, "", { location: `${base}/file.txt` });
  if (path.startsWith("/loop")) return send(302, "", { location: path });
  if (path.startsWith("/flaky/")) return count(path) <= 2 ? send(500, "broken") : send(200, "finally");
  if (path.startsWith("/always500/")) return send(500, "broken");
  if (path.startsWith("/missing/")) return send(404, "nope");
  if (path.startsWith("/busy/")) return count(path) === 1 ? send(429, "slow down") : send(200, "after 429");
  if (path === "/empty") return send(200, "");
  if (path.startsWith("/short/")) {
    response.writeHead(200, { "content-length": "100" });
    response.write("0123456789");
    return void setTimeout(() => response.socket?.destroy(), 20);
  }
  if (path.startsWith("/hang/")) {
    response.writeHead(200, { "content-length": "1000000" });
    response.write("x".repeat(1000));
    return; // never ends
  }
  send(404, "unknown");
}

async function listen(server: Server | https.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  const certs = temp.folder();
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(certs, "key.pem"), "-out", join(certs, "cert.pem"),
  ], { stdio: "ignore" });
  httpServer = http.createServer(route);
  httpsServer = https.createServer({ key: readFileSync(join(certs, "key.pem")), cert: readFileSync(join(certs, "cert.pem")) }, route);
  base = `http://127.0.0.1:${await listen(httpServer)}`;
  secureBase = `https://127.0.0.1:${await listen(httpsServer)}`;
});

afterAll(() => {
  for (const server of [httpServer, httpsServer]) {
    server?.closeAllConnections();
    server?.close();
  }
  temp.remove();
});

const text = (path: string) => readFileSync(path, "utf8");
const digest = (algorithm: string, data: string) => createHash(algorithm).update(data).digest("hex");

describe("WebDownload basics", () => {
  test("a plain HTTP download writes the body to the file path (folders created) and outputs its absolute path", async () => {
    const dir = temp.folder();
    const result = await download(dir, [{ source: `${base}/file.txt`, destination: "a/b/hello.txt" }]);
    expect(text(join(dir, "a/b/hello.txt"))).toBe(HELLO);
    expect(result).toEqual({ outputs: { destination: join(dir, "a/b/hello.txt") } });
    expect(readdirSync(join(dir, "a/b"))).toEqual(["hello.txt"]); // no temporary file left
  });

  test("an empty body makes an empty file", async () => {
    const dir = temp.folder();
    await download(dir, [{ source: `${base}/empty`, destination: "e.bin" }]);
    expect(statSync(join(dir, "e.bin")).size).toBe(0);
  });

  test("several elements: every final path, joined with a newline", async () => {
    const dir = temp.folder();
    const result = await download(dir, [
      { source: `${base}/file.txt`, destination: "one.txt" },
      { source: `${base}/file.txt`, destination: "sub/" },
    ]);
    expect(result.outputs.destination).toBe(`${join(dir, "one.txt")}\n${join(dir, "sub/file.txt")}`);
  });

  test("a failing element names itself and what had completed", async () => {
    const dir = temp.folder();
    const run = download(dir, [
      { source: `${base}/file.txt`, destination: "one.txt" },
      { source: `${base}/missing/list`, destination: "two.txt" },
    ]);
    await expect(run).rejects.toThrow(
      `operation 2 of 2 (${base}/missing/list): downloading '${base}/missing/list' failed: the server answered HTTP 404 Not Found; operation 1 had completed`,
    );
    expect(text(join(dir, "one.txt"))).toBe(HELLO);
  });
});

describe("WebDownload HTTPS", () => {
  test("a self-signed certificate is accepted with ignoreCertificateErrors: true", async () => {
    const dir = temp.folder();
    await download(dir, [{ source: `${secureBase}/file.txt`, destination: "s.txt", ignoreCertificateErrors: true }]);
    expect(text(join(dir, "s.txt"))).toBe(HELLO);
  });

  test("without it the download fails with a TLS error naming the URL, not retried, no file", async () => {
    const dir = temp.folder();
    const run = download(dir, [{ source: `${secureBase}/file.txt`, destination: "s.txt", ignoreCertificateErrors: false }]);
    await expect(run).rejects.toThrow(StepError);
    const message = await run.catch((error: Error) => error.message);
    expect(message).toStartWith(`downloading '${secureBase}/file.txt' failed: TLS error: the certificate of 127.0.0.1:`);
    expect(message).toContain("ignoreCertificateErrors");
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a reference left unresolved in ignoreCertificateErrors keeps the certificate check", async () => {
    const dir = temp.folder();
    // The engine hands such a reference on as its text (engine/inputs.ts); the type says boolean.
    const unresolved = "{{ Insecure }}" as unknown as boolean;
    const run = download(dir, [{ source: `${secureBase}/file.txt`, destination: "s.txt", ignoreCertificateErrors: unresolved }]);
    await expect(run).rejects.toThrow("TLS error");
    expect(readdirSync(dir)).toEqual([]);
  });

  test("ignoring certificates for one element does not carry over to the next", async () => {
    const dir = temp.folder();
    const run = download(dir, [
      { source: `${secureBase}/file.txt`, destination: "ok.txt", ignoreCertificateErrors: true },
      { source: `${secureBase}/file.txt`, destination: "no.txt" },
    ]);
    await expect(run).rejects.toThrow("operation 2 of 2");
    await expect(run).rejects.toThrow("TLS error");
    expect(readdirSync(dir)).toEqual(["ok.txt"]);
  });
});

describe("WebDownload redirects", () => {
  test("a 301 → 302 → 307 chain (relative and absolute Locations) is followed", async () => {
    const dir = temp.folder();
    const before = count("/file.txt");
    await download(dir, [{ source: `${base}/r/a`, destination: "r.txt" }]);
    expect(text(join(dir, "r.txt"))).toBe(HELLO);
    expect(count("/file.txt")).toBe(before + 1);
  });

  test("http → https is followed (with ignoreCertificateErrors for the self-signed server)", async () => {
    const dir = temp.folder();
    await download(dir, [{ source: `${base}/to-https`, destination: "up.txt", ignoreCertificateErrors: true }]);
    expect(text(join(dir, "up.txt"))).toBe(HELLO);
  });

  test("https → http is refused", async () => {
    const dir = temp.folder();
    const run = download(dir, [{ source: `${secureBase}/to-http`, destination: "down.txt", ignoreCertificateErrors: true }]);
    await expect(run).rejects.toThrow("redirected from https to plain http");
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a redirect loop fails after 10 redirects, without retries", async () => {
    const dir = temp.folder();
    const run = download(dir, [{ source: `${base}/loop1`, destination: "loop.txt" }]);
    await expect(run).rejects.toThrow(`downloading '${base}/loop1' failed: more than 10 redirects`);
    expect(count("/loop1")).toBe(11);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("WebDownload retries and statuses", () => {
  test("an endpoint that fails twice with 500 succeeds on the third try; the retries are logged", async () => {
    const dir = temp.folder();
    logged.length = 0;
    await download(dir, [{ source: `${base}/flaky/1`, destination: "f.txt" }]);
    expect(text(join(dir, "f.txt"))).toBe("finally");
    expect(count("/flaky/1")).toBe(3);
    expect(logged.filter((line) => line.startsWith("warn"))).toEqual([
      `warn downloading '${base}/flaky/1': try 1 of 5 failed (the server answered HTTP 500 Internal Server Error); trying again in 0.02 s`,
      `warn downloading '${base}/flaky/1': try 2 of 5 failed (the server answered HTTP 500 Internal Server Error); trying again in 0.04 s`,
    ]);
  });

  test("a lasting 500 fails after 5 tries, quoting the status", async () => {
    const dir = temp.folder();
    const started = Date.now();
    const run = download(dir, [{ source: `${base}/always500/x`, destination: "f.txt" }]);
    await expect(run).rejects.toThrow(`downloading '${base}/always500/x' failed after 5 tries: the server answered HTTP 500 Internal Server Error`);
    expect(count("/always500/x")).toBe(5);
    // Waits of 20, 40, 80 and 160 ms: the backoff doubles.
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a 404 fails at once, quoting the status and URL", async () => {
    const dir = temp.folder();
    const run = download(dir, [{ source: `${base}/missing/a`, destination: "f.txt" }]);
    await expect(run).rejects.toThrow(`downloading '${base}/missing/a' failed: the server answered HTTP 404 Not Found`);
    expect(count("/missing/a")).toBe(1);
  });

  test("a 429 is retried", async () => {
    const dir = temp.folder();
    await download(dir, [{ source: `${base}/busy/1`, destination: "b.txt" }]);
    expect(text(join(dir, "b.txt"))).toBe("after 429");
    expect(count("/busy/1")).toBe(2);
  });

  test("a refused connection (closed loopback port) fails after 5 tries naming the cause", async () => {
    const closed = http.createServer();
    const port = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const dir = temp.folder();
    const url = `http://127.0.0.1:${port}/file.txt`;
    await expect(download(dir, [{ source: url, destination: "f.txt" }])).rejects.toThrow(
      `downloading '${url}' failed after 5 tries: connection to 127.0.0.1:${port} refused`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a body cut short is retried and then fails, leaving no file", async () => {
    const dir = temp.folder();
    const run = download(dir, [{ source: `${base}/short/1`, destination: "s.txt" }]);
    await expect(run).rejects.toThrow(new RegExp(`^downloading '${base}/short/1' failed after 5 tries: (the connection closed after 10 of 100 bytes|connection to 127\\.0\\.0\\.1:\\d+ reset while receiving the body)$`));
    expect(count("/short/1")).toBe(5);
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a server that stops sending times out (idle timeout from the environment) and leaves no file", async () => {
    const dir = temp.folder();
    process.env.AWSTOE_WEBDOWNLOAD_IDLE_TIMEOUT_MS = "150";
    try {
      const run = download(dir, [{ source: `${base}/hang/timeout`, destination: "t.txt" }]);
      await expect(run).rejects.toThrow(`downloading '${base}/hang/timeout' failed after 5 tries: timed out: no data for 0.15 s`);
    } finally {
      delete process.env.AWSTOE_WEBDOWNLOAD_IDLE_TIMEOUT_MS;
    }
    expect(count("/hang/timeout")).toBe(5);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("WebDownload checksums", () => {
  test.each(CHECKSUM_ALGORITHMS)("a correct %s checksum passes (hex compared without case)", async (algorithm) => {
    const dir = temp.folder();
    const hex = digest(algorithm.toLowerCase(), HELLO);
    await download(dir, [{ source: `${base}/file.txt`, destination: "lower.txt", algorithm, checksum: hex }]);
    await download(dir, [{ source: `${base}/file.txt`, destination: "upper.txt", algorithm: listedChoice(CHECKSUM_ALGORITHMS, algorithm.toLowerCase()), checksum: hex.toUpperCase() }]);
    expect(text(join(dir, "lower.txt"))).toBe(HELLO);
    expect(text(join(dir, "upper.txt"))).toBe(HELLO);
  });

  test("a wrong checksum fails after its retries, removes the download and keeps an existing file", async () => {
    const dir = temp.folder();
    const wrong = digest("sha256", "something else");
    const before = count("/file.txt");
    const run = download(dir, [{ source: `${base}/file.txt`, destination: "new.txt", algorithm: "SHA256", checksum: wrong }]);
    await expect(run).rejects.toThrow(
      `downloading '${base}/file.txt' failed after 5 tries: SHA256 checksum mismatch: expected ${wrong}, got ${digest("sha256", HELLO)}; the downloaded file was deleted`,
    );
    expect(count("/file.txt")).toBe(before + 5);
    expect(readdirSync(dir)).toEqual([]);

    put(dir, "old.txt", "old content");
    await expect(download(dir, [{ source: `${base}/file.txt`, destination: "old.txt", algorithm: "SHA256", checksum: wrong }])).rejects.toThrow("checksum mismatch");
    expect(readdirSync(dir)).toEqual(["old.txt"]);
    expect(text(join(dir, "old.txt"))).toBe("old content");
  });

  test("only one of checksum/algorithm: downloaded unverified, with a warning", async () => {
    const dir = temp.folder();
    logged.length = 0;
    await download(dir, [{ source: `${base}/file.txt`, destination: "x.txt", checksum: "00" }]);
    expect(text(join(dir, "x.txt"))).toBe(HELLO);
    expect(logged.some((line) => line.startsWith("warn") && line.includes("will not be verified"))).toBe(true);
  });
});

describe("WebDownload overwrite", () => {
  test("overwrite: false with an existing file fails without asking the server", async () => {
    const dir = temp.folder();
    put(dir, "have.txt", "mine");
    const before = count("/file.txt");
    await expect(download(dir, [{ source: `${base}/file.txt`, destination: "have.txt", overwrite: false }])).rejects.toThrow(
      `downloading '${base}/file.txt' failed: 'have.txt' already exists and overwrite is false`,
    );
    expect(text(join(dir, "have.txt"))).toBe("mine");
    expect(count("/file.txt")).toBe(before);
  });

  test("overwrite: false with no file downloads", async () => {
    const dir = temp.folder();
    await download(dir, [{ source: `${base}/file.txt`, destination: "fresh.txt", overwrite: false }]);
    expect(text(join(dir, "fresh.txt"))).toBe(HELLO);
  });

  test("overwrite: true (the default) replaces an existing file and keeps its permission bits", async () => {
    const dir = temp.folder();
    const path = put(dir, "have.txt", "mine");
    chmodSync(path, 0o750);
    await download(dir, [{ source: `${base}/file.txt`, destination: "have.txt" }]);
    expect(text(path)).toBe(HELLO);
    expect(statSync(path).mode & 0o7777).toBe(0o750);
  });

  test("a folder at the destination file path is an error", async () => {
    const dir = temp.folder();
    put(dir, "taken/inside.txt", "kept");
    await expect(download(dir, [{ source: `${base}/file.txt`, destination: "taken" }])).rejects.toThrow("a folder already exists at 'taken'");
    expect(readdirSync(join(dir, "taken"))).toEqual(["inside.txt"]);
  });

  test("overwrite: true + checksum: an existing file with that digest is kept and the server is not asked", async () => {
    const dir = temp.folder();
    writeFileSync(join(dir, "same.txt"), HELLO);
    const before = count("/file.txt");
    logged.length = 0;
    const result = await download(dir, [{ source: `${base}/file.txt`, destination: "same.txt", overwrite: true, algorithm: "SHA1", checksum: digest("sha1", HELLO) }]);
    expect(count("/file.txt")).toBe(before);
    expect(result.outputs.destination).toBe(join(dir, "same.txt"));
    expect(logged).toContain(`info 'same.txt' already has the expected SHA1 checksum; not downloading '${base}/file.txt' again`);
  });

  test("overwrite: true + checksum: an existing file with another digest is downloaded again", async () => {
    const dir = temp.folder();
    writeFileSync(join(dir, "stale.txt"), "stale");
    const before = count("/file.txt");
    await download(dir, [{ source: `${base}/file.txt`, destination: "stale.txt", algorithm: "MD5", checksum: digest("md5", HELLO) }]);
    expect(count("/file.txt")).toBe(before + 1);
    expect(text(join(dir, "stale.txt"))).toBe(HELLO);
  });
});

describe("WebDownload folder destinations", () => {
  test("a destination ending with / takes the URL's last segment, decoded, in created folders", async () => {
    const dir = temp.folder();
    const result = await download(dir, [{ source: `${base}/named/%E2%9C%93%20report.txt?x=1`, destination: "in/here/" }]);
    expect(readdirSync(join(dir, "in/here"))).toEqual(["✓ report.txt"]);
    expect(result.outputs.destination).toBe(join(dir, "in/here/✓ report.txt"));
  });

  test("an absolute folder works from any working directory", async () => {
    const dir = temp.folder();
    await download("/", [{ source: `${base}/file.txt`, destination: `${dir}/abs/` }]);
    expect(text(join(dir, "abs/file.txt"))).toBe(HELLO);
  });

  test.each([
    ["/named/", "does not end with a name"],
    ["/named/a%2Fb", "'a/b' is not a safe file name"],
    ["/named/a%5Cb", "'a\\b' is not a safe file name"],
    // URL parsing already resolves an encoded ".." segment, which leaves the path without a name.
    ["/named/%2E%2E", "does not end with a name"],
    ["/named/%E2%28", "is not valid percent-encoding"],
  ])("a URL %s gives no usable name: an error before any request", async (path, message) => {
    const dir = temp.folder();
    const before = count(path);
    await expect(download(dir, [{ source: `${base}${path}`, destination: "out/" }])).rejects.toThrow(message);
    expect(count(path)).toBe(before);
    expect(readdirSync(dir)).toEqual([]);
  });

  test("on Linux a trailing backslash is part of the file name; on Windows it marks a folder", async () => {
    const dir = temp.folder();
    await download(dir, [{ source: `${base}/file.txt`, destination: "back\\" }]);
    expect(text(join(dir, "back\\"))).toBe(HELLO);
    await runModule(modules.WebDownload, [{ source: `${base}/file.txt`, destination: "win\\" }], { ...context, cwd: dir, log, platform: "windows" });
    // On this Linux host the Windows path "win\" + name is joined with the host separator.
    expect(text(join(dir, "win\\", "file.txt"))).toBe(HELLO);
  });
});

describe("WebDownload streaming and stopping", () => {
  // A large body's memory is measured on the compiled awstoe alone, with a fast and a slow disk:
  // test/e2e/web-download-memory.test.ts (measured here, this process's RSS also held the server).

  test("stopping through the signal aborts the request and removes the temporary file", async () => {
    const dir = temp.folder();
    const controller = new AbortController();
    const started = new Promise<void>((resolve) => arrived.set("/hang/stop", resolve));
    const run = download(dir, [{ source: `${base}/hang/stop`, destination: "stop.txt" }], controller.signal);
    await started;
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The body has begun: the temporary file exists beside the target.
    expect(readdirSync(dir).some((name) => name.startsWith(".stop.txt.opentoe-"))).toBe(true);
    controller.abort();
    await expect(run).rejects.toThrow(`downloading '${base}/hang/stop' failed: the download was stopped (step timeout or interrupt)`);
    expect(readdirSync(dir)).toEqual([]);
    expect(count("/hang/stop")).toBe(1);
  });

  test("stopping while waiting for a retry ends at once", async () => {
    const dir = temp.folder();
    const controller = new AbortController();
    process.env.AWSTOE_WEBDOWNLOAD_RETRY_BASE_MS = "10000";
    try {
      const run = download(dir, [{ source: `${base}/always500/stop`, destination: "s.txt" }], controller.signal);
      setTimeout(() => controller.abort(), 200);
      const started = Date.now();
      await expect(run).rejects.toThrow("was stopped");
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      process.env.AWSTOE_WEBDOWNLOAD_RETRY_BASE_MS = "20";
    }
    expect(count("/always500/stop")).toBe(1);
    expect(existsSync(join(dir, "s.txt"))).toBe(false);
  });
});
