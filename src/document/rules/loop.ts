/** @module document/rules/loop: loop shapes, bounds and names (docs/component-documents.md §7, §12). */
import { MAX_LOOP_ITERATIONS } from "../../model/component.ts";
import { stepsOf, textOf, type RuleContext } from "./_context.ts";
import { isRecord } from "../../model/platform.ts";

export function checkLoops(ctx: RuleContext): void {
  const namesByPhase = new Map<number, Set<string>>();
  for (const ref of stepsOf(ctx.doc)) {
    const loop = ref.step.loop;
    if (!isRecord(loop)) continue;
    const path = [...ref.path, "loop"];
    const hasFor = loop.for !== undefined;
    const hasForEach = loop.forEach !== undefined;
    if (hasFor === hasForEach) {
      ctx.issues.push({
        code: "E_LOOP",
        path,
        message: hasFor ? "loop: give either for or forEach, not both" : "loop: needs a for or a forEach",
        hint: "for: {start, end, updateBy} counts; forEach: a list (or {list, delimiter}) of items",
      });
    }
    if (isRecord(loop.for)) checkForRange(ctx, loop.for, [...path, "for"]);
    checkForEachSize(ctx, loop.forEach, [...path, "forEach"]);
    const name = textOf(loop.name);
    if (name !== undefined) {
      const names = namesByPhase.get(ref.phaseIndex) ?? new Set<string>();
      namesByPhase.set(ref.phaseIndex, names);
      if (name === "loop") {
        ctx.issues.push({ code: "E_LOOP", path: [...path, "name"], message: "loop: a loop may not be named 'loop'", hint: "{{ loop.value }} already means the current loop; choose another name" });
      } else if (names.has(name)) {
        ctx.issues.push({ code: "E_LOOP", path: [...path, "name"], message: `loop: the name '${name}' is already used by another loop in phase '${ref.phaseName ?? ref.phaseIndex}'` });
      } else if (!/^[A-Za-z0-9_-]+$/.test(name)) {
        ctx.issues.push({ code: "E_LOOP", path: [...path, "name"], message: `loop: name '${name}' may only use A-Z a-z 0-9 - _`, hint: "references like {{ name.value }} cannot contain other characters" });
      }
      names.add(name);
    }
  }
}

function checkForRange(ctx: RuleContext, range: Record<string, unknown>, path: readonly (string | number)[]): void {
  const { start, end, updateBy } = range;
  if (typeof start !== "number" || typeof end !== "number" || typeof updateBy !== "number") return;
  if (![start, end, updateBy].every(Number.isInteger)) return; // the schema reports non-integers
  if (updateBy === 0) {
    ctx.issues.push({ code: "E_LOOP", path: [...path, "updateBy"], message: "loop: updateBy must not be 0" });
    return;
  }
  if (start !== end && Math.sign(end - start) !== Math.sign(updateBy)) {
    ctx.issues.push({
      code: "E_LOOP",
      path: [...path, "updateBy"],
      message: `loop: counting from ${start} by ${updateBy} never reaches ${end}`,
      hint: `use updateBy: ${-updateBy}`,
    });
    return;
  }
  const iterations = Math.floor(Math.abs(end - start) / Math.abs(updateBy)) + 1;
  if (iterations > MAX_LOOP_ITERATIONS) {
    ctx.issues.push({ code: "E_LOOP", path, message: `loop: ${iterations} iterations; at most ${MAX_LOOP_ITERATIONS} are allowed` });
  }
}

/** A literal forEach (a list, or a delimited text without references) must stay under the cap. */
function checkForEachSize(ctx: RuleContext, forEach: unknown, path: readonly (string | number)[]): void {
  let count: number | undefined;
  if (Array.isArray(forEach)) count = forEach.length;
  else if (isRecord(forEach) && typeof forEach.list === "string" && !forEach.list.includes("{{")) {
    const delimiter = typeof forEach.delimiter === "string" ? forEach.delimiter : ",";
    count = delimiter === "" ? 1 : forEach.list.split(delimiter).length;
  }
  if (count !== undefined && count > MAX_LOOP_ITERATIONS) {
    ctx.issues.push({ code: "E_LOOP", path, message: `loop: ${count} items; at most ${MAX_LOOP_ITERATIONS} iterations are allowed` });
  }
}
