/**
 * @module logs/junit: `run --junit FILE` — the execution record as a JUnit XML report, so a CI
 * system shows one test case per step (docs/cli.md §2). Pure: record in, XML text out; the caller
 * writes it (safe-fs/durable.ts).
 *
 * The shape is the common Jenkins/Ant one (test/fixtures/junit/junit.xsd checks it):
 *
 * - `<testsuites>`: the execution (name "awstoe <executionId>"; tests, failures, errors, time — the
 *   attributes Jenkins' schema allows there; skipped and timestamp are on each suite).
 * - one `<testsuite>` per document and phase, name "<document>/<phase>" (document = its `name`, or its
 *   path when it has none), with the phase's start as timestamp; a nested document's phases (an
 *   ExecuteDocument step's child execution) follow as suites of their own named
 *   "<document>/<phase>/<step> > <nested document>/<phase>".
 * - one `<testcase>` per step: classname the document, name "<phase>/<step>", time in seconds
 *   (3 decimals, from durationMs, or from startTime/endTime in records without it).
 * - failed and timedOut → `<failure type="<status>">`: message = the failure message's first line,
 *   the body all of it, with the action, onFailure and, for a loop, the failed iteration.
 * - skipped (its `if` decided Skip) → `<skipped message>`.
 * - ignoredFailure → a passing case (the run went on, as the step asked) whose `<system-err>` says
 *   which failure was ignored, so it stays visible without turning the build red.
 * - a step the execution never reached (it stopped earlier: Abort, a signal, a halt) →
 *   `<skipped message="not run: the execution stopped before this step"/>`; these come from
 *   `options.planned`, as the record holds only steps that ended.
 * - an execution that failed where no step did (an invalid document, lost CloudWatch lines) gets one
 *   `<error>` case, "awstoe/execution", so the report can never look green when the run was not.
 * - the tail (last 64 KiB, UTF-8) of a step's `stdout` output → `<system-out>`.
 *
 * Every text passes `options.mask` (the execution's secrets) before it is cut or escaped. Text is
 * escaped, never CDATA, so `]]>` needs nothing special; characters XML 1.0 does not allow (C0
 * controls other than tab, LF, CR; lone surrogates; U+FFFE/U+FFFF) become U+FFFD, after terminal
 * colour sequences (ESC [ … letter) are dropped; CR, LF and tab in attributes are character
 * references, so they survive attribute normalisation.
 */
import type { ExecutionRecord, StepRecord } from "../model/record.ts";
import type { Status } from "../model/status.ts";

/** The top-level steps a run was asked for (selected phases only), in document order. */
export interface PlannedDocument {
  name: string;
  phases: { name: string; steps: { name: string; action: string }[] }[];
}

export interface JunitOptions {
  /** What the run was asked to run: steps missing from the record are reported as not run. */
  planned?: readonly PlannedDocument[];
  /** The execution's secret masking; identity when absent. */
  mask?: (text: string) => string;
  /** Bytes of each step's stdout kept, from its end (default 64 KiB). */
  stdoutTailBytes?: number;
}

export const NOT_RUN_MESSAGE = "not run: the execution stopped before this step";
const DEFAULT_TAIL_BYTES = 64 * 1024;
/** A failure message longer than this is cut in the `message` attribute (the body has all of it). */
const MESSAGE_ATTRIBUTE_LIMIT = 1024;

type Outcome =
  | { kind: "pass"; note?: string }
  | { kind: "failure"; type: string; message: string; body: string }
  | { kind: "error"; type: string; message: string; body: string }
  | { kind: "skipped"; message: string };

interface Case {
  classname: string;
  name: string;
  seconds: number;
  outcome: Outcome;
  stdout?: string;
}

interface Suite {
  name: string;
  timestamp?: string;
  spanSeconds: number;
  properties: [string, string][];
  cases: Case[];
}

/** The JUnit XML report of `record` (see the module comment for the mapping). */
export function junitReport(record: ExecutionRecord, options: JunitOptions = {}): string {
  const mask = options.mask ?? ((text: string) => text);
  const tailBytes = options.stdoutTailBytes ?? DEFAULT_TAIL_BYTES;
  const suites: Suite[] = [];
  addExecution(record, "", suites, options.planned ?? []);
  const failedCases = suites.some((s) => s.cases.some((c) => c.outcome.kind === "failure" || c.outcome.kind === "error"));
  if ((record.status === "failed" || record.status === "timedOut") && !failedCases) {
    const message = record.failureMessage || `the execution ended ${record.status}`;
    suites.push({
      name: "awstoe/execution",
      ...(isTimestamp(record.startTime) ? { timestamp: record.startTime } : {}),
      spanSeconds: 0,
      properties: [],
      cases: [{ classname: "awstoe", name: "execution", seconds: 0, outcome: { kind: "error", type: record.status, message: firstLine(message), body: message } }],
    });
  }

  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = counts(suites.flatMap((s) => s.cases));
  const suiteSeconds = suites.map(suiteTime);
  const runSeconds = Math.max(span(record.startTime, record.endTime), suiteSeconds.reduce((a, b) => a + b, 0));
  out.push(`<testsuites${attrs(mask, [["name", `awstoe ${record.executionId}`], ["tests", total.tests], ["failures", total.failures], ["errors", total.errors], ["time", seconds(runSeconds)]])}>`);
  suites.forEach((suite, index) => {
    const c = counts(suite.cases);
    const head: [string, string | number][] = [["name", suite.name], ["tests", c.tests], ["failures", c.failures], ["errors", c.errors], ["skipped", c.skipped], ["time", seconds(suiteSeconds[index]!)]];
    if (suite.timestamp !== undefined) head.push(["timestamp", suite.timestamp]);
    head.push(["id", index]);
    out.push(`  <testsuite${attrs(mask, head)}>`);
    if (suite.properties.length > 0) {
      out.push("    <properties>");
      for (const [name, value] of suite.properties) out.push(`      <property${attrs(mask, [["name", name], ["value", value]])}/>`);
      out.push("    </properties>");
    }
    for (const kase of suite.cases) out.push(...caseXml(kase, mask, tailBytes));
    out.push("  </testsuite>");
  });
  out.push("</testsuites>");
  return `${out.join("\n")}\n`;
}

/**
 * Suites in document order: each top-level document's phases as they ran (nested executions after
 * their step's suite), then the steps `planned` holds that the record does not — matched by
 * document position, phase name and step position — as not run.
 */
function addExecution(record: ExecutionRecord, prefix: string, suites: Suite[], planned: readonly PlannedDocument[] = []): void {
  const documents = Math.max(record.documents.length, planned.length);
  for (let d = 0; d < documents; d++) {
    const doc = record.documents[d];
    const plan = planned[d];
    const classname = `${prefix}${doc === undefined ? plan!.name : doc.name || doc.filePath}`;
    const ran = new Map<string, { suite: Suite; steps: number }>();
    for (const phase of doc?.phases ?? []) {
      const suite: Suite = {
        name: `${classname}/${phase.name}`,
        ...(isTimestamp(phase.startTime) ? { timestamp: phase.startTime } : {}),
        spanSeconds: span(phase.startTime, phase.endTime),
        properties: [["executionId", record.executionId], ["document", doc!.filePath], ["phaseStatus", phase.status]],
        cases: [],
      };
      suites.push(suite);
      ran.set(phase.name, { suite, steps: phase.steps.length });
      const nested: [string, ExecutionRecord][] = [];
      for (const step of phase.steps) {
        suite.cases.push(stepCase(classname, `${phase.name}/${step.name}`, step));
        const children = step.detailedOutput ?? [];
        children.forEach((child, i) => nested.push([`${classname}/${phase.name}/${step.name}${children.length > 1 ? `[${i + 1}]` : ""} > `, child]));
      }
      for (const [childPrefix, child] of nested) addExecution(child, childPrefix, suites);
    }
    for (const phase of plan?.phases ?? []) {
      const reached = ran.get(phase.name);
      const missing = phase.steps.slice(reached?.steps ?? 0);
      if (missing.length === 0) continue;
      let suite = reached?.suite;
      if (suite === undefined) {
        suite = { name: `${classname}/${phase.name}`, spanSeconds: 0, properties: [["executionId", record.executionId], ["phaseStatus", "not run"]], cases: [] };
        suites.push(suite);
      }
      for (const step of missing) suite.cases.push({ classname, name: `${phase.name}/${step.name}`, seconds: 0, outcome: { kind: "skipped", message: NOT_RUN_MESSAGE } });
    }
  }
}

function stepCase(classname: string, name: string, step: StepRecord): Case {
  const stdout = stdoutOf(step.outputs);
  return { classname, name, seconds: stepSeconds(step), ...(stdout === undefined ? {} : { stdout }), outcome: outcomeOf(step) };
}

function outcomeOf(step: StepRecord): Outcome {
  const status: Status = step.status;
  switch (status) {
    case "success":
      return { kind: "pass" };
    case "successWithIgnoredFailure":
      return { kind: "pass", note: `a failure was ignored inside this step (onFailure: Ignore)${step.failureMessage ? `: ${step.failureMessage}` : ""}` };
    case "ignoredFailure":
      return { kind: "pass", note: `failure ignored (onFailure: ${step.onFailure || "Ignore"}): ${step.failureMessage || "the step failed"}\n${details(step)}` };
    case "skipped":
      return { kind: "skipped", message: step.notSelected ?? (step.failureMessage ? `skipped: ${step.failureMessage}` : "skipped: its if condition decided Skip") };
    case "failed":
    case "timedOut": {
      const message = step.failureMessage || `the step ended ${status}`;
      return { kind: "failure", type: status, message: firstLine(message), body: `${message}\n${details(step)}` };
    }
    default: {
      // "running": a record taken before the step ended (should not reach a finished execution).
      const message = step.failureMessage || `the step did not finish (status ${String(status)})`;
      return { kind: "error", type: String(status), message: firstLine(message), body: `${message}\n${details(step)}` };
    }
  }
}

/** The step's action, failure handling and, for a loop, which iteration failed. */
function details(step: StepRecord): string {
  const lines = [`action: ${step.action}`, `onFailure: ${step.onFailure}`, `maxAttempts: ${step.maxAttempts}`];
  if (step.timeoutSeconds > 0) lines.push(`timeoutSeconds: ${step.timeoutSeconds}`);
  if (step.loop !== null) {
    const { loop } = step;
    const label = `loop${loop.name ? ` '${loop.name}'` : ""} (${loop.type}, ${loop.values.length} iteration(s))`;
    if (loop.failedIterations.length === 0) lines.push(label);
    else lines.push(`${label}: failed at ${loop.failedIterations.map((i) => `iteration ${i + 1} (value '${loop.values[i] ?? ""}')`).join(", ")}`);
  }
  return lines.join("\n");
}

function caseXml(kase: Case, mask: (text: string) => string, tailBytes: number): string[] {
  const open = `    <testcase${attrs(mask, [["name", kase.name], ["classname", kase.classname], ["time", seconds(kase.seconds)]])}`;
  const inner: string[] = [];
  const { outcome } = kase;
  // Jenkins' order: skipped, error, failure, system-out, system-err.
  if (outcome.kind === "skipped") inner.push(`      <skipped${attrs(mask, [["message", outcome.message]])}/>`);
  if (outcome.kind === "error" || outcome.kind === "failure") {
    inner.push(`      <${outcome.kind}${attrs(mask, [["message", cap(outcome.message)], ["type", outcome.type]])}>${text(mask(outcome.body))}</${outcome.kind}>`);
  }
  if (kase.stdout !== undefined && kase.stdout !== "") inner.push(`      <system-out>${text(tail(mask(kase.stdout), tailBytes))}</system-out>`);
  if (outcome.kind === "pass" && outcome.note !== undefined) inner.push(`      <system-err>${text(mask(outcome.note))}</system-err>`);
  return inner.length === 0 ? [`${open}/>`] : [`${open}>`, ...inner, "    </testcase>"];
}

/** The `stdout` fields of a step's recorded outputs (JSON text of a list of objects), joined. */
function stdoutOf(outputs: string): string | undefined {
  let list: unknown;
  try {
    list = JSON.parse(outputs);
  } catch {
    return undefined;
  }
  if (!Array.isArray(list)) return undefined;
  const parts = list.flatMap((o) => (o !== null && typeof o === "object" && typeof (o as Record<string, unknown>).stdout === "string" ? [(o as Record<string, string>).stdout] : []));
  return parts.length === 0 ? undefined : parts.join("\n");
}

/** The last `bytes` bytes of `value` in UTF-8, starting on a whole character, with a note when cut. */
export function tail(value: string, bytes: number): string {
  const encoded = Buffer.from(value, "utf8");
  if (encoded.length <= bytes) return value;
  let start = encoded.length - bytes;
  while (start < encoded.length && (encoded[start]! & 0xc0) === 0x80) start++;
  return `[… ${start} earlier byte(s) cut: the whole output is in the step's log in the log folder]\n${encoded.subarray(start).toString("utf8")}`;
}

function counts(cases: readonly Case[]): { tests: number; failures: number; errors: number; skipped: number } {
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.outcome.kind === "failure").length,
    errors: cases.filter((c) => c.outcome.kind === "error").length,
    skipped: cases.filter((c) => c.outcome.kind === "skipped").length,
  };
}

/** A suite's time: its phase's span (whole seconds in the record), never less than its cases' sum. */
function suiteTime(suite: Suite): number {
  return Math.max(suite.spanSeconds, suite.cases.reduce((sum, c) => sum + c.seconds, 0));
}

function stepSeconds(step: StepRecord): number {
  if (typeof step.durationMs === "number" && Number.isFinite(step.durationMs) && step.durationMs >= 0) return step.durationMs / 1000;
  return span(step.startTime, step.endTime);
}

/** Seconds from one record time to another; 0 when either is missing or unreadable. */
function span(start: string, end: string): number {
  const from = Date.parse(start);
  const to = Date.parse(end);
  return Number.isFinite(from) && Number.isFinite(to) && to > from ? (to - from) / 1000 : 0;
}

function seconds(value: number): string {
  return value.toFixed(3);
}

/** The record's time format (model/time.ts localTimestamp), which is also an xs:dateTime. */
function isTimestamp(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.test(value);
}

function firstLine(value: string): string {
  const line = value.split(/\r?\n|\r/, 1)[0] ?? "";
  return line === value ? value : `${line} …`;
}

function cap(value: string): string {
  return value.length <= MESSAGE_ATTRIBUTE_LIMIT ? value : `${value.slice(0, MESSAGE_ATTRIBUTE_LIMIT)} …`;
}

/** Terminal control sequences (CSI … final byte, OSC … BEL/ST): meaningless in a report. */
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;
/** Everything XML 1.0 does not allow in a document (its Char production), by code point. */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** `value` with only characters XML 1.0 allows. */
export function xmlSafe(value: string): string {
  return value.replace(ANSI, "").replace(NOT_XML, "\uFFFD");
}

/** Element text: escaped (never CDATA); CR kept as a reference (a parser would turn CR LF into LF). */
function text(value: string): string {
  return xmlSafe(value).replace(/[&<>\r]/g, (c) => ENTITIES[c]!);
}

/** Attributes whose values awstoe makes up (times, counts): not masked, so a short secret cannot break their type. */
const OWN_VALUES = new Set(["tests", "failures", "errors", "skipped", "time", "timestamp", "id"]);

function attrs(mask: (text: string) => string, pairs: readonly (readonly [string, string | number])[]): string {
  return pairs.map(([name, value]) => ` ${name}="${attribute(OWN_VALUES.has(name) ? String(value) : mask(String(value)))}"`).join("");
}

/** Attribute text: also quotes, and tab/LF/CR as references (attribute normalisation would make them spaces). */
function attribute(value: string): string {
  return xmlSafe(value).replace(/[&<>"'\t\n\r]/g, (c) => ENTITIES[c]!);
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;" };
