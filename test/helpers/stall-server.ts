/**
 * @module test/helpers/stall-server: a stalled endpoint on 127.0.0.1 — a TCP server that accepts
 * connections and never answers (or, with `partialBody`, answers with headers and the start of a
 * body, then goes quiet). It counts connections and knows which are still open, so a test can
 * check that a client gave up on a request by closing its connection rather than leaving it
 * behind. Nothing leaves loopback.
 */
import { createServer, type Socket } from "node:net";

export interface StallServer {
  endpoint: string;
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections the client has not closed yet. */
  readonly open: number;
  /** Resolves when the first connection arrives. */
  firstConnection: Promise<void>;
  /** Resolves once no connection is open among those accepted after the first `since` (all by default). */
  allClosed(since?: number): Promise<void>;
  close(): Promise<void>;
}

export interface StallOptions {
  /** Answer each request with a 200 whose body is longer than the bytes sent (`partialBody`), then stall. */
  partialBody?: string;
}

export async function startStallServer(options: StallOptions = {}): Promise<StallServer> {
  const sockets = new Map<Socket, number>();
  let connections = 0;
  let waiters: { since: number; wake: () => void }[] = [];
  const openSince = (since: number) => [...sockets.values()].filter((ordinal) => ordinal >= since).length;
  let arrived!: () => void;
  const firstConnection = new Promise<void>((resolve) => (arrived = resolve));
  const server = createServer((socket) => {
    sockets.set(socket, connections++);
    arrived();
    socket.on("error", () => undefined);
    socket.on("close", () => {
      sockets.delete(socket);
      const ready = waiters.filter((w) => openSince(w.since) === 0);
      waiters = waiters.filter((w) => !ready.includes(w));
      for (const w of ready) w.wake();
    });
    if (options.partialBody !== undefined) {
      const body = options.partialBody;
      let seen = "";
      socket.on("data", (chunk) => {
        seen += chunk.toString("latin1");
        if (!seen.includes("\r\n\r\n")) return;
        seen = "";
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${Buffer.byteLength(body) + 1000}\r\n\r\n${body}`);
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections;
    },
    get open() {
      return sockets.size;
    },
    firstConnection,
    allClosed: (since = 0) => (openSince(since) === 0 ? Promise.resolve() : new Promise<void>((wake) => waiters.push({ since, wake }))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets.keys()) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
