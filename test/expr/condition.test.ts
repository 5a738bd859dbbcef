import { describe, expect, test } from "bun:test";
import { ResolveError } from "../../src/errors.ts";
import { compareText, evaluateCondition, normalizeIf, parseNumber, type Probe } from "../../src/expr/condition.ts";

const vars: Record<string, string> = { Mode: "Debug", Count: " 10 ", Empty: "", Bad: "(" };

/** Resolves `{{ Name }}` from `vars`; `{{ Boom }}` fails like an unresolvable chaining reference. */
function render(text: string): string {
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (raw, name: string) => {
    if (name === "Boom") throw new ResolveError("chaining expression 'Boom' could not be resolved: test", "Boom");
    return vars[name] ?? raw;
  });
}

/** A fake machine that records every question it is asked. */
function fakeProbe() {
  const calls: string[] = [];
  const probe: Probe = {
    binaryExists: (name) => (calls.push(`binary:${name}`), name === "apt-get"),
    fileExists: (path) => (calls.push(`file:${path}`), path === "/etc/hosts"),
    folderExists: (path) => (calls.push(`folder:${path}`), path === "/etc"),
    fileDigest: (path, algorithm) => {
      calls.push(`digest:${algorithm}:${path}`);
      if (path !== "/abc.txt") return undefined;
      return { md5: "900150983cd24fb0d6963f7d28e17f72", sha1: "a9993e364706816aba3e25717850c26c9cd0d89d", sha256: "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", sha512: "ddaf35a193617aba" }[algorithm];
    },
  };
  return { probe, calls };
}

function evaluate(expression: Record<string, unknown>, probe: Probe = fakeProbe().probe) {
  return evaluateCondition(expression, render, probe);
}
const is = (expression: Record<string, unknown>) => evaluate(expression).value;

describe("stringIsEmpty", () => {
  test("true for zero characters, also after rendering", () => {
    expect(is({ stringIsEmpty: "" })).toBe(true);
    expect(is({ stringIsEmpty: "{{ Empty }}" })).toBe(true);
  });
  test("false for anything else, spaces included", () => {
    expect(is({ stringIsEmpty: " " })).toBe(false);
    expect(is({ stringIsEmpty: "{{ Mode }}" })).toBe(false);
  });
  test("explains with the resolved operand", () => {
    expect(evaluate({ stringIsEmpty: "{{ Mode }}" }).explain).toBe("stringIsEmpty: 'Debug' is false");
  });
});

describe("stringIsWhitespace", () => {
  test("true for spaces, tabs and newlines", () => {
    expect(is({ stringIsWhitespace: " \t\r\n" })).toBe(true);
    expect(is({ stringIsWhitespace: "\u00a0" })).toBe(true);
  });
  test("false for the empty string and for any other character", () => {
    expect(is({ stringIsWhitespace: "" })).toBe(false);
    expect(is({ stringIsWhitespace: " x " })).toBe(false);
  });
});

describe("stringEquals", () => {
  test("equal ignoring letter case", () => {
    expect(is({ stringEquals: "debug", value: "{{ Mode }}" })).toBe(true);
    expect(is({ stringEquals: "ÄBC", value: "äbc" })).toBe(true);
  });
  test("different text, and spaces are not trimmed", () => {
    expect(is({ stringEquals: "abc", value: "ABD" })).toBe(false);
    expect(is({ stringEquals: "abc", value: "abc " })).toBe(false);
  });
  test("explain shows both resolved operands", () => {
    expect(evaluate({ stringEquals: "abc", value: "ABD" }).explain).toBe("stringEquals: 'abc' = 'ABD' is false");
  });
});

describe("stringLessThan", () => {
  test("true when the baseline sorts before value", () => {
    expect(is({ stringLessThan: "a", value: "b" })).toBe(true);
    expect(is({ stringLessThan: "A", value: "b" })).toBe(true);
    expect(is({ stringLessThan: "ab", value: "abc" })).toBe(true);
  });
  test("false when equal (any case) or after", () => {
    expect(is({ stringLessThan: "b", value: "a" })).toBe(false);
    expect(is({ stringLessThan: "B", value: "b" })).toBe(false);
  });
  test("compares text, not numbers", () => {
    expect(is({ stringLessThan: "10", value: "9" })).toBe(true);
  });
  test("explain", () => {
    expect(evaluate({ stringLessThan: "a", value: "b" }).explain).toBe("stringLessThan: 'a' < 'b' is true");
  });
});

describe("stringLessThanEquals", () => {
  test("true when before or equal ignoring case", () => {
    expect(is({ stringLessThanEquals: "B", value: "b" })).toBe(true);
    expect(is({ stringLessThanEquals: "a", value: "b" })).toBe(true);
  });
  test("false when after", () => {
    expect(is({ stringLessThanEquals: "c", value: "b" })).toBe(false);
  });
});

describe("stringGreaterThan", () => {
  test("true when the baseline sorts after value", () => {
    expect(is({ stringGreaterThan: "b", value: "A" })).toBe(true);
  });
  test("false when equal or before", () => {
    expect(is({ stringGreaterThan: "b", value: "B" })).toBe(false);
    expect(is({ stringGreaterThan: "a", value: "b" })).toBe(false);
  });
});

describe("stringGreaterThanEquals", () => {
  test("true when after or equal", () => {
    expect(is({ stringGreaterThanEquals: "b", value: "B" })).toBe(true);
    expect(is({ stringGreaterThanEquals: "c", value: "b" })).toBe(true);
  });
  test("false when before", () => {
    expect(is({ stringGreaterThanEquals: "a", value: "b" })).toBe(false);
  });
});

describe("compareText", () => {
  test("code-point order, not UTF-16 code units", () => {
    // U+1F600 is one code point above U+FFFD; as UTF-16 its first unit 0xD83D sorts below 0xFFFD.
    expect(compareText("\u{1F600}", "\uFFFD")).toBe(1);
    expect(compareText("\uFFFD", "\u{1F600}")).toBe(-1);
  });
  test("a prefix sorts first; equal ignoring case is 0", () => {
    expect(compareText("ab", "abc")).toBe(-1);
    expect(compareText("abc", "ab")).toBe(1);
    expect(compareText("ABC", "abc")).toBe(0);
  });
});

describe("patternMatches", () => {
  test("an unanchored search in value", () => {
    expect(is({ patternMatches: "bu", value: "{{ Mode }}" })).toBe(true);
    expect(is({ patternMatches: "^\\d+\\.\\d+$", value: "1.25" })).toBe(true);
  });
  test("no match", () => {
    expect(is({ patternMatches: "^bu", value: "Debug" })).toBe(false);
    expect(is({ patternMatches: "^\\d+$", value: "1.25" })).toBe(false);
  });
  test("case-sensitive like the regex says", () => {
    expect(is({ patternMatches: "debug", value: "Debug" })).toBe(false);
  });
  test("unicode mode: \\u{…} escapes work", () => {
    expect(is({ patternMatches: "^\\u{1F600}$", value: "\u{1F600}" })).toBe(true);
  });
  test("an invalid pattern (e.g. from a reference) is false, not an error", () => {
    const result = evaluate({ patternMatches: "{{ Bad }}", value: "x" });
    expect(result).toEqual({ value: false, explain: "patternMatches: '(' is not a valid regular expression, so false" });
  });
});

describe("numberEquals", () => {
  test("equal numbers in any decimal spelling", () => {
    expect(is({ numberEquals: "1.0", value: "1" })).toBe(true);
    expect(is({ numberEquals: "10", value: "{{ Count }}" })).toBe(true);
    expect(is({ numberEquals: "1e3", value: "+1000" })).toBe(true);
    expect(is({ numberEquals: ".5", value: "0.50" })).toBe(true);
    expect(is({ numberEquals: "-0", value: "0" })).toBe(true);
  });
  test("different numbers", () => {
    expect(is({ numberEquals: "1", value: "1.01" })).toBe(false);
  });
  test("text that does not parse makes the comparison false", () => {
    for (const bad of ["a10", "", " ", "0x10", "Infinity", "NaN", "1_000", "1e999", "1,5", "5.."]) {
      expect(is({ numberEquals: bad, value: bad })).toBe(false);
    }
  });
  test("numbers from YAML are read as their text", () => {
    expect(is({ numberEquals: 3, value: "3.0" })).toBe(true);
  });
  test("explain names the operand that is not a number", () => {
    expect(evaluate({ numberEquals: "1", value: "a10" }).explain).toBe("numberEquals: 'a10' is not a number, so false");
    expect(evaluate({ numberEquals: "1.0", value: "{{ Count }}" }).explain).toBe("numberEquals: 1.0 = 10 is false");
  });
});

describe("numberLessThan", () => {
  test("true when baseline < value, numerically", () => {
    expect(is({ numberLessThan: "9", value: "10" })).toBe(true);
    expect(is({ numberLessThan: "-2.5", value: "-2" })).toBe(true);
  });
  test("false when equal or greater, or when a side does not parse", () => {
    expect(is({ numberLessThan: "10", value: "10.0" })).toBe(false);
    expect(is({ numberLessThan: "11", value: "10" })).toBe(false);
    expect(is({ numberLessThan: "1", value: "two" })).toBe(false);
  });
});

describe("numberLessThanEquals", () => {
  test("true when less or equal", () => {
    expect(is({ numberLessThanEquals: "10", value: "10.0" })).toBe(true);
    expect(is({ numberLessThanEquals: "2", value: "3" })).toBe(true);
  });
  test("false when greater", () => {
    expect(is({ numberLessThanEquals: "3", value: "2" })).toBe(false);
  });
});

describe("numberGreaterThan", () => {
  test("true when baseline > value", () => {
    expect(is({ numberGreaterThan: "10", value: "9" })).toBe(true);
  });
  test("false when equal or less", () => {
    expect(is({ numberGreaterThan: "9", value: "9" })).toBe(false);
    expect(is({ numberGreaterThan: "8", value: "9" })).toBe(false);
  });
});

describe("numberGreaterThanEquals", () => {
  test("true when greater or equal", () => {
    expect(is({ numberGreaterThanEquals: "9", value: "9" })).toBe(true);
    expect(is({ numberGreaterThanEquals: "1e1", value: "9" })).toBe(true);
  });
  test("false when less", () => {
    expect(is({ numberGreaterThanEquals: "8", value: "9" })).toBe(false);
  });
});

describe("parseNumber", () => {
  test("trimmed decimal with sign, point and exponent", () => {
    expect(parseNumber(" -1.5e2\n")).toBe(-150);
    expect(parseNumber("5.")).toBe(5);
    expect(parseNumber("0x1A")).toBeUndefined();
    expect(parseNumber("")).toBeUndefined();
  });
});

describe("binaryExists", () => {
  test("asks the probe with the rendered name", () => {
    const { probe, calls } = fakeProbe();
    expect(evaluate({ binaryExists: "apt-get" }, probe).value).toBe(true);
    expect(evaluate({ binaryExists: "yum" }, probe)).toEqual({ value: false, explain: "binaryExists: 'yum' is false" });
    expect(calls).toEqual(["binary:apt-get", "binary:yum"]);
  });
  test("an empty name is false without asking", () => {
    const { probe, calls } = fakeProbe();
    expect(evaluate({ binaryExists: "{{ Empty }}" }, probe).value).toBe(false);
    expect(calls).toEqual([]);
  });
  test("a probe that throws makes it false", () => {
    const probe = { ...fakeProbe().probe, binaryExists: () => { throw new Error("EACCES"); } };
    expect(evaluate({ binaryExists: "x" }, probe).value).toBe(false);
  });
});

describe("fileExists", () => {
  test("true for a file, false otherwise", () => {
    expect(is({ fileExists: "/etc/hosts" })).toBe(true);
    expect(is({ fileExists: "/etc" })).toBe(false);
  });
});

describe("folderExists", () => {
  test("true for a folder, false otherwise", () => {
    expect(is({ folderExists: "/etc" })).toBe(true);
    expect(is({ folderExists: "/etc/hosts" })).toBe(false);
  });
});

describe("file digests", () => {
  test("fileMD5Equals: matching and differing digests", () => {
    expect(is({ fileMD5Equals: "900150983CD24FB0D6963F7D28E17F72", path: "/abc.txt" })).toBe(true);
    expect(is({ fileMD5Equals: "000150983cd24fb0d6963f7d28e17f72", path: "/abc.txt" })).toBe(false);
  });
  test("fileSHA1Equals", () => {
    expect(is({ fileSHA1Equals: "a9993e364706816aba3e25717850c26c9cd0d89d", path: "/abc.txt" })).toBe(true);
    expect(is({ fileSHA1Equals: "a9993e364706816aba3e25717850c26c9cd0d89e", path: "/abc.txt" })).toBe(false);
  });
  test("fileSHA256Equals compares hex case-insensitively either way", () => {
    expect(is({ fileSHA256Equals: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", path: "/abc.txt" })).toBe(true);
    expect(is({ fileSHA256Equals: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ae", path: "/abc.txt" })).toBe(false);
  });
  test("fileSHA512Equals asks for sha512", () => {
    const { probe, calls } = fakeProbe();
    expect(evaluate({ fileSHA512Equals: "DDAF35A193617ABA", path: "/abc.txt" }, probe).value).toBe(true);
    expect(calls).toEqual(["digest:sha512:/abc.txt"]);
    expect(is({ fileSHA512Equals: "ddaf35a193617abb", path: "/abc.txt" })).toBe(false);
  });
  test("a missing or unreadable file is false", () => {
    expect(evaluate({ fileMD5Equals: "900150983cd24fb0d6963f7d28e17f72", path: "/nope" })).toEqual({
      value: false,
      explain: "fileMD5Equals: '/nope' cannot be read, so false",
    });
  });
});

describe("operand conversion", () => {
  test("numbers and booleans become their text for string operators", () => {
    expect(is({ stringEquals: 1.5, value: "1.5" })).toBe(true);
    expect(is({ stringEquals: true, value: "TRUE" })).toBe(true);
    expect(is({ stringIsEmpty: 0 })).toBe(false);
  });
  test("a missing or non-scalar operand is false, not an error", () => {
    expect(evaluate({ stringEquals: "a" })).toEqual({ value: false, explain: "stringEquals: 'value' is missing or not a single value, so false" });
    expect(is({ stringEquals: ["a"], value: "a" })).toBe(false);
    expect(is({ stringIsEmpty: null })).toBe(false);
  });
  test("no operator, several operators, an unknown key: false", () => {
    expect(is({ value: "x" })).toBe(false);
    expect(is({ stringIsEmpty: "", fileExists: "/etc/hosts" })).toBe(false);
  });
  test("then/else beside the operator are ignored", () => {
    expect(is({ stringIsEmpty: "", then: "Skip", else: "Abort" })).toBe(true);
  });
  test("a ResolveError from render propagates", () => {
    expect(() => evaluate({ stringEquals: "a", value: "{{ Boom }}" })).toThrow(ResolveError);
  });
});

describe("and", () => {
  test("true when every item is true", () => {
    const result = evaluate({ and: [{ stringIsEmpty: "" }, { binaryExists: "apt-get" }] });
    expect(result).toEqual({ value: true, explain: "and is true: all of 2 items are true" });
  });
  test("false at the first false item, and later items are not evaluated", () => {
    const { probe, calls } = fakeProbe();
    const result = evaluate({ and: [{ binaryExists: "apt-get" }, { binaryExists: "yum" }, { binaryExists: "dnf" }, { stringEquals: "x", value: "{{ Boom }}" }] }, probe);
    expect(result).toEqual({ value: false, explain: "and is false because item 2 of 4 is false: binaryExists: 'yum' is false" });
    expect(calls).toEqual(["binary:apt-get", "binary:yum"]);
  });
  test("a single item is accepted", () => {
    expect(is({ and: [{ stringIsEmpty: "" }] })).toBe(true);
  });
  test("an empty or non-list operand is false", () => {
    expect(is({ and: [] })).toBe(false);
    expect(is({ and: { stringIsEmpty: "" } })).toBe(false);
  });
});

describe("or", () => {
  test("true at the first true item, and later items are not evaluated", () => {
    const { probe, calls } = fakeProbe();
    const result = evaluate({ or: [{ fileExists: "/nope" }, { folderExists: "/etc" }, { binaryExists: "apt-get" }, { stringIsEmpty: "{{ Boom }}" }] }, probe);
    expect(result).toEqual({ value: true, explain: "or is true because item 2 of 4 is true: folderExists: '/etc' is true" });
    expect(calls).toEqual(["file:/nope", "folder:/etc"]);
  });
  test("false when no item is true", () => {
    expect(evaluate({ or: [{ stringIsEmpty: "x" }, { fileExists: "/nope" }] })).toEqual({ value: false, explain: "or is false: none of 2 items are true" });
  });
});

describe("not", () => {
  test("negates a mapping", () => {
    expect(evaluate({ not: { stringEquals: "skip", value: "{{ Mode }}" } })).toEqual({ value: true, explain: "not (stringEquals: 'skip' = 'Debug' is false) is true" });
  });
  test("negates a one-element list", () => {
    expect(is({ not: [{ stringIsEmpty: "" }] })).toBe(false);
  });
  test("a list of two, or a non-expression, is false", () => {
    expect(is({ not: [{ stringIsEmpty: "x" }, { stringIsEmpty: "x" }] })).toBe(false);
    expect(is({ not: [] })).toBe(false);
  });
  test("nesting", () => {
    expect(is({ and: [{ not: { or: [{ stringIsEmpty: "x" }, { not: [{ binaryExists: "apt-get" }] }] } }, { numberLessThan: "1", value: "2" }] })).toBe(true);
  });
});

describe("normalizeIf", () => {
  test("a mapping with defaults then Execute, else Skip", () => {
    expect(normalizeIf({ binaryExists: "apt-get" })).toEqual({ expression: { binaryExists: "apt-get" }, then: "Execute", else: "Skip" });
  });
  test("a one-element list, then/else stripped from the expression", () => {
    expect(normalizeIf([{ stringEquals: "a", value: "b", then: "Skip", else: "Abort" }])).toEqual({
      expression: { stringEquals: "a", value: "b" },
      then: "Skip",
      else: "Abort",
    });
  });
  test("then alone keeps the else default", () => {
    expect(normalizeIf({ and: [], then: "Abort" })).toEqual({ expression: { and: [] }, then: "Abort", else: "Skip" });
  });
  test("does not change its input", () => {
    const raw = { fileExists: "/x", then: "Skip" };
    normalizeIf(raw);
    expect(raw).toEqual({ fileExists: "/x", then: "Skip" });
  });
  test("shapes the validator rejects fail the step", () => {
    expect(() => normalizeIf("x")).toThrow(ResolveError);
    expect(() => normalizeIf([{ fileExists: "/a" }, { fileExists: "/b" }])).toThrow(ResolveError);
    expect(() => normalizeIf({ fileExists: "/a", then: "execute" })).toThrow("then must be one of Execute, Skip, Abort, found 'execute'");
  });
});
