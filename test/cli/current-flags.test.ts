/**
 * The flags current AWSTOE documents (current-awstoe.md §2) as the command line reads them:
 * --blocked-action-modules, run --version/-v, --cw-ignore-failures with or without a value, and
 * validate --os-platforms; then how run's options merge them with a --config file.
 */
import { describe, expect, test } from "bun:test";
import { parseArgs, type ArgsDef } from "citty";
import { parseBlockedModules } from "../../src/cli/_args.ts";
import { runOptions, type ConfigProblem, type RunOptions } from "../../src/cli/_run-options.ts";
import { checkArguments } from "../../src/cli/_strict.ts";
import { runArgs } from "../../src/cli/run.ts";
import { validateArgs } from "../../src/cli/validate.ts";
import { UsageError } from "../../src/errors.ts";

const RUN = runArgs as unknown as ArgsDef;
const VALIDATE = validateArgs as unknown as ArgsDef;

function parsed(raw: string[], args: ArgsDef = RUN, command = "awstoe run"): Record<string, unknown> {
  return parseArgs(checkArguments(raw, args, command), args) as Record<string, unknown>;
}

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error("expected a usage error");
}

async function asyncUsageError(run: () => Promise<unknown>): Promise<UsageError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error("expected a usage error");
}

/** runOptions with the command line given as raw arguments and a config file's text. */
async function options(raw: string[], config?: object): Promise<RunOptions | ConfigProblem> {
  const args = parsed(raw) as Record<string, string | boolean | undefined>;
  return runOptions(args, async () => ({ ok: true, text: JSON.stringify(config ?? {}) }));
}

async function ok(raw: string[], config?: object): Promise<RunOptions> {
  const result = await options(raw, config);
  if (!("documents" in result)) throw new Error(`config problem: ${JSON.stringify(result.diagnostics)}`);
  return result;
}

describe("--cw-ignore-failures takes an optional true/false", () => {
  test.each([
    [["--cw-ignore-failures"], true],
    [["--cw-ignore-failures", "true"], true],
    [["--cw-ignore-failures", "false"], false],
    [["--cw-ignore-failures=false"], false],
    [["--cw-ignore-failures=true"], true],
    [["-cw-ignore-failures", "FALSE"], false],
    [["--cw-ignore-failures", "-d", "x.yaml"], true],
    [["-d", "x.yaml", "--cw-ignore-failures"], true],
    [[], undefined],
  ])("%j → %j", (raw, expected) => {
    expect(parsed(raw)["cw-ignore-failures"]).toBe(expected);
  });

  test("the word after it is taken only when it is a boolean", () => {
    expect(checkArguments(["--cw-ignore-failures", "false", "-d", "x.yaml"], RUN, "awstoe run")).toEqual(["--cw-ignore-failures=false", "--documents=x.yaml"]);
    expect(usageError(() => checkArguments(["--cw-ignore-failures", "maybe"], RUN, "awstoe run")).message).toContain("unexpected argument 'maybe'");
  });

  test("other flags still take no separate word", () => {
    expect(usageError(() => checkArguments(["--trace", "true"], RUN, "awstoe run")).message).toContain("unexpected argument 'true'");
  });

  test("an explicit false beats the config file's true; alone it is true", async () => {
    const cw = { cwLogGroup: "g", cwLogStream: "s", cwIgnoreFailures: true };
    const config = { documents: [{ path: "x.yaml" }], ...cw };
    expect((await ok(["-c", "run.json", "--cw-ignore-failures", "false"], config)).cloudWatch?.ignoreFailures).toBe(false);
    expect((await ok(["-c", "run.json"], config)).cloudWatch?.ignoreFailures).toBe(true);
    expect((await ok(["-d", "x.yaml", "--cw-log-group", "g", "--cw-log-stream", "s", "--cw-ignore-failures"])).cloudWatch?.ignoreFailures).toBe(true);
    expect((await ok(["-d", "x.yaml", "--cw-log-group", "g", "--cw-log-stream", "s"])).cloudWatch?.ignoreFailures).toBe(false);
  });
});

describe("run --version / -v: the component application version", () => {
  test.each([
    [["-v", "1.0.0", "-d", "x.yaml"]],
    [["--version", "1.0.0", "-d", "x.yaml"]],
    [["--version=1.0.0", "-d", "x.yaml"]],
    [["-d", "x.yaml", "-v=1.0.0"]],
  ])("%j reaches the run command", async (raw) => {
    expect(parsed(raw).version).toBe("1.0.0");
    expect((await ok(raw)).componentVersion).toBe("1.0.0");
  });

  test("without it there is no version; an empty one is a usage error", async () => {
    expect((await ok(["-d", "x.yaml"])).componentVersion).toBeUndefined();
    expect(usageError(() => checkArguments(["-d", "x.yaml", "-v"], RUN, "awstoe run")).message).toBe("option '--version' needs a value");
    expect((await asyncUsageError(() => options(["-d", "x.yaml", "--version="]))).message).toBe("option '--version' needs a value");
  });
});

describe("--blocked-action-modules", () => {
  test("a comma list of action names, trimmed, repeats dropped", () => {
    expect(parseBlockedModules("Reboot")).toEqual({ modules: ["Reboot"] });
    expect(parseBlockedModules(" Reboot , UpdateOS,Reboot")).toEqual({ modules: ["Reboot", "UpdateOS"] });
    expect(parseBlockedModules("")).toEqual({ modules: [] });
  });

  test("unknown names and empty items are refused, with a suggestion", () => {
    expect(parseBlockedModules("Reboot,Rebot")).toMatchObject({ problem: "unknown action module 'Rebot' — did you mean 'Reboot'?" });
    expect(parseBlockedModules("reboot")).toMatchObject({ problem: "unknown action module 'reboot' — did you mean 'Reboot'?" });
    expect(parseBlockedModules("Frobnicate")).toMatchObject({ problem: "unknown action module 'Frobnicate'" });
    expect((parseBlockedModules("Frobnicate") as { hint: string }).hint).toContain("ExecuteBash");
    expect(parseBlockedModules("Reboot,,UpdateOS")).toMatchObject({ problem: "empty item in 'Reboot,,UpdateOS'" });
  });

  test("run: the flag reaches the options; a bad name is a usage error (exit 2)", async () => {
    expect((await ok(["-d", "x.yaml", "--blocked-action-modules", "Reboot,UpdateOS"])).blockedModules).toEqual(["Reboot", "UpdateOS"]);
    expect((await ok(["-d", "x.yaml"])).blockedModules).toEqual([]);
    const error = await asyncUsageError(() => options(["-d", "x.yaml", "--blocked-action-modules", "ExecuteBsh"]));
    expect(error.message).toBe("--blocked-action-modules: unknown action module 'ExecuteBsh' — did you mean 'ExecuteBash'?");
    expect(error.exitCode).toBe(2);
  });

  test("run: the config file's blockedActionModules, which the command line beats", async () => {
    const config = { documents: [{ path: "x.yaml" }], blockedActionModules: "Reboot" };
    expect((await ok(["-c", "run.json"], config)).blockedModules).toEqual(["Reboot"]);
    expect((await ok(["-c", "run.json", "--blocked-action-modules", "UpdateOS"], config)).blockedModules).toEqual(["UpdateOS"]);
  });

  test("run: a bad name in the config file is a problem of that file", async () => {
    const result = await options(["-c", "run.json"], { documents: [{ path: "x.yaml" }], blockedActionModules: "Rebot" });
    expect("diagnostics" in result).toBe(true);
    const { diagnostics } = result as ConfigProblem;
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ file: "run.json", path: "blockedActionModules", message: "config: blockedActionModules: unknown action module 'Rebot' — did you mean 'Reboot'?" });
  });

  test("validate takes it too", () => {
    expect(parsed(["-d", "x.yaml", "--blocked-action-modules", "Reboot"], VALIDATE, "awstoe validate")["blocked-action-modules"]).toBe("Reboot");
  });
});

describe("validate --os-platforms", () => {
  test.each(["linux", "windows", "darwin"])("%s is accepted", (platform) => {
    expect(parsed(["-d", "x.yaml", "--os-platforms", platform], VALIDATE, "awstoe validate")["os-platforms"]).toBe(platform);
  });

  test("anything else is a usage error with a suggestion", () => {
    const error = usageError(() => checkArguments(["-d", "x.yaml", "--os-platforms", "darwn"], VALIDATE, "awstoe validate"));
    expect(error.message).toBe("option '--os-platforms' does not take 'darwn'");
    expect(error.hint).toContain("did you mean 'darwin'?");
  });
});

describe("--require-parameter-values", () => {
  test("off by default; the flag or the config key turns it on; the flag's false beats the file", async () => {
    expect((await ok(["-d", "x.yaml"])).requireParameterValues).toBe(false);
    expect((await ok(["-d", "x.yaml", "--require-parameter-values"])).requireParameterValues).toBe(true);
    const config = { documents: [{ path: "x.yaml" }], requireParameterValues: true };
    expect((await ok(["-c", "run.json"], config)).requireParameterValues).toBe(true);
    expect((await ok(["-c", "run.json", "--require-parameter-values=false"], config)).requireParameterValues).toBe(false);
  });
});
