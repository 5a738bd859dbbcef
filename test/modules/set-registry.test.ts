/**
 * @module test/modules/set-registry.test: SetRegistry's conversions, range checks and the exact
 * `reg.exe add` argument lists it runs, plus how it reports reg's failures.
 *
 * A fake at one boundary only: ctx.exec records each command and answers like reg.exe, because a
 * Windows registry and reg.exe cannot exist on this Linux machine. Everything up to that call is
 * the real module. The same writes run for real against Wine's reg.exe in
 * test/e2e/windows-registry.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { validateText } from "../../src/document/validate.ts";
import { StepError } from "../../src/errors.ts";
import type { ModuleContext } from "../../src/modules/_define.ts";
import { DWORD_MAX, QWORD_MAX, separatorFor } from "../../src/modules/_registry.ts";
import { modules } from "../../src/modules/index.ts";
import { regProgram } from "../../src/modules/set-registry.ts";
import { execResult, moduleContext, type WrittenInput } from "../helpers/module-context.ts";

const SetRegistry = modules.SetRegistry;

type Call = { command: string; args: readonly string[] };
type Answer = { exitCode: number; stdout?: string; stderr?: string };

/** A context whose exec records the command and answers with the next of `answers` (default: success). */
function recordingContext(answers: Answer[] = []): { ctx: ModuleContext; calls: Call[] } {
  const calls: Call[] = [];
  const ctx = moduleContext({
    platform: "windows",
    exec: async (request) => {
      calls.push({ command: request.command, args: request.args });
      const answer = answers.shift() ?? { exitCode: 0, stdout: "The operation completed successfully.\r\n" };
      return execResult({ exitCode: answer.exitCode, stdout: answer.stdout ?? "", stderr: answer.stderr ?? "" });
    },
  });
  return { ctx, calls };
}

type Item = WrittenInput<typeof SetRegistry>[number];

/** Runs SetRegistry on `items` and returns the argument lists reg.exe got (without the program). */
async function argsFor(...items: Item[]): Promise<string[][]> {
  const { ctx, calls } = recordingContext();
  await SetRegistry.execute(items, ctx);
  for (const call of calls) expect(call.command).toBe(regProgram());
  return calls.map((call) => [...call.args]);
}

async function failureOf(items: Item[], answers: Answer[] = []): Promise<{ message: string; calls: Call[] }> {
  const { ctx, calls } = recordingContext(answers);
  try {
    await SetRegistry.execute(items, ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(StepError);
    return { message: (error as Error).message, calls };
  }
  throw new Error("SetRegistry succeeded where a failure was expected");
}

const KEY = "HKLM:\\SOFTWARE\\OpenToe";
const TAIL = ["/f", "/reg:64"];

describe("reg.exe argument lists per type", () => {
  test("SZ and EXPAND_SZ pass the text unchanged, %VAR% included", async () => {
    expect(
      await argsFor(
        { path: KEY, name: "Greeting", value: 'a "quoted" & 100% text\\', type: "SZ" },
        { path: KEY, name: "Where", value: "%ProgramFiles%\\App", type: "EXPAND_SZ" },
      ),
    ).toEqual([
      ["add", "HKLM\\SOFTWARE\\OpenToe", "/v", "Greeting", "/t", "REG_SZ", "/d", 'a "quoted" & 100% text\\', ...TAIL],
      ["add", "HKLM\\SOFTWARE\\OpenToe", "/v", "Where", "/t", "REG_EXPAND_SZ", "/d", "%ProgramFiles%\\App", ...TAIL],
    ]);
  });

  test("an empty string is written as an empty value; an empty name is the key's default value (/ve)", async () => {
    expect(await argsFor({ path: KEY, name: "", value: "", type: "SZ" })).toEqual([["add", "HKLM\\SOFTWARE\\OpenToe", "/ve", "/t", "REG_SZ", "/d", "", ...TAIL]]);
  });

  test("DWORD and QWORD in decimal, at both ends of their ranges, from every whole-number form", async () => {
    const calls = await argsFor(
      { path: KEY, name: "a", value: "0", type: "DWORD" },
      { path: KEY, name: "b", value: "4294967295", type: "DWORD" },
      { path: KEY, name: "c", value: "0x10", type: "DWORD" }, // YAML's hex, as written
      { path: KEY, name: "d", value: "1.0", type: "DWORD" }, // a whole float, as written
      { path: KEY, name: "e", value: "1e3", type: "DWORD" },
      { path: KEY, name: "f", value: "0o17", type: "DWORD" },
      { path: KEY, name: "g", value: " +42 ", type: "DWORD" },
      { path: KEY, name: "h", value: "7", type: "DWORD" },
      { path: KEY, name: "i", value: "18446744073709551615", type: "QWORD" }, // exact: digits, not a float
      { path: KEY, name: "j", value: "9007199254740993", type: "QWORD" }, // 2^53+1, which a JS number cannot hold
    );
    expect(calls.map((args) => [args[5], args[7]])).toEqual([
      ["REG_DWORD", "0"],
      ["REG_DWORD", "4294967295"],
      ["REG_DWORD", "16"],
      ["REG_DWORD", "1"],
      ["REG_DWORD", "1000"],
      ["REG_DWORD", "15"],
      ["REG_DWORD", "42"],
      ["REG_DWORD", "7"],
      ["REG_QWORD", "18446744073709551615"],
      ["REG_QWORD", "9007199254740993"],
    ]);
    expect(String(DWORD_MAX)).toBe("4294967295");
    expect(String(QWORD_MAX)).toBe("18446744073709551615");
  });

  test("BINARY from hex strings (0x, spaces, commas, any case) and from byte lists, as lower-case hex", async () => {
    const calls = await argsFor(
      { path: KEY, name: "a", value: "0A1BFF", type: "BINARY" },
      { path: KEY, name: "b", value: "0x00ff", type: "BINARY" },
      { path: KEY, name: "c", value: "de ad,BE EF", type: "BINARY" },
      { path: KEY, name: "d", value: ["0", "10", "0xff", "127"], type: "BINARY" },
      { path: KEY, name: "e", value: "", type: "BINARY" },
      { path: KEY, name: "f", value: [], type: "BINARY" },
    );
    expect(calls.map((args) => [args[5], args[7]])).toEqual([
      ["REG_BINARY", "0a1bff"],
      ["REG_BINARY", "00ff"],
      ["REG_BINARY", "deadbeef"],
      ["REG_BINARY", "000aff7f"],
      ["REG_BINARY", ""],
      ["REG_BINARY", ""],
    ]);
  });

  test("MULTI_SZ joins the items with a /s separator none of them contains", async () => {
    const calls = await argsFor(
      { path: KEY, name: "a", value: ["one", "two words", "C:\\0data"], type: "MULTI_SZ" },
      { path: KEY, name: "b", value: ["a|b", "c"], type: "MULTI_SZ" },
      { path: KEY, name: "c", value: "single", type: "MULTI_SZ" },
      { path: KEY, name: "d", value: [], type: "MULTI_SZ" },
      { path: KEY, name: "e", value: "", type: "MULTI_SZ" },
    );
    expect(calls.map((args) => args.slice(5))).toEqual([
      ["REG_MULTI_SZ", "/d", "one|two words|C:\\0data", "/s", "|", ...TAIL],
      ["REG_MULTI_SZ", "/d", "a|b~c", "/s", "~", ...TAIL],
      ["REG_MULTI_SZ", "/d", "single", "/s", "|", ...TAIL],
      ["REG_MULTI_SZ", "/d", "", "/s", "|", ...TAIL],
      ["REG_MULTI_SZ", "/d", "", "/s", "|", ...TAIL],
    ]);
  });

  test("the separator falls back past the preferred ASCII set to a character no item uses", () => {
    expect(separatorFor(["|~^`#!@$;,+="])).toBe("¡");
    expect(separatorFor(["|~^`#!@$;,+=", "¡¢"])).toBe("£");
    expect(separatorFor([])).toBe("|");
  });
});

describe("key paths", () => {
  test("every hive prefix, long and short, in any case, becomes the root name reg.exe takes", async () => {
    const forms: Array<[string, string]> = [
      ["HKEY_CLASSES_ROOT\\x", "HKCR\\x"],
      ["HKCR:\\x", "HKCR\\x"],
      ["HKEY_USERS\\.DEFAULT\\x", "HKU\\.DEFAULT\\x"],
      ["HKU:\\.DEFAULT\\x", "HKU\\.DEFAULT\\x"],
      ["HKEY_LOCAL_MACHINE\\SOFTWARE\\x", "HKLM\\SOFTWARE\\x"],
      ["HKLM:\\SOFTWARE\\x", "HKLM\\SOFTWARE\\x"],
      ["HKEY_CURRENT_CONFIG\\Software\\x", "HKCC\\Software\\x"],
      ["HKCC:\\Software\\x", "HKCC\\Software\\x"],
      ["HKEY_CURRENT_USER\\Software\\x", "HKCU\\Software\\x"],
      ["HKCU:\\Software\\x", "HKCU\\Software\\x"],
      ["hklm:\\Software\\x", "HKLM\\Software\\x"],
      ["Hkey_Current_User\\Software\\x", "HKCU\\Software\\x"],
    ];
    const calls = await argsFor(...forms.map(([path]) => ({ path, name: "v", value: "x", type: "SZ" as const })));
    expect(calls.map((args) => args[1])).toEqual(forms.map(([, key]) => key));
  });

  test("doubled backslashes collapse and a trailing one is dropped; forward slashes stay (legal in key names)", async () => {
    const calls = await argsFor(
      { path: "HKLM:\\\\SOFTWARE\\\\My App\\", name: "v", value: "x", type: "SZ" },
      { path: "HKCU:\\Software\\a/b", name: "v", value: "x", type: "SZ" },
    );
    expect(calls.map((args) => args[1])).toEqual(["HKLM\\SOFTWARE\\My App", "HKCU\\Software\\a/b"]);
  });
});

describe("failures", () => {
  test("a non-zero exit from reg names the key, the value, the type and what reg said (stderr, as Windows' reg writes it)", async () => {
    const { message, calls } = await failureOf([{ path: "HKLM:\\SOFTWARE\\Locked", name: "Level", value: "3", type: "DWORD" }], [
      { exitCode: 1, stderr: "ERROR: Access is denied.\r\n" },
    ]);
    expect(calls).toHaveLength(1);
    expect(message).toBe("reg.exe could not set value 'Level' (REG_DWORD) in key 'HKLM:\\SOFTWARE\\Locked': it exited with code 1: ERROR: Access is denied.");
  });

  test("Wine's reg reports on stdout: that text is quoted when stderr is empty; the default value is named as such", async () => {
    const { message } = await failureOf([{ path: "HKCU:\\Software\\x", name: "", value: "v", type: "SZ" }], [
      { exitCode: 1, stdout: "reg: Unable to access or create the specified registry key\r\n" },
    ]);
    expect(message).toBe("reg.exe could not set the default value (REG_SZ) in key 'HKCU:\\Software\\x': it exited with code 1: reg: Unable to access or create the specified registry key");
  });

  test("a failure stops the list: later items never run and the message names the operation and what had completed", async () => {
    const items: Item[] = [
      { path: KEY, name: "first", value: "1", type: "DWORD" },
      { path: KEY, name: "second", value: "2", type: "DWORD" },
      { path: KEY, name: "third", value: "3", type: "DWORD" },
    ];
    const { message, calls } = await failureOf(items, [{ exitCode: 0 }, { exitCode: 1, stderr: "ERROR: boom\r\n" }]);
    expect(calls.map((call) => call.args[3])).toEqual(["first", "second"]);
    expect(message).toStartWith(`operation 2 of 3 (value 'second' in '${KEY}'): reg.exe could not set value 'second' (REG_DWORD)`);
    expect(message).toEndWith("ERROR: boom; operation 1 had completed");
  });

  test("reg.exe that cannot be started is a failure that says so", async () => {
    const ctx = moduleContext({
      platform: "windows",
      exec: async () => execResult({ exitCode: null, spawnError: "'C:\\Windows\\System32\\reg.exe' was not found" }),
    });
    await expect(SetRegistry.execute([{ path: KEY, name: "v", value: "x", type: "SZ" }], ctx)).rejects.toThrow(
      "could not start reg.exe to set value 'v' (REG_SZ) in key 'HKLM:\\SOFTWARE\\OpenToe': 'C:\\Windows\\System32\\reg.exe' was not found",
    );
  });

  // Values that only a reference can bring to execution (validation stops the literal ones).
  const unfit: Array<[string, Item, string]> = [
    ["DWORD above its range", { path: KEY, name: "v", value: "4294967296", type: "DWORD" }, "input value: a DWORD value must be a whole number from 0 to 4294967295; found '4294967296'"],
    ["negative QWORD", { path: KEY, name: "v", value: "-1", type: "QWORD" }, "input value: a QWORD value must be a whole number from 0 to 18446744073709551615; found '-1'"],
    ["QWORD above its range", { path: KEY, name: "v", value: "18446744073709551616", type: "QWORD" }, "found '18446744073709551616'"],
    ["a fraction", { path: KEY, name: "v", value: "1.5", type: "DWORD" }, "found '1.5'"],
    ["a word", { path: KEY, name: "v", value: "ten", type: "QWORD" }, "found 'ten'"],
    ["a float form too large to be exact", { path: KEY, name: "v", value: "1.8446744073709551615e19", type: "QWORD" }, "input value: a QWORD value above 9007199254740991 is not exact in the form '1.8446744073709551615e19' (write all its digits in quotes"],
    ["odd hex", { path: KEY, name: "v", value: "abc", type: "BINARY" }, "input value: a BINARY value must be hex bytes such as \"0a1bff\""],
    ["a byte of 256", { path: KEY, name: "v", value: ["1", "256"], type: "BINARY" }, "input value[1]: a BINARY byte value must be a whole number from 0 to 255; found '256'"],
    ["an empty MULTI_SZ item", { path: KEY, name: "v", value: ["a", ""], type: "MULTI_SZ" }, "input value[1]: a MULTI_SZ item is empty"],
    ["NUL in a MULTI_SZ item", { path: KEY, name: "v", value: ["a\0b"], type: "MULTI_SZ" }, "input value[0]: a MULTI_SZ item contains a NUL character"],
    ["NUL in an SZ", { path: KEY, name: "v", value: "a\0b", type: "SZ" }, "input value: the SZ value contains a NUL character"],
    ["NUL in the name", { path: KEY, name: "a\0b", value: "x", type: "SZ" }, "input name: the value name contains a NUL character"],
    ["a list for SZ", { path: KEY, name: "v", value: ["a"], type: "SZ" }, "input value: an SZ value is one text, not a list (use MULTI_SZ for a list of texts)"],
    ["a path without a hive", { path: "SOFTWARE\\x", name: "v", value: "x", type: "SZ" }, "input path: 'SOFTWARE\\x' does not start with a registry hive"],
    ["a short hive without its colon", { path: "HKLM\\SOFTWARE", name: "v", value: "x", type: "SZ" }, "does not start with a registry hive"],
  ];
  for (const [what, item, expected] of unfit) {
    test(`refused before reg.exe runs: ${what}`, async () => {
      const { message, calls } = await failureOf([item]);
      expect(calls).toHaveLength(0);
      expect(message).toContain(expected);
    });
  }
});

describe("validation (literal inputs, as the YAML parser read them)", () => {
  function diagnostics(inputs: string): { message: string; hint?: string; line?: number }[] {
    const yaml = `schemaVersion: 1.0\nparameters:\n  - Level: { type: string, default: '3' }\nphases:\n  - name: build\n    steps:\n      - name: Reg\n        action: SetRegistry\n        inputs:\n${inputs}`;
    const result = validateText(yaml, "doc.yaml", { platform: "windows" });
    return result.diagnostics.filter((d) => d.severity === "error").map((d) => ({ message: d.message, hint: d.hint, line: d.line }));
  }

  test("every type with literal values that fit is valid, including YAML's hex and whole floats", () => {
    const found = diagnostics(
      [
        "          - { path: 'HKLM:\\SOFTWARE\\A', name: a, value: 0x10, type: DWORD }",
        "          - { path: 'HKCU:\\Software\\A', name: b, value: 1.0, type: dword }",
        "          - { path: 'HKEY_USERS\\.DEFAULT\\A', name: c, value: '18446744073709551615', type: QWORD }",
        "          - { path: 'HKCR:\\A', name: d, value: [0, 255, 0x0a], type: BINARY }",
        "          - { path: 'HKCC:\\A', name: e, value: '0a1bff', type: BINARY }",
        "          - { path: 'HKEY_CURRENT_CONFIG\\A', name: '', value: 42, type: SZ }",
        "          - { path: 'HKEY_CLASSES_ROOT\\A', name: f, value: '%TEMP%', type: EXPAND_SZ }",
        "          - { path: 'HKEY_LOCAL_MACHINE\\A', name: g, value: [one, 2, three], type: MULTI_SZ }",
        "          - { path: 'HKEY_CURRENT_USER\\A', name: h, value: '{{ Level }}', type: DWORD }",
        "          - { path: 'HKU:\\A', name: i, value: only, type: MULTI_SZ }",
      ].join("\n") + "\n",
    );
    expect(found).toEqual([]);
  });

  test("an unquoted QWORD beyond 2^53 is refused with the advice to quote it, at its line", () => {
    const found = diagnostics("          - path: HKLM:\\SOFTWARE\\A\n            name: big\n            value: 18446744073709551615\n            type: QWORD\n");
    expect(found).toEqual([
      {
        message: "SetRegistry: a QWORD value above 9007199254740991 is not exact as a YAML number (this one reads as 18446744073709551616)",
        hint: 'write all its digits in quotes, e.g. value: "18446744073709551615"',
        line: 12,
      },
    ]);
  });

  test("numbers clearly out of range, fractions, odd hex, a number for BINARY and empty MULTI_SZ items are refused", () => {
    const found = diagnostics(
      [
        "          - { path: 'HKLM:\\A', name: a, value: 4294967296, type: DWORD }",
        "          - { path: 'HKLM:\\A', name: b, value: 1e30, type: QWORD }",
        "          - { path: 'HKLM:\\A', name: c, value: 1.1, type: DWORD }",
        "          - { path: 'HKLM:\\A', name: d, value: 'abc', type: BINARY }",
        "          - { path: 'HKLM:\\A', name: e, value: 1010, type: BINARY }",
        "          - { path: 'HKLM:\\A', name: f, value: [a, ''], type: MULTI_SZ }",
        "          - { path: 'HKLM:\\A', name: g, value: [1, 256], type: BINARY }",
        "          - { path: 'HKLM\\A', name: h, value: x, type: SZ }",
      ].join("\n") + "\n",
    );
    expect(found.map((d) => d.message)).toEqual([
      "SetRegistry: a DWORD value must be a whole number from 0 to 4294967295; found 4294967296",
      "SetRegistry: a QWORD value must be a whole number from 0 to 18446744073709551615; found 1e+30",
      "SetRegistry: a DWORD value must be a whole number from 0 to 4294967295; found 1.1",
      "SetRegistry: a BINARY value must be hex bytes such as \"0a1bff\" (an even number of hex digits); found 'abc'",
      "SetRegistry: a BINARY value is a hex string or a list of bytes; found 1010",
      "SetRegistry: a MULTI_SZ item is empty; the registry cannot store empty items (an empty item ends the list)",
      "SetRegistry: a BINARY byte value must be a whole number from 0 to 255; found 256",
      "SetRegistry: 'HKLM\\A' does not start with a registry hive",
    ]);
    expect(found[4]!.hint).toContain('put hex digits in quotes, e.g. value: "0a1bff"');
    expect(found.map((d) => d.line)).toEqual([10, 11, 12, 13, 14, 15, 16, 17]);
  });
});
