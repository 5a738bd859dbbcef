/** @module document/rules/_context: what every semantic rule receives, and small readers of raw data. */
import type { Issue, Path } from "../../errors.ts";
import type { PlatformName } from "../../model/platform.ts";
import type { SourceText } from "../check-schema.ts";
import { isRecord } from "../../model/platform.ts";

export interface RuleContext {
  /** The parsed document; only partly trustworthy, so rules read it defensively. */
  doc: Record<string, unknown>;
  platform: PlatformName;
  sourceText: SourceText;
  issues: Issue[];
}

/** A step as rules see it: where it is and its raw mapping. */
export interface StepRef {
  phaseIndex: number;
  phaseName: string | undefined;
  stepIndex: number;
  stepName: string | undefined;
  path: Path;
  step: Record<string, unknown>;
}

/** Phases that are mappings, with their paths. */
export function phasesOf(doc: Record<string, unknown>): { index: number; name: string | undefined; phase: Record<string, unknown>; path: Path }[] {
  if (!Array.isArray(doc.phases)) return [];
  return doc.phases.flatMap((phase, index) =>
    isRecord(phase) ? [{ index, name: textOf(phase.name), phase, path: ["phases", index] as Path }] : [],
  );
}

/** Steps of every phase, in execution order. */
export function stepsOf(doc: Record<string, unknown>): StepRef[] {
  return phasesOf(doc).flatMap(({ index: phaseIndex, name: phaseName, phase, path }) => {
    if (!Array.isArray(phase.steps)) return [];
    return phase.steps.flatMap((step, stepIndex) =>
      isRecord(step)
        ? [{ phaseIndex, phaseName, stepIndex, stepName: textOf(step.name), path: [...path, "steps", stepIndex], step }]
        : [],
    );
  });
}

/** A scalar read as text (numbers and booleans as written); undefined for anything else. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

