/**
 * @module lsp/server: `awstoe lsp` — a Language Server over stdio (docs/lsp.md). The protocol
 * plumbing (JSON-RPC framing, the initialize/shutdown/exit handshake, incremental text sync) is
 * vscode-languageserver's; what it answers comes from the other lsp/ files.
 *
 * The library's own Node entry point ends the process itself when stdin closes or `exit` arrives;
 * awstoe ends only through main.ts, so the connection is built from the library's common part
 * with our own watchdog, which resolves the promise `serveLsp` returns instead.
 */
import { CodeActionKind, createConnection, LSPErrorCodes, ResponseError, TextDocuments, TextDocumentSyncKind, type Connection, type InitializeResult, type Location, type WatchDog } from "vscode-languageserver";
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter } from "vscode-languageserver/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import { firstLine } from "../errors.ts";
import { isRecord } from "../model/platform.ts";
import { quickFixes } from "./code-actions.ts";
import { completions } from "./completion.ts";
import { cursorAt } from "./cursor.ts";
import { hoverAt } from "./hover.ts";
import { settingsPlatform } from "./settings.ts";
import { definitionOf, occurrencesOf, renameProblem, symbolAt } from "./symbols.ts";
import { Workspace } from "./workspace.ts";
import type { Span } from "./analysis.ts";

/** Wait after the last edit before validating: typing stays fluid, a pause shows the problems. */
const DEFAULT_DEBOUNCE_MS = 150;

export interface LspStreams {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Where a line goes when the conversation breaks (stderr: editors show it in their server log). */
  errors?: NodeJS.WritableStream;
  /** Whether a process with this id exists (the editor's, LSP's processId); given by the caller, since lsp/ runs no host checks itself. */
  processExists?: (pid: number) => boolean;
}

/** Serves until the client sends `exit` or closes stdin; resolves with the exit code (0 after a shutdown request). */
export function serveLsp(streams: LspStreams): Promise<number> {
  return new Promise((resolveExit) => {
    let parentWatch: ReturnType<typeof setInterval> | undefined;
    let ended = false;
    const end = (code: number) => {
      if (ended) return;
      ended = true;
      clearInterval(parentWatch);
      workspace.dispose();
      connection.dispose();
      // stdin would keep the process alive; the client is gone or has said goodbye.
      (streams.input as NodeJS.ReadStream).destroy?.();
      resolveExit(code);
    };
    const watchDog: WatchDog = {
      shutdownReceived: false,
      initialize(params) {
        // A client that dies without `exit` must not leave a server behind (LSP's processId).
        const parent = params.processId;
        const exists = streams.processExists;
        if (typeof parent !== "number" || exists === undefined) return;
        parentWatch = setInterval(() => {
          if (!exists(parent)) end(watchDog.shutdownReceived ? 0 : 1);
        }, 3000);
        parentWatch.unref();
      },
      exit: (code) => end(code),
    };
    const say = (line: string) => streams.errors?.write(`awstoe lsp: ${line}\n`);
    const reader = new StreamMessageReader(streams.input);
    // A message that is not JSON-RPC cannot be answered: say what arrived, once per message.
    reader.onError((error) => say(`a message from the editor could not be read (${firstLine(error)}); check that the editor speaks LSP over stdio to 'awstoe lsp'`));
    const connection: Connection = createConnection((logger) => createProtocolConnection(reader, new StreamMessageWriter(streams.output), logger), watchDog);
    const documents = new TextDocuments(TextDocument);
    const workspace = new Workspace(
      (uri) => documents.get(uri),
      (uri, version, diagnostics) => void connection.sendDiagnostics({ uri, version, diagnostics }),
      DEFAULT_DEBOUNCE_MS,
    );
    streams.input.on("end", () => {
      if (!watchDog.shutdownReceived && !ended) say("the editor closed the connection without a shutdown request; exiting with 1");
      end(watchDog.shutdownReceived ? 0 : 1);
    });
    wire(connection, documents, workspace);
    documents.listen(connection);
    connection.listen();
  });
}

function wire(connection: Connection, documents: TextDocuments<TextDocument>, workspace: Workspace): void {
  let canAskConfiguration = false;
  connection.onInitialize((params): InitializeResult => {
    const options = params.initializationOptions;
    workspace.configured = settingsPlatform(options);
    const debounce = isRecord(options) ? (isRecord(options.awstoe) ? options.awstoe.debounceMs : options.debounceMs) : undefined;
    if (typeof debounce === "number" && debounce >= 0 && debounce <= 10_000) workspace.debounceMs = debounce;
    canAskConfiguration = params.capabilities.workspace?.configuration === true;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        completionProvider: { triggerCharacters: [".", ":", "{", " ", "("] },
        hoverProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      },
      serverInfo: { name: "awstoe" },
    };
  });
  const readSettings = async () => {
    if (!canAskConfiguration) return;
    const [settings] = await connection.workspace.getConfiguration([{ section: "awstoe" }]).catch(() => [undefined]);
    const platform = settingsPlatform(isRecord(settings) ? { awstoe: settings } : undefined);
    if (platform !== undefined) workspace.configured = platform;
    workspace.revalidateAll(documents.keys());
  };
  connection.onInitialized(() => void readSettings());
  connection.onDidChangeConfiguration((change) => {
    const platform = settingsPlatform(change.settings);
    if (platform !== undefined) workspace.configured = platform;
    if (platform === undefined && canAskConfiguration) void readSettings();
    else workspace.revalidateAll(documents.keys());
  });

  documents.onDidChangeContent((change) => workspace.schedule(change.document.uri));
  documents.onDidClose((change) => {
    workspace.close(change.document.uri);
    void connection.sendDiagnostics({ uri: change.document.uri, diagnostics: [] });
  });

  connection.onCompletion((params) => {
    const document = documents.get(params.textDocument.uri);
    if (document === undefined) return [];
    const names = workspace.namesOf(document);
    const cursor = cursorAt(document.getText(), params.position.line, params.position.character, names);
    return completions(cursor, names, workspace.platformOf(document));
  });

  connection.onHover((params) => {
    const document = documents.get(params.textDocument.uri);
    if (document === undefined) return null;
    return hoverAt(workspace.analysisOf(document), document.offsetAt(params.position), params.position.line, params.position.character) ?? null;
  });

  const symbolAtPosition = (uri: string, position: { line: number; character: number }) => {
    const document = documents.get(uri);
    if (document === undefined) return undefined;
    const analysis = workspace.analysisOf(document);
    const symbol = symbolAt(analysis, document.offsetAt(position));
    return symbol === undefined ? undefined : { document, analysis, symbol };
  };
  const location = (document: TextDocument, span: Span): Location => ({ uri: document.uri, range: rangeOf(document, span) });

  connection.onDefinition((params) => {
    const found = symbolAtPosition(params.textDocument.uri, params.position);
    const span = found === undefined ? undefined : definitionOf(found.analysis, found.symbol);
    return span === undefined ? null : location(found!.document, span);
  });

  connection.onReferences((params) => {
    const found = symbolAtPosition(params.textDocument.uri, params.position);
    if (found === undefined) return [];
    return occurrencesOf(found.analysis, found.symbol)
      .filter((o) => params.context.includeDeclaration || !o.definition)
      .map((o) => location(found.document, o.span));
  });

  connection.onPrepareRename((params) => {
    const found = symbolAtPosition(params.textDocument.uri, params.position);
    const here = found === undefined ? undefined : occurrencesOf(found.analysis, found.symbol).find((o) => within(o.span, found.document.offsetAt(params.position)));
    return here === undefined ? null : rangeOf(found!.document, here.span);
  });

  connection.onRenameRequest((params) => {
    const found = symbolAtPosition(params.textDocument.uri, params.position);
    if (found === undefined) return null;
    const problem = renameProblem(found.symbol, params.newName);
    if (problem !== undefined) return new ResponseError(LSPErrorCodes.RequestFailed, `cannot rename to '${params.newName}': ${problem}`);
    const edits = occurrencesOf(found.analysis, found.symbol).map((o) => ({ range: rangeOf(found.document, o.span), newText: params.newName }));
    return { changes: { [found.document.uri]: edits } };
  });

  connection.onCodeAction((params) => quickFixes(params.textDocument.uri, params.context.diagnostics));
}

function rangeOf(document: TextDocument, span: Span) {
  return { start: document.positionAt(span[0]), end: document.positionAt(span[1]) };
}

function within(span: Span, offset: number): boolean {
  return span[0] <= offset && offset <= span[1];
}

