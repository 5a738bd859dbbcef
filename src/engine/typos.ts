/**
 * @module engine/typos: names on the command line that match nothing in the documents —
 * `--phases` and `--parameters` — found once the documents are read, before anything runs.
 * A phase no document has would run nothing and report success: a usage error. A parameter no
 * document declares is ignored (as AWSTOE does), but said.
 */
import { UsageError } from "../errors.ts";
import { isRecord } from "../model/platform.ts";
import { didYouMean } from "../model/suggest.ts";
import type { ReadyDocument } from "./prepare.ts";

/** Throws a UsageError naming every requested phase that no document has. */
export function checkPhases(phases: readonly string[] | undefined, documents: readonly ReadyDocument[]): void {
  if (phases === undefined || phases.length === 0 || documents.length === 0) return;
  const known = new Set(documents.flatMap((d) => namesIn(d.doc.phases, "name")));
  const missing = phases.filter((p) => !known.has(p));
  if (missing.length === 0) return;
  const first = missing[0]!;
  const list = missing.map((p) => `'${p}'`).join(", ");
  throw new UsageError(`--phases names ${missing.length === 1 ? "a phase" : "phases"} no document has: ${list}${didYouMean(first, known)}`, {
    hint: `the documents' phases are ${[...known].map((p) => `'${p}'`).join(", ")}; nothing was run`,
  });
}

/** One sentence per supplied parameter that no document declares, with a did-you-mean. */
export function unknownParameters(given: ReadonlyMap<string, string>, documents: readonly ReadyDocument[]): string[] {
  if (given.size === 0 || documents.length === 0) return [];
  const declared = new Set(documents.flatMap((d) => (Array.isArray(d.doc.parameters) ? d.doc.parameters.flatMap((p) => (isRecord(p) ? Object.keys(p) : [])) : [])));
  return [...given.keys()]
    .filter((name) => !declared.has(name))
    .map((name) => `--parameters ${name}: no document declares a parameter '${name}', so the value is not used${didYouMean(name, declared)}`);
}

function namesIn(list: unknown, key: string): string[] {
  return Array.isArray(list) ? list.flatMap((item) => (isRecord(item) && typeof item[key] === "string" ? [item[key] as string] : [])) : [];
}
