/**
 * @module lsp/docs: the text a person reads about an action module in hover and completion — its
 * summary, platforms, inputs and outputs, and where its page is.
 */
import type { ModuleDef } from "../modules/index.ts";
import { fieldsOf, type Schema } from "./schema-at.ts";

/** AWS's page of action modules; opentoe's own reference is docs/modules.md in the repository. */
const AWS_MODULES_PAGE = "https://docs.aws.amazon.com/imagebuilder/latest/userguide/toe-action-modules.html";

export function actionDocs(module: ModuleDef): string {
  const names = (schema: unknown) => Object.keys(fieldsOf(schema as Schema)).map((n) => `\`${n}\``).join(", ") || "none";
  return [
    `**${module.name}** — ${module.summary}`,
    `Platforms: ${module.platforms.join(", ")}`,
    ...(module.shape === "condition" ? [] : [`Inputs: ${names(module.input)}`]),
    `Outputs: ${names(module.output)}`,
    `Reference: \`docs/modules.md#${module.name.toLowerCase()}\` in opentoe · [AWS action modules](${AWS_MODULES_PAGE})`,
  ].join("\n\n");
}
