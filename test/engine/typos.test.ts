/** engine/typos.ts: --phases and --parameters names that match nothing in the documents. */
import { describe, expect, test } from "bun:test";
import { checkPhases, unknownParameters } from "../../src/engine/typos.ts";
import type { ReadyDocument } from "../../src/engine/prepare.ts";
import { UsageError } from "../../src/errors.ts";

const doc = (phases: string[], parameters: string[] = []): ReadyDocument =>
  ({ doc: { phases: phases.map((name) => ({ name, steps: [] })), parameters: parameters.map((p) => ({ [p]: { type: "string" } })) } }) as unknown as ReadyDocument;

describe("--phases", () => {
  test("a phase some document has is fine; none given is fine", () => {
    expect(() => checkPhases(["test"], [doc(["build"]), doc(["build", "test"])])).not.toThrow();
    expect(() => checkPhases([], [doc(["build"])])).not.toThrow();
  });

  test("a phase no document has is a usage error with a did-you-mean, listing what exists", () => {
    let error: unknown;
    try {
      checkPhases(["build", "valdiate"], [doc(["build", "validate"])]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe("--phases names a phase no document has: 'valdiate' — did you mean 'validate'?");
    expect((error as UsageError).hint).toBe("the documents' phases are 'build', 'validate'; nothing was run");
    expect((error as UsageError).exitCode).toBe(2);
  });
});

describe("--parameters", () => {
  test("names no document declares are said, with a did-you-mean", () => {
    expect(unknownParameters(new Map([["Regoin", "x"], ["Tier", "y"]]), [doc(["build"], ["Region", "Tier"])])).toEqual([
      "--parameters Regoin: no document declares a parameter 'Regoin', so the value is not used — did you mean 'Region'?",
    ]);
    expect(unknownParameters(new Map([["Tier", "y"]]), [doc(["build"]), doc(["build"], ["Tier"])])).toEqual([]);
  });
});
