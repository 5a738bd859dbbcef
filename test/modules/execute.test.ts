/** The Execute* modules and Assert, called directly. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { StepError } from "../../src/errors.ts";
import { modules } from "../../src/modules/index.ts";
import { moduleContext, recordingWindowsContext } from "../helpers/module-context.ts";

describe("ExecuteBash", () => {
  test("runs all commands as one script and returns stdout without trailing newlines", async () => {
    const ctx = moduleContext();
    const result = await modules.ExecuteBash.execute({ commands: ["X=hello", "echo \"$X\"", "echo second\n"] }, ctx);
    expect(result.outputs).toEqual({ stdout: "hello\nsecond" });
    expect(readFileSync(ctx.workFile("input.sh"), "utf8")).toBe("X=hello\necho \"$X\"\necho second\n\n");
    expect(ctx.printed.join("")).toContain("hello");
  });
  test("a failing script quotes its exit code and stderr; there is no -e", async () => {
    const run = modules.ExecuteBash.execute({ commands: ["false", "echo went on", "echo broken >&2", "exit 3"] }, moduleContext());
    await expect(run).rejects.toThrow(StepError);
    await expect(run).rejects.toThrow(/exited with code 3: broken/);
  });
  test("exit 194 asks for a reboot that reruns the step", async () => {
    const result = await modules.ExecuteBash.execute({ commands: ["echo before", "exit 194"] }, moduleContext());
    expect(result.reboot).toEqual({ rerunStep: true, exitCode: 194 });
    expect(result.outputs).toEqual({ stdout: "before" });
  });
});

describe("ExecuteBinary", () => {
  test("passes each argument as-is, without a shell", async () => {
    const result = await modules.ExecuteBinary.execute({ path: "/bin/echo", arguments: ["a b", "$HOME", "*"] }, moduleContext());
    expect(result.outputs).toEqual({ stdout: "a b $HOME *" });
  });
  test("a missing program is a clear failure", async () => {
    await expect(modules.ExecuteBinary.execute({ path: "/no/such/program", arguments: [] }, moduleContext())).rejects.toThrow(/cannot run '\/no\/such\/program'/);
  });
});

describe("ExecutePowerShell", () => {
  // PowerShell cannot be installed on this machine: the exec boundary is recorded instead of run,
  // which still checks the script file and the exact command line.
  const recording = recordingWindowsContext;
  test("commands become a BOM-prefixed CRLF .ps1 run with -File and the non-interactive flags", async () => {
    const { ctx, calls } = recording({ stdout: "done\r\n" });
    const result = await modules.ExecutePowerShell.execute({ commands: ["Write-Output 'é'", "Get-Date"] }, ctx);
    const script = ctx.workFile("input.ps1");
    expect(readFileSync(script, "utf8")).toBe("\uFEFFWrite-Output 'é'\r\nGet-Date\r\n");
    expect(calls).toEqual([{ command: "powershell.exe", args: ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", script] }]);
    expect(result.outputs).toEqual({ stdout: "done" });
  });
  test("file runs the given script; exit 3010 asks for a reboot", async () => {
    const { ctx, calls } = recording({ exitCode: 3010 });
    const result = await modules.ExecutePowerShell.execute({ file: "C:\\scripts\\setup.ps1" }, ctx);
    expect(calls[0]?.args.at(-1)).toBe("C:\\scripts\\setup.ps1");
    expect(result.reboot).toEqual({ rerunStep: true, exitCode: 3010 });
  });
  // Bun on Windows reports only the low byte of an exit code: 3010 arrives as 194 (src/modules/_exec.ts).
  test("on Windows, 194 is 3010 cut to a byte: a reboot request; other codes fail", async () => {
    const { ctx } = recording({ exitCode: 194 });
    expect((await modules.ExecutePowerShell.execute({ commands: ["exit 3010"] }, ctx)).reboot).toEqual({ rerunStep: true, exitCode: 3010 });
    const other = recording({ exitCode: 195 });
    await expect(modules.ExecutePowerShell.execute({ commands: ["exit 195"] }, other.ctx)).rejects.toThrow(/exited with code 195/);
  });
});

describe("Assert", () => {
  test("true passes, false fails with the compared values", async () => {
    const ctx = moduleContext();
    expect((await modules.Assert.execute({ numberGreaterThanEquals: "3", value: "3.5" }, ctx)).outputs).toEqual({});
    await expect(modules.Assert.execute({ stringEquals: "abc", value: "abd" }, ctx)).rejects.toThrow(/evaluated to false: .*'abd'.*'abc'/);
  });
});
