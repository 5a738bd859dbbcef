/** @module modules/execute-bash: ExecuteBash — run shell commands with bash. */
import { Fields, Text, TextList } from "../model/schema-kit.ts";
import { defineModule } from "./_define.ts";

export default defineModule({
  name: "ExecuteBash",
  summary: "Writes the commands into one script and runs it with bash; exit 194 asks for a reboot.",
  platforms: ["linux", "macos"],
  shape: "map",
  input: Fields({ commands: TextList({ minItems: 1, description: "shell commands, run in order as one script" }) }),
  output: Fields({ stdout: Text({ description: "standard output, trailing newlines removed" }) }),
});
