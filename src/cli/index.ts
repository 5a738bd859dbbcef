/**
 * @module cli/index: the root command. Finds the sub-command, refuses unknown commands and
 * options with a suggestion, shows help, and returns the command's exit code to main.ts.
 */
import { defineCommand, runCommand, type ArgsDef, type CommandDef } from "citty";
import { ExitCode, UsageError, type ToeError } from "../errors.ts";
import { colorEnabled } from "../logs/terminal.ts";
import { closest } from "../model/suggest.ts";
import { VERSION, versionLine } from "../version.ts";
import { nonUtf8Arguments } from "./_raw-argv.ts";
import { helpText } from "./_help.ts";
import { printable } from "./_render.ts";
import { checkArguments, notUtf8Error, wantsHelp } from "./_strict.ts";

/** Sub-commands, loaded only when used so start-up stays fast. */
const commands: Record<string, () => Promise<CommandDef<ArgsDef>>> = {
  run: () => import("./run.ts").then((m) => m.default as CommandDef<ArgsDef>),
  validate: () => import("./validate.ts").then((m) => m.default as CommandDef<ArgsDef>),
  schema: () => import("./schema.ts").then((m) => m.default as CommandDef<ArgsDef>),
  lsp: () => import("./lsp.ts").then((m) => m.default as CommandDef<ArgsDef>),
};

export const root = defineCommand({
  meta: {
    name: "awstoe",
    version: VERSION,
    description: "Task Orchestrator and Executor: validate and run component documents (opentoe)",
  },
  args: {
    version: { type: "boolean", alias: "v", description: "Print the version and exit" },
  },
  subCommands: commands,
});

/** Runs the command line; returns the process exit code. Usage mistakes throw UsageError. */
export async function runCli(rawArgs: readonly string[], write: (text: string) => void): Promise<number> {
  // citty colours its usage text unconditionally; keep pipes and NO_COLOR plain.
  const out = (text: string) => write(colorEnabled(process.stdout) ? text : text.replace(/\u001b\[[0-9;]*m/g, ""));
  const [first, ...rest] = rawArgs;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    const sub = first === "help" && rest[0] !== undefined ? await loadCommand(rest[0]) : undefined;
    out(await usage(sub ?? (root as CommandDef<ArgsDef>)));
    return ExitCode.ok;
  }
  if (first === "--version" || first === "-v") {
    if (rest.length > 0) throw new UsageError(`'${first}' takes no arguments`, { hint: "run 'awstoe --version' on its own" });
    out(versionLine());
    return ExitCode.ok;
  }
  const notUtf8 = nonUtf8Arguments(rawArgs);
  if (notUtf8.has(0)) throw notUtf8Error(`command '${notUtf8.get(0)}'`);
  if (first.startsWith("-")) {
    throw new UsageError(`unknown option '${first}'`, { hint: "run 'awstoe --help'; options go after a command, e.g. awstoe validate --documents x.yaml" });
  }
  // Commands that write through process.stdout/stderr: a reader that goes away is not an error of
  // theirs. validate writes to the descriptors directly (cli/_out.ts) and never creates the streams.
  if (first !== "validate") for (const stream of [process.stdout, process.stderr]) if (stream.listenerCount("error") === 0) stream.on("error", () => {});
  const command = await loadCommand(first);
  const args = ((await resolve(command.args)) ?? {}) as ArgsDef;
  if (wantsHelp(rest)) {
    out(await usage(command));
    return ExitCode.ok;
  }
  const inRest = new Map([...notUtf8].map(([i, shown]) => [i - 1, shown]));
  const normalized = checkArguments(rest, args, `awstoe ${first}`, inRest);
  const { result } = await runCommand(command, { rawArgs: normalized });
  return typeof result === "number" ? result : ExitCode.ok;
}

/**
 * The one line main.ts prints for an error of ours: `awstoe: <message> — <hint>`, with control
 * characters escaped, since messages repeat what the user typed (a NUL or an escape sequence in a
 * path must not reach the terminal raw).
 */
export function errorLine(error: ToeError): string {
  const hint = error.hint === undefined ? "" : ` — ${error.hint}`;
  return `awstoe: ${printable(`${error.message}${hint}`)}`;
}

async function loadCommand(name: string): Promise<CommandDef<ArgsDef>> {
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (load === undefined) {
    const guess = closest(name, Object.keys(commands));
    throw new UsageError(`unknown command '${name}'`, {
      hint: guess !== undefined ? `did you mean 'awstoe ${guess}'?` : `commands: ${Object.keys(commands).join(", ")} (see 'awstoe --help')`,
    });
  }
  return load();
}

/** A command's help, wrapped to the terminal (100 columns when stdout is not one). */
async function usage(command: CommandDef<ArgsDef>): Promise<string> {
  const args = ((await resolve(command.args)) ?? {}) as ArgsDef;
  const subCommands = command === (root as CommandDef<ArgsDef>) ? Object.keys(commands) : [];
  return helpText(command, args, subCommands, process.stdout.isTTY === true ? (process.stdout.columns ?? 100) : 100);
}

async function resolve<T>(value: T | (() => T) | (() => Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}
