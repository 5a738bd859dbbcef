/**
 * @module lsp/workspace: the open documents' analyses — one per document version and platform,
 * computed when first asked for and kept until the next edit — and the debounced validation that
 * publishes diagnostics. A result computed for a version the editor has since replaced is never
 * published: each run re-checks the version before sending.
 */
import type { TextDocument } from "vscode-languageserver-textdocument";
import type { Diagnostic as LspDiagnostic } from "vscode-languageserver";
import type { PlatformName } from "../model/platform.ts";
import { analyze, type Analysis } from "./analysis.ts";
import { toLspDiagnostic } from "./diagnostics.ts";
import { platformFor } from "./settings.ts";

export interface Publisher {
  (uri: string, version: number, diagnostics: LspDiagnostic[]): void;
}

interface Cached {
  version: number;
  platform: PlatformName;
  analysis: Analysis;
}

export class Workspace {
  private readonly cache = new Map<string, Cached>();
  /** The newest analysis of each document whose text parsed: names to offer while the text is broken. */
  private readonly lastParsed = new Map<string, Analysis>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** The platform from the editor's settings; a document's modeline wins over it. */
  configured: PlatformName | undefined;

  constructor(
    private readonly current: (uri: string) => TextDocument | undefined,
    private readonly publish: Publisher,
    public debounceMs: number,
  ) {}

  /** The platform the document is checked for: its modeline, else the setting, else linux. */
  platformOf(document: TextDocument): PlatformName {
    return platformFor(document.getText(), this.configured);
  }

  /** The analysis of the document's current text (cached per version and platform). */
  analysisOf(document: TextDocument): Analysis {
    const text = document.getText();
    const platform = platformFor(text, this.configured);
    const cached = this.cache.get(document.uri);
    if (cached !== undefined && cached.version === document.version && cached.platform === platform) return cached.analysis;
    const analysis = analyze(text, sourceName(document.uri), platform);
    this.cache.set(document.uri, { version: document.version, platform, analysis });
    if (analysis.document !== undefined) this.lastParsed.set(document.uri, analysis);
    return analysis;
  }

  /**
   * The analysis completion takes names from (steps, parameters, loops): the newest one that
   * parsed, even when it is an edit or two behind — names change far less often than keystrokes
   * arrive, and re-validating a large document before every completion would make typing wait.
   * The debounced validation brings it up to date.
   */
  namesOf(document: TextDocument): Analysis | undefined {
    const cached = this.cache.get(document.uri);
    if (cached?.version === document.version && cached.analysis.document !== undefined) return cached.analysis;
    return this.lastParsed.get(document.uri) ?? this.analysisOf(document);
  }

  /** Validates the document after `debounceMs` without further edits; an edit in between starts the wait again. */
  schedule(uri: string): void {
    clearTimeout(this.timers.get(uri));
    const timer = setTimeout(() => {
      this.timers.delete(uri);
      this.validateNow(uri);
    }, this.debounceMs);
    this.timers.set(uri, timer);
  }

  validateNow(uri: string): void {
    const document = this.current(uri);
    if (document === undefined) return;
    const version = document.version;
    const analysis = this.analysisOf(document);
    // Edits that arrived while this ran make it stale: the next scheduled run publishes instead.
    if (this.current(uri)?.version !== version || this.timers.has(uri)) return;
    this.publish(uri, version, analysis.diagnostics.map(toLspDiagnostic));
  }

  revalidateAll(uris: readonly string[]): void {
    for (const uri of uris) this.schedule(uri);
  }

  close(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    this.cache.delete(uri);
    this.lastParsed.delete(uri);
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

/** The name diagnostics carry as their file: the path of a file: URI, else the URI itself. */
function sourceName(uri: string): string {
  if (!uri.startsWith("file://")) return uri;
  try {
    return decodeURIComponent(new URL(uri).pathname);
  } catch {
    return uri;
  }
}
