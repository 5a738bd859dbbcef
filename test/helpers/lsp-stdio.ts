/**
 * @module test/helpers/lsp-stdio: a tiny Language Server Protocol client for tests — JSON-RPC 2.0
 * with Content-Length framing over a child process's stdin/stdout. Enough to drive a server
 * (yaml-language-server, `awstoe lsp`) as an editor would: requests with answers, notifications,
 * and answers to the few requests a server sends back (workspace/configuration,
 * client/registerCapability, window/workDoneProgress/create).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

type Json = Record<string, unknown>;

export interface LspClientOptions {
  /** Answers `workspace/configuration` items by section (e.g. "yaml"); unknown sections get null. */
  configuration?: (section: string | undefined) => unknown;
  cwd?: string;
  env?: Record<string, string>;
}

export class LspClient {
  readonly process: ChildProcessWithoutNullStreams;
  /** Everything the server wrote to stderr, for failure messages. */
  stderr = "";
  /** Notifications received, oldest first (method and params). */
  readonly notifications: { method: string; params: unknown }[] = [];
  private nextId = 1;
  private buffer = Buffer.alloc(0);
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  private readonly waiters: { method: string; test: (params: unknown) => boolean; resolve: (params: unknown) => void }[] = [];

  constructor(command: string, args: string[], private readonly options: LspClientOptions = {}) {
    this.process = spawn(command, args, { cwd: options.cwd, env: options.env ?? (process.env as Record<string, string>), stdio: ["pipe", "pipe", "pipe"] });
    this.process.stdout.on("data", (chunk: Buffer) => this.receive(chunk));
    this.process.stderr.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.process.on("exit", (code, signal) => {
      for (const { reject, method } of this.pending.values()) reject(new Error(`server exited (${code ?? signal}) before answering ${method}\n${this.stderr}`));
      this.pending.clear();
    });
  }

  /** Sends a request and waits for its answer (rejects on an error answer or after `timeoutMs`). */
  request<T = unknown>(method: string, params: unknown, timeoutMs = 20_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${method} within ${timeoutMs} ms\n${this.stderr}`));
      }, timeoutMs);
      this.pending.set(id, {
        method,
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.send({ jsonrpc: "2.0", id, method, params });
    });
  }

  notify(method: string, params: unknown): void {
    this.send({ jsonrpc: "2.0", method, params });
  }

  /** The next notification of `method` whose params pass `test` (also one already received). */
  waitForNotification(method: string, test: (params: unknown) => boolean = () => true, timeoutMs = 20_000): Promise<unknown> {
    const seen = this.notifications.find((n) => n.method === method && test(n.params));
    if (seen !== undefined) return Promise.resolve(seen.params);
    return new Promise((resolve, reject) => {
      const waiter = { method, test, resolve: (p: unknown) => (clearTimeout(timer), resolve(p)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no ${method} notification within ${timeoutMs} ms\n${this.stderr}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** shutdown, exit, and wait for the process to end (killed after a few seconds). */
  async close(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.process.once("exit", () => resolve()));
    try {
      await this.request("shutdown", null, 5_000);
      this.notify("exit", null);
    } catch {
      // fall through to the kill below
    }
    const timer = setTimeout(() => this.process.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }

  private send(message: Json): void {
    const body = Buffer.from(JSON.stringify(message), "utf8");
    this.process.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "ascii"), body]));
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf("\r\n\r\n");
      if (headerEnd < 0) return;
      const length = /Content-Length:\s*(\d+)/i.exec(this.buffer.subarray(0, headerEnd).toString("ascii"))?.[1];
      if (length === undefined) throw new Error(`LSP message without Content-Length: ${this.buffer.subarray(0, headerEnd).toString()}`);
      const start = headerEnd + 4;
      const end = start + Number(length);
      if (this.buffer.length < end) return;
      const message = JSON.parse(this.buffer.subarray(start, end).toString("utf8")) as Json;
      this.buffer = this.buffer.subarray(end);
      this.dispatch(message);
    }
  }

  private dispatch(message: Json): void {
    const { id, method } = message as { id?: number | string; method?: string };
    if (method === undefined && typeof id === "number") {
      const waiting = this.pending.get(id);
      if (waiting === undefined) return;
      this.pending.delete(id);
      if (message.error !== undefined) waiting.reject(new Error(`${waiting.method} failed: ${JSON.stringify(message.error)}`));
      else waiting.resolve(message.result);
      return;
    }
    if (method !== undefined && id !== undefined) {
      this.send({ jsonrpc: "2.0", id, result: this.answer(method, message.params) });
      return;
    }
    if (method !== undefined) {
      this.notifications.push({ method, params: message.params });
      for (const waiter of [...this.waiters]) {
        if (waiter.method === method && waiter.test(message.params)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(message.params);
        }
      }
    }
  }

  /** What a plain editor answers to a server's own requests. */
  private answer(method: string, params: unknown): unknown {
    if (method === "workspace/configuration") {
      const items = ((params as { items?: { section?: string }[] })?.items ?? []) as { section?: string }[];
      return items.map((item) => this.options.configuration?.(item.section) ?? null);
    }
    return null;
  }
}

/** The text of a hover answer, whatever form its contents take. */
export function hoverText(hover: unknown): string {
  const contents = (hover as { contents?: unknown } | null)?.contents;
  const one = (c: unknown): string => (typeof c === "string" ? c : typeof c === "object" && c !== null && "value" in c ? String((c as { value: unknown }).value) : "");
  return Array.isArray(contents) ? contents.map(one).join("\n") : one(contents);
}

/** The labels of a completion answer (a list or a CompletionList). */
export function completionLabels(answer: unknown): string[] {
  const items = Array.isArray(answer) ? answer : ((answer as { items?: unknown[] } | null)?.items ?? []);
  return (items as { label: string }[]).map((i) => i.label);
}
