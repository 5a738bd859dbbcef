import { describe, expect, test } from "bun:test";
import { ResolveError } from "../../src/errors.ts";
import { expandLoop } from "../../src/expr/loop.ts";
import { MAX_LOOP_ITERATIONS } from "../../src/model/component.ts";

const vars: Record<string, string> = { Items: "a;b;c", Empty: "" };
const render = (text: string) => text.replace(/\{\{\s*(\w+)\s*\}\}/g, (raw, name: string) => vars[name] ?? raw);
const none = (text: string) => text;

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ResolveError);
    return (error as Error).message;
  }
  throw new Error("expected a ResolveError");
}

describe("expandLoop: for", () => {
  test("counts up inclusively by updateBy", () => {
    expect(expandLoop({ for: { start: 1, end: 10, updateBy: 3 } }, none)).toEqual({ type: "for", values: ["1", "4", "7", "10"] });
  });
  test("stops before passing end", () => {
    expect(expandLoop({ for: { start: 0, end: 5, updateBy: 2 } }, none).values).toEqual(["0", "2", "4"]);
  });
  test("counts down with a negative updateBy", () => {
    expect(expandLoop({ for: { start: 3, end: -1, updateBy: -2 } }, none).values).toEqual(["3", "1", "-1"]);
  });
  test("start equal to end is one iteration", () => {
    expect(expandLoop({ for: { start: 7, end: 7, updateBy: -5 } }, none).values).toEqual(["7"]);
  });
  test("keeps the loop name", () => {
    expect(expandLoop({ name: "n", for: { start: 1, end: 2, updateBy: 1 } }, none)).toEqual({ name: "n", type: "for", values: ["1", "2"] });
  });
  test("updateBy 0 and the wrong direction fail instead of looping forever", () => {
    expect(message(() => expandLoop({ for: { start: 1, end: 5, updateBy: 0 } }, none))).toBe("loop: updateBy must not be 0");
    expect(message(() => expandLoop({ for: { start: 1, end: 5, updateBy: -1 } }, none))).toBe("loop: counting from 1 by -1 never reaches 5");
  });
  test("non-integers fail", () => {
    expect(message(() => expandLoop({ for: { start: 1.5, end: 5, updateBy: 1 } }, none))).toBe("loop: for.start must be a whole number");
    expect(message(() => expandLoop({ for: { start: 1, end: "5", updateBy: 1 } }, none))).toBe("loop: for.end must be a whole number");
  });
  test("the iteration cap: exactly the maximum is allowed, one more is not", () => {
    expect(expandLoop({ for: { start: 1, end: MAX_LOOP_ITERATIONS, updateBy: 1 } }, none).values).toHaveLength(MAX_LOOP_ITERATIONS);
    expect(message(() => expandLoop({ for: { start: 0, end: MAX_LOOP_ITERATIONS, updateBy: 1 } }, none))).toBe(
      `loop has ${MAX_LOOP_ITERATIONS + 1} iterations; at most ${MAX_LOOP_ITERATIONS} are allowed`,
    );
  });
  test("a huge range is refused without being built", () => {
    expect(message(() => expandLoop({ for: { start: 0, end: Number.MAX_SAFE_INTEGER, updateBy: 1 } }, none))).toContain("at most");
  });
});

describe("expandLoop: forEach list", () => {
  test("renders each item; numbers and booleans become text", () => {
    expect(expandLoop({ forEach: ["x", "{{ Items }}", 2, true, 1.5] }, render)).toEqual({ type: "forEach", values: ["x", "a;b;c", "2", "true", "1.5"] });
  });
  test("a list item is never split", () => {
    expect(expandLoop({ forEach: ["a,b"] }, none).values).toEqual(["a,b"]);
  });
  test("non-text items and an empty list fail", () => {
    expect(message(() => expandLoop({ forEach: ["a", { b: 1 }] }, none))).toBe("loop: forEach item 1 is not a single value");
    expect(message(() => expandLoop({ forEach: [] }, none))).toBe("loop: forEach has no items");
  });
  test("too many items fail", () => {
    const items = Array.from({ length: MAX_LOOP_ITERATIONS + 1 }, (_, i) => String(i));
    expect(message(() => expandLoop({ forEach: items }, none))).toBe(`loop has ${MAX_LOOP_ITERATIONS + 1} iterations; at most ${MAX_LOOP_ITERATIONS} are allowed`);
  });
});

describe("expandLoop: forEach delimited text", () => {
  test("splits on comma by default", () => {
    expect(expandLoop({ forEach: { list: "a,b,c" } }, none).values).toEqual(["a", "b", "c"]);
  });
  test("renders the list once, then splits on the delimiter", () => {
    let calls = 0;
    const counting = (text: string) => (calls++, render(text));
    expect(expandLoop({ name: "it", forEach: { list: "{{ Items }};d", delimiter: ";" } }, counting)).toEqual({ name: "it", type: "forEach", values: ["a", "b", "c", "d"] });
    expect(calls).toBe(1);
  });
  test("keeps empty fields and does not trim", () => {
    expect(expandLoop({ forEach: { list: " a,,b ," } }, none).values).toEqual([" a", "", "b ", ""]);
  });
  test("an empty list text is one empty item", () => {
    expect(expandLoop({ forEach: { list: "{{ Empty }}" } }, render).values).toEqual([""]);
  });
  test("newline, tab and space delimiters", () => {
    expect(expandLoop({ forEach: { list: "a\nb", delimiter: "\n" } }, none).values).toEqual(["a", "b"]);
    expect(expandLoop({ forEach: { list: "a\tb c", delimiter: "\t" } }, none).values).toEqual(["a", "b c"]);
    expect(expandLoop({ forEach: { list: "a b", delimiter: " " } }, none).values).toEqual(["a", "b"]);
  });
  test("a rendered list that grows past the cap fails", () => {
    const big = () => ",".repeat(MAX_LOOP_ITERATIONS);
    expect(message(() => expandLoop({ forEach: { list: "{{ Big }}" } }, big))).toBe(`loop has ${MAX_LOOP_ITERATIONS + 1} iterations; at most ${MAX_LOOP_ITERATIONS} are allowed`);
  });
  test("a delimiter outside the allowed set fails", () => {
    expect(message(() => expandLoop({ forEach: { list: "a|b", delimiter: "|" } }, none))).toStartWith("loop: delimiter must be one of");
  });
});

describe("expandLoop: malformed loops", () => {
  test("both or neither of for/forEach", () => {
    expect(message(() => expandLoop({ for: { start: 1, end: 1, updateBy: 1 }, forEach: ["a"] }, none))).toBe("loop: give either for or forEach, not both");
    expect(message(() => expandLoop({ name: "x" }, none))).toBe("loop: needs a for or a forEach");
    expect(message(() => expandLoop("nope", none))).toBe("loop: expected a mapping with for or forEach");
  });
  test("errors carry the expression 'loop'", () => {
    try {
      expandLoop({}, none);
    } catch (error) {
      expect((error as ResolveError).expression).toBe("loop");
      return;
    }
    throw new Error("expected a throw");
  });
});
