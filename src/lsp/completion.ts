/**
 * @module lsp/completion: what may be written at the cursor — keys of the mapping it is in (the
 * document's, a step's, its action's inputs), values with a fixed set of words (actions, choices,
 * true/false), and inside `{{ … }}` the names a reference can use there.
 */
import { CompletionItemKind, InsertTextFormat, type CompletionItem, type Range } from "vscode-languageserver";
import type { PlatformName } from "../model/platform.ts";
import { ACTION_NAMES, findModule } from "../modules/index.ts";
import type { Analysis } from "./analysis.ts";
import type { Cursor } from "./cursor.ts";
import { actionDocs } from "./docs.ts";
import { describeField, fieldsOf, schemaAt, valuesOf } from "./schema-at.ts";
import { siblings } from "./yaml-outline.ts";
import { templateCompletions } from "./template-completion.ts";

export function completions(cursor: Cursor, analysis: Analysis | undefined, platform: PlatformName): CompletionItem[] {
  if (cursor.template !== undefined) return templateCompletions(cursor, analysis);
  const { outline, line, character } = cursor;
  const range: Range = { start: { line, character: outline.prefixStart }, end: { line, character } };
  const action = cursor.step?.action;
  if (outline.position === "value") {
    if (outline.key === "action" && outline.path.at(-1) === "-" && outline.path.at(-2) === "steps") return actionItems(range, platform);
    return valuesOf(schemaAt([...outline.path, outline.key!], action)).map((word) => ({ label: word, kind: CompletionItemKind.Value, textEdit: { range, newText: word } }));
  }
  const fields = fieldsOf(schemaAt(outline.path, action));
  const level = outline.levels[0]!;
  const present = siblings(cursor.lines, level.line, level.column);
  return Object.entries(fields)
    .filter(([name]) => !present.has(name) || present.get(name)!.line === line)
    .map(([name, schema]) => {
      const documentation = describeField(schema);
      return {
        label: name,
        kind: CompletionItemKind.Property,
        ...(documentation === undefined ? {} : { documentation }),
        textEdit: { range, newText: `${name}: ` },
      };
    });
}

/** Every action, the ones this platform cannot run marked as such and sorted last. */
function actionItems(range: Range, platform: PlatformName): CompletionItem[] {
  return ACTION_NAMES.map((name) => {
    const module = findModule(name)!;
    const here = module.platforms.includes(platform);
    return {
      label: name,
      kind: CompletionItemKind.Module,
      detail: here ? module.platforms.join(", ") : `not on ${platform} (${module.platforms.join(", ")})`,
      documentation: { kind: "markdown", value: actionDocs(module) },
      sortText: `${here ? "0" : "1"}${name}`,
      insertTextFormat: InsertTextFormat.PlainText,
      textEdit: { range, newText: name },
    };
  });
}
