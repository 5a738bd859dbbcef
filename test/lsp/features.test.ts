/**
 * `awstoe lsp` (the compiled binary, over stdio) on a realistic component
 * (test/fixtures/lsp/web-server.yaml): completion of keys, values and `{{ … }}` names, go to
 * definition, find references, rename, hover and the did-you-mean quick fixes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { CodeAction, CompletionItem, Hover, Location, Position, Range, TextEdit, WorkspaceEdit } from "vscode-languageserver";
import { awstoeBinary } from "../helpers/binary.ts";
import { openDocument, positionOf, startLsp, type LspSession } from "../helpers/awstoe-lsp.ts";
import { validateText } from "../../src/document/validate.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/lsp");
const TEXT = readFileSync(join(FIXTURES, "web-server.yaml"), "utf8");
const URI = "file:///work/web-server.yaml";

let session: LspSession;
let version = 1;

beforeAll(async () => {
  session = await startLsp(await awstoeBinary());
  await openDocument(session, URI, TEXT);
  await session.diagnosticsFor(URI, 1);
});

afterAll(async () => {
  expect(await session.close()).toBe(0);
});

/** Replaces the document's text (a full-text change) and returns the new text. */
async function setText(text: string): Promise<string> {
  version++;
  await session.connection.sendNotification("textDocument/didChange", { textDocument: { uri: URI, version }, contentChanges: [{ text }] });
  return text;
}

/** Completion labels at the end of `needle` in `text` (after editing the document to `text`). */
async function labelsAt(text: string, needle: string, shift = needle.length): Promise<string[]> {
  await setText(text);
  const items = await session.connection.sendRequest<CompletionItem[]>("textDocument/completion", { textDocument: { uri: URI }, position: positionOf(text, needle, shift) });
  return items.map((i) => i.label);
}

const request = <T>(method: string, position: Position, extra: object = {}) =>
  session.connection.sendRequest<T>(method, { textDocument: { uri: URI }, position, ...extra });

function textAt(text: string, range: Range): string {
  const doc = TextDocument.create(URI, "yaml", 0, text);
  return text.slice(doc.offsetAt(range.start), doc.offsetAt(range.end));
}

describe("completion", () => {
  test("action names after action:, with the module's summary", async () => {
    const text = TEXT.replace("action: ReadFile", "action: Re");
    await setText(text);
    const items = await session.connection.sendRequest<CompletionItem[]>("textDocument/completion", { textDocument: { uri: URI }, position: positionOf(text, "action: Re", 10) });
    const labels = items.map((i) => i.label);
    expect(labels).toContain("ReadFile");
    expect(labels).toContain("S3Download");
    const readFile = items.find((i) => i.label === "ReadFile")!;
    expect(JSON.stringify(readFile.documentation)).toContain("ReadFile");
    expect(readFile.textEdit).toEqual({ range: { start: positionOf(text, "action: Re", 8), end: positionOf(text, "action: Re", 10) }, newText: "ReadFile" });
  });

  test("step keys the step does not have yet, and a step's input keys of its action", async () => {
    const stepKeys = await labelsAt(TEXT.replace("        onFailure: Abort\n", "        onFailure: Abort\n        ti\n"), "        ti");
    expect(stepKeys).toContain("timeoutSeconds");
    expect(stepKeys).toContain("loop");
    expect(stepKeys).not.toContain("onFailure");
    expect(stepKeys).not.toContain("action");
    const inputKeys = await labelsAt(TEXT.replace("            overwrite: true\n", "            overwrite: true\n            al\n"), "            al");
    // WebDownload's inputs, less the three the item already has.
    expect(inputKeys).toEqual(["checksum", "algorithm", "ignoreCertificateErrors"]);
    const topKeys = await labelsAt(TEXT.replace(/^description: .*$/m, "des"), "\ndes");
    expect(topKeys).toEqual(["description"]);
  });

  test("values: choices and booleans of the field", async () => {
    expect((await labelsAt(TEXT.replace("onFailure: Abort", "onFailure: "), "onFailure: ")).sort()).toEqual(["Abort", "Continue", "Ignore"]);
    expect((await labelsAt(TEXT.replace("overwrite: true", "overwrite: "), "overwrite: ")).sort()).toEqual(["false", "true"]);
    expect(await labelsAt(TEXT.replace("overwrite: true", "algorithm: "), "algorithm: ")).toEqual(["MD5", "SHA1", "SHA256", "SHA512"]);
  });

  test("{{ offers parameters, constants, phases, loops and host forms; {{ build. the earlier steps only", async () => {
    const top = await labelsAt(TEXT.replace("tar -xzf {{ build.Download.outputs.destination }}", "tar -xzf {{ "), "tar -xzf {{ ");
    expect(top).toEqual(expect.arrayContaining(["Version", "Mirror", "InstallDir", "build", "env:", "context:", "aws:ssm:", "aws:imds:"]));
    expect(top).not.toContain("loop");
    expect(top).not.toContain("validate");
    // From the Check step (phase validate, last): every build step and ReadConfig ran before it.
    const fromCheck = await labelsAt(TEXT.replace("{{ validate.ReadConfig.outputs.content }}", "{{ build."), 'echo "{{ build.');
    expect(fromCheck).toEqual(["Download", "Unpack", "Configure"]);
    // From Unpack: only Download is earlier.
    expect(await labelsAt(TEXT.replace("{{ build.Download.outputs.destination }} -C", "{{ build. -C"), "{{ build.")).toEqual(["Download"]);
  });

  test("{{ phase.step. offers outputs/inputs, then what that module outputs", async () => {
    expect((await labelsAt(TEXT.replace("{{ build.Download.outputs.destination }} -C", "{{ build.Download. -C"), "{{ build.Download.")).sort()).toEqual(["inputs", "outputs"]);
    expect(await labelsAt(TEXT.replace("{{ validate.ReadConfig.outputs.content }}", "{{ validate.ReadConfig.outputs."), "ReadConfig.outputs.")).toEqual(["content"]);
    expect(await labelsAt(TEXT.replace("{{ build.Download.outputs.destination }} -C", "{{ build.Download.outputs. -C"), "Download.outputs.")).toEqual(["destination"]);
    expect(await labelsAt(TEXT.replace("{{ build.Download.outputs.destination }} -C", "{{ build.Download.inputs. -C"), "Download.inputs.")).toContain("source");
  });

  test("loop.* and the loop's name inside a looping step; context: keys", async () => {
    const inLoop = await labelsAt(TEXT.replace("({{ loop.index }})", "({{ lo"), "({{ lo");
    expect(inLoop).toEqual(expect.arrayContaining(["loop", "site"]));
    expect((await labelsAt(TEXT.replace("({{ loop.index }})", "({{ site."), "({{ site.")).sort()).toEqual(["index", "value"]);
    expect(await labelsAt(TEXT.replace("{{ context:osPlatform }}", "{{ context:os"), "{{ context:os")).toEqual(expect.arrayContaining(["osPlatform", "region", "executionId"]));
  });

  test("while the text is not valid YAML (an open quote), names come from the last version that parsed", async () => {
    const broken = TEXT.replace('path: "{{ InstallDir }}/sites.txt"', 'path: "{{ ');
    expect(await labelsAt(broken, 'path: "{{ ')).toEqual(expect.arrayContaining(["InstallDir", "Version", "build"]));
  });
});

describe("navigation", () => {
  test("definition of a chaining reference is the step's name; of a parameter, its key", async () => {
    await setText(TEXT);
    const chain = await request<Location>("textDocument/definition", positionOf(TEXT, "build.Download.outputs.destination }} -C", 8));
    expect(chain.range.start).toEqual(positionOf(TEXT, "- name: Download", 8));
    expect(textAt(TEXT, chain.range)).toBe("Download");
    const parameter = await request<Location>("textDocument/definition", positionOf(TEXT, "{{ Version }}", 4));
    expect(textAt(TEXT, parameter.range)).toBe("Version");
    expect(parameter.range.start).toEqual(positionOf(TEXT, "- Version:", 2));
    const constant = await request<Location>("textDocument/definition", positionOf(TEXT, "{{ InstallDir }}", 5, 2));
    expect(constant.range.start).toEqual(positionOf(TEXT, "- InstallDir:", 2));
  });

  test("references of a step: its name and every chaining reference to it, from either end", async () => {
    await setText(TEXT);
    const fromName = await request<Location[]>("textDocument/references", positionOf(TEXT, "- name: Download", 10), { context: { includeDeclaration: true } });
    expect(fromName.map((l) => [l.range.start.line, textAt(TEXT, l.range)])).toEqual([
      [positionOf(TEXT, "- name: Download").line, "Download"],
      [positionOf(TEXT, "build.Download.outputs.destination }} -C").line, "Download"],
      [positionOf(TEXT, "build.Download.outputs.destination }} on").line, "Download"],
    ]);
    const fromUse = await request<Location[]>("textDocument/references", positionOf(TEXT, "build.Download.outputs.destination }} on", 3), { context: { includeDeclaration: false } });
    expect(fromUse.length).toBe(2);
    const constant = await request<Location[]>("textDocument/references", positionOf(TEXT, "- InstallDir:", 3), { context: { includeDeclaration: true } });
    expect(constant.length).toBe(5);
  });

  test("rename of a step rewrites its name and every reference; the result validates", async () => {
    await setText(TEXT);
    const prepared = await request<Range>("textDocument/prepareRename", positionOf(TEXT, "outputs.destination }} -C", -3));
    expect(textAt(TEXT, prepared)).toBe("Download");
    const edit = await request<WorkspaceEdit>("textDocument/rename", positionOf(TEXT, "outputs.destination }} -C", -3), { newName: "Fetch" });
    const edits = edit.changes![URI]!;
    expect(edits.length).toBe(3);
    const renamed = TextDocument.applyEdits(TextDocument.create(URI, "yaml", 0, TEXT), edits);
    expect(renamed).toContain("- name: Fetch");
    expect(renamed).toContain("{{ build.Fetch.outputs.destination }} -C");
    expect(renamed).not.toMatch(/\bDownload\b/);
    expect(validateText(renamed, "renamed.yaml", { platform: "linux" }).diagnostics).toEqual([]);
  });

  test("rename of a parameter, and a refused name", async () => {
    await setText(TEXT);
    const edit = await request<WorkspaceEdit>("textDocument/rename", positionOf(TEXT, "{{ Version }}", 5), { newName: "NginxVersion" });
    const renamed = TextDocument.applyEdits(TextDocument.create(URI, "yaml", 0, TEXT), edit.changes![URI]!);
    expect(renamed).toContain("- NginxVersion:");
    expect(renamed).toContain("nginx-{{ NginxVersion }}.tar.gz");
    expect(validateText(renamed, "renamed.yaml", { platform: "linux" }).diagnostics).toEqual([]);
    await expect(request("textDocument/rename", positionOf(TEXT, "- name: Download", 10), { newName: "has.dot" })).rejects.toThrow(/cannot rename to 'has.dot'/);
  });
});

describe("hover", () => {
  const hoverText = async (position: Position) => {
    const hover = await request<Hover | null>("textDocument/hover", position);
    return hover === null ? "" : (hover.contents as { value: string }).value;
  };

  test("an action: the module's summary, platforms, outputs and reference", async () => {
    await setText(TEXT);
    const text = await hoverText(positionOf(TEXT, "action: WebDownload", 10));
    expect(text).toContain("**WebDownload**");
    expect(text).toContain("Outputs: `destination`");
    expect(text).toContain("docs/modules.md#webdownload)");
  });

  test("a field: its description", async () => {
    expect(await hoverText(positionOf(TEXT, "maxAttempts: 3", 2))).toContain("attempts in all, default 1");
    expect(await hoverText(positionOf(TEXT, "overwrite: true", 2))).toContain("replace an existing file");
  });

  test("a reference: what it resolves to without running", async () => {
    expect(await hoverText(positionOf(TEXT, "{{ InstallDir }}", 4))).toContain("constant **InstallDir** = `/opt/nginx`");
    expect(await hoverText(positionOf(TEXT, "{{ Version }}", 4))).toContain("parameter **Version**, default `1.24.0`");
    const chain = await hoverText(positionOf(TEXT, "{{ validate.ReadConfig.outputs.content }}", 5));
    expect(chain).toContain("step **validate/ReadConfig** (ReadFile)");
    expect(chain).toContain("the file's text");
  });
});

describe("quick fixes", () => {
  test("each did-you-mean diagnostic offers its word; applying them all leaves a valid document", async () => {
    const broken = TEXT.replace("action: WebDownload", "action: WebDownlod")
      .replace("onFailure: Abort", "onFailure: Abrot")
      .replace("maxAttempts: 3", "maxAttempt: 3")
      .replace("nginx-{{ Version }}", "nginx-{{ Verison }}")
      .replace("{{ context:osPlatform }}", "{{ context:osPlatfrom }}")
      .replace("{{ validate.ReadConfig.outputs.content }}", "{{ validate.ReadConfg.outputs.contnt }}");
    await setText(broken);
    const diagnostics = await session.diagnosticsFor(URI, version);
    expect(diagnostics.length).toBe(6);
    const actions = await session.connection.sendRequest<CodeAction[]>("textDocument/codeAction", {
      textDocument: { uri: URI },
      range: { start: { line: 0, character: 0 }, end: { line: broken.split("\n").length, character: 0 } },
      context: { diagnostics },
    });
    expect(actions.map((a) => a.title).sort()).toEqual([
      "Change to 'Abort'", "Change to 'WebDownload'", "Change to 'maxAttempts'", "Change to '{{ Version }}'",
      "Change to '{{ context:osPlatform }}'", "Change to '{{ validate.ReadConfig.outputs.contnt }}'",
    ].sort());
    const edits: TextEdit[] = actions.flatMap((a) => a.edit!.changes![URI]!);
    const fixed = TextDocument.applyEdits(TextDocument.create(URI, "yaml", 0, broken), edits);
    // The chaining typo had two misspelt parts: the fix corrects the step; the field's own
    // did-you-mean comes once the step is known.
    const second = validateText(fixed, "fixed.yaml", { platform: "linux" }).diagnostics;
    expect(second.map((d) => [d.code, d.suggestion])).toEqual([["E_CHAINING", "{{ validate.ReadConfig.outputs.content }}"]]);
    expect(fixed.replace(second[0]!.suggestion!.replace("content", "contnt"), second[0]!.suggestion!)).toBe(TEXT);
  });
});
