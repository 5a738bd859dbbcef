/**
 * @module cli/_run-options: `awstoe run`'s command line and `--config` file merged into one set of
 * options (docs/cli.md §2–§4): exactly one of --config/--documents; command line beats the config file;
 * every mistake is a usage error that says what to type.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { parseRunConfig, type ConfigProblem } from "../document/config.ts";
import type { LoadResult } from "../document/load.ts";
import { UsageError } from "../errors.ts";
import type { DocumentRequest } from "../engine/prepare.ts";
import type { RunConfig } from "../model/config.ts";
import { isSafeExecutionId } from "../state/archive.ts";
import { blockedModulesFromConfig, blockedModulesFromFlag, requireDocumentsOrConfig, splitList } from "./_args.ts";

export type { ConfigProblem } from "../document/config.ts";

export interface RunOptions {
  documents: DocumentRequest[];
  parameters: Map<string, string>;
  phases: string[];
  executionId: string;
  /** The id was given (flag or config) rather than made up for this run. */
  executionIdGiven: boolean;
  logDirectory: string;
  stateDirectory: string;
  trace: boolean;
  logS3?: { bucket: string; keyPrefix: string; owner?: string };
  documentS3BucketOwner?: string;
  cloudWatch?: { group: string; stream: string; region?: string; ignoreFailures: boolean };
  /** Action modules no document of this run may use (--blocked-action-modules / blockedActionModules). */
  blockedModules: string[];
  /** `--version` / `-v`: the component application version, recorded in detailedoutput.json. */
  componentVersion?: string;
  /** --require-parameter-values / requireParameterValues: a parameter without a value stops the run. */
  requireParameterValues: boolean;
}

export type RunArgs = Record<string, string | boolean | undefined>;

/**
 * `loadConfig` reads the --config source (a local path or s3://, with the document bucket owner),
 * so this module stays free of the AWS layer.
 */
export async function runOptions(args: RunArgs, loadConfig: (source: string) => Promise<LoadResult>): Promise<RunOptions | ConfigProblem> {
  const text = (name: string) => (typeof args[name] === "string" ? (args[name] as string) : undefined);
  const flag = (name: string) => args[name] === true;
  const configSource = text("config");
  requireDocumentsOrConfig(text("documents"), configSource, "run");
  let file: RunConfig | undefined;
  if (configSource !== undefined) {
    for (const clash of ["documents", "parameters"]) {
      if (args[clash] !== undefined) throw new UsageError(`--${clash} cannot be combined with --config`, { hint: `put ${clash} in the config file instead` });
    }
    const read = parseRunConfig(configSource, await loadConfig(configSource));
    if (!read.ok) return read.problem;
    file = read.config;
  }
  const documents: DocumentRequest[] = file
    ? file.documents.map((d) => ({ source: d.path, parameters: new Map((d.parameters ?? []).map((p) => [p.name, p.value])) }))
    : list("documents", text("documents")!).map((source) => ({ source, parameters: new Map() }));
  const parameters = file ? new Map((file.parameters ?? []).map((p) => [p.name, p.value])) : parseParameters(text("parameters"));
  const phasesText = text("phases") ?? file?.phases;
  const phases = phasesText === undefined || phasesText.trim() === "" ? [] : list("phases", phasesText);
  const givenId = text("execution-id") ?? file?.executionId ?? file?.executonId;
  const executionId = givenId ?? randomUUID();
  if (!isSafeExecutionId(executionId)) {
    throw new UsageError(`execution id '${executionId}' cannot be used in a folder name`, { hint: "use letters, digits, '.', '_' and '-' (a UUID is the usual choice)" });
  }
  const logDirectory = text("log-directory") ?? file?.logDirectory ?? ".";
  const bucket = text("log-s3-bucket-name") ?? file?.logS3BucketName;
  const group = text("cw-log-group") ?? file?.cwLogGroup;
  const stream = text("cw-log-stream") ?? file?.cwLogStream;
  if ((group === undefined) !== (stream === undefined)) {
    throw new UsageError("CloudWatch logging needs both --cw-log-group and --cw-log-stream", { hint: `add --cw-log-${group === undefined ? "group" : "stream"} <name>` });
  }
  const region = text("cw-log-region") ?? file?.cwLogRegion;
  const owner = text("log-s3-bucket-owner") ?? file?.logS3BucketOwner;
  const documentOwner = text("document-s3-bucket-owner") ?? file?.documentS3BucketOwner;
  const blocked = blockedModulesFromFlag(text("blocked-action-modules")) ?? blockedModulesFromConfig(file?.blockedActionModules, configSource ?? "");
  if (!Array.isArray(blocked)) return blocked;
  const componentVersion = text("version");
  if (componentVersion !== undefined && componentVersion.trim() === "") {
    throw new UsageError("option '--version' needs a value", { hint: "e.g. awstoe run --version 1.0.0 --documents component.yaml (awstoe's own version: awstoe --version)" });
  }
  // An explicit --cw-ignore-failures=false beats the config file's true.
  const ignoreFailures = args["cw-ignore-failures"] === undefined ? file?.cwIgnoreFailures === true : args["cw-ignore-failures"] === true;
  return {
    documents,
    parameters,
    phases,
    executionId,
    executionIdGiven: givenId !== undefined,
    logDirectory,
    stateDirectory: text("state-directory") ?? file?.stateDirectory ?? join(logDirectory, "TOE_state"),
    trace: flag("trace") || file?.trace === true,
    ...(bucket === undefined ? {} : { logS3: logS3Of(bucket, text("log-s3-key-prefix") ?? file?.logS3KeyPrefix ?? "", owner) }),
    ...(documentOwner === undefined ? {} : { documentS3BucketOwner: documentOwner }),
    ...(group === undefined || stream === undefined ? {} : { cloudWatch: cloudWatchOf(group, stream, region, ignoreFailures) }),
    blockedModules: blocked,
    ...(componentVersion === undefined ? {} : { componentVersion }),
    requireParameterValues: args["require-parameter-values"] === undefined ? file?.requireParameterValues === true : args["require-parameter-values"] === true,
  };
}

/** The log upload's place; an empty owner is no owner check. */
function logS3Of(bucket: string, keyPrefix: string, owner: string | undefined): NonNullable<RunOptions["logS3"]> {
  return owner ? { bucket, keyPrefix, owner } : { bucket, keyPrefix };
}

/** The CloudWatch Logs copy; an empty region is the SDK's own. */
function cloudWatchOf(group: string, stream: string, region: string | undefined, ignoreFailures: boolean): NonNullable<RunOptions["cloudWatch"]> {
  return region ? { group, stream, region, ignoreFailures } : { group, stream, ignoreFailures };
}

/** `name1=value1,name2=value2` (docs/cli.md §3): split on commas, then on the first `=`. */
export function parseParameters(value: string | undefined): Map<string, string> {
  const parameters = new Map<string, string>();
  if (value === undefined) return parameters;
  for (const item of value.split(",")) {
    const eq = item.indexOf("=");
    const name = eq < 0 ? "" : item.slice(0, eq).trim();
    const text = eq < 0 ? "" : item.slice(eq + 1);
    if (name === "" || text === "") {
      throw new UsageError(`invalid parameter '${item}': expected name=value`, { hint: "e.g. --parameters Env=dev,Tier=web (values with commas go in a --config file)" });
    }
    parameters.set(name, text);
  }
  return parameters;
}

function list(option: string, value: string): string[] {
  const items = splitList(value);
  if (items.some((item) => item === "")) {
    throw new UsageError(`--${option} has an empty item: '${value}'`, { hint: `separate items with single commas, e.g. --${option} a,b` });
  }
  return items;
}
