/**
 * `awstoe schema` in a real editor back end: yaml-language-server (the YAML extension of VS Code,
 * and what most editors run for YAML), driven over stdio with LSP as an editor drives it. The
 * schema comes from the compiled binary; the server finds it by file pattern (`yaml.schemas`)
 * or by a modeline. Hover must show the field's own text, not the document's heading, and
 * completion must offer no item named after the document, no `object(…)` item and no label twice.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { awstoeBinary, runAwstoe } from "../helpers/binary.ts";
import { completionLabels, hoverText, LspClient } from "../helpers/lsp-stdio.ts";

const SERVER = join(import.meta.dir, "../../node_modules/yaml-language-server/bin/yaml-language-server");
/** Node when there is one (the server is written for it); Bun runs it too. */
const RUNTIME = Bun.which("node") ?? process.execPath;

let tmp: string;
let client: LspClient;
let opened = 0;

/** yaml-language-server's settings: the schema for every YAML file under a components/ folder. */
function settings(schemaUri: string) {
  return { schemas: { [schemaUri]: ["**/components/*.yaml"] }, validate: true, hover: true, completion: true };
}

/** Opens `text` with `|` marking the cursor; returns where the cursor is and the document's URI. */
function open(folder: string, text: string): { uri: string; position: { line: number; character: number } } {
  const lines = text.split("\n");
  const line = lines.findIndex((l) => l.includes("|"));
  if (line < 0) throw new Error("no | cursor in the document");
  const position = { line, character: lines[line]!.indexOf("|") };
  const content = text.replace("|", "");
  const dir = join(tmp, folder);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `doc-${opened++}.yaml`);
  writeFileSync(file, content);
  const uri = pathToFileURL(file).href;
  client.notify("textDocument/didOpen", { textDocument: { uri, languageId: "yaml", version: 1, text: content } });
  return { uri, position };
}

async function hoverAt(folder: string, text: string): Promise<string> {
  const { uri, position } = open(folder, text);
  return hoverText(await client.request("textDocument/hover", { textDocument: { uri }, position }));
}

async function completionAt(folder: string, text: string): Promise<string[]> {
  const { uri, position } = open(folder, text);
  return completionLabels(await client.request("textDocument/completion", { textDocument: { uri }, position }));
}

/** A realistic component, the cursor (`|`) somewhere in its second phase's step. */
function component(step: string): string {
  return `name: WebServer
description: Installs and checks nginx.
schemaVersion: 1.0
parameters:
  - Port:
      type: string
      default: "8080"
      description: the port nginx listens on
phases:
  - name: build
    steps:
      - name: Install
        action: ExecuteBash
        timeoutSeconds: 600
        onFailure: Abort
        inputs:
          commands:
            - dnf install -y nginx
            - sed -i 's/listen 80;/listen {{ Port }};/' /etc/nginx/nginx.conf
  - name: validate
    steps:
${step}`;
}

/** Labels that are junk: named after the document, `object(…)`, or offered more than once. */
function junk(labels: string[]): string[] {
  const bad = labels.filter((l) => l.includes("AWSTOE component document") || /^object\(/.test(l) || l.includes("object("));
  const twice = labels.filter((l, i) => labels.indexOf(l) !== i).map((l) => `${l} (twice)`);
  return [...bad, ...twice];
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "opentoe-yls-"));
  await awstoeBinary();
  const schemaFile = join(tmp, "awstoe.schema.json");
  const run = runAwstoe(["schema"], { stdoutFile: schemaFile });
  expect(run.code).toBe(0);
  const yaml = settings(pathToFileURL(schemaFile).href);
  client = new LspClient(RUNTIME, [SERVER, "--stdio"], { configuration: (section) => (section === "yaml" ? yaml : null) });
  await client.request("initialize", {
    processId: process.pid,
    rootUri: pathToFileURL(tmp).href,
    workspaceFolders: [{ uri: pathToFileURL(tmp).href, name: "components" }],
    capabilities: {
      workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true } },
      textDocument: {
        hover: { contentFormat: ["markdown", "plaintext"] },
        completion: { completionItem: { snippetSupport: true, documentationFormat: ["markdown", "plaintext"] } },
      },
    },
  });
  client.notify("initialized", {});
  client.notify("workspace/didChangeConfiguration", { settings: { yaml } });
  // The server applies settings and loads the schema in the background: wait until a hover shows it.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await hoverAt("components", "schemaVer|sion: 1.0\n");
    if (text.includes("Document: schemaVersion")) break;
    if (Date.now() > deadline) throw new Error(`yaml-language-server never used the schema (last hover: ${JSON.stringify(text)})\n${client.stderr}`);
    await Bun.sleep(100);
  }
}, 600_000);

afterAll(async () => {
  await client?.close();
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

describe("yaml-language-server with the schema from `awstoe schema` (yaml.schemas by file pattern)", () => {
  test("hover on a step key shows that field's title and text, with its docs link", async () => {
    const text = await hoverAt("components", component(`      - name: CheckPort
        action: ExecuteBash
        time|outSeconds: 60
        inputs:
          commands:
            - curl -fsS http://localhost:{{ Port }}/
`));
    expect(text).toContain("Step: timeoutSeconds");
    expect(text).toContain("Time limit for one attempt");
    expect(text).toContain("**Default:** `7200`");
    expect(text).toContain("https://github.com/opentoe/opentoe/blob/main/docs/component-documents.md#5-steps");
    expect(text).not.toContain("AWSTOE component document");
  });

  test("hover on onFailure shows its own text and allowed values", async () => {
    const text = await hoverAt("components", component(`      - name: CheckPort
        action: ExecuteBash
        onFai|lure: Continue
        inputs:
          commands: [true]
`));
    expect(text).toContain("Step: onFailure");
    expect(text).toContain("`Abort`, `Continue`, `Ignore`");
    expect(text).toContain("docs/component-documents.md#91-onfailure");
    expect(text).not.toContain("AWSTOE component document");
  });

  test("hover on an ExecuteBash input key shows the module field's text", async () => {
    const text = await hoverAt("components", component(`      - name: CheckPort
        action: ExecuteBash
        inputs:
          comm|ands:
            - curl -fsS http://localhost:{{ Port }}/
`));
    expect(text).toContain("ExecuteBash: commands");
    expect(text).toContain("Shell commands, run in order as one script");
    expect(text).toContain("https://github.com/opentoe/opentoe/blob/main/docs/modules.md#executebash");
    expect(text).not.toContain("AWSTOE component document");
  });

  test("step-key completion: the step's keys, inputs once, nothing named after the document", async () => {
    const labels = await completionAt("components", component(`      - name: CheckPort
        action: ExecuteBash
        ti|
`));
    expect(labels).toContain("timeoutSeconds");
    expect(labels).toContain("onFailure");
    expect(labels.filter((l) => l === "inputs")).toHaveLength(1);
    expect(junk(labels)).toEqual([]);
  });

  test("step-key completion in a step that has no action yet", async () => {
    const labels = await completionAt("components", component(`      - name: CheckPort
        |
      - name: Next
        action: Reboot
`));
    expect(labels).toContain("action");
    expect(labels).toContain("maxAttempts");
    expect(junk(labels)).toEqual([]);
  });

  test("completion inside ExecuteBash inputs: its input keys, no object(…) item", async () => {
    const labels = await completionAt("components", component(`      - name: CheckPort
        action: ExecuteBash
        inputs:
          |
`));
    expect(labels).toContain("commands");
    expect(junk(labels)).toEqual([]);
  });

  test("completion in Assert inputs and beside an if's operator: operators and operands only", async () => {
    const assert = await completionAt("components", component(`      - name: PortAnswers
        action: Assert
        inputs:
          |
`));
    expect(assert).toContain("stringEquals");
    expect(assert).toContain("and");
    expect(junk(assert)).toEqual([]);
    expect(assert.filter((l) => l.includes(" "))).toEqual([]); // no "fill in the required fields" items
    const beside = await completionAt("components", component(`      - name: CheckPort
        action: ExecuteBash
        if:
          stringEquals: "{{ Port }}"
          |
        inputs:
          commands: [true]
`));
    expect(beside).toEqual(expect.arrayContaining(["value", "then", "else"]));
    expect(junk(beside)).toEqual([]);
  });

  test("a misspelt input key is reported", async () => {
    const { uri } = open("components", component(`      - name: CheckPort
        action: ExecuteBash
        inputs:
          commnds: [true]|
`));
    const published = (await client.waitForNotification("textDocument/publishDiagnostics", (p) => (p as { uri: string }).uri === uri)) as { diagnostics: { message: string }[] };
    expect(published.diagnostics.map((d) => d.message).join("\n")).toContain("commnds");
  });
});

describe("yaml-language-server with a modeline", () => {
  const step = `      - name: CheckPort
        action: ExecuteBash
        time|outSeconds: 60
        inputs:
          commands: [true]
`;

  test("`# yaml-language-server: $schema=…` associates a file outside the pattern", async () => {
    const text = await hoverAt("elsewhere", `# yaml-language-server: $schema=../awstoe.schema.json\n${component(step)}`);
    expect(text).toContain("Step: timeoutSeconds");
    expect(text).not.toContain("AWSTOE component document");
  });

  test("without the modeline the same file gets no schema (the association came from it)", async () => {
    const text = await hoverAt("elsewhere", component(step));
    expect(text).not.toContain("Step: timeoutSeconds");
  });
});

describe("awstoe schema --help", () => {
  test("says how to associate the schema by file pattern and by modeline", () => {
    const run = runAwstoe(["schema", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"yaml.schemas": { "./awstoe.schema.json": ["**/components/*.yaml"] }');
    expect(run.stdout).toContain("# yaml-language-server: $schema=./awstoe.schema.json");
  });
});
