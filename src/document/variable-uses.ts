/**
 * @module document/variable-uses: which steps of a document use a parameter or constant — in
 * their inputs, loop or `if`, directly (`{{ Name }}`) or as the name of a Parameter Store
 * parameter (`{{ aws:ssm:resolve(Name) }}`). For messages about a parameter left empty.
 */
import { classifyReference, findReferences } from "../expr/template.ts";
import { isRecord } from "../model/platform.ts";

/** `phase/step` of every step that uses `name`, in document order. */
export function stepsUsingVariable(doc: Record<string, unknown>, name: string): string[] {
  const found: string[] = [];
  const phases = Array.isArray(doc.phases) ? doc.phases : [];
  for (const phase of phases) {
    if (!isRecord(phase) || !Array.isArray(phase.steps)) continue;
    for (const step of phase.steps) {
      if (isRecord(step) && mentions([step.inputs, step.loop, step.if], name)) found.push(`${String(phase.name)}/${String(step.name)}`);
    }
  }
  return found;
}

function mentions(value: unknown, name: string): boolean {
  if (typeof value === "string") {
    return findReferences(value).some((ref) => {
      const reference = classifyReference(ref.expr);
      return (reference.kind === "variable" && reference.name === name) || (reference.kind === "ssm" && reference.through === name);
    });
  }
  if (Array.isArray(value)) return value.some((item) => mentions(item, name));
  if (isRecord(value)) return Object.values(value).some((item) => mentions(item, name));
  return false;
}
