/**
 * @module cli/_strict: citty accepts any flag; awstoe must not. This checks the raw arguments
 * against a command's definitions and turns a mistake into one line saying what to type instead.
 */
import type { ArgsDef } from "citty";
import { UsageError } from "../errors.ts";
import { closest } from "../model/suggest.ts";

const BUILTIN = ["help", "h"];

export function checkArguments(rawArgs: readonly string[], args: ArgsDef, command: string): void {
  const byName = new Map<string, ArgsDef[string]>();
  for (const [name, def] of Object.entries(args)) {
    byName.set(name, def);
    const aliases = "alias" in def && def.alias !== undefined ? [def.alias].flat() : [];
    for (const alias of aliases) byName.set(alias, def);
  }
  const longNames = Object.keys(args).map((n) => `--${n}`);
  for (let i = 0; i < rawArgs.length; i++) {
    const token = rawArgs[i]!;
    if (token === "--") break;
    if (!token.startsWith("-") || token === "-") {
      throw new UsageError(`unexpected argument '${token}' for '${command}'`, {
        hint: `options take the form --name value; run '${command} --help'`,
      });
    }
    const long = token.startsWith("--");
    const body = token.slice(long ? 2 : 1);
    const [name, inline] = splitInline(body);
    if (BUILTIN.includes(name)) continue;
    const def = byName.get(name) ?? (long && name.startsWith("no-") ? booleanOnly(byName.get(name.slice(3))) : undefined);
    if (def === undefined) {
      const guess = closest(`--${name}`, longNames);
      throw new UsageError(`unknown option '${token.split("=")[0]}' for '${command}'`, {
        hint: guess !== undefined ? `did you mean '${guess}'? (see '${command} --help')` : `run '${command} --help' to see its options`,
      });
    }
    if (def.type === "boolean") continue;
    const value = inline ?? rawArgs[i + 1];
    if (value === undefined || (inline === undefined && value.startsWith("-") && value !== "-")) {
      throw new UsageError(`option '--${canonicalName(args, def)}' needs a value`, {
        hint: `e.g. ${command} --${canonicalName(args, def)} ${"valueHint" in def && def.valueHint ? def.valueHint : "<value>"}`,
      });
    }
    if (def.type === "enum" && def.options !== undefined && !def.options.includes(value)) {
      const guess = closest(value, def.options);
      throw new UsageError(`option '--${canonicalName(args, def)}' does not take '${value}'`, {
        hint: `use one of ${def.options.join(", ")}${guess !== undefined ? ` (did you mean '${guess}'?)` : ""}`,
      });
    }
    if (inline === undefined) i++;
  }
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

export function wantsHelp(rawArgs: readonly string[]): boolean {
  const end = rawArgs.indexOf("--");
  return (end < 0 ? rawArgs : rawArgs.slice(0, end)).some((a) => a === "--help" || a === "-h");
}
