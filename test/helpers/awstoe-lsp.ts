/**
 * @module test/helpers/awstoe-lsp: the compiled `awstoe lsp` as a child process, spoken to over
 * stdio as an editor would, through vscode-languageserver's own JSON-RPC connection (the same
 * library family the server uses, playing the client's side). Used by test/lsp/ and
 * scripts/bench-lsp.ts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from "vscode-languageserver/node";
import type { Diagnostic, PublishDiagnosticsParams } from "vscode-languageserver";

export interface LspSession {
  connection: ProtocolConnection;
  child: ChildProcessWithoutNullStreams;
  /** Diagnostics as published, per URI, newest last. */
  published: PublishDiagnosticsParams[];
  /** Resolves with the first publication for `uri` (at `version`, when given) from now on or already seen. */
  diagnosticsFor(uri: string, version?: number): Promise<Diagnostic[]>;
  stderr(): string;
  /** shutdown, exit; resolves with the server's exit code. */
  close(): Promise<number | null>;
}

/**
 * `initializationOptions` go with `initialize`; `settings`, when given, is what the client answers
 * to `workspace/configuration` (the `awstoe` section), and the client says it can answer.
 */
export async function startLsp(binary: string, initializationOptions: unknown = {}, settings?: unknown): Promise<LspSession> {
  const child = spawn(binary, ["lsp"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const published: PublishDiagnosticsParams[] = [];
  const waiters: { uri: string; version: number | undefined; resolve: (d: Diagnostic[]) => void }[] = [];
  connection.onNotification("textDocument/publishDiagnostics", (params: PublishDiagnosticsParams) => {
    published.push(params);
    for (const waiter of [...waiters]) {
      if (waiter.uri === params.uri && (waiter.version === undefined || waiter.version === params.version)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(params.diagnostics);
      }
    }
  });
  if (settings !== undefined) connection.onRequest("workspace/configuration", (params: { items: unknown[] }) => params.items.map(() => settings));
  connection.listen();
  const capabilities = settings === undefined ? {} : { workspace: { configuration: true } };
  await connection.sendRequest("initialize", { processId: process.pid, rootUri: null, capabilities, initializationOptions });
  await connection.sendNotification("initialized", {});
  return {
    connection,
    child,
    published,
    diagnosticsFor: (uri, version) => {
      const seen = published.find((p) => p.uri === uri && (version === undefined || p.version === version));
      return seen !== undefined ? Promise.resolve(seen.diagnostics) : new Promise((resolve) => waiters.push({ uri, version, resolve }));
    },
    stderr: () => stderr,
    close: async () => {
      await connection.sendRequest("shutdown");
      await connection.sendNotification("exit");
      const code = await exited;
      connection.dispose();
      return code;
    },
  };
}

/** didOpen of a YAML document. */
export function openDocument(session: LspSession, uri: string, text: string, version = 1): Promise<void> {
  return session.connection.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "yaml", version, text } });
}

/** The 0-based position of the `nth` occurrence of `needle` in `text`, plus `shift` characters. */
export function positionOf(text: string, needle: string, shift = 0, nth = 0): { line: number; character: number } {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`'${needle}' (#${nth}) is not in the text`);
  }
  const offset = at + shift;
  const before = text.slice(0, offset);
  const line = before.split("\n").length - 1;
  return { line, character: offset - (before.lastIndexOf("\n") + 1) };
}
