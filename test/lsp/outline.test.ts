/**
 * lsp/yaml-outline and lsp/settings, in process: the cursor's place read from indentation (also
 * in text that does not parse), and the platform a modeline or a setting picks.
 */
import { describe, expect, test } from "bun:test";
import { outline, siblings } from "../../src/lsp/yaml-outline.ts";
import { modelinePlatform, platformFor, settingsPlatform } from "../../src/lsp/settings.ts";

const LINES = `schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Hello
        action: ExecuteBash
        inputs:
          commands:
            - echo "unclosed
        on
  - name: test
    steps:
    - name: Flat
      action: ReadFile
      `.split("\n");

describe("yaml-outline", () => {
  test("a key being typed in a step: the path to the step, the step's keys around it", () => {
    const at = outline(LINES, 9, 10);
    expect(at).toMatchObject({ path: ["phases", "-", "steps", "-"], position: "key", prefix: "on", prefixStart: 8 });
    expect([...siblings(LINES, at.levels[0]!.line, at.levels[0]!.column).keys()]).toEqual(["inputs", "action", "name"]);
  });

  test("a value: the key it belongs to", () => {
    expect(outline(LINES, 5, 27)).toMatchObject({ path: ["phases", "-", "steps", "-"], position: "value", key: "action", prefix: "ExecuteBash" });
  });

  test("a list written at its key's column (steps:\\n- name) and the top level", () => {
    expect(outline(LINES, 14, 6)).toMatchObject({ path: ["phases", "-", "steps", "-"], position: "key", prefix: "" });
    expect(outline(["schemaVersion: 1.0", "pha"], 1, 3)).toMatchObject({ path: [], position: "key", prefix: "pha" });
  });
});

describe("platform", () => {
  test("the modeline wins over the setting; linux without either; unknown names are ignored", () => {
    expect(modelinePlatform("# awstoe: platform=Windows\nname: x")).toBe("windows");
    expect(modelinePlatform("name: x\n# awstoe: platform=solaris")).toBeUndefined();
    expect(platformFor("# awstoe: platform=macos\n", "windows")).toBe("macos");
    expect(platformFor("name: x\n", "windows")).toBe("windows");
    expect(platformFor("name: x\n", undefined)).toBe("linux");
    expect(settingsPlatform({ awstoe: { platform: "windows" } })).toBe("windows");
    expect(settingsPlatform({ platform: "macos" })).toBe("macos");
    expect(settingsPlatform({ platform: 3 })).toBeUndefined();
  });
});
