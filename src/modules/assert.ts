/** @module modules/assert: Assert — the step succeeds when its comparison expression is true. */
import { Type } from "@sinclair/typebox";
import { StepError } from "../errors.ts";
import { defineModule } from "./_define.ts";
import { NoOutput } from "./_inputs.ts";

export default defineModule({
  name: "Assert",
  summary: "Succeeds when the comparison or logical expression in its inputs is true, fails otherwise.",
  platforms: ["linux", "windows", "macos"],
  shape: "condition",
  // The expression language is checked by document/rules/condition.ts; this refers to its schema.
  input: () => Type.Unsafe({ $ref: "Condition" }),
  output: NoOutput,
  async execute(input, ctx) {
    const { value, explain } = ctx.evaluate(input);
    if (!value) throw new StepError(`expression evaluated to false: ${explain}`);
    return { outputs: {} };
  },
});
