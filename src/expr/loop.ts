/**
 * @module expr/loop: turns a step's `loop` into the list of iteration values (docs/component-documents.md §7),
 * resolving references in forEach items once, when the step starts. Pure; no IO.
 */
import { LOOP_DELIMITERS, MAX_LOOP_ITERATIONS } from "../model/component.ts";
import { ResolveError } from "../errors.ts";

export interface ExpandedLoop {
  name?: string;
  type: "for" | "forEach";
  /** One string per iteration, in order; `index` is the position in this list. */
  values: string[];
}

/**
 * The validator rejects malformed loops, but a rendered `forEach.list` can grow at run time, so
 * the iteration cap is checked here too; any other malformation also fails the step instead of
 * looping forever or crashing.
 */
export function expandLoop(loop: unknown, render: (text: string) => string): ExpandedLoop {
  if (!isRecord(loop)) throw invalid("expected a mapping with for or forEach");
  const name = typeof loop.name === "string" ? { name: loop.name } : {};
  const hasFor = loop.for !== undefined;
  const hasForEach = loop.forEach !== undefined;
  if (hasFor === hasForEach) throw invalid(hasFor ? "give either for or forEach, not both" : "needs a for or a forEach");
  if (hasFor) return { ...name, type: "for", values: countValues(loop.for) };
  return { ...name, type: "forEach", values: forEachValues(loop.forEach, render) };
}

function countValues(range: unknown): string[] {
  if (!isRecord(range)) throw invalid("for must be a mapping with start, end and updateBy");
  const { start, end, updateBy } = range;
  for (const [key, value] of Object.entries({ start, end, updateBy })) {
    if (typeof value !== "number" || !Number.isSafeInteger(value)) throw invalid(`for.${key} must be a whole number`);
  }
  const [from, to, step] = [start as number, end as number, updateBy as number];
  if (step === 0) throw invalid("updateBy must not be 0");
  if (from !== to && Math.sign(to - from) !== Math.sign(step)) throw invalid(`counting from ${from} by ${step} never reaches ${to}`);
  // Count first, so a huge range is refused before anything is allocated.
  checkCount(Math.floor(Math.abs(to - from) / Math.abs(step)) + 1);
  const values: string[] = [];
  for (let value = from; step > 0 ? value <= to : value >= to; value += step) values.push(String(value));
  return values;
}

function forEachValues(forEach: unknown, render: (text: string) => string): string[] {
  if (Array.isArray(forEach)) {
    if (forEach.length === 0) throw invalid("forEach has no items");
    checkCount(forEach.length);
    return forEach.map((item, i) => {
      if (typeof item === "string") return render(item);
      if (typeof item === "number" || typeof item === "boolean") return String(item);
      throw invalid(`forEach item ${i} is not a single value`);
    });
  }
  if (!isRecord(forEach) || typeof forEach.list !== "string") throw invalid("forEach must be a list, or a mapping with a list text");
  const delimiter = forEach.delimiter ?? ",";
  if (typeof delimiter !== "string" || !(LOOP_DELIMITERS as readonly string[]).includes(delimiter)) {
    throw invalid(`delimiter must be one of ${LOOP_DELIMITERS.map((d) => JSON.stringify(d)).join(" ")}`);
  }
  // Rendered once when the step starts (§7); empty fields are kept and nothing is trimmed.
  const values = render(forEach.list).split(delimiter);
  checkCount(values.length);
  return values;
}

function checkCount(count: number): void {
  if (count > MAX_LOOP_ITERATIONS) {
    throw new ResolveError(`loop has ${count} iterations; at most ${MAX_LOOP_ITERATIONS} are allowed`, "loop");
  }
}

function invalid(why: string): ResolveError {
  return new ResolveError(`loop: ${why}`, "loop");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
