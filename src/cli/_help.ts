/**
 * @module cli/_help: `--help` as a person reads it — what the command does, its options (each
 * description wrapped under its option, to the terminal's width), examples, exit codes and the
 * environment variables awstoe reads. citty's own renderUsage right-aligns a table as wide as its
 * longest line, which breaks on an 80-column terminal; the option definitions are citty's.
 */
import type { ArgDef, ArgsDef, CommandDef } from "citty";

interface Extras {
  usage: string;
  /** Paragraphs after the usage line, each wrapped; lines starting with two spaces are kept as written (code). */
  about?: { title: string; lines: string[] };
  examples: [string, string][];
  exits: [string, string][];
  environment: [string, string][];
}

/** One line per command for the root help (the commands themselves load only when used). */
const COMMANDS: Record<string, string> = {
  run: "validate, then run component documents; a JSON summary on stdout",
  validate: "check documents for every problem, without running them",
  schema: "print the JSON Schema of component documents for editors",
  lsp: "a Language Server for editors (LSP over stdio): the validator's diagnostics, completion, navigation",
};

const COMMON_EXITS: [string, string][] = [
  ["0", "success"],
  ["1", "failed: an invalid document, a failed step, a run that could not start"],
  ["2", "a usage mistake (unknown option or command, a missing value, a phase no document has)"],
];

const AWS_ENVIRONMENT: [string, string][] = [
  ["AWS_PROFILE, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN", "the AWS SDK's credential and region chain (S3, CloudWatch Logs, Image Builder, Parameter Store)"],
  ["AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, _SSM, _CLOUDWATCH_LOGS, _IMAGEBUILDER, _STS", "other endpoints (S3-compatible stores, tests)"],
  ["AWS_EC2_METADATA_DISABLED, AWS_EC2_METADATA_SERVICE_ENDPOINT", "instance metadata ({{ aws:imds: }}, context:accountId/region on EC2)"],
];

const EXTRAS: Record<string, Extras> = {
  awstoe: {
    usage: "awstoe <command> [options]",
    examples: [
      ["awstoe validate -d component.yaml", "check a document, every problem with file:line:column"],
      ["awstoe run -d component.yaml --phases build,validate", "run two phases of it"],
      ["awstoe schema > awstoe.schema.json", "a JSON Schema for editors"],
    ],
    exits: COMMON_EXITS,
    environment: [["NO_COLOR", "no colours (also when output is not a terminal)"]],
  },
  run: {
    usage: "awstoe run (--documents a.yaml,b.yaml | --config run.json) [options]",
    examples: [
      ["awstoe run -d component.yaml", "validate, then run every phase"],
      ["awstoe run -d setup.yaml,check.yaml -p build --parameters Env=dev,Tier=web", "two documents, one phase, parameter values"],
      ["awstoe run -d component.yaml --dry-run", "the plan: inputs, loop items, if decisions; nothing runs"],
      ["awstoe run -c run.json -l /var/log/toe -b my-bucket -k builds/", "a config file, logs copied to S3"],
      ["awstoe run -d component.yaml --retry <execution-id>", "after a failure: restore the steps before it, run the rest again"],
      ["awstoe run -d component.yaml --from build/Install --outputs-from <execution-id>", "a new run from one step; earlier values from that execution"],
      ["sudo awstoe run -d component.yaml --sandbox --sandbox-keep ./changes", "Linux: run in a throwaway copy of the machine, then report (and keep) what it changed"],
    ],
    exits: [
      ...COMMON_EXITS,
      ["194 (3010 on Windows)", "a step asked for a reboot and it was handed over or started; run the same command again to go on"],
      ["130, 143, 129", "stopped by Ctrl-C (SIGINT), SIGTERM or SIGHUP, after the record was written"],
    ],
    environment: [
      ...AWS_ENVIRONMENT,
      ["AWSTOE_REBOOT_MODE", "standalone (default), ssm or disabled: how a reboot request is carried out"],
      ["AWSTOE_SANDBOX_DIR", "with --sandbox: where the overlay's upper layers are kept during the run (default /var/tmp)"],
      ["AWSTOE_HEARTBEAT_SECONDS", "off a terminal, a 'still running' line after this many quiet seconds (default 30; 0: never)"],
      ["AWSTOE_AWS_IDLE_TIMEOUT_MS", "an AWS request that moves no byte for this long fails (default 30000)"],
      ["GITHUB_ACTIONS=true", "each step's output folded in a ::group::"],
      ["NO_COLOR", "no colours"],
    ],
  },
  validate: {
    usage: "awstoe validate (--documents a.yaml,b.yaml | --config run.json | a.yaml b.yaml …) [options]",
    examples: [
      ["awstoe validate -d component.yaml", "the report on stderr, the result as JSON on stdout"],
      ["awstoe validate -d a.yaml,b.yaml --platform windows", "check Windows documents on Linux"],
      ["awstoe validate -d components/*.yaml", "several files as the shell expands them (commas work too)"],
      ["awstoe validate -d component.yaml -o sarif > awstoe.sarif", "for code scanning in a pull request"],
    ],
    exits: [
      ["0", "every document is valid (warnings allowed)"],
      ["1", "a document is invalid or could not be read"],
      ["2", "a usage mistake"],
    ],
    environment: [...AWS_ENVIRONMENT.slice(0, 2), ["NO_COLOR", "no colours"]],
  },
  schema: {
    usage: "awstoe schema > awstoe.schema.json",
    about: {
      title: "Using it in an editor (yaml-language-server, e.g. VS Code's YAML extension):",
      lines: [
        "By file pattern: map the schema file to a glob in the yaml.schemas setting (VS Code: .vscode/settings.json):",
        '    "yaml.schemas": { "./awstoe.schema.json": ["**/components/*.yaml"] }',
        "By modeline: make this the first line of a document (the path is relative to the document):",
        "    # yaml-language-server: $schema=./awstoe.schema.json",
        "Every field then completes and shows its own help on hover, with a link to docs/. The schema catches misspelt keys and wrong values; awstoe validate is the complete check.",
      ],
    },
    examples: [
      ["awstoe schema > awstoe.schema.json", "write the schema next to your components, then associate it as above"],
      ["awstoe schema > .vscode/awstoe.schema.json", "keep it with the editor settings (yaml.schemas: \"./.vscode/awstoe.schema.json\")"],
    ],
    exits: [["0", "printed"]],
    environment: [],
  },
  lsp: {
    usage: "awstoe lsp   (started by an editor's LSP client; speaks LSP on stdin/stdout)",
    examples: [["awstoe lsp", "what an editor runs; settings and the # awstoe: platform=… modeline are in docs/lsp.md"]],
    exits: [
      ["0", "the client sent shutdown, then exit"],
      ["1", "the client exited or closed stdin without shutdown"],
    ],
    environment: [],
  },
};

/** The help of `command` (the root when `parent` is undefined), wrapped to `width` columns. */
export function helpText(command: CommandDef<ArgsDef>, args: ArgsDef, subCommands: readonly string[], width: number): string {
  const meta = (command.meta ?? {}) as { name?: string; description?: string; version?: string };
  const name = meta.name ?? "awstoe";
  const extras = EXTRAS[name] ?? EXTRAS.awstoe!;
  const wrapAt = Math.max(40, Math.min(width, 120));
  const out: string[] = [];
  out.push(...wrap(`${name === "awstoe" ? "awstoe" : `awstoe ${name}`} — ${meta.description ?? ""}`, wrapAt, ""));
  out.push("", "Usage:", `  ${extras.usage}`);
  if (extras.about !== undefined) {
    out.push("", extras.about.title);
    for (const line of extras.about.lines) out.push(...(line.startsWith("  ") ? [`  ${line}`] : wrap(line, wrapAt, "  ")));
  }
  if (subCommands.length > 0) {
    section(out, "Commands:", subCommands.map((sub) => [sub, COMMANDS[sub] ?? ""]), wrapAt);
    out.push(...wrap("Run 'awstoe <command> --help' for a command's options.", wrapAt, "  "));
  }
  // Positional arguments are described by the usage line and the examples.
  const options = Object.entries(args).filter(([, def]) => def.type !== "positional");
  if (options.length > 0) {
    out.push("", "Options:");
    for (const [key, def] of options) {
      out.push(`  ${optionLabel(key, def)}`);
      out.push(...wrap(describe(def), wrapAt, "        "));
    }
    out.push(...wrap("Options also take Go's forms: -d=x.yaml, -documents x.yaml, --trace=false.", wrapAt, "  "));
  }
  section(out, "Examples:", extras.examples, wrapAt);
  section(out, "Exit codes:", extras.exits, wrapAt);
  section(out, "Environment:", extras.environment, wrapAt);
  return out.join("\n");
}

/** Rows with a short left side share a line with their text; long ones get a line of their own. */
function section(out: string[], title: string, rows: [string, string][], width: number): void {
  if (rows.length === 0) return;
  out.push("", title);
  const short = rows.filter(([left]) => left.length <= 24);
  const column = short.length === 0 ? 0 : Math.max(...short.map(([left]) => left.length));
  for (const [left, right] of rows) {
    if (left.length <= 24) {
      const [first = "", ...more] = wrap(right, width - column - 4, "");
      out.push(`  ${left.padEnd(column)}  ${first}`.trimEnd(), ...more.map((line) => `${" ".repeat(column + 4)}${line}`));
    } else {
      out.push(...wrap(left, width, "  "));
      out.push(...wrap(right, width, "        "));
    }
  }
}

function optionLabel(key: string, def: ArgDef): string {
  const given = "alias" in def ? def.alias : undefined;
  const alias = (Array.isArray(given) ? given : given ? [given] : []).filter((a) => a.length === 1);
  const value = def.type === "boolean" ? (def.valueHint ? ` [${def.valueHint}]` : "") : ` <${def.valueHint ?? "value"}>`;
  return `${alias.map((a) => `-${a}, `).join("")}--${key}${value}`;
}

function describe(def: ArgDef): string {
  const text = def.description ?? "";
  const choices = def.type === "enum" && "options" in def && Array.isArray(def.options) ? ` One of: ${def.options.join(", ")}.` : "";
  const fallback = def.default !== undefined && def.type !== "boolean" ? ` Default: ${String(def.default)}.` : "";
  return `${text}${/[.)]$/.test(text) ? "" : "."}${choices}${fallback}`;
}

/** Words of `text` in lines of at most `width` columns, each starting with `indent`. */
export function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.length > indent.length && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent;
    }
    line += line.length > indent.length ? ` ${word}` : word;
  }
  if (line.length > indent.length) lines.push(line);
  return lines;
}
