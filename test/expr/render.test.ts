import { describe, expect, test } from "bun:test";
import { ResolveError } from "../../src/errors.ts";
import { renderString, renderValue, type ChainUse } from "../../src/expr/render.ts";
import type { Scope, StepData } from "../../src/expr/scope.ts";

function scope(extra: Partial<Scope> = {}): Scope {
  const steps = new Map<string, StepData>([
    ["build.Get", { inputs: [{ source: "s3://b/k", count: 3, flag: true, none: null, list: ["a", 1], map: { k: "v" } }], outputs: [{ stdout: "hello" }, { stdout: "second" }] }],
    ["build.Skipped", { inputs: [{ path: "/tmp/x" }], outputs: undefined }],
    ["build.Two", { inputs: [{ a: "1" }, { a: "2" }], outputs: [] }],
    ["build.Bare", { inputs: [{}], outputs: [{}] }],
  ]);
  return { variables: new Map([["Name", "world"], ["Nested", "{{ Name }}"]]), steps, ...extra };
}

function resolveError(fn: () => unknown): ResolveError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ResolveError);
    return error as ResolveError;
  }
  throw new Error("expected a ResolveError");
}

describe("renderString: parameters and constants", () => {
  test("substitutes known names with any inner spacing", () => {
    expect(renderString("hi {{Name}}, {{ Name }}, {{Name }}!", scope())).toBe("hi world, world, world!");
  });
  test("unknown names stay verbatim with the braces as written", () => {
    expect(renderString("a {{  Missing }} b", scope())).toBe("a {{  Missing }} b");
  });
  test("names are case-sensitive", () => {
    expect(renderString("{{ name }}", scope())).toBe("{{ name }}");
  });
  test("substituted text is not scanned again", () => {
    expect(renderString("{{ Nested }}", scope())).toBe("{{ Name }}");
  });
  test("text without references is returned unchanged", () => {
    expect(renderString("echo ${HOME} { x }", scope())).toBe("echo ${HOME} { x }");
  });
  test("unclassifiable references stay verbatim", () => {
    expect(renderString("x {{ a b }} y {{ build.Get.stdout.x }}", scope())).toBe("x {{ a b }} y {{ build.Get.stdout.x }}");
  });
});

describe("renderString: loop variables", () => {
  const looping = scope({ loop: { name: "files", index: 2, value: "c.txt" } });
  test("loop.index and loop.value", () => {
    expect(renderString("{{ loop.index }}:{{ loop.value }}", looping)).toBe("2:c.txt");
  });
  test("the loop's own name works too", () => {
    expect(renderString("{{ files.index }}={{files.value}}", looping)).toBe("2=c.txt");
  });
  test("another loop's name stays verbatim", () => {
    expect(renderString("{{ other.value }}", looping)).toBe("{{ other.value }}");
  });
  test("without a loop, loop references stay verbatim", () => {
    expect(renderString("{{ loop.value }} {{ loop.index }}", scope())).toBe("{{ loop.value }} {{ loop.index }}");
  });
  test("an unnamed loop answers only to loop", () => {
    const unnamed = scope({ loop: { index: 0, value: "v" } });
    expect(renderString("{{ loop.value }} {{ files.value }}", unnamed)).toBe("v {{ files.value }}");
  });
});

describe("renderString: chaining", () => {
  test("outputs default to element 0; an index picks another", () => {
    expect(renderString("{{ build.Get.outputs.stdout }}|{{ build.Get.outputs[1].stdout }}", scope())).toBe("hello|second");
  });
  test("inputs, with and without an index", () => {
    expect(renderString("{{build.Get.inputs.source}} {{ build.Two.inputs[1].a }}", scope())).toBe("s3://b/k 2");
  });
  test("scalars as text, null as empty, lists and mappings as compact JSON", () => {
    const s = scope();
    expect(renderString("{{ build.Get.inputs.count }}", s)).toBe("3");
    expect(renderString("{{ build.Get.inputs.flag }}", s)).toBe("true");
    expect(renderString("[{{ build.Get.inputs.none }}]", s)).toBe("[]");
    expect(renderString("{{ build.Get.inputs.list }}", s)).toBe('["a",1]');
    expect(renderString("{{ build.Get.inputs.map }}", s)).toBe('{"k":"v"}');
  });
  test("inputs of a skipped step still resolve", () => {
    expect(renderString("{{ build.Skipped.inputs.path }}", scope())).toBe("/tmp/x");
  });
  test("outputs of a skipped or failed step fail with a clear reason", () => {
    const error = resolveError(() => renderString("{{ build.Skipped.outputs.stdout }}", scope()));
    expect(error.message).toBe("chaining expression 'build.Skipped.outputs.stdout' could not be resolved: step 'build/Skipped' was skipped or failed, so it has no outputs");
    expect(error.expression).toBe("build.Skipped.outputs.stdout");
  });
  test("an unknown step fails", () => {
    expect(resolveError(() => renderString("{{ build.Nope.outputs.stdout }}", scope())).message).toBe(
      "chaining expression 'build.Nope.outputs.stdout' could not be resolved: step 'build/Nope' has not run before this step",
    );
  });
  test("an index out of range fails", () => {
    expect(resolveError(() => renderString("{{ build.Two.inputs[3].a }}", scope())).message).toBe(
      "chaining expression 'build.Two.inputs[3].a' could not be resolved: inputs has 2 items; index 3 is out of range",
    );
    expect(resolveError(() => renderString("{{ build.Two.outputs.a }}", scope())).message).toEndWith("outputs has 0 items; index 0 is out of range");
  });
  test("a missing field fails and lists the fields there are", () => {
    expect(resolveError(() => renderString("{{ build.Get.outputs.stdot }}", scope())).message).toBe(
      "chaining expression 'build.Get.outputs.stdot' could not be resolved: outputs have no field 'stdot' (they have: stdout)",
    );
    expect(resolveError(() => renderString("{{ build.Bare.inputs.x }}", scope())).message).toEndWith("inputs have no field 'x' (they have none)");
  });
  test("inherited properties are not fields", () => {
    expect(resolveError(() => renderString("{{ build.Bare.outputs.constructor }}", scope())).message).toContain("no field 'constructor'");
  });
  test("records each chaining reference and whether it resolved, never the value", () => {
    const used: ChainUse[] = [];
    renderString("{{ Name }} {{ build.Get.outputs.stdout }} {{ build.Get.inputs.source }}", scope(), used);
    expect(used).toEqual([
      { expression: "build.Get.outputs.stdout", resolved: true },
      { expression: "build.Get.inputs.source", resolved: true },
    ]);
    expect(() => renderString("{{ build.Skipped.outputs.stdout }}", scope(), used)).toThrow(ResolveError);
    expect(used.at(-1)).toEqual({ expression: "build.Skipped.outputs.stdout", resolved: false });
  });
  test("chained values are not scanned again", () => {
    const s = scope({ steps: new Map([["build.A", { inputs: [{}], outputs: [{ stdout: "{{ Name }}" }] }]]) });
    expect(renderString("{{ build.A.outputs.stdout }}", s)).toBe("{{ Name }}");
  });
});

describe("renderValue", () => {
  test("renders strings at any depth and keeps other scalars and keys", () => {
    const input = { "{{ Name }}": "{{ Name }}", n: 1, b: false, z: null, list: ["x {{ Name }}", 2, { deep: "{{ build.Get.outputs.stdout }}" }] };
    expect(renderValue(input, scope())).toEqual({ "{{ Name }}": "world", n: 1, b: false, z: null, list: ["x world", 2, { deep: "hello" }] });
  });
  test("is a copy: the input is not changed", () => {
    const input = { a: ["{{ Name }}"] };
    const output = renderValue(input, scope()) as { a: string[] };
    expect(output).not.toBe(input);
    expect(output.a).not.toBe(input.a);
    expect(input.a[0]).toBe("{{ Name }}");
  });
  test("a __proto__ key stays an own data key", () => {
    const input = JSON.parse('{"__proto__": {"x": "{{ Name }}"}}') as object;
    const output = renderValue(input, scope()) as Record<string, unknown>;
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(output, "__proto__")?.value).toEqual({ x: "world" });
  });
  test("collects chaining uses across the whole value", () => {
    const used: ChainUse[] = [];
    renderValue(["{{ build.Get.outputs.stdout }}", { k: "{{ build.Get.inputs.source }}" }], scope(), used);
    expect(used.map((u) => u.expression)).toEqual(["build.Get.outputs.stdout", "build.Get.inputs.source"]);
  });
});
