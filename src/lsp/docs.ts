/**
 * @module lsp/docs: the text a person reads about an action module in hover and completion — its
 * summary, platforms, inputs and outputs, and where its page is.
 */
import { docUrl, moduleSection } from "../document/json-schema.ts";
import type { ModuleDef } from "../modules/index.ts";
import { fieldsOf, type Schema } from "./schema-at.ts";

export function actionDocs(module: ModuleDef): string {
  const names = (schema: unknown) => Object.keys(fieldsOf(schema as Schema)).map((n) => `\`${n}\``).join(", ") || "none";
  return [
    `**${module.name}** — ${module.summary}`,
    `Platforms: ${module.platforms.join(", ")}`,
    ...(module.shape === "condition" ? [] : [`Inputs: ${names(module.input)}`]),
    `Outputs: ${names(module.output)}`,
    // The same link `awstoe schema` gives editors: the module's heading in docs/modules.md.
    `[${module.name} in docs/modules.md](${docUrl(moduleSection(module))})`,
  ].join("\n\n");
}
