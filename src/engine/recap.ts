/**
 * @module engine/recap: the few lines at the end of a run that say how it went — counts, every
 * step that failed, had its failure ignored, was skipped or never ran (each with its one-line
 * reason), the total time and where the logs are. On stderr and in application.log; pure here.
 */
import type { RunSummary } from "../model/record.ts";
import type { Status } from "../model/status.ts";
import type { Palette } from "../logs/terminal.ts";
import { isRecord } from "../model/platform.ts";
import type { ReadyDocument } from "./prepare.ts";
import type { PlannedDocument } from "../logs/junit.ts";

/** A top-level step as it ended. */
export interface RecapEntry {
  /** Its journal key (`d0/build/3`): tells which document steps never ran. */
  key: string;
  where: string;
  action: string;
  status: Status;
  reason: string;
  /** Restored by `run --retry` from an earlier attempt, not run again. */
  restored?: boolean;
}

/** A step the run did not reach: in a selected phase, after the execution stopped. */
export interface UnrunStep {
  where: string;
  action: string;
}

/** The selected phases' steps of every runnable document, in order (the recap and run --junit list those never reached). */
export function plannedSteps(documents: readonly ReadyDocument[], phases: readonly string[] | undefined): PlannedDocument[] {
  const list = (value: unknown) => (Array.isArray(value) ? value.filter(isRecord) : []);
  return documents.map((doc) => ({
    name: String(doc.doc.name ?? "") || doc.source, // as the document's record names it
    phases: list(doc.doc.phases)
      .filter((phase) => phases === undefined || phases.length === 0 || phases.includes(String(phase.name)))
      .map((phase) => ({ name: String(phase.name), steps: list(phase.steps).map((step) => ({ name: String(step.name), action: String(step.action) })) })),
  }));
}

/** Planned steps whose keys (`d<document>/<phase>/<index>`) are not among `ended`, in order. */
export function unrunSteps(planned: readonly PlannedDocument[], ended: ReadonlySet<string>): UnrunStep[] {
  return planned.flatMap((doc, d) =>
    doc.phases.flatMap((phase) => phase.steps.flatMap((step, s) => (ended.has(`d${d}/${phase.name}/${s}`) ? [] : [{ where: `[${doc.name}] ${phase.name}/${step.name}`, action: step.action }]))),
  );
}

const MARKS: Partial<Record<Status, string>> = { failed: "✖", timedOut: "✖", ignoredFailure: "!", skipped: "↷" };

/** The recap's lines: `plain` for application.log, `coloured` for a terminal. */
export function recapLines(summary: RunSummary, entries: readonly RecapEntry[], unrun: readonly UnrunStep[], ms: number, c: Palette): { plain: string[]; coloured: string[] } {
  const notable = entries.filter((e) => MARKS[e.status] !== undefined);
  const succeeded = entries.filter((e) => e.status === "success").length;
  const counts = [
    `${succeeded} succeeded`,
    ...count(summary.failedStepCount, "failed"),
    ...count(summary.ignoredFailedStepCount, "failure ignored", "failures ignored"),
    ...count(summary.skippedStepCount, "skipped"),
    ...count(unrun.length, "not run"),
    ...count(entries.filter((e) => e.restored === true).length, "restored from the earlier attempt"),
  ];
  const took = ms < 60_000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  const rows = [
    ...notable.map((e) => ({ mark: MARKS[e.status]!, text: `${e.where} (${e.action}): ${e.status}${e.reason ? ` — ${e.reason}` : ""}`, bad: e.status === "failed" || e.status === "timedOut" })),
    ...unrun.map((u) => ({ mark: "·", text: `${u.where} (${u.action}): not run — the execution stopped before it`, bad: false })),
  ];
  const head = `recap: ${summary.status} in ${took} — ${entries.length + unrun.length} step(s): ${counts.join(", ")}`;
  const tail = `log folder: ${summary.logUrl}`;
  const good = summary.status === "success" || summary.status === "successWithIgnoredFailure";
  return {
    plain: [head, ...rows.map((r) => `  ${r.mark} ${r.text}`), tail],
    coloured: [(good ? c.green : c.red)(head), ...rows.map((r) => `  ${(r.bad ? c.red : c.yellow)(r.mark)} ${r.text}`), c.dim(tail)],
  };
}

function count(n: number, one: string, many = one): string[] {
  return n === 0 ? [] : [`${n} ${n === 1 ? one : many}`];
}
