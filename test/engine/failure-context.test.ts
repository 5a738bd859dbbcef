/** The failure-context block of console.log (current-awstoe.md §3) and the stderr it quotes. */
import { describe, expect, test } from "bun:test";
import { formatFailureContext, nestedIn, StderrCapture, type FailureContext } from "../../src/engine/failure-context.ts";

const ARN = "arn:aws:imagebuilder:eu-west-3:111122223333:component/outer/1.0.0/1";

const inner: FailureContext = {
  document: "inner",
  nested: [],
  phase: "validate",
  step: "Check",
  action: "ExecuteBash",
  errorMessage: "ExecuteBash: the script exited with code 1: bad",
  stderr: "bad\n",
};

describe("formatFailureContext", () => {
  test("every field, two-space indented, stderr after `Stderr: ` without its trailing newlines", () => {
    expect(formatFailureContext({ ...inner, componentArn: ARN, stderr: "one\ntwo\n\n" })).toBe(
      [`  Document: inner`, `  ComponentArn: ${ARN}`, "  Phase: validate", "  Step: Check", "  Action: ExecuteBash", "  ErrorMessage: ExecuteBash: the script exited with code 1: bad", "  Stderr: one\ntwo", ""].join("\n"),
    );
  });

  test("no ComponentArn, ErrorMessage or Stderr lines when there is nothing to say", () => {
    expect(formatFailureContext({ ...inner, errorMessage: "", stderr: " \n" })).toBe("  Document: inner\n  Phase: validate\n  Step: Check\n  Action: ExecuteBash\n");
  });

  test("nested failures name the outer document (and its ARN), then each nested document and the step that ran it", () => {
    const middle = nestedIn(inner, { document: "middle", via: "build/RunInner" });
    const outer = nestedIn(middle, { document: "outer", componentArn: ARN, via: "test/RunMiddle" });
    expect(outer).toMatchObject({ document: "outer", componentArn: ARN, phase: "validate", step: "Check" });
    expect(formatFailureContext(outer).split("\n").slice(0, 3)).toEqual([
      "  Document: outer (nested: middle, via test/RunMiddle; inner, via build/RunInner)",
      `  ComponentArn: ${ARN}`,
      "  Phase: validate",
    ]);
    // An inner document's own ARN is not the one shown: the outer component is.
    expect(nestedIn({ ...inner, componentArn: "arn:inner" }, { document: "plain", via: "build/Run" }).componentArn).toBeUndefined();
  });
});

describe("StderrCapture", () => {
  test("keeps everything below its limit, and can start again", () => {
    const capture = new StderrCapture(100);
    capture.add("a\n");
    capture.add("b\n");
    expect(capture.text()).toBe("a\nb\n");
    capture.reset();
    expect(capture.text()).toBe("");
  });

  test("over its limit keeps the end and says how much of the start was left out", () => {
    const capture = new StderrCapture(10);
    for (let i = 0; i < 50; i++) capture.add(`${i % 10}`);
    capture.add("END");
    const text = capture.text();
    expect(text.endsWith("\n3456789END")).toBe(true);
    expect(text).toContain("the first 43 characters");
  });
});
