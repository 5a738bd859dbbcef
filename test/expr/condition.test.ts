import { describe, expect, test } from "bun:test";
import type { Probe } from "../../src/model/ports.ts";
import { ResolveError } from "../../src/errors.ts";
import { compareDecimal, compareText, compilePattern, evaluateCondition, normalizeIf, parseDecimal, patternProblem } from "../../src/expr/condition.ts";

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
  test("true for one or more spaces (documented: contains only spaces)", () => {
    expect(is({ stringIsWhitespace: " " })).toBe(true);
    expect(is({ stringIsWhitespace: "   " })).toBe(true);
  });
  test("false for the empty string, other white space and any other character", () => {
    expect(is({ stringIsWhitespace: "" })).toBe(false);
    expect(is({ stringIsWhitespace: " x " })).toBe(false);
    expect(is({ stringIsWhitespace: " \t" })).toBe(false);
    expect(is({ stringIsWhitespace: "\n" })).toBe(false);
    expect(is({ stringIsWhitespace: "\u00a0" })).toBe(false);
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
  test("explain shows value, then the baseline", () => {
    expect(evaluate({ stringEquals: "abc", value: "ABD" }).explain).toBe("stringEquals: 'ABD' = 'abc' is false");
  });
});

// Ordering operators are a predicate on value: `stringLessThan: b` with `value: a` is a < b (§10).
describe("stringLessThan", () => {
  test("true when value sorts before the baseline", () => {
    expect(is({ stringLessThan: "b", value: "a" })).toBe(true);
    expect(is({ stringLessThan: "b", value: "A" })).toBe(true);
    expect(is({ stringLessThan: "abc", value: "ab" })).toBe(true);
  });
  test("false when equal (any case) or after", () => {
    expect(is({ stringLessThan: "a", value: "b" })).toBe(false);
    expect(is({ stringLessThan: "B", value: "b" })).toBe(false);
    expect(is({ stringLessThan: "A", value: "a" })).toBe(false);
  });
  test("compares text, not numbers", () => {
    expect(is({ stringLessThan: "9", value: "10" })).toBe(true);
  });
  test("case-folded, so letters sort between digits and symbols the same in either case", () => {
    // '_' (U+005F) lies between 'Z' and 'a'; folding makes 'Z' a 'z', after '_'.
    expect(is({ stringLessThan: "Z", value: "_" })).toBe(true);
    expect(is({ stringLessThan: "z", value: "_" })).toBe(true);
  });
  test("spaces count: a leading space sorts first", () => {
    expect(is({ stringLessThan: "a", value: " a" })).toBe(true);
    expect(is({ stringLessThan: "a ", value: "a" })).toBe(true);
  });
  test("explain", () => {
    expect(evaluate({ stringLessThan: "b", value: "a" }).explain).toBe("stringLessThan: 'a' < 'b' is true");
  });
});

describe("stringLessThanEquals", () => {
  test("true when value is before or equal ignoring case", () => {
    expect(is({ stringLessThanEquals: "B", value: "b" })).toBe(true);
    expect(is({ stringLessThanEquals: "b", value: "a" })).toBe(true);
  });
  test("false when after", () => {
    expect(is({ stringLessThanEquals: "b", value: "c" })).toBe(false);
  });
});

describe("stringGreaterThan", () => {
  test("true when value sorts after the baseline", () => {
    expect(is({ stringGreaterThan: "A", value: "b" })).toBe(true);
  });
  test("false when equal or before", () => {
    expect(is({ stringGreaterThan: "b", value: "B" })).toBe(false);
    expect(is({ stringGreaterThan: "b", value: "a" })).toBe(false);
  });
});

describe("stringGreaterThanEquals", () => {
  test("true when value is after or equal", () => {
    expect(is({ stringGreaterThanEquals: "b", value: "B" })).toBe(true);
    expect(is({ stringGreaterThanEquals: "b", value: "c" })).toBe(true);
  });
  test("false when before", () => {
    expect(is({ stringGreaterThanEquals: "b", value: "a" })).toBe(false);
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
  test("letter case is ignored, as in every string comparison; (?-i) asks for exact case", () => {
    // The page's one example: '^[a-z]+$' matches 'ThisIsValue' (documented true).
    expect(is({ patternMatches: "^[a-z]+$", value: "ThisIsValue" })).toBe(true);
    expect(is({ patternMatches: "debug", value: "Debug" })).toBe(true);
    expect(is({ patternMatches: "(?-i)debug", value: "Debug" })).toBe(false);
    expect(is({ patternMatches: "(?-i)Debug", value: "Debug" })).toBe(true);
  });
  test("an invalid pattern (e.g. from a reference) is false, not an error, and says why", () => {
    const result = evaluate({ patternMatches: "{{ Bad }}", value: "x" });
    expect(result).toEqual({ value: false, explain: "patternMatches: '(' is not a valid regular expression (missing closing ): `(`), so false" });
  });
  test("a lookaround from a reference is false too (RE2 has none)", () => {
    expect(evaluate({ patternMatches: "(?=x)", value: "x" }).value).toBe(false);
  });
});

/**
 * RE2 as Go's regexp package has it. Expected results, with where each is stated:
 * - RE2 syntax wiki (github.com/google/re2/wiki/Syntax) and Go's regexp/syntax package
 *   documentation (pkg.go.dev/regexp/syntax): flags `(?i)` "case-insensitive" and `-` to clear
 *   them; ASCII classes `[[:digit:]]`; named groups `(?P<name>re)` (and `(?<name>re)` since Go
 *   1.22); `\z` "at end of text"; `$` "at end of text (like \z not \Z) or line (flag m=true)";
 *   `\C`, `\Z`, backreferences `\1` and lookaround `(?=re)`, `(?!re)`, `(?<=re)`, `(?<!re)` are
 *   listed as NOT SUPPORTED; repeat counts above 1000 are refused.
 * - Go's regexp package documentation (pkg.go.dev/regexp): MatchString "reports whether the
 *   string s contains any match" — an unanchored search.
 * - Error texts: Go's regexp/syntax ErrorCode strings ("missing closing )", "invalid escape
 *   sequence", "invalid or unsupported Perl syntax", "invalid named capture", "invalid repeat
 *   count", "invalid nested repetition operator").
 */
describe("RE2 (Go's regexp) semantics", () => {
  const matches = (pattern: string, text: string) => {
    const compiled = compilePattern(pattern);
    if (typeof compiled === "string") throw new Error(`${pattern}: ${compiled}`);
    return compiled.test(text);
  };
  const error = (pattern: string) => {
    const compiled = compilePattern(pattern);
    return typeof compiled === "string" ? compiled : undefined;
  };

  test("(?i) flag: (?i)abc matches ABC; (?-i) clears it", () => {
    expect(matches("(?i)abc", "ABC")).toBe(true);
    expect(matches("(?-i:abc)", "ABC")).toBe(false);
  });
  test("ASCII classes: [[:digit:]]+ matches x42; [[:word:]] matches _", () => {
    expect(matches("[[:digit:]]+", "x42")).toBe(true);
    expect(matches("^[[:digit:]]+$", "x42")).toBe(false);
    expect(matches("[[:word:]]", "_")).toBe(true);
    // In JavaScript, [[:digit:]] is the class of ':', 'd', 'i', 'g', 't' followed by ']'.
    expect(matches("[[:digit:]]", "d]")).toBe(false);
  });
  test("named groups (?P<year>\\d{4}) and (?<year>\\d{4}) are valid", () => {
    expect(error("(?P<year>\\d{4})")).toBeUndefined();
    expect(matches("(?P<year>\\d{4})", "built in 2024")).toBe(true);
    expect(matches("(?<year>\\d{4})", "built in 2024")).toBe(true);
  });
  test("\\z is the end of text: a\\z matches 'ba' but not 'ab\\n'", () => {
    expect(matches("a\\z", "ba")).toBe(true);
    expect(matches("a\\z", "ab\n")).toBe(false);
    expect(matches("a\\z", "a\n")).toBe(false);
  });
  test("$ without (?m) is the end of text, not before a final newline; with (?m) the end of a line", () => {
    expect(matches("a$", "a\n")).toBe(false);
    expect(matches("(?m)a$", "a\nb")).toBe(true);
    expect(matches("^b", "a\nb")).toBe(false);
    expect(matches("(?m)^b", "a\nb")).toBe(true);
  });
  test(". does not match a newline unless (?s)", () => {
    expect(matches("a.b", "a\nb")).toBe(false);
    expect(matches("(?s)a.b", "a\nb")).toBe(true);
  });
  test("unanchored search: a match anywhere in the text counts", () => {
    expect(matches("b", "abc")).toBe(true);
    expect(matches("^b", "abc")).toBe(false);
    expect(matches("c$", "abc")).toBe(true);
  });
  test("\\Q…\\E quotes literally", () => {
    expect(matches("\\Q1.5\\E", "v1.5")).toBe(true);
    expect(matches("\\Q1.5\\E", "v125")).toBe(false);
  });
  test("backreferences are invalid: (a)\\1", () => {
    expect(error("(a)\\1")).toBe("invalid escape sequence: `\\1`");
  });
  test("lookahead is invalid: (?=a), (?!a)", () => {
    expect(error("(?=a)")).toBe("invalid or unsupported Perl syntax: `(?=`");
    expect(error("(?!a)")).toBe("invalid or unsupported Perl syntax: `(?!`");
  });
  test("lookbehind is invalid: (?<!a)b, (?<=a)b", () => {
    expect(error("(?<!a)b")).toBe("invalid named capture: `(?<!a)b`");
    expect(error("(?<=a)b")).toBe("invalid named capture: `(?<=a)b`");
  });
  test("other things RE2 refuses: \\Z, \\C, possessive a++, repeat counts over 1000, unclosed groups", () => {
    expect(error("a\\Z")).toBe("invalid escape sequence: `\\Z`");
    expect(error("\\C")).toBe("invalid escape sequence: `\\C`");
    expect(error("a++")).toBe("invalid nested repetition operator: `++`");
    expect(error("x{1001}")).toBe("invalid repeat count: `{1001}`");
    expect(error("([a-z")).toBe("missing closing ]: `[a-z`");
  });
});

describe("numberEquals", () => {
  test("equal numbers in any plain decimal spelling", () => {
    expect(is({ numberEquals: "1.0", value: "1" })).toBe(true);
    expect(is({ numberEquals: "1", value: "+1.0" })).toBe(true);
    expect(is({ numberEquals: "0", value: "-0" })).toBe(true);
    expect(is({ numberEquals: "-0.000", value: "+0" })).toBe(true);
    expect(is({ numberEquals: "1.1", value: "1.10" })).toBe(true);
    expect(is({ numberEquals: "007", value: "7" })).toBe(true);
  });
  test("different numbers", () => {
    expect(is({ numberEquals: "1", value: "1.01" })).toBe(false);
    expect(is({ numberEquals: "-1", value: "1" })).toBe(false);
  });
  test("compared exactly: integers past 2^53 and long fractions that float64 would merge", () => {
    expect(is({ numberEquals: "9007199254740992", value: "9007199254740993" })).toBe(false);
    expect(is({ numberLessThan: "9007199254740993", value: "9007199254740992" })).toBe(true);
    expect(is({ numberGreaterThan: "123456789012345678901234567890", value: "123456789012345678901234567891" })).toBe(true);
    expect(is({ numberEquals: "0.1", value: "0.10000000000000000001" })).toBe(false);
    expect(is({ numberLessThan: "0.10000000000000000001", value: "0.1" })).toBe(true);
  });
  test("text that is not ^[-+]?([0-9]+[.])?[0-9]+$ makes the comparison false", () => {
    for (const bad of ["a10", "", " ", " 1", "1 ", "10\n", "1e3", ".5", "5.", "0x10", "Infinity", "NaN", "1_000", "1,5", "5..", "--1", "+", "1.2.3"]) {
      expect(is({ numberEquals: bad, value: bad })).toBe(false);
      expect(is({ numberEquals: "1", value: bad })).toBe(false);
      expect(is({ numberGreaterThanEquals: "-1e999", value: bad })).toBe(false);
    }
    expect(is({ numberEquals: "1000", value: "1e3" })).toBe(false);
    expect(is({ numberEquals: "0.5", value: ".5" })).toBe(false);
    expect(is({ numberEquals: "10", value: "{{ Count }}" })).toBe(false); // " 10 ": not trimmed
  });
  test("numbers passed as numbers are read as plain decimals", () => {
    expect(is({ numberEquals: 3, value: "3.0" })).toBe(true);
    expect(is({ numberEquals: 1e21, value: "1000000000000000000000" })).toBe(true);
    expect(is({ numberEquals: 1.5e-7, value: "0.00000015" })).toBe(true);
    expect(is({ numberEquals: -2.5e22, value: "-25000000000000000000000" })).toBe(true);
    expect(is({ numberEquals: Number.NaN, value: "0" })).toBe(false);
  });
  test("explain names the operand that is not a number", () => {
    expect(evaluate({ numberEquals: "1", value: "a10" }).explain).toBe("numberEquals: 'a10' is not a number, so false");
    expect(evaluate({ numberEquals: "1e3", value: "1" }).explain).toBe("numberEquals: '1e3' is not a number, so false");
    expect(evaluate({ numberEquals: "1.0", value: "10" }).explain).toBe("numberEquals: 10 = 1.0 is false");
  });
});

describe("numberLessThan", () => {
  test("true when value < baseline, numerically", () => {
    expect(is({ numberLessThan: "10", value: "9" })).toBe(true);
    expect(is({ numberLessThan: "-2", value: "-2.5" })).toBe(true);
    expect(is({ numberLessThan: "2", value: "1" })).toBe(true);
  });
  test("false when equal or greater, or when a side does not parse", () => {
    expect(is({ numberLessThan: "10.0", value: "10" })).toBe(false);
    expect(is({ numberLessThan: "10", value: "11" })).toBe(false);
    expect(is({ numberLessThan: "two", value: "1" })).toBe(false);
    expect(is({ numberLessThan: "1", value: "two" })).toBe(false);
  });
  test("explain reads value < baseline", () => {
    expect(evaluate({ numberLessThan: "2", value: "1" }).explain).toBe("numberLessThan: 1 < 2 is true");
  });
});

describe("numberLessThanEquals", () => {
  test("true when value is less or equal", () => {
    expect(is({ numberLessThanEquals: "10.0", value: "10" })).toBe(true);
    expect(is({ numberLessThanEquals: "3", value: "2" })).toBe(true);
  });
  test("false when greater", () => {
    expect(is({ numberLessThanEquals: "2", value: "3" })).toBe(false);
  });
});

describe("numberGreaterThan", () => {
  test("true when value > baseline", () => {
    expect(is({ numberGreaterThan: "9", value: "10" })).toBe(true);
    expect(is({ numberGreaterThan: "-10", value: "-9.99" })).toBe(true);
  });
  test("false when equal or less", () => {
    expect(is({ numberGreaterThan: "9", value: "9" })).toBe(false);
    expect(is({ numberGreaterThan: "9", value: "8" })).toBe(false);
  });
});

describe("numberGreaterThanEquals", () => {
  test("true when value is greater or equal", () => {
    expect(is({ numberGreaterThanEquals: "9", value: "9" })).toBe(true);
    expect(is({ numberGreaterThanEquals: "9", value: "10" })).toBe(true);
  });
  test("false when less", () => {
    expect(is({ numberGreaterThanEquals: "9", value: "8" })).toBe(false);
  });
});

describe("parseDecimal and compareDecimal", () => {
  test("parts without leading or trailing zeros; zero is never negative", () => {
    expect(parseDecimal("+001.2500")).toEqual({ negative: false, whole: "1", fraction: "25" });
    expect(parseDecimal("-0.0")).toEqual({ negative: false, whole: "", fraction: "" });
    expect(parseDecimal("-0.05")).toEqual({ negative: true, whole: "", fraction: "05" });
    expect(parseDecimal("1e3")).toBeUndefined();
    expect(parseDecimal("")).toBeUndefined();
  });
  test("orders like the numbers", () => {
    const sorted = ["-100", "-10.5", "-10.05", "-1", "-0.5", "0", "0.05", "0.5", "0.51", "0.6", "1", "1.5", "9", "10", "100"];
    for (let i = 0; i < sorted.length; i++) {
      for (let j = 0; j < sorted.length; j++) {
        const order = compareDecimal(parseDecimal(sorted[i]!)!, parseDecimal(sorted[j]!)!);
        expect(Math.sign(order), `${sorted[i]} vs ${sorted[j]}`).toBe(Math.sign(i - j));
      }
    }
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
    expect(evaluate({ not: { stringEquals: "skip", value: "{{ Mode }}" } })).toEqual({ value: true, explain: "not (stringEquals: 'Debug' = 'skip' is false) is true" });
  });
  test("negates a one-element list", () => {
    expect(is({ not: [{ stringIsEmpty: "" }] })).toBe(false);
  });
  test("a list of two, or a non-expression, is false", () => {
    expect(is({ not: [{ stringIsEmpty: "x" }, { stringIsEmpty: "x" }] })).toBe(false);
    expect(is({ not: [] })).toBe(false);
  });
  test("nesting", () => {
    expect(is({ and: [{ not: { or: [{ stringIsEmpty: "x" }, { not: [{ binaryExists: "apt-get" }] }] } }, { numberLessThan: "2", value: "1" }] })).toBe(true);
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

describe("patternProblem: the fast path for plain patterns agrees with RE2", () => {
  const plain = ["^Hello from ", "abc$", "a.b*c+d?", "x|y", "a??", "^$", "*a", "a**", "^*", "a|*", "..*", "+"];
  for (const pattern of plain) {
    test(`'${pattern}'`, () => {
      const re2 = compilePattern(pattern);
      expect(patternProblem(pattern)).toBe(typeof re2 === "string" ? re2 : undefined);
    });
  }
});
