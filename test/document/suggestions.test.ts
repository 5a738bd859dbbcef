/**
 * Issue.suggestion: every did-you-mean the validator words also comes as replacement text for the
 * diagnostic's range, which `awstoe lsp` offers as a quick fix. Writing the suggestion over the
 * range must give the word the message names.
 */
import { describe, expect, test } from "bun:test";
import { validateText } from "../../src/document/validate.ts";
import { SourceMap } from "../../src/document/source-map.ts";

const DOC = `schemaVersion: 1.0
parameters:
  - Greeting:
      type: string
      default: hello
phases:
  - name: build
    steps:
      - name: Fetch
        action: WebDownlod
        inputs:
          - source: https://example.com/a
            destination: /tmp/a
      - name: Say
        action: ExecuteBash
        onFailure: Abrot
        timeoutSecond: 10
        inputs:
          commands:
            - echo {{ Greetng }} {{ context:regoin }}
            - echo {{ build.Fech.outputs.x }}
`;

/** The text of the document with every suggestion written over its range. */
function applied(text: string): { code: string; before: string; after: string }[] {
  const result = validateText(text, "doc.yaml", { platform: "linux" });
  const map = new SourceMap(text);
  return result.diagnostics.flatMap((d) => {
    if (d.suggestion === undefined) return [];
    const line = map.lineText(d.line!);
    return [{ code: d.code, before: line.slice(d.column! - 1, d.endColumn! - 1), after: d.suggestion }];
  });
}

describe("did-you-mean suggestions", () => {
  test("each names its replacement for exactly the range the diagnostic covers", () => {
    expect(applied(DOC)).toEqual([
      { code: "E_UNKNOWN_ACTION", before: "WebDownlod", after: "WebDownload" },
      { code: "E_ON_FAILURE", before: "Abrot", after: "Abort" },
      { code: "E_UNKNOWN_FIELD", before: "timeoutSecond", after: "timeoutSeconds" },
      { code: "W_UNKNOWN_VARIABLE", before: "{{ Greetng }}", after: "{{ Greeting }}" },
      { code: "E_REFERENCE", before: "{{ context:regoin }}", after: "{{ context:region }}" },
      { code: "E_CHAINING", before: "{{ build.Fech.outputs.x }}", after: "{{ build.Fetch.outputs.x }}" },
    ]);
  });

  test("the message still says the same word, and --output json leaves the field out", async () => {
    const result = validateText(DOC, "doc.yaml", { platform: "linux" });
    for (const d of result.diagnostics) if (d.suggestion !== undefined) expect(d.message).toContain("did you mean");
    const { printedDiagnostic } = await import("../../src/errors.ts");
    expect(result.diagnostics.map(printedDiagnostic).some((d) => "suggestion" in d)).toBe(false);
  });
});
