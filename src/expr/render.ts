/**
 * @module expr/render: substitutes `{{ … }}` references when a step runs (docs/component-documents.md §2, §6) —
 * parameters and constants, the step's own loop iteration, earlier steps' inputs and outputs.
 * Pure; no IO.
 */
import { ResolveError } from "../errors.ts";
import { findReferences, classifyReference, type HostReference, type Reference } from "./template.ts";
import { stepKey, type Scope } from "./scope.ts";

/** One chaining reference met while rendering: recorded in chaining.json (never its value). */
export interface ChainUse {
  expression: string;
  resolved: boolean;
}

type Chain = Extract<Reference, { kind: "chain" }>;

/**
 * Replaces every reference in `text` in one left-to-right pass; substituted text is not scanned
 * again, so a value containing `{{ … }}` stays as it is. Unknown names stay verbatim (docs/component-documents.md §2.1);
 * a chaining reference that cannot be resolved throws ResolveError and fails the step.
 */
export function renderString(text: string, scope: Scope, used?: ChainUse[]): string {
  const refs = findReferences(text);
  if (refs.length === 0) return text;
  let out = "";
  let at = 0;
  for (const ref of refs) {
    out += text.slice(at, ref.start);
    at = ref.end;
    const reference = classifyReference(ref.expr);
    switch (reference.kind) {
      case "variable":
        out += scope.variables.get(reference.name) ?? ref.raw;
        break;
      case "loop": {
        const loop = scope.loop;
        // Only this step's own loop is visible; another step's loop name stays verbatim (§7).
        const visible = loop !== undefined && (reference.loop === "loop" || reference.loop === loop.name);
        out += !visible ? ref.raw : reference.field === "index" ? String(loop.index) : loop.value;
        break;
      }
      case "chain":
        try {
          out += resolveChain(ref.expr, reference, scope);
        } catch (error) {
          used?.push({ expression: ref.expr, resolved: false });
          throw error;
        }
        used?.push({ expression: ref.expr, resolved: true });
        break;
      case "env":
      case "context":
      case "imds":
      case "ssm":
        out += scope.host === undefined ? ref.raw : scope.host.resolve(throughParameter(reference, ref.expr, scope), ref.raw);
        break;
      case "malformed":
      case "other":
        out += ref.raw;
        break;
    }
  }
  return out + text.slice(at);
}

/**
 * A deep copy of `value` with every string rendered. Mapping keys are kept literally (references
 * are allowed in values only, §2); numbers, booleans and null are kept as they are.
 */
export function renderValue(value: unknown, scope: Scope, used?: ChainUse[]): unknown {
  if (typeof value === "string") return renderString(value, scope, used);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, scope, used));
  if (isPlainObject(value)) {
    // fromEntries defines own properties, so a `__proto__` key from YAML stays an ordinary key.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderValue(item, scope, used)]));
  }
  return value;
}

/** `aws:ssm:resolve(P)`: the parameter named by document parameter P's value. */
function throughParameter(reference: HostReference, expr: string, scope: Scope): HostReference {
  if (reference.kind !== "ssm" || reference.through === undefined) return reference;
  const name = scope.variables.get(reference.through);
  if (name === undefined || name.trim() === "") {
    throw new ResolveError(`'${expr}' could not be resolved: document parameter '${reference.through}' ${name === undefined ? "does not exist" : "is empty"}`, expr);
  }
  return { kind: "ssm", name: name.trim() };
}

function resolveChain(expr: string, ref: Chain, scope: Scope): string {
  const fail = (why: string) => new ResolveError(`chaining expression '${expr}' could not be resolved: ${why}`, expr);
  const name = `${ref.phase}/${ref.step}`;
  const step = scope.steps.get(stepKey(ref.phase, ref.step));
  if (step === undefined) throw fail(`step '${name}' has not run before this step`);
  const list = ref.part === "inputs" ? step.inputs : step.outputs;
  if (list === undefined) throw fail(`step '${name}' was skipped or failed, so it has no outputs`);
  const index = ref.index ?? 0;
  if (index >= list.length) {
    throw fail(`${ref.part} has ${list.length} ${list.length === 1 ? "item" : "items"}; index ${index} is out of range`);
  }
  const item = list[index]!;
  const value = Object.hasOwn(item, ref.field) ? item[ref.field] : undefined;
  if (value === undefined) {
    const fields = Object.keys(item);
    throw fail(`${ref.part} have no field '${ref.field}' (${fields.length === 0 ? "they have none" : `they have: ${fields.join(", ")}`})`);
  }
  return asText(value);
}

/** Scalars as their text; lists and mappings as compact JSON (§6). */
function asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
