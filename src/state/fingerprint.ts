/**
 * @module state/fingerprint: what makes two `awstoe run` invocations the same execution for
 * resuming — the documents (source and exact text), the parameters and the phases. A reboot's
 * resume command repeats them; a changed document or parameter is another execution.
 */
import { createHash } from "node:crypto";

export interface Invocation {
  documents: { source: string; text: string; parameters: ReadonlyMap<string, string> }[];
  parameters: ReadonlyMap<string, string>;
  phases: readonly string[];
}

export function fingerprintOf(invocation: Invocation): string {
  const sorted = (map: ReadonlyMap<string, string>) => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = JSON.stringify({
    documents: invocation.documents.map((d) => ({ source: d.source, sha256: createHash("sha256").update(d.text).digest("hex"), parameters: sorted(d.parameters) })),
    parameters: sorted(invocation.parameters),
    phases: [...invocation.phases],
  });
  return createHash("sha256").update(canonical).digest("hex");
}
