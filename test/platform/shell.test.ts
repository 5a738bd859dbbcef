/** The pure builders behind ExecuteBash/ExecutePowerShell: script text, invocations, reboot codes, stdout trimming. */
import { describe, expect, test } from "bun:test";
import { bashInvocation, bashScript, powershellInvocation, powershellScript, rebootExitCode, trimTrailingNewlines } from "../../src/platform/shell.ts";

describe("bashScript", () => {
  test("joins items with newlines and ends with one", () => {
    expect(bashScript(["echo a", "echo b"])).toBe("echo a\necho b\n");
  });
  test("keeps multi-line items as they are and adds no set -e", () => {
    expect(bashScript(["if true; then\n  echo x\nfi", "false", "echo after"])).toBe("if true; then\n  echo x\nfi\nfalse\necho after\n");
  });
  test("an empty list is an empty script", () => {
    expect(bashScript([])).toBe("\n");
  });
});

describe("bashInvocation", () => {
  test("runs the file with bash", () => {
    expect(bashInvocation("/tmp/x/input.sh")).toEqual({ command: "bash", args: ["/tmp/x/input.sh"] });
  });
});

describe("powershellScript", () => {
  test("starts with a BOM and joins items with CRLF", () => {
    const script = powershellScript(["Write-Host 'é'", "exit 3010"]);
    expect(script).toBe("\uFEFFWrite-Host 'é'\r\nexit 3010\r\n");
    // Written as UTF-8, the BOM is the bytes EF BB BF that PowerShell 5.1 looks for.
    expect([...Buffer.from(script, "utf8").subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  });
});

describe("powershellInvocation", () => {
  test("uses Windows PowerShell with -File and no profile, prompts or policy", () => {
    expect(powershellInvocation("C:\\Temp\\input.ps1")).toEqual({
      command: "powershell.exe",
      args: ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", "C:\\Temp\\input.ps1"],
    });
  });
});

describe("rebootExitCode", () => {
  test("is 3010 on Windows and 194 elsewhere", () => {
    expect(rebootExitCode("windows")).toBe(3010);
    expect(rebootExitCode("linux")).toBe(194);
    expect(rebootExitCode("macos")).toBe(194);
  });
});

describe("trimTrailingNewlines", () => {
  test.each([
    ["hello\n", "hello"],
    ["hello\n\n\n", "hello"],
    ["hello\r\n", "hello"],
    ["hello\r\n\n\r\n", "hello"],
    ["a\nb\n", "a\nb"],
    ["hello", "hello"],
    ["", ""],
    ["\n\r\n", ""],
    ["hello\r", "hello\r"],
    ["hello\r\r\n", "hello\r"],
    ["hello \n", "hello "],
    ["\nhello", "\nhello"],
  ])("%j → %j", (input, expected) => {
    expect(trimTrailingNewlines(input)).toBe(expected);
  });
  test("is linear on long runs of newlines", () => {
    const text = "\n".repeat(1_000_000) + "x" + "\r\n".repeat(1_000_000);
    const started = performance.now();
    expect(trimTrailingNewlines(text)).toBe("\n".repeat(1_000_000) + "x");
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
