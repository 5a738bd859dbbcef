/** run --retry / --from / --only / --outputs-from on the command line (cli/_rerun-args.ts). */
import { describe, expect, test } from "bun:test";
import { parseArgs, type ArgsDef } from "citty";
import { rerunRequest } from "../../src/cli/_rerun-args.ts";
import { checkArguments } from "../../src/cli/_strict.ts";
import { runArgs } from "../../src/cli/run.ts";
import { UsageError } from "../../src/errors.ts";

const RUN = runArgs as unknown as ArgsDef;
const fresh = { executionId: "new-id", executionIdGiven: false, dryRun: false };

function request(raw: string[], given = fresh) {
  const args = parseArgs(checkArguments(["-d", "a.yaml", ...raw], RUN, "awstoe run"), RUN) as Record<string, string | boolean | undefined>;
  return rerunRequest(args, given);
}

function usage(raw: string[], given = fresh): string {
  try {
    request(raw, given);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).message;
  }
  throw new Error("expected a usage error");
}

describe("rerun options", () => {
  test("none: nothing added to the request", () => {
    expect(request([])).toEqual({});
  });

  test("--retry continues that execution: its id becomes the run's", () => {
    expect(request(["--retry", "exec-1"])).toEqual({ retry: "exec-1", executionId: "exec-1", executionIdGiven: true });
    expect(request(["--retry=exec-1"], { ...fresh, executionId: "exec-1", executionIdGiven: true })).toEqual({ retry: "exec-1", executionId: "exec-1", executionIdGiven: true });
  });

  test("--from, --only (a list), --outputs-from", () => {
    expect(request(["--from", "build/Install", "--outputs-from", "run-1"])).toEqual({ selection: { from: "build/Install", outputsFrom: "run-1" } });
    expect(request(["--only", "build/A,2:test/B"])).toEqual({ selection: { only: ["build/A", "2:test/B"] } });
  });

  test("mistakes: one usage error each", () => {
    expect(usage(["--retry", "../../etc"])).toBe("--retry: '../../etc' is not an execution id");
    expect(usage(["--from", "build/A", "--outputs-from", "a/b"])).toBe("--outputs-from: 'a/b' is not an execution id");
    expect(usage(["--retry", "x", "--from", "build/A"])).toBe("--retry and --from cannot be combined");
    expect(usage(["--from", "build/A", "--only", "build/B"])).toBe("--from and --only cannot be combined");
    expect(usage(["--retry", "x", "--outputs-from", "y"])).toBe("--outputs-from goes with --from or --only, not with --retry");
    expect(usage(["--outputs-from", "y"])).toBe("--outputs-from goes with --from or --only");
    expect(usage(["--only", "build/A,,build/B"])).toBe("--only has an empty item: 'build/A,,build/B'");
    expect(usage(["--retry", "x"], { ...fresh, executionId: "other", executionIdGiven: true })).toBe("--execution-id other and --retry x name different executions");
    expect(usage(["--from", "build/A"], { ...fresh, dryRun: true })).toBe("--from does not go with --dry-run");
    expect(usage(["--from", " "])).toBe("option '--from' needs a value");
  });
});
