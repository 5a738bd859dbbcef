/**
 * @module document/rules/blocked: action modules the caller refuses (`--blocked-action-modules`,
 * docs/cli.md §2). A step using one is an error at its `action:`; so is an ExecuteDocument
 * step whose document (read when it can be: a literal local path that exists) uses one.
 *
 * Only the action name counts: a script that exits 194 still asks for a reboot when the Reboot
 * module is blocked.
 */
import type { Diagnostic } from "../../errors.ts";
import { stepsOf, textOf, type RuleContext, type StepRef } from "./_context.ts";
import { isRecord } from "../../model/platform.ts";

/**
 * The blocked-module problems of the document a step runs, or undefined when it cannot be told
 * before the step runs (a `{{ reference }}`, a remote source, a file that does not exist yet).
 */
export type ReadNested = (document: string) => Diagnostic[] | undefined;

export function checkBlockedModules(ctx: RuleContext, blocked: ReadonlySet<string>, readNested: ReadNested): void {
  if (blocked.size === 0) return;
  for (const ref of stepsOf(ctx.doc)) {
    const action = textOf(ref.step.action);
    if (action === undefined) continue;
    if (blocked.has(action)) {
      ctx.issues.push({
        code: "E_ACTION_BLOCKED",
        path: [...ref.path, "action"],
        message: `${stepName(ref)} uses the blocked action module '${action}'`,
        hint: `${action} is blocked for this run (--blocked-action-modules); remove the step or leave ${action} out of the list`,
      });
      continue;
    }
    if (action !== "ExecuteDocument" || !isRecord(ref.step.inputs)) continue;
    const document = ref.step.inputs.document;
    if (typeof document !== "string" || document.includes("{{")) continue;
    for (const found of readNested(document) ?? []) {
      const where = found.line === undefined ? found.file : `${found.file}:${found.line}:${found.column}`;
      ctx.issues.push({
        code: "E_ACTION_BLOCKED",
        path: [...ref.path, "inputs", "document"],
        message: `${stepName(ref)} runs '${document}': ${where}: ${found.message}`,
        hint: "the documents ExecuteDocument runs may not use a blocked action module either",
      });
    }
  }
}

function stepName(ref: StepRef): string {
  const step = ref.stepName === undefined ? `step ${ref.stepIndex + 1}` : `step '${ref.stepName}'`;
  const phase = ref.phaseName === undefined ? `phase ${ref.phaseIndex + 1}` : `phase '${ref.phaseName}'`;
  return `${step} (${phase})`;
}
