/**
 * @module state/fingerprint: what makes two `awstoe run` invocations the same execution for
 * resuming — the documents (source and exact text), the parameters and the phases. A reboot's
 * resume command repeats them; a changed document or parameter is another execution.
 */
import { createHash, randomUUID } from "node:crypto";

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

/**
 * The parts of an invocation, each hashed on its own (values never stored: a parameter may be a
 * secret), kept in the journal header so that a refused `run --retry` can say which part differs.
 * The hashes are salted per execution, so a short parameter value cannot be found by hashing
 * guesses once and comparing them with every journal.
 */
export interface InvocationFacets {
  salt: string;
  documents: string[];
  /** SHA-256 of each document's text, in order. */
  texts: string[];
  /** Parameter name → SHA-256 of its value: global ones, then per document. */
  parameters: Record<string, string>;
  documentParameters: Record<string, string>[];
  phases: string[];
}

export function facetsOf(invocation: Invocation, salt: string = randomUUID()): InvocationFacets {
  const sha = (text: string) => createHash("sha256").update(salt).update("\0").update(text).digest("hex");
  const hashed = (map: ReadonlyMap<string, string>) => Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, value]) => [name, sha(value)]));
  return {
    salt,
    documents: invocation.documents.map((d) => d.source),
    texts: invocation.documents.map((d) => sha(d.text)),
    parameters: hashed(invocation.parameters),
    documentParameters: invocation.documents.map((d) => hashed(d.parameters)),
    phases: [...invocation.phases],
  };
}

/** One phrase per difference between what an execution was asked for and `invocation`; empty when they agree. */
export function facetDifferences(before: InvocationFacets, invocation: Invocation): string[] {
  const now = facetsOf(invocation, before.salt);
  const list = (items: readonly string[]) => (items.length === 0 ? "(none)" : items.join(","));
  if (list(before.documents) !== list(now.documents)) return [`the documents differ: it ran ${list(before.documents)}, this run asks for ${list(now.documents)}`];
  const found: string[] = [];
  before.texts.forEach((hash, i) => {
    if (now.texts[i] !== hash) found.push(`document '${now.documents[i]}' has changed since it ran`);
  });
  const parameters = (earlier: Record<string, string>, later: Record<string, string>, where: string) => {
    for (const name of new Set([...Object.keys(earlier), ...Object.keys(later)])) {
      if (!(name in later)) found.push(`parameter '${name}'${where} was given then and is not now`);
      else if (!(name in earlier)) found.push(`parameter '${name}'${where} is given now and was not then`);
      else if (earlier[name] !== later[name]) found.push(`parameter '${name}'${where} has another value`);
    }
  };
  parameters(before.parameters, now.parameters, "");
  before.documentParameters.forEach((earlier, i) => parameters(earlier, now.documentParameters[i] ?? {}, ` of document '${now.documents[i]}'`));
  if (list(before.phases) !== list(now.phases)) found.push(`the phases differ: it ran ${before.phases.length === 0 ? "all phases" : list(before.phases)}, this run asks for ${now.phases.length === 0 ? "all phases" : list(now.phases)}`);
  return found;
}
