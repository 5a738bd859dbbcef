/**
 * @module model/component: the shape of a component document (docs/component-documents.md §1–§8) as TypeBox
 * schemas. Step `inputs` are left open here: each action module declares its own input schema.
 */
import { Type, type Static } from "@sinclair/typebox";
import { Choice, Fields, Text, TextList, Whole } from "./schema-kit.ts";
import { IF_DESCRIPTION } from "./conditions.ts";

/** Names of parameters and constants: 3–128 of A-Z a-z 0-9 - _ (docs/component-documents.md §3). */
export const VARIABLE_NAME_PATTERN = "^[A-Za-z0-9_-]{3,128}$";
export const VARIABLE_NAME_RULE = "3 to 128 characters, only A-Z a-z 0-9 - _";

/** Phases of which a document must contain at least one (docs/component-documents.md §4). */
export const REQUIRED_PHASE_NAMES = ["build", "validate", "test"] as const;

export const ON_FAILURE_VALUES = ["Abort", "Continue", "Ignore"] as const;
export type OnFailure = (typeof ON_FAILURE_VALUES)[number];

/** Step defaults (docs/component-documents.md §5). */
export const STEP_DEFAULTS = { timeoutSeconds: 7200, onFailure: "Abort", maxAttempts: 1 } as const;

/** Loop iteration cap (docs/component-documents.md §7: inferred safety limit). */
export const MAX_LOOP_ITERATIONS = 10_000;

/** `forEach.delimiter` may be exactly one of these characters. */
export const LOOP_DELIMITERS = [".", ",", ";", ":", "\n", "\t", " ", "-", "_"] as const;

const variableHint =
  "write each variable as its own one-key mapping, e.g. `- MyName: { type: string, default: x }`";

function variableList(body: ReturnType<typeof Fields>, what: string) {
  return Type.Array(
    Type.Unsafe<Record<string, Static<typeof body>>>({
      type: "object",
      patternProperties: { [VARIABLE_NAME_PATTERN]: body },
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      "x-code": "E_VARIABLE",
      "x-expected": `a one-key mapping: the ${what} name (${VARIABLE_NAME_RULE}) holding its settings`,
      "x-key-expected": `a ${what} name (${VARIABLE_NAME_RULE})`,
      "x-hint": variableHint,
    }),
    { description: `${what}s of this document` },
  );
}

export const ParameterBody = Fields({
  type: Choice(["string"], { description: "always string", "x-code": "E_VARIABLE" }),
  default: Type.Optional(Text({ description: "value used when none is supplied" })),
  description: Type.Optional(Text({ description: "what the parameter is for (free text, not used by awstoe)" })),
  allowedValues: Type.Optional(TextList({ minItems: 1, description: "the only values this parameter may take" })),
});

export const ConstantBody = Fields({
  type: Choice(["string"], { description: "always string" }),
  value: Text({ description: "the constant's value" }),
  description: Type.Optional(Text({ description: "what the constant is for (free text, not used by awstoe)" })),
});

export const Loop = Fields(
  {
    name: Type.Optional(Text({ minLength: 1, description: "lets inputs say {{ <name>.index }} / {{ <name>.value }}" })),
    for: Type.Optional(
      Fields(
        {
          start: Whole({ templates: false, description: "first value (inclusive)" }),
          end: Whole({ templates: false, description: "last value (inclusive)" }),
          updateBy: Whole({ templates: false, description: "step between values; not 0" }),
        },
        { description: "count from start to end (both included) by updateBy; each value is the iteration's value" },
      ),
    ),
    forEach: Type.Optional(
      Type.Unsafe({
        anyOf: [
          TextList({ minItems: 1, description: "the items, one iteration each" }),
          Fields(
            {
              list: Text({ description: "text to split into items" }),
              delimiter: Type.Optional(
                Choice(LOOP_DELIMITERS, {
                  description: "one of . , ; : newline tab space - _ (default ,)",
                  "x-expected": "one character: . , ; : newline (\\n), tab (\\t), space, - or _",
                }),
              ),
            },
            { description: "a text split into items at each delimiter" },
          ),
        ],
        description: "the items: a list, or a text with the delimiter that splits it",
        "x-expected": "a list of items, or a mapping with list and delimiter",
      }),
    ),
  },
  { description: "run the step once per item" },
);

export const Step = Fields({
  name: Text({ minLength: 1, description: "unique within the phase" }),
  action: Text({ description: "the action module to run" }),
  description: Type.Optional(Text({ description: "what the step does (free text)" })),
  timeoutSeconds: Type.Optional(
    Type.Unsafe<number>({
      anyOf: [{ const: -1 }, { type: "integer", minimum: 1 }],
      "x-code": "E_TIMEOUT",
      "x-expected": "-1 (no limit) or a positive whole number of seconds",
      description: "time limit for one attempt in seconds; -1 for none (default 7200)",
    }),
  ),
  onFailure: Type.Optional(
    Choice(ON_FAILURE_VALUES, { description: "Abort (default), Continue or Ignore", "x-code": "E_ON_FAILURE" }),
  ),
  maxAttempts: Type.Optional(
    Whole({ templates: false, minimum: 1, description: "attempts in all, default 1", "x-code": "E_MAX_ATTEMPTS" }),
  ),
  loop: Type.Optional(Loop),
  disableLogging: Type.Optional(
    Type.Boolean({ description: "true: what the step's programs print goes to no log and no terminal (its outputs still chain)", "x-expected": "true or false" }),
  ),
  // Checked by document/rules/condition.ts, whose messages beat a schema's. The editor schema of a
  // condition (ifSchema: some forty alternatives) is built by `awstoe schema` only, not at every
  // start-up of validate and run.
  if: Type.Optional(Type.Unsafe<unknown>({ description: IF_DESCRIPTION, "x-checked-by-rules": true })),
  inputs: Type.Optional(Type.Unknown({ description: "the action module's inputs" })),
});

export const Phase = Fields({
  name: Text({ minLength: 1, description: "build, validate, test or any other name" }),
  steps: Type.Array(Step, { minItems: 1, description: "the steps of this phase, run in order", "x-code": "E_NO_STEPS" }),
});

export const ComponentDocument = Fields(
  {
    name: Type.Optional(Text({ description: "the component's name: shown in progress lines and recorded as the document's name" })),
    description: Type.Optional(Text({ description: "what the component does: recorded in detailedoutput.json" })),
    schemaVersion: Type.Unsafe<string | number>({
      enum: [1, "1", "1.0"],
      "x-code": "E_SCHEMA_VERSION",
      "x-expected": "1.0",
      description: "always 1.0",
    }),
    parameters: Type.Optional(variableList(ParameterBody, "parameter")),
    constants: Type.Optional(variableList(ConstantBody, "constant")),
    phases: Type.Array(Phase, { minItems: 1, description: "the phases, run in the order listed; at least one named build, validate or test", "x-code": "E_NO_PHASES" }),
  },
  { title: "AWSTOE component document" },
);

export type ComponentDocument = Static<typeof ComponentDocument>;
export type Phase = Static<typeof Phase>;
export type Step = Static<typeof Step>;
export type Loop = Static<typeof Loop>;
