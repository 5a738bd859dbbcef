/**
 * @module cli/_strict: citty accepts any flag; awstoe must not. This checks the raw arguments
 * against a command's definitions and turns a mistake into one line saying what to type instead.
 */
import type { ArgsDef } from "citty";
import { UsageError } from "../errors.ts";
import { closest } from "../model/suggest.ts";

const BUILTIN = ["help", "h"];

/**
 * Checks `rawArgs` against `args` and returns them rewritten in the one form citty reads without
 * ambiguity: `--<name>=<value>` for options with a value, `--<name>=true|false` for flags, and
 * anything from `--` on unchanged.
 *
 * The accepted syntax is that of Go's standard `flag` package, which AWSTOE (a Go program) uses:
 * one or two dashes are the same (`-s`, `--s`, `-state-directory`, `--state-directory`), and
 * `-name=value` means `value` for every name, short or long. So `-s=/path` is the folder `/path`.
 * (citty hands short options to node:util parseArgs, which reads `-s=/path` the getopt way, as
 * `=/path` — a relative folder named `=` — and reads `-state-directory` as `-s` with the value
 * `tate-directory`; the rewrite keeps it from ever seeing either form.) Flags take `=true`/`=false`
 * in the spellings Go's strconv.ParseBool accepts; a separate word only for a flag that has a
 * `valueHint` (`--cw-ignore-failures true`, which AWS's command reference shows). Unlike Go, a value
 * that looks like an option (`--documents --trace`) is refused rather than taken; write
 * `--documents=-x.yaml` for a value that starts with a dash.
 *
 * `notUtf8` holds the arguments (index in `rawArgs` → the argument with its bytes shown) that
 * were not UTF-8 on the command line (see _raw-argv.ts); they are refused, naming the option.
 */
export function checkArguments(
  rawArgs: readonly string[],
  args: ArgsDef,
  command: string,
  notUtf8: ReadonlyMap<number, string> = new Map(),
): string[] {
  const byName = new Map<string, ArgsDef[string]>();
  for (const [name, def] of Object.entries(args)) {
    byName.set(name, def);
    const aliases = "alias" in def && def.alias !== undefined ? [def.alias].flat() : [];
    for (const alias of aliases) byName.set(alias, def);
  }
  const longNames = Object.keys(args).map((n) => `--${n}`);
  const shown = (i: number) => notUtf8.get(i) ?? rawArgs[i]!;
  // A command that declares a positional argument (validate: more documents) takes plain words.
  const positionals = Object.values(args).some((def) => def.type === "positional");
  const normalized: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const token = rawArgs[i]!;
    if (token === "--") {
      normalized.push(...rawArgs.slice(i));
      break;
    }
    if (!token.startsWith("-") || token === "-") {
      if (notUtf8.has(i)) throw notUtf8Error(`argument '${shown(i)}'`);
      if (positionals) {
        normalized.push(token);
        continue;
      }
      throw new UsageError(`unexpected argument '${token}' for '${command}'`, {
        hint: `options take the form --name value; run '${command} --help'`,
      });
    }
    const long = token.startsWith("--");
    const body = token.slice(long ? 2 : 1);
    const [name, inline] = splitInline(body);
    if (BUILTIN.includes(name)) continue;
    const negated = long && name.startsWith("no-") && !byName.has(name);
    const def = byName.get(name) ?? (negated ? booleanOnly(byName.get(name.slice(3))) : undefined);
    if (def === undefined) {
      // A shortened name (--log-dir) is taken as a slip of that one option; then spelling (--log-directroy).
      const prefixed = longNames.filter((n) => n.startsWith(`--${name}`));
      const guess = name.length >= 3 && prefixed.length === 1 ? prefixed[0] : closest(`--${name}`, longNames);
      throw new UsageError(`unknown option '${shown(i).split("=")[0]}' for '${command}'`, {
        hint: guess !== undefined ? `did you mean '${guess}'? (see '${command} --help')` : `run '${command} --help' to see its options`,
      });
    }
    const canonical = canonicalName(args, def);
    if (def.type === "boolean") {
      if (inline !== undefined && negated) {
        throw new UsageError(`option '${token.split("=")[0]}' takes no value`, { hint: `write --${canonical}=false, or --${name} alone` });
      }
      let on = inline === undefined ? !negated : parseBool(inline);
      // A flag documented as taking a value (it has a valueHint, e.g. --cw-ignore-failures
      // true|false) also takes it as the next word, when that word is a boolean.
      const next = inline === undefined && !negated && "valueHint" in def && def.valueHint !== undefined && i + 1 < rawArgs.length ? parseBool(rawArgs[i + 1]!) : undefined;
      if (next !== undefined) {
        on = next;
        i++;
      }
      if (on === undefined) {
        throw new UsageError(`option '--${canonical}' takes true or false, not '${notUtf8.has(i) ? shown(i).slice(shown(i).indexOf("=") + 1) : inline}'`, {
          hint: `write --${canonical} alone to turn it on, --${canonical}=false to turn it off`,
        });
      }
      normalized.push(`--${canonical}=${on}`);
      continue;
    }
    const value = inline ?? rawArgs[i + 1];
    if (value === undefined || (inline === undefined && value.startsWith("-") && value !== "-")) {
      throw new UsageError(`option '--${canonical}' needs a value`, {
        hint: `e.g. ${command} --${canonical} ${"valueHint" in def && def.valueHint ? def.valueHint : "<value>"}`,
      });
    }
    const valueAt = inline === undefined ? i + 1 : i;
    if (notUtf8.has(valueAt)) {
      const bytes = shown(valueAt);
      throw notUtf8Error(`option '--${canonical}' has a value that`, inline === undefined ? bytes : bytes.slice(bytes.indexOf("=") + 1));
    }
    if (def.type === "enum" && def.options !== undefined && !def.options.includes(value)) {
      const guess = closest(value, def.options);
      throw new UsageError(`option '--${canonical}' does not take '${value}'`, {
        hint: `use one of ${def.options.join(", ")}${guess !== undefined ? ` (did you mean '${guess}'?)` : ""}`,
      });
    }
    normalized.push(`--${canonical}=${value}`);
    if (inline === undefined) i++;
  }
  return normalized;
}

/** An argument whose bytes are not UTF-8: say which, show the bytes, say what to do. */
export function notUtf8Error(what: string, bytes?: string): UsageError {
  const subject = bytes === undefined ? `${what} is not valid UTF-8` : `${what} is not valid UTF-8: '${bytes}'`;
  return new UsageError(subject, {
    hint: "awstoe needs UTF-8 paths and values (bytes that are not UTF-8 are shown as \\xNN); rename the file or folder",
  });
}

/** Go's strconv.ParseBool, which the flag package uses for `-flag=value`. */
function parseBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

function splitInline(body: string): [string, string | undefined] {
  const eq = body.indexOf("=");
  return eq < 0 ? [body, undefined] : [body.slice(0, eq), body.slice(eq + 1)];
}

function booleanOnly(def: ArgsDef[string] | undefined): ArgsDef[string] | undefined {
  return def?.type === "boolean" ? def : undefined;
}

function canonicalName(args: ArgsDef, def: ArgsDef[string]): string {
  return Object.entries(args).find(([, d]) => d === def)?.[0] ?? "?";
}

/** `-h`, `--h`, `-help` or `--help` before any `--` (Go's flag package takes all four). */
export function wantsHelp(rawArgs: readonly string[]): boolean {
  const end = rawArgs.indexOf("--");
  return (end < 0 ? rawArgs : rawArgs.slice(0, end)).some((a) => /^--?(h|help)$/.test(a));
}
