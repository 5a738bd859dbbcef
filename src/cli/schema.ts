/** @module cli/schema: `awstoe schema` — print the editor JSON Schema for component documents. */
import { defineCommand } from "citty";
import { componentJsonSchema } from "../document/json-schema.ts";
import { ExitCode } from "../errors.ts";
import { VERSION } from "../version.ts";

export default defineCommand({
  meta: { name: "schema", description: "Print the JSON Schema of component documents, for editor completion and hover help" },
  args: {},
  run(): number {
    process.stdout.write(`${JSON.stringify(componentJsonSchema(VERSION), null, 2)}\n`);
    return ExitCode.ok;
  },
});
