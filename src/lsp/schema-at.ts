/**
 * @module lsp/schema-at: the schema of the value at a YAML path — the document's own schema
 * (model/component.ts) down to a step, the step's action module's input schema below `inputs`.
 * Completion and hover read fields, descriptions and allowed values from it, so the editor offers
 * exactly what the validator accepts.
 */
import { ComponentDocument, Step } from "../model/component.ts";
import { isRecord } from "../model/platform.ts";
import { findModule, type ModuleDef } from "../modules/index.ts";

export type Schema = Record<string, unknown>;

/**
 * Walks `path` (keys, "-" for a list item) from the document's schema. `action` names the module
 * whose input schema applies below a step's `inputs`. Undefined where nothing is known.
 */
export function schemaAt(path: readonly string[], action: string | undefined): Schema | undefined {
  let schema: Schema | undefined = ComponentDocument as unknown as Schema;
  for (const segment of path) {
    if (schema === undefined) return undefined;
    if (segment === "inputs" && schema === (Step as unknown as Schema)) {
      schema = inputsSchema(action === undefined ? undefined : findModule(action));
      continue;
    }
    schema = segment === "-" ? itemsOf(schema) : propertyOf(schema, segment);
  }
  return schema;
}

/** A map module's inputs are one mapping; a list module's a list of them. */
function inputsSchema(module: ModuleDef | undefined): Schema | undefined {
  if (module === undefined || module.shape === "condition") return undefined;
  const input = module.input as unknown as Schema;
  return module.shape === "list" ? { type: "array", items: input } : input;
}

function itemsOf(schema: Schema): Schema | undefined {
  if (isRecord(schema.items)) return schema.items;
  return branches(schema).map(itemsOf).find((s) => s !== undefined);
}

function propertyOf(schema: Schema, key: string): Schema | undefined {
  const properties = fieldsOf(schema);
  if (Object.hasOwn(properties, key)) return properties[key];
  const pattern = isRecord(schema.patternProperties) ? Object.values(schema.patternProperties)[0] : undefined;
  if (isRecord(pattern)) return pattern;
  if (isRecord(schema.items)) return propertyOf(schema.items, key); // a list module's input written as one mapping
  return branches(schema).map((b) => propertyOf(b, key)).find((s) => s !== undefined);
}

/** The named fields of a mapping schema (of its mapping branch when it has several forms). */
export function fieldsOf(schema: Schema | undefined): Record<string, Schema> {
  if (schema === undefined) return {};
  if (isRecord(schema.properties)) return schema.properties as Record<string, Schema>;
  if (isRecord(schema.items) && schema.type === "array") return fieldsOf(schema.items);
  for (const branch of branches(schema)) {
    const fields = fieldsOf(branch);
    if (Object.keys(fields).length > 0) return fields;
  }
  return {};
}

/** The words a value may be: a choice's or enum's values, true/false for a flag or a boolean. */
export function valuesOf(schema: Schema | undefined): string[] {
  if (schema === undefined) return [];
  if (Array.isArray(schema["x-choices"])) return (schema["x-choices"] as unknown[]).map(String);
  if (Array.isArray(schema.enum)) return [...new Set((schema.enum as unknown[]).map((v) => (v === 1 ? "1.0" : String(v))))];
  if (schema["x-kind"] === "flag" || schema.type === "boolean") return ["true", "false"];
  return branches(schema).flatMap(valuesOf);
}

function branches(schema: Schema): Schema[] {
  return Array.isArray(schema.anyOf) ? (schema.anyOf as unknown[]).filter(isRecord) : [];
}

/** The description a person reads for a field (the schema's description, then what it expects). */
export function describeField(schema: Schema | undefined): string | undefined {
  if (schema === undefined) return undefined;
  const parts = [schema.description, schema["x-expected"] === undefined ? undefined : `expects ${String(schema["x-expected"])}`].filter((p): p is string => typeof p === "string");
  return parts.length === 0 ? undefined : parts.join(" — ");
}
