/**
 * @module cli/_check-documents: validate a batch of documents and render each report, in this
 * thread or — for large batches on a machine with spare cores — split across worker threads.
 * A single run is short-lived, so the YAML parser never gets warm; sharing the work across cores
 * is what keeps `validate` of a hundred documents fast.
 */
import { availableParallelism } from "node:os";
import { threadId, Worker } from "node:worker_threads";
import { validateSource } from "../document/validate.ts";
import type { Diagnostic } from "../errors.ts";
import { ansiPalette, plainPalette } from "../logs/terminal.ts";
import type { PlatformName } from "../modules/index.ts";
import { renderResult } from "./_render.ts";

export interface CheckedDocument {
  source: string;
  valid: boolean;
  diagnostics: Diagnostic[];
  /** The human report (diagnostics with snippets and the verdict line). */
  report: string;
  /** Which thread checked it (0 = the main thread); tells tests whether the work was shared. */
  thread: number;
}

export interface CheckRequest {
  sources: string[];
  platform: PlatformName;
  color: boolean;
}

/** Below this many documents per extra thread, starting a worker costs more than it saves. */
const DOCUMENTS_PER_WORKER = 24;
const MAX_WORKERS = 3;

export function checkInThisThread(request: CheckRequest): CheckedDocument[] {
  const palette = request.color ? ansiPalette : plainPalette;
  return request.sources.map((source) => {
    const result = validateSource(source, { platform: request.platform });
    return { source, valid: result.valid, diagnostics: result.diagnostics, report: renderResult(result, palette), thread: threadId };
  });
}

/** Results in the order of `request.sources`, whichever thread produced them. */
export async function checkDocuments(request: CheckRequest): Promise<CheckedDocument[]> {
  const workers = plannedWorkers(request.sources.length, availableParallelism());
  if (workers < 1) return checkInThisThread(request);
  const parts = split(request.sources, workers + 1);
  const [mine, ...theirs] = parts;
  const pending = theirs.map((sources) => inWorker({ ...request, sources }));
  const local = checkInThisThread({ ...request, sources: mine! });
  const remote = await Promise.all(pending);
  return [local, ...remote].flat();
}

/** Extra threads worth starting for `documents` on a machine with `cores` cores. */
export function plannedWorkers(documents: number, cores: number): number {
  return Math.max(0, Math.min(MAX_WORKERS, cores - 1, Math.floor(documents / DOCUMENTS_PER_WORKER)));
}

function split<T>(items: T[], count: number): T[][] {
  const size = Math.ceil(items.length / count);
  return Array.from({ length: count }, (_, i) => items.slice(i * size, (i + 1) * size));
}

/** Runs a share in a worker; if a worker cannot start here (e.g. a Node bundle), runs it in this thread. */
function inWorker(request: CheckRequest): Promise<CheckedDocument[]> {
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(new URL("./validate-worker.ts", import.meta.url), { workerData: request });
    } catch {
      resolve(checkInThisThread(request));
      return;
    }
    let settled = false;
    worker.once("message", (results: CheckedDocument[]) => {
      settled = true;
      resolve(results);
      void worker.terminate();
    });
    worker.once("error", (error) => {
      if (settled) return;
      settled = true;
      // A worker that failed to load is not the documents' fault: do the work here instead.
      try {
        resolve(checkInThisThread(request));
      } catch {
        reject(error);
      }
    });
    worker.once("exit", () => {
      if (!settled) {
        settled = true;
        resolve(checkInThisThread(request));
      }
    });
  });
}
