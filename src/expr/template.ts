/**
 * @module expr/template: the `{{ … }}` reference syntax (docs/component-documents.md §2, §6) — finding references
 * in a string and telling parameters, loop variables and chaining apart. Pure; no IO.
 */

/** One `{{ … }}` occurrence. `start`/`end` are offsets of the braces in the string. */
export interface TemplateRef {
  expr: string;
  raw: string;
  start: number;
  end: number;
}

/** The `context:` keys (docs/component-documents.md §2.2). */
export const CONTEXT_KEYS = ["executionId", "accountId", "region", "osPlatform", "osName", "osVersion", "date", "dateTime", "uuid", "hostname", "phase", "step"] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

/**
 * A reference to something outside the document: the environment, the execution, instance
 * metadata, Parameter Store. `ssm` names the parameter directly or, with `resolve(P)`, through the
 * value of document parameter P.
 */
export type HostReference =
  | { kind: "env"; name: string }
  | { kind: "context"; key: string }
  | { kind: "imds"; path: string }
  | { kind: "ssm"; name: string; through?: string };

export type Reference =
  | HostReference
  | { kind: "malformed"; why: string }
  | { kind: "variable"; name: string }
  | { kind: "loop"; loop: string; field: "index" | "value" }
  | { kind: "chain"; phase: string; step: string; part: "inputs" | "outputs"; index: number | undefined; field: string }
  | { kind: "other" };

// No lazy quantifier next to \s*: that backtracked cubically on an unclosed `{{` + spaces.
const REF = /\{\{([^{}]*)\}\}/g;

/** Every `{{ … }}` in `text`, left to right. */
export function findReferences(text: string): TemplateRef[] {
  const refs: TemplateRef[] = [];
  for (const match of text.matchAll(REF)) {
    refs.push({ expr: match[1]!.trim(), raw: match[0], start: match.index, end: match.index + match[0].length });
  }
  return refs;
}

/** Offset of a `{{` that is never closed (it stays in the text as written), or undefined. */
export function unclosedReference(text: string): number | undefined {
  const rest = text.replace(REF, (m) => " ".repeat(m.length));
  const at = rest.indexOf("{{");
  return at >= 0 && !rest.slice(at).includes("}}") ? at : undefined;
}

const CHAIN = /^([^.[\]]+)\.([^.[\]]+)\.(inputs|outputs)(?:\[(\d+)\])?\.([^.[\]]+)$/;
const VARIABLE = /^[A-Za-z0-9_-]+$/;
const LOOP = /^([^.[\]]+)\.(index|value)$/;

const HOST = /^(env|context|aws:imds|aws:ssm):([\s\S]*)$/;
const RESOLVE = /^resolve\(\s*([^()]*?)\s*\)$/;

/** Classifies the inside of `{{ … }}` by its shape (docs/component-documents.md §6). */
export function classifyReference(expr: string): Reference {
  if (VARIABLE.test(expr)) return { kind: "variable", name: expr };
  const host = HOST.exec(expr);
  if (host !== null) return hostReference(host[1]!, host[2]!);
  if (/^aws:[^:]*:/.test(expr)) return { kind: "malformed", why: `'${expr.slice(0, expr.indexOf(":", 4))}' is not a kind of reference; awstoe knows aws:ssm and aws:imds` };
  const loop = LOOP.exec(expr);
  if (loop !== null) return { kind: "loop", loop: loop[1]!, field: loop[2] as "index" | "value" };
  const chain = CHAIN.exec(expr);
  if (chain !== null) {
    return {
      kind: "chain",
      phase: chain[1]!,
      step: chain[2]!,
      part: chain[3] as "inputs" | "outputs",
      index: chain[4] === undefined ? undefined : Number(chain[4]),
      field: chain[5]!,
    };
  }
  return { kind: "other" };
}

/** A host reference's kind and text after the colon; malformed when that text cannot name anything. */
function hostReference(kind: string, rest: string): Reference {
  if (rest === "") return { kind: "malformed", why: `'${kind}:' names nothing` };
  switch (kind) {
    case "env":
      // Exact: environment names may hold dots, spaces and parentheses (ProgramFiles(x86)).
      return { kind: "env", name: rest };
    case "context":
      return { kind: "context", key: rest.trim() };
    case "aws:imds":
      return { kind: "imds", path: rest.trim().replace(/^\/+/, "") };
    default: {
      const text = rest.trim();
      const through = RESOLVE.exec(text);
      if (through === null) return { kind: "ssm", name: text };
      if (!VARIABLE.test(through[1]!)) return { kind: "malformed", why: `resolve() takes the name of a document parameter, not '${through[1]}'` };
      return { kind: "ssm", name: "", through: through[1]! };
    }
  }
}

/** IMDS paths that hand out credentials (or could reach them): refused, so a document cannot read the instance role's keys. */
export function credentialPath(path: string): boolean {
  // `.` and `..` segments could walk from an innocent path into these: refused as well.
  return /^(iam|identity-credentials)(\/|$)/.test(path) || path.split("/").some((segment) => segment === "." || segment === "..");
}
