/** Status words and roll-up (documents.md §9, current-awstoe.md §3). */
import { describe, expect, test } from "bun:test";
import { isSuccessful, rollUp } from "../../src/model/status.ts";

describe("rollUp", () => {
  test("failed beats ignored failures; ignored failures make successWithIgnoredFailure; skipped counts as success", () => {
    expect(rollUp(["success", "skipped"])).toBe("success");
    expect(rollUp(["success", "ignoredFailure"])).toBe("successWithIgnoredFailure");
    expect(rollUp(["successWithIgnoredFailure", "success"])).toBe("successWithIgnoredFailure");
    expect(rollUp(["ignoredFailure", "failed"])).toBe("failed");
  });

  test("timedOut only when a timed-out child stopped the parent; a timeout the run went on after is a failure", () => {
    expect(rollUp(["success", "timedOut"], "timedOut")).toBe("timedOut");
    expect(rollUp(["failed", "timedOut"], "timedOut")).toBe("timedOut");
    expect(rollUp(["timedOut", "success"])).toBe("failed");
    expect(rollUp(["timedOut", "failed"], "failed")).toBe("failed");
  });
});

test("isSuccessful: the words that let a run end with exit code 0", () => {
  for (const status of ["success", "skipped", "ignoredFailure", "successWithIgnoredFailure"] as const) expect(isSuccessful(status)).toBe(true);
  for (const status of ["failed", "timedOut", "running"] as const) expect(isSuccessful(status)).toBe(false);
});
