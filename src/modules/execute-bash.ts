/** @module modules/execute-bash: ExecuteBash — run shell commands with bash. */
import { Fields, Text, TextList } from "../model/schema-kit.ts";
import { PRIVATE_FILE_MODE, writeFileDurably } from "../safe-fs/durable.ts";
import { defineModule } from "./_define.ts";
import { scriptOutcome } from "./_exec.ts";

/** The step's `inputs`. */
const inputSchema = () => Fields({ commands: TextList({ minItems: 1, description: "shell commands, run in order as one script" }) });

export default defineModule({
  name: "ExecuteBash",
  summary: "Writes the commands into one script and runs it with bash; exit 194 asks for a reboot.",
  platforms: ["linux", "macos"],
  shape: "map",
  input: inputSchema,
  output: () => Fields({ stdout: Text({ description: "standard output, trailing newlines removed" }) }),
  async execute(input, ctx) {
    const { commands } = input;
    const script = ctx.workFile("input.sh");
    // flush: false — the script is rewritten whenever the step runs; the exclusive temporary name and
    // the rename are what matter (no write through a link planted at its name).
    writeFileDurably(script, ctx.shell.bashScript(commands), { mode: PRIVATE_FILE_MODE, flush: false }); // read by bash, never executed itself
    const { command, args } = ctx.shell.bashInvocation(script);
    return scriptOutcome("the script", await ctx.exec({ command, args }), ctx);
  },
});
