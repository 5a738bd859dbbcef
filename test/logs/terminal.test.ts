import { describe, expect, test } from "bun:test";
import { ansiPalette, colorEnabled, paletteFor, plainPalette } from "../../src/logs/terminal.ts";

describe("colour", () => {
  test("only on a terminal", () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({}, {})).toBe(false);
  });
  test("NO_COLOR and TERM=dumb turn it off, FORCE_COLOR turns it on", () => {
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { TERM: "dumb" })).toBe(false);
    expect(colorEnabled({ isTTY: false }, { FORCE_COLOR: "1" })).toBe(true);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: "1", FORCE_COLOR: "1" })).toBe(false);
  });
  test("the palettes differ exactly by escape codes", () => {
    expect(paletteFor({ isTTY: true }, {})).toBe(ansiPalette);
    expect(paletteFor({ isTTY: false }, {})).toBe(plainPalette);
    expect(ansiPalette.red("x")).toBe("\u001b[31mx\u001b[39m");
    expect(plainPalette.red("x")).toBe("x");
  });
});
