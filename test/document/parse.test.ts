import { describe, expect, test } from "bun:test";
import { MAX_NESTING, parseYamlText } from "../../src/document/parse.ts";

describe("parseYamlText", () => {
  test("keeps the text of numbers and booleans, and positions of values", () => {
    const { value, map, diagnostics } = parseYamlText("schemaVersion: 1.0\nmode: 0755\nflag: true\nlist:\n  - a\n", "x.yaml");
    expect(diagnostics).toEqual([]);
    expect(value).toEqual({ schemaVersion: 1, mode: 755, flag: true, list: ["a"] });
    expect(map.sourceText(["schemaVersion"])).toBe("1.0");
    expect(map.sourceText(["mode"])).toBe("0755");
    expect(map.locate(["list", 0])).toMatchObject({ line: 5, column: 5 });
    expect(map.locate(["mode"], "key")).toMatchObject({ line: 2, column: 1 });
  });
  test("aliases and block scalars work", () => {
    const { value } = parseYamlText("base: &b\n  x: 1\ncopy: *b\ntext: |\n  one\n  two\n", "x.yaml");
    expect(value).toEqual({ base: { x: 1 }, copy: { x: 1 }, text: "one\ntwo\n" });
  });
  test("duplicate keys are reported at the second key", () => {
    const { diagnostics } = parseYamlText("a: 1\nb: 2\na: 3\n", "x.yaml");
    expect(diagnostics.map((d) => [d.code, d.line])).toEqual([["E_YAML_DUPLICATE_KEY", 3]]);
  });
  test("an alias bomb stops at the expansion budget", () => {
    const lines = ['l0: &l0 ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) lines.push(`l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(",")}]`);
    const started = performance.now();
    const { diagnostics } = parseYamlText(lines.join("\n"), "bomb.yaml");
    expect(diagnostics[0]?.code).toBe("E_YAML_ALIAS_LIMIT");
    expect(performance.now() - started).toBeLessThan(5000);
  });
  test("deep flow nesting is refused before the parser recurses", () => {
    const { diagnostics } = parseYamlText(`a: ${"[".repeat(100_000)}${"]".repeat(100_000)}`, "deep.yaml");
    expect(diagnostics[0]?.code).toBe("E_YAML_TOO_DEEP");
  });
  test("deep block nesting beyond the limit is refused", () => {
    let text = "";
    for (let i = 0; i < MAX_NESTING + 5; i++) text += `${" ".repeat(i)}k:\n`;
    const { diagnostics } = parseYamlText(text, "deep.yaml");
    expect(diagnostics[0]?.code).toBe("E_YAML_TOO_DEEP");
  });
  test("brackets inside shell text do not count as nesting", () => {
    const script = Array.from({ length: 200 }, () => "    - if [ -f /x ]; then echo [ok]; fi").join("\n");
    const { diagnostics } = parseYamlText(`c:\n${script}\n`, "x.yaml");
    expect(diagnostics).toEqual([]);
  });
  test("a second YAML document in the file is an error", () => {
    const { diagnostics } = parseYamlText("a: 1\n---\nb: 2\n", "x.yaml");
    expect(diagnostics.map((d) => d.code)).toContain("E_YAML_MULTI_DOCUMENT");
  });
  test("syntax errors carry positions", () => {
    const { diagnostics } = parseYamlText("a:\n  - b\n c: d\n", "x.yaml");
    expect(diagnostics[0]?.code).toBe("E_YAML_SYNTAX");
    expect(diagnostics[0]?.line).toBeGreaterThanOrEqual(2);
  });
});
