/**
 * @module modules/set-registry: SetRegistry — write Windows registry values.
 *
 * Each list element becomes one `reg.exe add … /f` (no shell in between, so `%VAR%` and other
 * characters special to cmd reach the registry as written); reg creates missing keys. The value
 * rules and the command line live in _registry.ts, shared with validation.
 */
import type { ExecResult } from "../model/ports.ts";
import { Type } from "@sinclair/typebox";
import { formatPath, StepError } from "../errors.ts";

import { Choice, Fields, Text } from "../model/schema-kit.ts";
import { defineModule, hasTemplate, literalText, type InputIssue, type InputOf } from "./_define.ts";
import { forEachOperation } from "./_fs.ts";
import { NoOutput } from "./_inputs.ts";
import { planWrite, regAddArguments, regData, regKeyName, RegistryProblem, REGISTRY_TYPES, valueName, type RegistryType, type RegWrite } from "./_registry.ts";
import { system32Program } from "./_system32.ts";

export { REGISTRY_HIVES, REGISTRY_TYPES } from "./_registry.ts";

/** One element of `inputs`. */
const inputSchema = () =>
  Fields({
    path: Text({ minLength: 1, description: "key path starting with a hive, e.g. HKLM:\\SOFTWARE\\MyApp" }),
    name: Text({ description: "the value's name; empty for the key's default value" }),
    // Numbers in the list arrive as the text written (engine/inputs.ts), like every scalar.
    value: Type.Unsafe<string | string[]>({
      anyOf: [Text(), Type.Array(Type.Unsafe({ type: ["string", "number"] }))],
      "x-expected": "text, a number, or a list",
      description: "the data; its form depends on type",
    }),
    type: Choice(REGISTRY_TYPES, { caseInsensitive: true, description: "BINARY, DWORD, QWORD, SZ, EXPAND_SZ or MULTI_SZ" }),
  });

type Item = InputOf<typeof inputSchema>;

export default defineModule({
  name: "SetRegistry",
  summary: "Creates or updates registry values (missing keys are created).",
  platforms: ["windows"],
  shape: "list",
  input: inputSchema,
  output: NoOutput,
  check(input) {
    const issues: InputIssue[] = [];
    const path = literalText(input.path);
    if (path !== undefined) issues.push(...problems(() => regKeyName(path)));
    const name = literalText(input.name);
    if (name !== undefined) issues.push(...problems(() => valueName(name)));
    const type = literalText(input.type)?.toUpperCase() as RegistryType | undefined;
    if (type !== undefined && (REGISTRY_TYPES as readonly string[]).includes(type) && input.value !== undefined && !containsTemplate(input.value)) {
      issues.push(...problems(() => regData(type, input.value)));
    }
    return issues;
  },
  async execute(items, ctx) {
    await forEachOperation(items, describeItem, async (item) => {
      const write = plannedWrite(item);
      const args = regAddArguments(write);
      ctx.log.debug(`running ${regProgram()} ${args.join(" ")}`);
      const result = await ctx.exec({ command: regProgram(), args });
      refuseFailure(result, item, write);
    });
    return { outputs: {} };
  },
});

/** A rule of _registry.ts as validation issues: none, or the one it reported. */
function problems(run: () => unknown): InputIssue[] {
  try {
    run();
    return [];
  } catch (error) {
    if (!(error instanceof RegistryProblem)) throw error;
    return [{ path: error.field, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) }];
  }
}

/** Values with `{{ references }}` anywhere are judged at execution, once they are known. */
function containsTemplate(value: unknown): boolean {
  return Array.isArray(value) ? value.some(hasTemplate) : hasTemplate(value);
}

/** The write for one element; a value a reference turned into something unfit fails here. */
function plannedWrite(item: Item): RegWrite {
  try {
    return planWrite(item);
  } catch (error) {
    if (!(error instanceof RegistryProblem)) throw error;
    throw new StepError(`input ${formatPath(error.field)}: ${error.message}${error.hint === undefined ? "" : ` (${error.hint})`}`);
  }
}

function describeItem(item: Item): string {
  return `${valueLabel(item.name)} in '${item.path}'`;
}

function valueLabel(name: string): string {
  return name === "" ? "the default value" : `value '${name}'`;
}

/** reg's exit code 0 is success; anything else is a failure quoting what reg said. */
function refuseFailure(result: ExecResult, item: Item, write: RegWrite): void {
  const what = `${valueLabel(item.name)} (${write.data.regType}) in key '${item.path}'`;
  if (result.spawnError !== undefined) throw new StepError(`could not start reg.exe to set ${what}: ${result.spawnError}`);
  if (result.aborted || result.timedOut) throw new StepError(`reg.exe was stopped before it had set ${what}`);
  if (result.exitCode === 0) return;
  const code = result.exitCode === null ? `was killed by ${result.signal ?? "a signal"}` : `exited with code ${result.exitCode}`;
  // Windows' reg.exe reports on stderr, Wine's on stdout: quote whichever has something.
  const said = (result.stderr.trim() || result.stdout.trim()).replace(/\s*\r?\n\s*/g, " ").slice(0, 500);
  throw new StepError(`reg.exe could not set ${what}: it ${code}${said === "" ? "" : `: ${said}`}`, {
    ...(result.exitCode === null ? {} : { exitCode: result.exitCode }),
    stderrTail: result.stderr.slice(-2000),
  });
}

/**
 * reg.exe by absolute path: a bare `reg.exe` would be looked up in the working directory before
 * PATH (libuv's search order on Windows), where a document's files may live. As the process is
 * 64-bit, System32 is the real System32 (no WOW64 redirection).
 */
export function regProgram(): string {
  return system32Program("reg.exe");
}
