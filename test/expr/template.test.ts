import { describe, expect, test } from "bun:test";
import { classifyReference, findReferences, unclosedReference } from "../../src/expr/template.ts";

describe("findReferences", () => {
  test("finds every reference with its offsets, trimming the inner spaces", () => {
    const text = "a {{X}} b {{ loop.value }} c {{build.One.outputs.stdout }}";
    const refs = findReferences(text);
    expect(refs.map((r) => r.expr)).toEqual(["X", "loop.value", "build.One.outputs.stdout"]);
    for (const r of refs) expect(text.slice(r.start, r.end)).toBe(r.raw);
  });
  test("text without references has none", () => {
    expect(findReferences("echo ${HOME} { x }")).toEqual([]);
  });
  test("an unclosed {{ is found, a closed one is not", () => {
    expect(unclosedReference("echo {{ X")).toBe(5);
    expect(unclosedReference("echo {{ X }} done")).toBeUndefined();
  });
});

describe("classifyReference", () => {
  test("plain names are variables", () => {
    expect(classifyReference("My-Param_1")).toEqual({ kind: "variable", name: "My-Param_1" });
  });
  test("loop forms", () => {
    expect(classifyReference("loop.index")).toEqual({ kind: "loop", loop: "loop", field: "index" });
    expect(classifyReference("files.value")).toEqual({ kind: "loop", loop: "files", field: "value" });
  });
  test("chaining with and without an index", () => {
    expect(classifyReference("build.Fetch.outputs.stdout")).toEqual({ kind: "chain", phase: "build", step: "Fetch", part: "outputs", index: undefined, field: "stdout" });
    expect(classifyReference("build.Get.inputs[2].source")).toEqual({ kind: "chain", phase: "build", step: "Get", part: "inputs", index: 2, field: "source" });
  });
  test("anything else is other", () => {
    expect(classifyReference("a b c")).toEqual({ kind: "other" });
    expect(classifyReference("build.Step.stdout.x")).toEqual({ kind: "other" });
  });
});
