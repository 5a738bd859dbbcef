/**
 * @module cli/_rerun-args: `run --retry`, `--from`, `--only` and `--outputs-from` (docs/cli.md §2.1) —
 * their definitions for the help and the strict parser, and their checks, which need nothing but
 * the command line. Names are resolved against the documents later (engine/rerun-plan.ts).
 */
import type { ArgsDef } from "citty";
import { UsageError } from "../errors.ts";
import type { RunRequest } from "../engine/run.ts";
import { isSafeExecutionId } from "../state/archive.ts";
import { splitList } from "./_args.ts";

export const rerunArgs = {
  retry: {
    type: "string",
    valueHint: "execution-id",
    description: "Run a failed execution again, with the same documents, parameters and phases: the steps that finished before the failure are restored from its journal, the failed step and those after it run again, into the same log folder",
  },
  from: {
    type: "string",
    valueHint: "phase/step",
    description: "A new run that starts at this step: the steps before it do not run (recorded as skipped). With several documents, <n>:phase/step names the n-th",
  },
  only: {
    type: "string",
    valueHint: "phase/step,…",
    description: "A new run of only these steps (and what they run through ExecuteDocument); the others are recorded as skipped",
  },
  "outputs-from": {
    type: "string",
    valueHint: "execution-id",
    description: "With --from/--only: chaining references to steps that do not run read that earlier execution's values (from its log folder in --log-directory)",
  },
} as const satisfies ArgsDef;

type Args = Record<string, string | boolean | undefined>;

/** What the options add to the run request; a mistake is a UsageError. `given` is the execution id the other options chose. */
export function rerunRequest(args: Args, given: { executionId: string; executionIdGiven: boolean; dryRun: boolean }): Partial<Pick<RunRequest, "retry" | "selection" | "executionId" | "executionIdGiven">> {
  const text = (name: keyof typeof rerunArgs) => {
    const value = args[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value.trim() === "") throw new UsageError(`option '--${name}' needs a value`, { hint: `e.g. --${name} ${rerunArgs[name].valueHint}` });
    return value.trim();
  };
  const retry = text("retry");
  const from = text("from");
  const only = text("only");
  const outputsFrom = text("outputs-from");
  const used = [retry && "--retry", from && "--from", only && "--only"].filter((x): x is string => typeof x === "string");
  if (used.length === 0 && outputsFrom === undefined) return {};
  if (given.dryRun) throw new UsageError(`${used[0] ?? "--outputs-from"} does not go with --dry-run`, { hint: "a dry run shows every step; drop one of them" });
  for (const [option, id] of [["--retry", retry], ["--outputs-from", outputsFrom]] as const) {
    if (id !== undefined && !isSafeExecutionId(id)) throw new UsageError(`${option}: '${id}' is not an execution id`, { hint: "execution ids are letters, digits, '.', '_' and '-' (the executionId of the run's summary)" });
  }
  if (used.length > 1) throw new UsageError(`${used.join(" and ")} cannot be combined`, { hint: "--retry goes on from where an execution failed; --from and --only start a new run" });
  if (retry !== undefined) {
    if (outputsFrom !== undefined) throw new UsageError("--outputs-from goes with --from or --only, not with --retry", { hint: "a retry takes the values of its own restored steps" });
    if (given.executionIdGiven && given.executionId !== retry) throw new UsageError(`--execution-id ${given.executionId} and --retry ${retry} name different executions`, { hint: "a retry continues the execution it names; drop --execution-id" });
    return { retry, executionId: retry, executionIdGiven: true };
  }
  if (from === undefined && only === undefined) throw new UsageError("--outputs-from goes with --from or --only", { hint: "e.g. --from build/Configure --outputs-from <execution-id>" });
  if (outputsFrom !== undefined && outputsFrom === given.executionId && given.executionIdGiven) {
    throw new UsageError(`--outputs-from names this run's own execution id ${outputsFrom}`, { hint: "name an earlier execution" });
  }
  const onlyList = only === undefined ? undefined : splitList(only);
  if (onlyList !== undefined && onlyList.some((item) => item === "")) throw new UsageError(`--only has an empty item: '${only}'`, { hint: "separate steps with single commas, e.g. --only build/A,build/B" });
  return {
    selection: {
      ...(from === undefined ? {} : { from }),
      ...(onlyList === undefined ? {} : { only: onlyList }),
      ...(outputsFrom === undefined ? {} : { outputsFrom }),
    },
  };
}
