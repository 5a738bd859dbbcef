/** @module cli/_args: option definitions shared by commands, so their help text stays the same. */
import type { ArgsDef } from "citty";
import type { ConfigProblem } from "../document/config.ts";
import { UsageError } from "../errors.ts";
import { didYouMean } from "../model/suggest.ts";
import { ACTION_NAMES } from "../modules/index.ts";

export const documentsArgs = {
  documents: {
    type: "string",
    alias: "d",
    valueHint: "a.yaml,b.yaml",
    description: "Comma-separated component documents: local paths, s3://bucket/key or Image Builder component ARNs",
  },
  config: {
    type: "string",
    alias: "c",
    valueHint: "file.json",
    description: "JSON run configuration whose `documents` are used (instead of --documents)",
  },
  "document-s3-bucket-owner": {
    type: "string",
    valueHint: "account-id",
    description: "Expected owner account of buckets holding s3:// documents",
  },
} as const satisfies ArgsDef;

export const traceArgs = {
  trace: { type: "boolean", alias: "t", description: "Show debug detail on stderr" },
} as const satisfies ArgsDef;

/** `run --output`: how --dry-run shows its plan. */
export const outputArgs = {
  output: {
    type: "enum",
    alias: "o",
    options: ["text", "json"],
    default: "text",
    valueHint: "text|json",
    description: "With --dry-run: the plan on stdout, as text or as JSON",
  },
} as const satisfies ArgsDef;

/** `validate --output`: the report's format, including the two CI formats. */
export const validateOutputArgs = {
  output: {
    type: "enum",
    alias: "o",
    options: ["text", "json", "github", "sarif"],
    default: "text",
    valueHint: "text|json|github|sarif",
    description: "text: a report on stderr, the result on stdout; json: every diagnostic as data on stdout; github: GitHub Actions annotations on stdout; sarif: a SARIF 2.1.0 log on stdout",
  },
} as const satisfies ArgsDef;

export const platformArgs = {
  platform: {
    type: "enum",
    options: ["linux", "windows", "macos"],
    valueHint: "linux|windows|macos",
    description: "Check the documents for this platform (default: this machine's)",
  },
} as const satisfies ArgsDef;

export const blockedModulesArgs = {
  "blocked-action-modules": {
    type: "string",
    valueHint: "Reboot,UpdateOS",
    description: "Comma-separated action modules to refuse: a document using one (also through ExecuteDocument) fails validation and nothing runs",
  },
} as const satisfies ArgsDef;

/**
 * `--blocked-action-modules` (or the config key): the module names, or what is wrong with the
 * list. Names are the action names documents use, case-sensitive; "" blocks nothing.
 */
export function parseBlockedModules(value: string): { modules: string[] } | { problem: string; hint: string } {
  if (value.trim() === "") return { modules: [] };
  const items = splitList(value);
  if (items.some((item) => item === "")) {
    return { problem: `empty item in '${value}'`, hint: "separate module names with single commas, e.g. Reboot,UpdateOS" };
  }
  for (const item of items) {
    if (!(ACTION_NAMES as readonly string[]).includes(item)) {
      const guess = didYouMean(item, ACTION_NAMES);
      return {
        problem: `unknown action module '${item}'${guess}`,
        hint: guess === "" ? `module names are action names, case-sensitive: ${ACTION_NAMES.join(", ")}` : "module names are action names, case-sensitive",
      };
    }
  }
  return { modules: [...new Set(items)] };
}

/** `--blocked-action-modules`: the module names (undefined when not given); a mistake is a usage error. */
export function blockedModulesFromFlag(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const parsed = parseBlockedModules(value);
  if ("problem" in parsed) throw new UsageError(`--blocked-action-modules: ${parsed.problem}`, { hint: parsed.hint });
  return parsed.modules;
}

/** The config file's `blockedActionModules`; a mistake is a problem of that file, reported like its others. */
export function blockedModulesFromConfig(value: string | undefined, configSource: string): string[] | ConfigProblem {
  if (value === undefined) return [];
  const parsed = parseBlockedModules(value);
  if ("modules" in parsed) return parsed.modules;
  return {
    source: configSource,
    diagnostics: [{ code: "E_VALUE", severity: "error", message: `config: blockedActionModules: ${parsed.problem}`, hint: parsed.hint, file: configSource, path: "blockedActionModules" }],
  };
}

/** `run` and `validate` read their documents from --documents or from --config's list: one of them, not both. */
export function requireDocumentsOrConfig(documents: string | undefined, config: string | undefined, command: "run" | "validate"): void {
  if ((documents === undefined) === (config === undefined)) {
    throw new UsageError("specify exactly one of --config or --documents", { hint: `e.g. awstoe ${command} --documents component.yaml` });
  }
}

/** AWS's sample kit spells --platform this way; darwin is macOS. */
export const osPlatformsArgs = {
  "os-platforms": {
    type: "enum",
    options: ["linux", "windows", "darwin"],
    valueHint: "linux|windows|darwin",
    description: "Another spelling of --platform (darwin: macOS)",
  },
} as const satisfies ArgsDef;

/** Splits a comma list, trimming items; an empty item is a usage mistake the caller reports. */
export function splitList(value: string): string[] {
  return value.split(",").map((item) => item.trim());
}
