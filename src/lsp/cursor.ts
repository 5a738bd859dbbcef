/**
 * @module lsp/cursor: what surrounds the cursor — the YAML outline, the step it is in (phase,
 * name, action, loop), and an open `{{ …` before it. Shared by completion and hover.
 */
import type { Analysis, StepInfo } from "./analysis.ts";
import { childColumn, inlineValue, outline, siblings, type Outline } from "./yaml-outline.ts";

export interface CursorStep {
  phase: string | undefined;
  name: string | undefined;
  action: string | undefined;
  loops: boolean;
  loopName: string | undefined;
  /** The step in the analysis, when it could be found by phase and name. */
  info: StepInfo | undefined;
}

export interface Cursor {
  lines: string[];
  line: number;
  character: number;
  outline: Outline;
  step: CursorStep | undefined;
  /** The text after an unclosed `{{` before the cursor on its line (leading spaces dropped). */
  template: string | undefined;
}

const STEP_PATH = ["phases", "-", "steps", "-"];

export function cursorAt(text: string, line: number, character: number, analysis: Analysis | undefined): Cursor {
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  const shape = outline(lines, line, character);
  const before = (lines[line] ?? "").slice(0, character);
  const open = before.lastIndexOf("{{");
  const template = open >= 0 && !before.slice(open).includes("}}") ? before.slice(open + 2).trimStart() : undefined;
  return { lines, line, character, outline: shape, step: stepOf(lines, shape, analysis), template };
}

/** The step mapping around the cursor, read from the text and matched to the analysis by name. */
function stepOf(lines: string[], shape: Outline, analysis: Analysis | undefined): CursorStep | undefined {
  if (!STEP_PATH.every((segment, i) => shape.path[i] === segment)) return undefined;
  const stepLevel = shape.levels.find((l) => l.depth === STEP_PATH.length);
  const phaseLevel = shape.levels.find((l) => l.depth === 2);
  if (stepLevel === undefined) return undefined;
  const fields = siblings(lines, stepLevel.line, stepLevel.column);
  const phase = phaseLevel === undefined ? undefined : siblings(lines, phaseLevel.line, phaseLevel.column).get("name");
  const read = (key: string) => {
    const value = fields.get(key)?.value;
    return value === undefined || value.trim() === "" ? undefined : inlineValue(value);
  };
  const phaseName = phase === undefined ? undefined : inlineValue(phase.value);
  const name = read("name");
  const info = analysis?.steps.find((s) => s.phase === phaseName && s.name === name && name !== undefined);
  const loopLine = fields.get("loop")?.line;
  let loopName = info?.loopName;
  if (loopName === undefined && loopLine !== undefined) {
    const child = childColumn(lines, loopLine);
    const named = child === undefined ? undefined : siblings(lines, child.line, child.column).get("name");
    loopName = named === undefined ? undefined : inlineValue(named.value);
  }
  return { phase: phaseName, name, action: read("action") ?? info?.action, loops: loopLine !== undefined || info?.loops === true, loopName, info };
}
