import { describe, expect, test } from "bun:test";
import { closest, didYouMean, editDistance } from "../../src/model/suggest.ts";

describe("suggestions", () => {
  test("edit distance counts inserts, deletes, substitutions and swaps", () => {
    expect(editDistance("ExecuteBash", "ExecuteBash")).toBe(0);
    expect(editDistance("ExecuteBsh", "ExecuteBash")).toBe(1);
    expect(editDistance("ExecuteBahs", "ExecuteBash")).toBe(1);
    expect(editDistance("abc", "xyz")).toBe(3);
  });
  test("closest picks a near word and ignores far ones", () => {
    expect(closest("ExecuteBsh", ["ExecuteBash", "ExecuteBinary"])).toBe("ExecuteBash");
    expect(closest("executebash", ["ExecuteBash"])).toBe("ExecuteBash");
    expect(closest("Frobnicate", ["ExecuteBash", "Reboot"])).toBeUndefined();
    expect(closest("|", [".", ","])).toBeUndefined();
  });
  test("didYouMean phrases the guess", () => {
    expect(didYouMean("comands", ["commands"])).toBe(" — did you mean 'commands'?");
    expect(didYouMean("zzz", ["commands"])).toBe("");
  });
});
