/**
 * @module document/json-schema: the JSON Schema printed by `awstoe schema`, built from the same
 * TypeBox definitions the validator uses. Editors (yaml-language-server, VS Code) use it for
 * completion, hover text and early squiggles; `awstoe validate` remains the full check.
 *
 * Every field gets a `title`, its plain `description` (from the TypeBox definition) and a
 * `markdownDescription` for hover: that description, the field's type, default and allowed values
 * (model/field-facts.ts, the wording of docs/modules.md's tables) and a link to its section of
 * docs/. The shape is chosen for yaml-language-server, which shows a schema's nearest `title` as
 * the name of anything untitled below it and merges the properties of every matching subschema:
 *
 * - objects all carry their own title, so no completion item is named after the document;
 * - a step's `inputs` is described once per action (allOf if/then), where the generic one beside
 *   `action` is marked `doNotSuggest`, and `required: ["inputs"]` sits in a subschema without
 *   properties — so `inputs` is offered once, and no nameless "required fields" item appears (the
 *   condition operators' `required` moves into an allOf the same way);
 * - a one-branch anyOf is folded into its field;
 * - the branches of every anyOf carry distinct descriptions (so hover does not list every
 *   branch's text as `A || B`) and the field's title and hover text (hover reads the innermost
 *   schema that matched).
 */
import { ComponentDocument, STEP_DEFAULTS } from "../model/component.ts";
import { comparisonByName, conditionSchema, IF_DESCRIPTION, ifSchema, isLogicalOperator, type LogicalOperator } from "../model/conditions.ts";
import { CONTEXT_KEYS } from "../expr/template.ts";
import { allowedOf, code, defaultOf, markdownText, typeOf, valueText } from "../model/field-facts.ts";
import { isPrivateKey } from "../model/schema-kit.ts";
import { modules, type ModuleDef } from "../modules/index.ts";

type Json = Record<string, unknown>;

/** Where the repository is read on the web; every hover link is this plus a docs/ page and anchor. */
export const REPOSITORY_URL = "https://github.com/opentoe/opentoe/blob/main/";

/**
 * The sections of docs/ that hover text links to: file and GitHub heading anchor.
 * test/document/json-schema-text.test.ts checks that each anchor is a heading of that file.
 */
export const DOC_SECTIONS = {
  topLevel: { file: "docs/component-documents.md", anchor: "1-top-level", title: "Top level" },
  references: { file: "docs/component-documents.md", anchor: "2-variable-references", title: "Variable references" },
  variables: { file: "docs/component-documents.md", anchor: "3-parameters-and-constants", title: "Parameters and constants" },
  phases: { file: "docs/component-documents.md", anchor: "4-phases", title: "Phases" },
  steps: { file: "docs/component-documents.md", anchor: "5-steps", title: "Steps" },
  loops: { file: "docs/component-documents.md", anchor: "7-loops", title: "Loops" },
  conditions: { file: "docs/component-documents.md", anchor: "8-conditions-if", title: "Conditions (if)" },
  onFailure: { file: "docs/component-documents.md", anchor: "91-onfailure", title: "onFailure" },
  comparisons: { file: "docs/component-documents.md", anchor: "10-comparison-operators", title: "Comparison operators" },
  logical: { file: "docs/component-documents.md", anchor: "11-logical-operators", title: "Logical operators" },
  moduleConventions: { file: "docs/modules.md", anchor: "2-conventions-shared-by-all-modules", title: "Conventions shared by all modules" },
} as const satisfies Record<string, DocSection>;

export interface DocSection {
  /** The page, from the repository's root (docs/…). */
  file: string;
  anchor: string;
  title: string;
}

/** A module's section of docs/modules.md (its `### Name` heading). */
export function moduleSection(module: Pick<ModuleDef, "name">): DocSection {
  return { file: "docs/modules.md", anchor: module.name.toLowerCase(), title: module.name };
}

export function docUrl(section: DocSection): string {
  return `${REPOSITORY_URL}${section.file}#${section.anchor}`;
}

export function componentJsonSchema(version: string): Json {
  const root = copy(ComponentDocument);
  const rootProps = root.properties as Json;
  const phase = (rootProps.phases as Json).items as Json;
  const stepSchema = ((phase.properties as Json).steps as Json).items as Json;
  const props = stepSchema.properties as Json;
  props.if = copy(ifSchema()); // the model carries a placeholder: rules check `if`, not the schema
  props.action = actionSchema();

  object(stepSchema, "Step", "one step: the action module it runs, its inputs, and how it runs", DOC_SECTIONS.steps);
  const stepSections: Record<string, DocSection> = { loop: DOC_SECTIONS.loops, if: DOC_SECTIONS.conditions, onFailure: DOC_SECTIONS.onFailure };
  fields(stepSchema, "Step", (key) => stepSections[key] ?? DOC_SECTIONS.steps, {
    action: { type: "action module name" },
    timeoutSeconds: { type: "whole number", default: STEP_DEFAULTS.timeoutSeconds },
    onFailure: { default: STEP_DEFAULTS.onFailure },
    maxAttempts: { default: STEP_DEFAULTS.maxAttempts },
    disableLogging: { type: "true/false", default: false },
    if: { type: "expression, with optional then/else" },
    inputs: { type: "depends on the action" },
  });
  // Offered once, by the action's own `then` below, where it knows the module's fields.
  (props.inputs as Json).doNotSuggest = true;
  loop(props.loop as Json);
  conditions(props.if as Json, true);

  object(phase, "Phase", "one phase: a name and the steps it runs in order", DOC_SECTIONS.phases);
  fields(phase, "Phase", () => DOC_SECTIONS.phases);

  const document = `Component document for awstoe (opentoe ${version}). Generated by \`awstoe schema\`. Text values may hold {{ references }}: parameters and constants ({{ Name }}), loops ({{ loop.value }}), chaining ({{ phase.step.outputs.field }}), the environment ({{ env:NAME }}), the execution ({{ context:KEY }}: ${CONTEXT_KEYS.join(", ")}), instance metadata ({{ aws:imds:PATH }}) and Parameter Store ({{ aws:ssm:NAME }}, {{ aws:ssm:resolve(Parameter) }}).`;
  object(root, "AWSTOE component document", document, DOC_SECTIONS.topLevel);
  const sectionOf: Record<string, DocSection> = { parameters: DOC_SECTIONS.variables, constants: DOC_SECTIONS.variables, phases: DOC_SECTIONS.phases };
  fields(root, "Document", (key) => sectionOf[key] ?? DOC_SECTIONS.topLevel, {
    schemaVersion: { type: "version" },
    parameters: { type: "list of one-key mappings: name → settings" },
    constants: { type: "list of one-key mappings: name → settings" },
  });
  for (const which of ["parameters", "constants"] as const) variables(rootProps[which] as Json, which === "parameters" ? "Parameter" : "Constant");

  stepSchema.allOf = Object.values(modules).map((m) => {
    const section = moduleSection(m);
    const when = { properties: { action: actionBranch(m) }, required: ["action"] };
    const then = {
      properties: { inputs: inputsSchema(m) },
      // A subschema without properties: editors offer no "fill in the required fields" item for it.
      ...(m.inputsOptional ? {} : { allOf: [{ required: ["inputs"] }] }),
    };
    return {
      if: annotated(when, `${m.name} step`, `a step whose action is ${m.name}`, section, { type: "mapping" }),
      then: annotated(then, `${m.name} step`, `a step that runs ${m.name}: ${m.summary}`, section, { type: "mapping" }),
    };
  });

  const condition = copy(conditionSchema());
  delete condition.$id;
  condition.title = "Condition";
  condition.description = "a comparison, or an and/or/not expression";
  conditions(condition, false);

  const published = { $schema: "http://json-schema.org/draft-07/schema#", ...root, definitions: { Condition: condition } };
  distinctBranches(published);
  return strip(published) as Json;
}

// --- the parts --------------------------------------------------------------------------------

function actionSchema(): Json {
  return {
    type: "string",
    description: "the action module to run",
    anyOf: Object.values(modules).map(actionBranch),
  };
}

function actionBranch(m: ModuleDef): Json {
  const text = `${m.summary} (${m.platforms.join(", ")})`;
  return {
    const: m.name,
    title: m.name,
    description: text,
    markdownDescription: `**${m.name}** — ${markdownText(m.summary)}\n\nPlatforms: ${m.platforms.join(", ")}.\n\n${link(moduleSection(m))}`,
  };
}

function inputsSchema(module: ModuleDef): Json {
  const section = moduleSection(module);
  const title = `${module.name} inputs`;
  const description = `inputs of ${module.name}: ${module.summary}`;
  const input = copy(module.input);
  if (module.shape === "condition") {
    // A `$ref` takes no sibling keywords in draft-07: the reference sits in an allOf.
    return annotated({ allOf: [input] }, title, description, section, { type: "expression" });
  }
  if (module.shape === "list") {
    object(input, `${module.name} operation`, `one ${module.name} operation (a list item)`, section);
    fields(input, module.name, () => section);
    const list = { type: "array", minItems: 1, items: input, description: `a list of ${module.name} operations, run in order` };
    return annotated({ anyOf: [input, list] }, title, description, section, { type: "a mapping, or a list of mappings run in order" });
  }
  object(input, title, description, section);
  fields(input, module.name, () => section);
  if (module.inputsOptional) {
    return annotated({ anyOf: [input, { type: "null", description: "left empty: every input has a default" }] }, title, description, section, { type: "mapping (may be left out)" });
  }
  return input;
}

/** Parameters or constants: a list of one-key mappings, name → settings. */
function variables(list: Json, what: "Parameter" | "Constant"): void {
  const item = list.items as Json;
  annotated(item, what, `a one-key mapping: the ${what.toLowerCase()}'s name holding its settings`, DOC_SECTIONS.variables, { type: "mapping" });
  for (const body of Object.values(item.patternProperties as Json) as Json[]) {
    object(body, `${what} settings`, `the settings of one ${what.toLowerCase()}`, DOC_SECTIONS.variables);
    fields(body, what, () => DOC_SECTIONS.variables);
  }
}

function loop(schema: Json): void {
  const section = DOC_SECTIONS.loops;
  fields(schema, "Loop", () => section, { forEach: { type: "list of text, or {list, delimiter}" } });
  fields((schema.properties as Json).for as Json, "Loop for", () => section);
  const forEach = (schema.properties as Json).forEach as Json;
  const [list, split] = forEach.anyOf as Json[];
  annotated(list!, "Loop forEach: list", String(list!.description), section);
  object(split!, "Loop forEach: text and delimiter", String(split!.description), section);
  fields(split!, "Loop forEach", () => section, { delimiter: { default: "," } });
}

/**
 * The variants of a condition (`if` adds then/else beside the operator), wherever they are: the
 * step's `if` and the shared definition that `and`/`or`/`not` and Assert refer to.
 */
function conditions(schema: Json, withThenElse: boolean): void {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== "object") return;
    const n = node as Json;
    if (n.type === "object" && n.properties !== undefined) {
      const keys = Object.keys(n.properties as Json);
      const operator = keys[0]!;
      const logical = isLogicalOperator(operator);
      const section = logical ? DOC_SECTIONS.logical : DOC_SECTIONS.comparisons;
      const what = `${operator} ${logical ? "expression" : "comparison"}`;
      const summary = logical ? LOGICAL_SUMMARIES[operator] : comparisonByName.get(operator)?.summary;
      const description = `${withThenElse ? `${IF_DESCRIPTION}: ` : ""}${what}, ${summary ?? ""}${withThenElse ? "; then/else say what to do" : ""}`;
      object(n, withThenElse ? `if: ${what}` : what, description, section);
      // The operator and its operands are required, but beside `properties` that makes editors offer
      // a "fill in the required fields" item for each of some twenty operators; in an allOf it does not.
      if (Array.isArray(n.required)) {
        n.allOf = [{ required: n.required }];
        delete n.required;
      }
      fields(n, "Condition", (key) => (key === "then" || key === "else" ? DOC_SECTIONS.conditions : section), {
        then: { default: "Execute" },
        else: { default: "Skip" },
        and: { type: "list of expressions" },
        or: { type: "list of expressions" },
        not: { type: "expression" },
      }, (key) => (key === "then" || key === "else" ? "if" : "Condition"));
      return;
    }
    for (const [key, value] of Object.entries(n)) if (key === "anyOf" || key === "items") visit(value);
  };
  visit(schema);
  if (withThenElse) {
    const [top, list] = schema.anyOf as Json[];
    top!.description = "one condition, with optional then/else";
    list!.description = "the same, as a one-item list";
  }
}

const LOGICAL_SUMMARIES: Record<LogicalOperator, string> = {
  and: "true when every expression in its list is true",
  or: "true when any expression in its list is true",
  not: "true when its one expression is false",
};

// --- annotating ---------------------------------------------------------------------------------

interface FieldFacts {
  /** What a person writes, when model/field-facts.ts cannot tell from the schema. */
  type?: string;
  /** A default the engine applies that the schema does not declare (step defaults). */
  default?: unknown;
}

/** An object schema's own title and text (the field that holds it may say more). */
function object(schema: Json, title: string, description: string, section: DocSection): void {
  annotated(schema, title, description, section, { type: "mapping" });
}

/** Sets title, description (when it has none) and markdownDescription of one schema. */
function annotated(schema: Json, title: string, description: string, section: DocSection, facts: FieldFacts = {}, required?: boolean): Json {
  schema.title ??= title;
  schema.description ??= description;
  schema.markdownDescription = markdown(schema, String(schema.description), section, facts, required);
  return schema;
}

/**
 * Titles and hover text for every field of an object schema: `Context: key`, and the section each
 * key's documentation lives in. Fields that are objects themselves keep the title given here.
 */
function fields(
  schema: Json,
  context: string,
  sectionOf: (key: string) => DocSection,
  facts: Record<string, FieldFacts> = {},
  contextOf: (key: string) => string = () => context,
): void {
  const required = new Set((schema.required as string[] | undefined) ?? []);
  for (const [key, value] of Object.entries((schema.properties ?? {}) as Json)) {
    const field = value as Json;
    const title = `${contextOf(key)}: ${key}`;
    const own = typeof field.description === "string" ? field.description : key;
    if (field.type === "object" && field.properties !== undefined) {
      annotated(field, title, own, sectionOf(key), { type: "mapping", ...facts[key] }, required.has(key));
      continue;
    }
    annotated(field, title, own, sectionOf(key), facts[key], required.has(key));
    // Lists of mappings (ExecuteDocument's parameters): their items are fields too.
    const items = field.items as Json | undefined;
    if (field.type === "array" && items?.type === "object" && items.properties !== undefined && items.title === undefined) {
      object(items, `${context} ${key} item`, `one item of ${key}`, sectionOf(key));
      fields(items, `${context} ${key}`, sectionOf);
    }
  }
}

function markdown(schema: Json, description: string, section: DocSection, facts: FieldFacts, required: boolean | undefined): string {
  const lines = [sentence(markdownText(description))];
  const about: string[] = [];
  const type = facts.type ?? typeOf(schema);
  if (type !== "any") about.push(`**Type:** ${type}`);
  if (required !== undefined) about.push(required ? "**Required**" : "optional");
  const given = "default" in facts ? valueText(facts.default) : defaultOf(schema);
  if (given !== "—") about.push(`**Default:** ${given}`);
  const allowed = allowedOf(schema, { flagNote: "; also the YAML 1.1 words yes/no, on/off, y/n" });
  if (allowed !== "—") about.push(`**Allowed:** ${allowed}`);
  else if (Array.isArray(schema.enum)) about.push(`**Allowed:** ${(schema.enum as unknown[]).map((v) => code(JSON.stringify(v))).join(", ")}`);
  if (about.length > 0) lines.push(about.join(" · "));
  lines.push(link(section));
  return lines.join("\n\n");
}

function link(section: DocSection): string {
  return `[${section.file} — ${section.title}](${docUrl(section)})`;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  const first = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/**
 * Gives every anyOf branch a description of its own, distinct from its siblings'.
 * yaml-language-server's hover takes branches that look alike (same title, description and
 * properties) for "all of them matched" and then shows every branch's text instead of the field's.
 */
function distinctBranches(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(distinctBranches);
  if (node === null || typeof node !== "object") return;
  const n = node as Json;
  if (Array.isArray(n.anyOf) && n.anyOf.length === 1) unwrap(n);
  if (Array.isArray(n.anyOf)) {
    const seen = new Set<string>();
    (n.anyOf as Json[]).forEach((branch, i) => {
      let text = typeof branch.description === "string" ? branch.description : branchText(branch);
      if (seen.has(text)) text = `${text} (form ${i + 1})`;
      seen.add(text);
      branch.description = text;
      // Hover reads the innermost schema that matched, which is the branch: it shows the field's
      // title and text. Mappings with fields keep their own (their fields are described there).
      if (branch.properties === undefined) {
        if (typeof n.title === "string") branch.title ??= n.title;
        if (typeof n.markdownDescription === "string") branch.markdownDescription ??= n.markdownDescription;
      }
    });
  }
  for (const value of Object.values(n)) distinctBranches(value);
}

/**
 * A one-branch anyOf (a whole number that takes no reference) folded into its field: hover takes a
 * branch that matched as "every branch matched" and would print the field's text twice.
 */
function unwrap(n: Json): void {
  const [branch] = n.anyOf as Json[];
  const clash = Object.entries(branch!).some(([key, value]) => key in n && JSON.stringify(n[key]) !== JSON.stringify(value));
  if (clash) return;
  delete n.anyOf;
  Object.assign(n, branch);
}

/** A few words for one alternative of a field. */
function branchText(branch: Json): string {
  if ("const" in branch) return `exactly ${JSON.stringify(branch.const)}`;
  if (typeof branch.$ref === "string") return "an expression";
  switch (branch.type) {
    case "boolean":
      return "true or false";
    case "integer":
      return typeof branch.minimum === "number" ? `a whole number of at least ${branch.minimum}` : "a whole number";
    case "null":
      return "left empty";
    case "array":
      return "a list";
    case "object":
      return "a mapping";
    case "string":
      if (typeof branch.pattern === "string" && branch.pattern.includes("\\d")) return "a whole number written as text";
      if (typeof branch.pattern === "string" && branch.pattern.includes("[Tt][Rr][Uu][Ee]")) return "true or false written as text";
      if (typeof branch.pattern === "string" && branch.pattern.startsWith("^(?:[")) return "one of the allowed words, in any letter case";
      if (Array.isArray(branch.enum)) return `one of ${(branch.enum as unknown[]).join(", ")}`;
      return "text";
  }
  return "another form";
}

// --- copies -------------------------------------------------------------------------------------

/** A deep copy without TypeBox's symbols (our `x-` keys kept for the facts), $refs into definitions. */
function copy(schema: unknown): Json {
  return JSON.parse(JSON.stringify(schema), (_key, value) => {
    if (value !== null && typeof value === "object" && !Array.isArray(value) && value.$ref === "Condition") value.$ref = "#/definitions/Condition";
    return value;
  }) as Json;
}

/** The published form: our private `x-` keys removed. */
function strip(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema), (key, value) => {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) for (const k of Object.keys(value)) if (isPrivateKey(k)) delete value[k];
    return key === "" || !isPrivateKey(key) ? value : undefined;
  });
}
