/**
 * A ModuleContext for calling one module's execute() directly. Real by default (real processes,
 * the real shell kit, a temp work folder); `exec` can be replaced where the real thing cannot run
 * here (PowerShell), and each test says so.
 */
import type { ExecRequest, ExecResult } from "../../src/model/ports.ts";
import type { Static, TSchema } from "@sinclair/typebox";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluateCondition } from "../../src/expr/condition.ts";
import type { ModuleContext, ModuleDef, ModuleInput } from "../../src/modules/_define.ts";
import { createProbe } from "../../src/platform/probe.ts";
import { runProcess } from "../../src/platform/process.ts";
import * as shell from "../../src/platform/shell.ts";
import { createS3Port } from "../../src/aws/s3.ts";

let root: string | undefined;

/** One temp folder per test process for all contexts' work files, removed when the process ends. */
function contextRoot(): string {
  if (root === undefined) {
    const made = mkdtempSync(join(tmpdir(), "opentoe-module-"));
    root = made;
    process.on("exit", () => rmSync(made, { recursive: true, force: true }));
  }
  return root;
}

export function moduleContext(overrides: Partial<ModuleContext> = {}): ModuleContext & { printed: string[] } {
  const printed: string[] = [];
  const workDir = mkdtempSync(join(contextRoot(), "ctx-"));
  const signal = overrides.signal ?? new AbortController().signal;
  return {
    platform: "linux",
    cwd: workDir,
    signal,
    workFile: (name) => join(workDir, `step.${name}`),
    exec: (request) => runProcess({ ...request, signal, onOutput: (_s, text) => printed.push(text) }),
    shell,
    s3: createS3Port(),
    log: { debug: () => {}, info: () => {}, warn: () => {} },
    evaluate: (expression) => evaluateCondition(expression, (t) => t, createProbe()),
    runDocument: () => Promise.reject(new Error("no nested documents in this test")),
    print: (text) => printed.push(text),
    printed,
    ...overrides,
  };
}

/** A finished program as the exec boundary reports it: exit 0, no output, unless `fields` say otherwise. */
export function execResult(fields: Partial<ExecResult> = {}): ExecResult {
  return { exitCode: 0, signal: null, stdout: "", stderr: "", stdoutTruncated: false, stderrTruncated: false, timedOut: false, aborted: false, durationMs: 1, ...fields };
}

/**
 * A Windows context whose `exec` records each request and answers with `result` instead of
 * running anything: for programs that exist only on Windows (PowerShell, reg.exe, msiexec). Each
 * test using it says which program it stands in for.
 */
export function recordingWindowsContext(result: Partial<ExecResult> | ((request: Omit<ExecRequest, "signal" | "onOutput">) => Partial<ExecResult>) = {}) {
  const calls: Omit<ExecRequest, "signal" | "onOutput">[] = [];
  const ctx = moduleContext({
    platform: "windows",
    exec: async (request) => {
      calls.push(request);
      return execResult(typeof result === "function" ? result(request) : result);
    },
  });
  return { ctx, calls };
}

/** A module's input as a document may write it: fields that have a default may be left out. */
export type WrittenInput<M> = M extends ModuleDef<infer I, TSchema, infer S> ? (S extends "list" ? Static<I>[] : Static<I>) : never;

/**
 * Calls `module.execute` with `input` completed as engine/inputs.ts completes it: a field left out
 * gets its schema default. A test then names only the fields it is about, and a field renamed in
 * the schema stops the test from compiling.
 */
export function runModule<I extends TSchema, O extends TSchema, S extends "map" | "list">(module: ModuleDef<I, O, S>, input: WrittenInput<ModuleDef<I, O, S>>, ctx: ModuleContext) {
  const properties = (module.input as { properties?: Record<string, { default?: unknown }> }).properties ?? {};
  const complete = (element: object) => {
    const out: Record<string, unknown> = { ...element };
    for (const [key, field] of Object.entries(properties)) if (out[key] === undefined && field.default !== undefined) out[key] = field.default;
    return out;
  };
  const filled = Array.isArray(input) ? input.map(complete) : complete(input as object);
  return module.execute(filled as ModuleInput<S, I>, ctx);
}

/**
 * A choice written in any letter case, as the engine hands it to a module: the listed word with
 * the same letters (engine/inputs.ts). Tests of every spelling a document may use go through it.
 */
export function listedChoice<const T extends readonly string[]>(choices: T, written: string): T[number] {
  const match = choices.find((choice) => choice.toLowerCase() === written.toLowerCase());
  if (match === undefined) throw new Error(`'${written}' is none of ${choices.join(", ")}`);
  return match;
}
