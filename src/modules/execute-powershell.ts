/** @module modules/execute-powershell: ExecutePowerShell — run commands or a .ps1 file (Windows). */
import { Type } from "@sinclair/typebox";
import { Fields, Text, TextList } from "../model/schema-kit.ts";
import { PRIVATE_FILE_MODE, writeFileDurably } from "../safe-fs/durable.ts";
import { defineModule, literalText, type InputIssue } from "./_define.ts";
import { scriptOutcome } from "./_exec.ts";

/** The step's `inputs`. */
const inputSchema = () =>
  Fields({
    commands: Type.Optional(TextList({ minItems: 1, description: "PowerShell commands, run in order as one script" })),
    file: Type.Optional(Text({ minLength: 1, description: "path of an existing .ps1 script (instead of commands)" })),
  });

export default defineModule({
  name: "ExecutePowerShell",
  summary: "Runs PowerShell commands (or an existing .ps1 file) with Windows PowerShell; exit 3010 asks for a reboot.",
  platforms: ["windows"],
  shape: "map",
  input: inputSchema,
  output: () => Fields({ stdout: Text({ description: "standard output, trailing newlines removed" }) }),
  check(input) {
    const issues: InputIssue[] = [];
    const hasCommands = input.commands !== undefined;
    const hasFile = input.file !== undefined;
    if (hasCommands === hasFile) {
      issues.push({
        path: [],
        message: hasFile ? "give either commands or file, not both" : "give either commands or file",
        hint: "commands: a list of PowerShell lines; file: the path of a .ps1 script",
      });
    }
    const file = literalText(input.file);
    if (file !== undefined && !file.toLowerCase().endsWith(".ps1")) {
      issues.push({ path: ["file"], message: `file '${file}' must be a .ps1 script` });
    }
    return issues;
  },
  async execute(input, ctx) {
    const { commands, file } = input;
    let script = file;
    if (script === undefined) {
      script = ctx.workFile("input.ps1");
      writeFileDurably(script, ctx.shell.powershellScript(commands ?? []), { mode: PRIVATE_FILE_MODE, flush: false }); // read by PowerShell, never executed itself
    }
    const { command, args } = ctx.shell.powershellInvocation(script);
    return scriptOutcome("the PowerShell script", await ctx.exec({ command, args }), ctx);
  },
});
