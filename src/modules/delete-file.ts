/** @module modules/delete-file: DeleteFile — remove files, optionally matched by a * pattern. */
import { Fields, Text } from "../model/schema-kit.ts";
import { defineModule, literalText, type InputIssue } from "./_define.ts";
import { NoOutput } from "./_inputs.ts";

export default defineModule({
  name: "DeleteFile",
  summary: "Deletes files; a * in the last segment deletes every matching file in that folder.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: Fields({ path: Text({ minLength: 1, description: "the file, or a pattern with * in its name" }) }),
  output: NoOutput(),
  check(input, env) {
    const path = literalText(input.path);
    const issues: InputIssue[] = [];
    if (path?.includes("*")) {
      const segments = path.split(env.platform === "windows" ? /[\\/]/ : /\//);
      if (segments.slice(0, -1).some((s) => s.includes("*"))) {
        issues.push({ path: ["path"], message: "a * wildcard may only appear in the file name", needle: "*" });
      }
    }
    return issues;
  },
});
