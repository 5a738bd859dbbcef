/**
 * @module engine/rerun: the file work of `run --retry` and `--outputs-from` (docs/cli.md §2.1);
 * the decisions are engine/rerun-plan.ts's.
 *
 * `--retry <id>` takes the execution's journal out of the state folder's archive, checks that this
 * invocation asks for the same thing, and writes a fresh journal holding only the steps that
 * finished before the failure, each marked `restored`. From there the run is an ordinary resume:
 * the same log folder, those steps restored, the rest run — and a reboot or a crash during the
 * retry resumes it like any other execution.
 */
import { basename, dirname, resolve } from "node:path";
import { StateError, UsageError } from "../errors.ts";
import { isSuccessful } from "../model/status.ts";
import { archivedJournalPath, readArchived, removeArchived } from "../state/archive.ts";
import { facetDifferences, type Invocation } from "../state/fingerprint.ts";
import { JournalWriter, readJournal, type Journal } from "../state/journal.ts";
import { findLogFolder, logFolderPattern, readRecord } from "../logs/earlier-execution.ts";
import { borrowedFrom, restorableSteps, selectSteps, type SelectableDocument, type SelectionRequest, type StepSelection } from "./rerun-plan.ts";

export interface RetryRequest {
  stateDirectory: string | undefined;
  executionId: string;
  logDirectory: string;
  /** What this invocation asks for; undefined when a document could not be loaded or is not valid. */
  invocation: Invocation | undefined;
  fingerprint: string | undefined;
  /** Why the documents cannot run, when they cannot. */
  invalid: string | undefined;
}

/** The journal to resume the retried execution from, now the state folder's journal. Throws when it cannot be retried. */
export function takeUpRetry(request: RetryRequest): Journal {
  const { stateDirectory, executionId: id } = request;
  if (stateDirectory === undefined) throw new StateError(`cannot retry execution ${id} without a state folder`);
  const archived = readArchived(stateDirectory, id);
  if (archived === undefined) throw nothingToRetry(request, archivedJournalPath(stateDirectory, id));
  if (request.invocation === undefined || request.fingerprint === undefined) {
    throw new StateError(`cannot retry execution ${id}: ${request.invalid ?? "its documents cannot be read"}`, { hint: "a retry runs the same documents as the execution; nothing was run" });
  }
  if (archived.header.fingerprint !== request.fingerprint) {
    const differences = archived.header.facets === undefined ? [] : facetDifferences(archived.header.facets, request.invocation);
    const what = differences.length > 0 ? differences.join("; ") : "the documents, their text, the parameters or the phases differ";
    throw new StateError(`cannot retry execution ${id} (${archived.header.documents.join(", ")}): this run asks for something else: ${what}`, {
      hint: `give the same documents, parameters and phases as that execution; to run changed documents from a step, use --from phase/step --outputs-from ${id}; nothing was run`,
    });
  }
  // Checked before the archive is taken up: the log folder is found again from --log-directory (logs/log-folder.ts reopen).
  const folder = resolve(archived.header.logFolder);
  if (folder !== resolve(request.logDirectory, basename(folder))) {
    throw new StateError(`cannot retry execution ${id} with the log directory '${resolve(request.logDirectory)}': its log folder is '${folder}'`, { hint: `retry with --log-directory '${dirname(folder)}', as the execution ran; nothing was run` });
  }
  const { format: _format, version: _version, ...header } = archived.header;
  const writer = JournalWriter.create(stateDirectory, header);
  try {
    for (const entry of restorableSteps(archived.steps.values())) writer.append({ ...entry, record: { ...entry.record, restored: true } });
  } finally {
    writer.close();
  }
  removeArchived(stateDirectory, id);
  return readJournal(stateDirectory)!;
}

/** Why there is no failed execution `id` to retry, saying where it was looked for. */
function nothingToRetry(request: RetryRequest, archivePath: string): StateError {
  const { executionId: id, logDirectory } = request;
  const folder = findLogFolder(logDirectory, id);
  const record = folder === undefined ? undefined : readRecord(folder);
  if (record !== undefined && typeof record !== "string" && isSuccessful(record.status)) {
    return new StateError(`execution ${id} succeeded (${record.status}, log folder '${folder}'): there is nothing to retry`, { hint: "to run some of its steps again, start a new run with --from or --only" });
  }
  const where = `there is no '${archivePath}'`;
  if (folder !== undefined) {
    return new StateError(`cannot retry execution ${id}: ${where}, so its finished steps are not known (its log folder is '${folder}')`, {
      hint: "--retry needs the --state-directory of that run, where only the last 20 failed executions are kept; one refused before any step ran (an invalid document) has nothing to restore: run it again without --retry",
    });
  }
  return new StateError(`no execution ${id} to retry: ${where}, and the log directory '${resolve(logDirectory)}' has no ${logFolderPattern(id)} folder`, {
    hint: "use the executionId of the failed run's summary, with the same --log-directory and --state-directory",
  });
}

/**
 * `--from`/`--only` resolved against the documents, with `--outputs-from`'s record read from its
 * log folder in `logDirectory`. Throws a UsageError before anything runs.
 */
export function selectionFor(request: SelectionRequest, documents: readonly SelectableDocument[], phases: readonly string[], logDirectory: string): StepSelection {
  let borrowed;
  if (request.outputsFrom !== undefined) {
    const folder = findLogFolder(logDirectory, request.outputsFrom);
    if (folder === undefined) {
      throw new UsageError(`--outputs-from ${request.outputsFrom}: the log directory '${resolve(logDirectory)}' has no ${logFolderPattern(request.outputsFrom)} folder`, { hint: "give the executionId of an earlier run of these documents, and its --log-directory; nothing was run" });
    }
    const record = readRecord(folder);
    if (typeof record === "string") throw new UsageError(`--outputs-from ${request.outputsFrom}: ${record}`, { hint: "nothing was run" });
    borrowed = borrowedFrom(record, documents.map((d) => d.source));
  }
  return selectSteps(request, documents, phases, borrowed);
}
