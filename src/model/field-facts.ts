/**
 * @module model/field-facts: what a person needs to know about one field, read from its schema
 * (built with model/schema-kit.ts, `x-` keys included): its type, allowed values and default, as
 * short Markdown. One wording for the module reference (scripts/gen-docs.ts writes it into
 * docs/modules.md's tables) and for the editor schema's hover text (document/json-schema.ts).
 */

type Schema = Record<string, unknown>;

/** A schema object, whether the module holds it directly or builds it on first use. */
export function schemaOf(value: unknown): Schema {
  const schema = typeof value === "function" ? (value as () => unknown)() : value;
  return (schema ?? {}) as Schema;
}

/** Schema text (descriptions, summaries) as Markdown that shows it literally: no emphasis, no tags. */
export function markdownText(text: string): string {
  return text.replace(/[\\*<]/g, (c) => `\\${c}`);
}

/** A Markdown code span holding `text` exactly. */
export function code(text: string): string {
  return text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** The `{{ reference }}` branch schema-kit adds to fields that take one. */
export function isTemplateBranch(branch: unknown): boolean {
  const b = branch as Schema;
  return typeof b?.pattern === "string" && b.type === "string" && b.pattern.startsWith("\\{\\{");
}

/** Whether a non-text field also takes a `{{ reference }}` (checked again when the step runs). */
export function takesReference(schema: Schema): boolean {
  return Array.isArray(schema.anyOf) && schema.anyOf.some(isTemplateBranch);
}

/** What a person writes: text, true/false, whole number, choice, list of …, mapping. */
export function typeOf(schema: Schema): string {
  if (schema.$ref === "Condition") return "expression";
  const reference = takesReference(schema) ? " or reference" : "";
  switch (schema["x-kind"]) {
    case "text":
      return "text";
    case "flag":
      return `true/false${reference}`;
    case "whole":
      return `whole number${reference}`;
    case "choice":
      return `choice${reference}`;
  }
  if (schema.type === "array") {
    const items = schemaOf(schema.items);
    if (items.type === "object" && items.properties !== undefined) return `list of {${Object.keys(items.properties as Schema).join(", ")}}`;
    return `list of ${typeOf(items)}`;
  }
  if (schema.type === "object" && schema.patternProperties !== undefined) return "mapping of text";
  if (schema.type === "object") return "mapping";
  if (typeof schema["x-expected"] === "string") return markdownText(schema["x-expected"] as string);
  if (typeof schema.type === "string") return schema.type;
  return "any";
}

/**
 * The values a field accepts, as Markdown; "—" when its type says it all. `flagNote` follows the
 * words of a true/false field (docs/modules.md points to its §1, which lists the YAML 1.1 words).
 */
export function allowedOf(schema: Schema, { flagNote = " (see §1)" }: { flagNote?: string } = {}): string {
  const parts: string[] = [];
  const kind = schema["x-kind"];
  if (kind === "choice") {
    const choices = (schema["x-choices"] as string[] | undefined) ?? [];
    const words = (Array.isArray(schema.anyOf) ? (schema.anyOf[0] as Schema) : schema) ?? {};
    const exact = Array.isArray(words.enum);
    parts.push(`${choices.map(wordText).join(", ")}${exact ? "" : " (any letter case)"}`);
  } else if (kind === "flag") {
    parts.push(`\`true\`, \`false\`${flagNote}`);
  } else if (kind === "whole") {
    const min = schema.minimum;
    const max = schema.maximum;
    if (typeof min === "number" && typeof max === "number") parts.push(`${min} to ${max}`);
    else if (typeof min === "number") parts.push(`at least ${min}`);
  } else if (kind === "text") {
    const expected = schema["x-expected"];
    if (typeof expected === "string" && expected !== "text") parts.push(markdownText(expected));
    else if (schema.minLength === 1) parts.push("not empty");
  } else if (schema.type === "array") {
    if (typeof schema.minItems === "number" && schema.minItems > 0) parts.push(`at least ${schema.minItems} item${schema.minItems === 1 ? "" : "s"}`);
    const items = schemaOf(schema.items);
    if (items.type === "object" && Array.isArray(items.required) && items.required.length > 0) parts.push(`each item needs ${items.required.map(code).join(" and ")}`);
  } else if (schema.type === "object" && typeof schema["x-expected"] === "string") {
    parts.push(markdownText(schema["x-expected"] as string));
  }
  return parts.length === 0 ? "—" : parts.join("; ");
}

/** One allowed word: a code span, with a line break, tab or space named rather than shown blank. */
function wordText(word: string): string {
  const names: Record<string, string> = { "\n": "newline (`\\n`)", "\t": "tab (`\\t`)", " ": "space" };
  return names[word] ?? code(word);
}

/** The declared default as Markdown ("empty" for an empty text), or "—" when there is none. */
export function defaultOf(schema: Schema): string {
  if (!("default" in schema)) return "—";
  return valueText(schema.default);
}

/** A value as Markdown: a code span of its text (JSON for anything but a non-empty string). */
export function valueText(value: unknown): string {
  if (typeof value === "string") return value === "" ? "empty" : code(value);
  return code(JSON.stringify(value));
}
