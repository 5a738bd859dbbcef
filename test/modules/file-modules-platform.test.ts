/**
 * The file-system modules' platform rules, through the validator (modules.md §1, §4): the owner,
 * permission and symlink modules do not exist on Windows, and CreateFile/CreateFolder take no
 * owner, group or permissions there.
 */
import { describe, expect, test } from "bun:test";
import { validateText } from "../../src/document/validate.ts";
import type { PlatformName } from "../../src/model/platform.ts";

function check(action: string, inputs: string, platform: PlatformName) {
  const yaml = `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Step\n        action: ${action}\n        inputs:\n${inputs}`;
  const result = validateText(yaml, "doc.yaml", { platform });
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  return { valid: result.valid, codes: errors.map((d) => d.code), messages: errors.map((d) => d.message), paths: errors.map((d) => d.path) };
}

const UNIX_ONLY: Record<string, string> = {
  SetFileOwner: "          - path: /srv/app/config.ini\n            owner: nobody\n            group: nogroup\n",
  SetFolderOwner: "          - path: /srv/app\n            owner: '65534'\n            recursive: false\n",
  SetFilePermissions: "          - path: /srv/app/run.sh\n            permissions: '0755'\n",
  SetFolderPermissions: "          - path: /srv/app\n            permissions: '750'\n            recursive: true\n",
  CreateSymlink: "          - path: /srv/current\n            target: /srv/app\n",
};

describe("modules that exist only on Linux and macOS", () => {
  for (const [action, inputs] of Object.entries(UNIX_ONLY)) {
    test(`${action} is accepted on linux and macos`, () => {
      expect(check(action, inputs, "linux")).toMatchObject({ valid: true, codes: [] });
      expect(check(action, inputs, "macos")).toMatchObject({ valid: true, codes: [] });
    });
    test(`${action} is rejected on windows, at the action`, () => {
      const result = check(action, inputs, "windows");
      expect(result.valid).toBe(false);
      expect(result.codes).toEqual(["E_ACTION_UNSUPPORTED_ON_PLATFORM"]);
      expect(result.messages).toEqual([`action '${action}' is not supported on windows`]);
      expect(result.paths).toEqual(["phases[0].steps[0].action"]);
    });
  }
});

describe("owner, group and permissions on CreateFile and CreateFolder", () => {
  const cases = {
    CreateFile: { plain: "          - path: C:/app/a.txt\n            content: hi\n", extra: "            owner: nobody\n            group: nogroup\n            permissions: '0640'\n" },
    CreateFolder: { plain: "          - path: C:/app/logs\n", extra: "            owner: '65534'\n            group: '65534'\n            permissions: '0750'\n" },
  };
  for (const [action, { plain, extra }] of Object.entries(cases)) {
    test(`${action} without them is accepted on every platform`, () => {
      for (const platform of ["linux", "macos", "windows"] as const) expect(check(action, plain, platform).valid).toBe(true);
    });
    test(`${action} with them is accepted on linux and macos`, () => {
      expect(check(action, plain + extra, "linux")).toMatchObject({ valid: true, codes: [] });
      expect(check(action, plain + extra, "macos")).toMatchObject({ valid: true, codes: [] });
    });
    test(`${action} with them is rejected on windows, once per field`, () => {
      const result = check(action, plain + extra, "windows");
      expect(result.valid).toBe(false);
      expect(result.codes).toEqual(["E_FIELD_UNSUPPORTED_ON_PLATFORM", "E_FIELD_UNSUPPORTED_ON_PLATFORM", "E_FIELD_UNSUPPORTED_ON_PLATFORM"]);
      expect(result.messages).toEqual(["owner", "group", "permissions"].map((field) => `${action}: '${field}' is not supported on Windows`));
    });
    for (const field of ["owner", "group", "permissions"] as const) {
      test(`${action}: '${field}' alone is rejected on windows`, () => {
        const line = extra.split("\n").find((l) => l.trim().startsWith(`${field}:`))!;
        const result = check(action, `${plain}${line}\n`, "windows");
        expect(result.codes).toEqual(["E_FIELD_UNSUPPORTED_ON_PLATFORM"]);
        expect(result.paths).toEqual([`phases[0].steps[0].inputs[0].${field}`]);
      });
    }
  }
});
