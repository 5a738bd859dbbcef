import { describe, expect, test } from "bun:test";
import { parseYamlText } from "../../src/document/parse.ts";
import { prepareInputs } from "../../src/engine/inputs.ts";
import { StepError } from "../../src/errors.ts";
import type { Scope } from "../../src/expr/scope.ts";
import { modules } from "../../src/modules/index.ts";

const scope = (variables: Record<string, string> = {}): Scope => ({ variables: new Map(Object.entries(variables)), steps: new Map() });

function inputsOf(yaml: string) {
  const { value, map } = parseYamlText(yaml, "x.yaml");
  return { raw: (value as { inputs: unknown }).inputs, map };
}

describe("prepareInputs", () => {
  test("numbers keep the text the author wrote, references resolve", () => {
    const { raw, map } = inputsOf("inputs:\n  commands:\n    - echo 1.0 {{ Who }}\n    - 1.0\n");
    const prepared = prepareInputs(modules.ExecuteBash, raw, ["inputs"], map, scope({ Who: "world" }));
    expect(prepared.value).toEqual({ commands: ["echo 1.0 world", "1.0"] });
    expect(prepared.list).toEqual([{ commands: ["echo 1.0 world", "1.0"] }]);
  });
  test("flags, whole numbers and case-insensitive choices become typed values, defaults fill in", () => {
    const { raw, map } = inputsOf("inputs:\n  - source: https://x.test/a\n    destination: /tmp/a\n    overwrite: '{{ Over }}'\n    algorithm: sha256\n    checksum: " + "a".repeat(64) + "\n");
    const prepared = prepareInputs(modules.WebDownload, raw, ["inputs"], map, scope({ Over: "FALSE" }));
    expect(prepared.value).toEqual([{ source: "https://x.test/a", destination: "/tmp/a", overwrite: false, algorithm: "SHA256", checksum: "a".repeat(64), ignoreCertificateErrors: false }]);
  });
  test("the record form lists absent fields as empty text or null", () => {
    const { raw, map } = inputsOf("inputs:\n  document: child.yaml\n");
    const prepared = prepareInputs(modules.ExecuteDocument, raw, ["inputs"], map, scope());
    expect(prepared.list).toEqual([{ document: "child.yaml", "document-s3-bucket-owner": "", phases: "", parameters: null }]);
  });
  test("a reference that resolves to nonsense for a typed field fails the step clearly", () => {
    const { raw, map } = inputsOf("inputs:\n  delaySeconds: '{{ Delay }}'\n");
    expect(() => prepareInputs(modules.Reboot, raw, ["inputs"], map, scope({ Delay: "soon" }))).toThrow(StepError);
    expect(() => prepareInputs(modules.Reboot, raw, ["inputs"], map, scope({ Delay: "soon" }))).toThrow(/delaySeconds/);
  });
  test("a single mapping for a list module becomes a one-element list", () => {
    const { raw, map } = inputsOf("inputs:\n  path: /tmp/x\n");
    expect(prepareInputs(modules.DeleteFile, raw, ["inputs"], map, scope()).value).toEqual([{ path: "/tmp/x" }]);
  });
});

/**
 * Flags written as YAML 1.1 words (current-awstoe.md §7): exactly the spellings of
 * https://yaml.org/type/bool.html become booleans, literal or resolved from a reference; text
 * inputs keep the word. Before this change every word here failed the step ("expected true or false").
 */
describe("prepareInputs: YAML 1.1 boolean words", () => {
  const words: [string, boolean][] = [
    ...["y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"].map((w) => [w, true] as [string, boolean]),
    ...["n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"].map((w) => [w, false] as [string, boolean]),
  ];
  const createFile = (overwrite: string, content = "hello") =>
    inputsOf(`inputs:\n  - path: /tmp/x\n    content: ${content}\n    overwrite: ${overwrite}\n`);

  test.each(words)("overwrite: %s becomes %p", (word, meaning) => {
    const { raw, map } = createFile(word);
    expect(prepareInputs(modules.CreateFile, raw, ["inputs"], map, scope()).value).toEqual([
      expect.objectContaining({ path: "/tmp/x", content: "hello", overwrite: meaning }),
    ]);
  });

  test.each(words)("a reference resolving to %s becomes %p too", (word, meaning) => {
    const { raw, map } = createFile("'{{ Overwrite }}'");
    expect(prepareInputs(modules.CreateFile, raw, ["inputs"], map, scope({ Overwrite: word })).value).toEqual([
      expect.objectContaining({ overwrite: meaning }),
    ]);
  });

  test("a text input keeps yes, no, on and off as the text written", () => {
    for (const word of ["yes", "No", "ON", "off", "y"]) {
      const { raw, map } = createFile("true", word);
      expect(prepareInputs(modules.CreateFile, raw, ["inputs"], map, scope()).value).toEqual([
        expect.objectContaining({ content: word, overwrite: true }),
      ]);
    }
    const { raw, map } = inputsOf("inputs:\n  commands:\n    - yes\n    - 'no'\n");
    expect(prepareInputs(modules.ExecuteBash, raw, ["inputs"], map, scope()).value).toEqual({ commands: ["yes", "no"] });
  });

  test("other spellings still fail the step", () => {
    for (const word of ["yess", "yEs", "oN", "t", "1"]) {
      const { raw, map } = createFile("'{{ Overwrite }}'");
      expect(() => prepareInputs(modules.CreateFile, raw, ["inputs"], map, scope({ Overwrite: word }))).toThrow(/overwrite: expected true or false/);
    }
  });
});

describe("a reference that does not resolve to the field's type", () => {
  test("fails the step instead of reaching the module as text", async () => {
    const { findModule } = await import("../../src/modules/index.ts");
    const scope = { variables: new Map<string, string>(), steps: new Map() };
    const module = findModule("WebDownload")!;
    expect(() => prepareInputs(module, [{ source: "https://example.com/a", destination: "/tmp/a", ignoreCertificateErrors: "{{ Insecure }}" }], [], undefined, scope)).toThrow("after resolving references, input [0].ignoreCertificateErrors: '{{ Insecure }}' is not true or false");
    const reboot = findModule("Reboot")!;
    expect(() => prepareInputs(reboot, { delaySeconds: "{{ Delay }}" }, [], undefined, scope)).toThrow("'{{ Delay }}' is not a whole number");
  });
});
