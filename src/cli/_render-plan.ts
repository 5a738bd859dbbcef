/** @module cli/_render-plan: `awstoe run --dry-run` as text a person reads. */
import type { Plan, PlannedStep } from "../engine/plan.ts";
import type { Palette } from "../logs/terminal.ts";

export function renderPlan(plan: Plan, c: Palette): string {
  const lines: string[] = [c.bold("Dry run: nothing was executed.")];
  for (const doc of plan.documents) {
    lines.push("", `${c.bold("document")} ${doc.name ? `${doc.name} ` : ""}${c.dim(`(${doc.source})`)}`);
    if (doc.skippedPhases.length > 0) lines.push(`  ${c.dim(`phases not selected: ${doc.skippedPhases.join(", ")}`)}`);
    for (const phase of doc.phases) {
      lines.push(`  ${c.bold("phase")} ${phase.name}`);
      for (const step of phase.steps) lines.push(...renderStep(step, c));
    }
  }
  return lines.join("\n");
}

function renderStep(step: PlannedStep, c: Palette): string[] {
  const limits = [
    step.timeoutSeconds === -1 ? "no time limit" : `timeout ${step.timeoutSeconds}s`,
    step.maxAttempts > 1 ? `${step.maxAttempts} attempts` : undefined,
    step.onFailure !== "Abort" ? `onFailure ${step.onFailure}` : undefined,
  ].filter(Boolean);
  const out = [`    ${c.cyan("•")} ${c.bold(step.name)} ${step.action} ${c.dim(`(${limits.join(", ")})`)}`];
  const detail = (text: string) => out.push(`        ${text}`);
  if (step.condition !== undefined) {
    if (step.condition.deferred !== undefined) detail(`if: decided during the run — ${step.condition.deferred}`);
    else detail(`if: ${step.condition.explain} → ${c.bold(step.condition.decision ?? "")}`);
    if (step.condition.decision === "Skip") return out;
  }
  if (step.loop !== undefined) {
    if (step.loop.deferred !== undefined) detail(`loop (${step.loop.type}): ${step.loop.deferred}`);
    else {
      const more = (step.loop.count ?? 0) > (step.loop.values?.length ?? 0) ? `, … ${step.loop.count} in all` : "";
      detail(`loop (${step.loop.type}), ${step.loop.count} iteration(s): ${step.loop.values?.map((v) => JSON.stringify(v)).join(", ")}${more}`);
    }
  }
  if (step.deferred !== undefined && step.loop?.deferred === undefined) detail(`inputs: ${c.yellow("deferred")} — ${step.deferred}`);
  for (const iteration of step.iterations ?? []) {
    const label = iteration.value === undefined ? "inputs" : `[${iteration.index}] ${JSON.stringify(iteration.value)}`;
    detail(`${label}: ${JSON.stringify(iteration.inputs)}`);
  }
  return out;
}
