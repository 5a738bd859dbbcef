/** run --sandbox's options (cli/_sandbox-args.ts): every misuse is one usage error; the inside awstoe is told apart by its environment. */
import { describe, expect, test } from "bun:test";
import { UsageError } from "../../src/errors.ts";
import { SANDBOX_INNER_ENV, sandboxChoice, type SandboxFacts } from "../../src/cli/_sandbox-args.ts";

const linuxRoot: SandboxFacts = { platform: "linux", uid: 0, env: {}, inSandbox: () => false };

function refusal(args: Record<string, unknown>, facts: SandboxFacts = linuxRoot): string {
  try {
    sandboxChoice(args, facts);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).message;
  }
  throw new Error("not refused");
}

describe("sandboxChoice", () => {
  test("without --sandbox nothing changes", () => {
    expect(sandboxChoice({}, linuxRoot)).toEqual({ side: "none" });
  });
  test("outside: Linux, root", () => {
    expect(sandboxChoice({ sandbox: true }, linuxRoot)).toEqual({ side: "outside" });
    expect(sandboxChoice({ sandbox: true, "sandbox-keep": "out" }, linuxRoot)).toEqual({ side: "outside", keep: "out" });
  });
  test("inside: the environment names the execution", () => {
    expect(sandboxChoice({ sandbox: true, "sandbox-keep": "out", "state-directory": "/x" }, { ...linuxRoot, env: { [SANDBOX_INNER_ENV]: "id-1" }, inSandbox: () => true })).toEqual({ side: "inside", executionId: "id-1" });
  });
  test("the marker outside a sandbox (left over in an environment) is refused, never a run on the machine itself", () => {
    expect(refusal({ sandbox: true }, { ...linuxRoot, env: { [SANDBOX_INNER_ENV]: "id-1" } })).toBe(`${SANDBOX_INNER_ENV} is set, but this awstoe does not run inside a sandbox`);
  });
  test("not Linux, not root, keep without sandbox, with --dry-run or --state-directory: one clear error each", () => {
    expect(refusal({ sandbox: true }, { platform: "darwin", uid: 0, env: {}, inSandbox: () => false })).toBe("--sandbox needs Linux (this is darwin)");
    expect(refusal({ sandbox: true }, { platform: "win32", uid: undefined, env: {}, inSandbox: () => false })).toBe("--sandbox needs Linux (this is win32)");
    expect(refusal({ sandbox: true }, { platform: "linux", uid: 1000, env: {}, inSandbox: () => false })).toBe("--sandbox needs root");
    expect(refusal({ "sandbox-keep": "out" })).toBe("--sandbox-keep only goes with --sandbox");
    expect(refusal({ sandbox: true, "sandbox-keep": "" })).toBe("option '--sandbox-keep' needs a folder");
    expect(refusal({ sandbox: true, "dry-run": true })).toBe("--sandbox does not go with --dry-run");
    expect(refusal({ sandbox: true, "state-directory": "/var/lib/toe" })).toBe("--state-directory does not go with --sandbox");
    expect(refusal({ sandbox: true, retry: "id-0" })).toBe("--retry does not go with --sandbox");
  });
});
