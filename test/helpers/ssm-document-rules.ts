/**
 * @module test/helpers/ssm-document-rules: the rules of an SSM Command document (schema 2.2) that
 * can be checked without AWS — what `aws ssm create-document` and the agent would refuse, plus
 * this project's own rule that every parameter carries an allowedPattern. Returns one sentence
 * per problem, so a test can show them all at once.
 *
 * Patterns are compiled as JavaScript regular expressions; SSM compiles them as Java ones, so the
 * fleet document keeps to the part both read alike (classes, ranges, groups, counts, anchors).
 */

/** What an SSM Command document may hold at its top level. */
const TOP_LEVEL = new Set(["schemaVersion", "description", "parameters", "mainSteps", "files"]);
const PARAMETER_TYPES = new Set(["String", "StringList", "Boolean", "Integer", "MapList", "StringMap"]);
const PARAMETER_KEYS = new Set(["type", "description", "default", "allowedValues", "allowedPattern", "displayType", "minItems", "maxItems", "minChars", "maxChars", "interpolationType"]);
/** The platform each script action runs on, as a precondition names it. */
const ACTION_PLATFORM: Record<string, string> = { "aws:runShellScript": "Linux", "aws:runPowerShellScript": "Windows" };
const PLATFORMS = new Set(["Linux", "Windows", "MacOS"]);
/** SSM's limit on a document's size. */
export const MAX_DOCUMENT_BYTES = 64 * 1024;
/** The longest a step may run, in seconds (48 hours). */
const MAX_TIMEOUT_SECONDS = 172_800;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Every string inside `value`, depth first. */
function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (isRecord(value)) return Object.values(value).flatMap(stringsIn);
  return [];
}

/** The names of `{{ name }}` references in `text` (SSM reads them with or without spaces). */
export function referencesIn(text: string): string[] {
  return [...text.matchAll(/\{\{\s*([^{}\s]*)\s*\}\}/g)].map((m) => m[1]!);
}

function checkParameters(parameters: unknown, problems: string[]): Set<string> {
  const declared = new Set<string>();
  if (parameters === undefined) return declared;
  if (!isRecord(parameters)) {
    problems.push("parameters must be an object of name → definition");
    return declared;
  }
  for (const [name, definition] of Object.entries(parameters)) {
    declared.add(name);
    const where = `parameter '${name}'`;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) problems.push(`${where}: the name must be letters, digits and _ (a shell variable name, for SSM_${name})`);
    if (!isRecord(definition)) {
      problems.push(`${where}: the definition must be an object`);
      continue;
    }
    for (const key of Object.keys(definition)) if (!PARAMETER_KEYS.has(key)) problems.push(`${where}: unknown key '${key}'`);
    const type = definition.type;
    if (typeof type !== "string" || !PARAMETER_TYPES.has(type)) problems.push(`${where}: type must be one of ${[...PARAMETER_TYPES].join(", ")}`);
    if (definition.interpolationType !== undefined) {
      if (definition.interpolationType !== "ENV_VAR") problems.push(`${where}: interpolationType may only be ENV_VAR`);
      if (type !== "String") problems.push(`${where}: interpolationType ENV_VAR needs type String`);
    }
    if (typeof definition.description !== "string" || definition.description === "") problems.push(`${where}: needs a description`);
    const pattern = definition.allowedPattern;
    if (typeof pattern !== "string" || pattern === "") {
      problems.push(`${where}: needs an allowedPattern`);
      continue;
    }
    let compiled: RegExp;
    try {
      compiled = new RegExp(pattern, "u");
    } catch (error) {
      problems.push(`${where}: allowedPattern does not compile: ${(error as Error).message}`);
      continue;
    }
    if ("default" in definition) {
      if (typeof definition.default !== "string") problems.push(`${where}: a String default must be a string`);
      else if (!compiled.test(definition.default)) problems.push(`${where}: the default ${JSON.stringify(definition.default)} does not match its own allowedPattern`);
    }
  }
  return declared;
}

function checkStep(step: unknown, index: number, declared: Set<string>, names: Set<string>, problems: string[]): void {
  const where = `mainSteps[${index}]`;
  if (!isRecord(step)) {
    problems.push(`${where} must be an object`);
    return;
  }
  const name = step.name;
  if (typeof name !== "string" || !/^[A-Za-z0-9_.-]{1,100}$/.test(name)) problems.push(`${where}: name must be 1-100 letters, digits, '.', '_' or '-'`);
  else if (names.has(name)) problems.push(`${where}: the name '${name}' is used by an earlier step`);
  else names.add(name);
  const action = step.action;
  const platform = typeof action === "string" ? ACTION_PLATFORM[action] : undefined;
  if (platform === undefined) problems.push(`${where}: action must be one of ${Object.keys(ACTION_PLATFORM).join(", ")}`);
  const condition = step.precondition;
  const equals = isRecord(condition) ? condition.StringEquals : undefined;
  if (!isRecord(condition) || Object.keys(condition).length !== 1 || !Array.isArray(equals) || equals.length !== 2 || equals[0] !== "platformType" || !PLATFORMS.has(String(equals[1]))) {
    problems.push(`${where}: precondition must be { "StringEquals": ["platformType", "Linux" | "Windows" | "MacOS"] }`);
  } else if (platform !== undefined && equals[1] !== platform) {
    problems.push(`${where}: ${String(action)} runs on ${platform}, but the precondition selects ${String(equals[1])}`);
  }
  const inputs = step.inputs;
  if (!isRecord(inputs)) {
    problems.push(`${where}: needs inputs`);
    return;
  }
  const lines = inputs.runCommand;
  if (!Array.isArray(lines) || lines.length === 0 || !lines.every((line) => typeof line === "string")) problems.push(`${where}: inputs.runCommand must be a non-empty list of strings`);
  if (inputs.timeoutSeconds !== undefined) {
    const seconds = Number(inputs.timeoutSeconds);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TIMEOUT_SECONDS) problems.push(`${where}: inputs.timeoutSeconds must be a whole number from 1 to ${MAX_TIMEOUT_SECONDS}`);
  }
  for (const text of stringsIn(step)) {
    for (const reference of referencesIn(text)) {
      if (!declared.has(reference)) problems.push(`${where}: {{ ${reference} }} is not a declared parameter`);
    }
  }
}

/** Every problem with `text` as an SSM Command document (JSON), one sentence each. */
export function ssmCommandDocumentProblems(text: string): string[] {
  const problems: string[] = [];
  if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES) problems.push(`the document is ${Buffer.byteLength(text)} bytes; SSM takes at most ${MAX_DOCUMENT_BYTES}`);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return [...problems, `not JSON: ${(error as Error).message}`];
  }
  if (!isRecord(document)) return [...problems, "the document must be an object"];
  for (const key of Object.keys(document)) if (!TOP_LEVEL.has(key)) problems.push(`unknown top-level key '${key}'`);
  if (document.schemaVersion !== "2.2") problems.push(`schemaVersion must be "2.2" (a string), not ${JSON.stringify(document.schemaVersion)}`);
  const declared = checkParameters(document.parameters, problems);
  const steps = document.mainSteps;
  if (!Array.isArray(steps) || steps.length === 0) return [...problems, "mainSteps must be a non-empty list"];
  const names = new Set<string>();
  steps.forEach((step, index) => checkStep(step, index, declared, names, problems));
  return problems;
}
