/**
 * `awstoe lsp` (the compiled binary, over stdio): diagnostics are `awstoe validate`'s for the same
 * file — codes, lines, columns, messages, severities — for the platform the modeline or the
 * setting picks; a burst of edits publishes only the last version; shutdown/exit end it cleanly.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { awstoeBinary, runAwstoe } from "../helpers/binary.ts";
import { openDocument, startLsp, type LspSession } from "../helpers/awstoe-lsp.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/lsp");
const BROKEN = join(FIXTURES, "broken.yaml");
const GOOD = join(FIXTURES, "web-server.yaml");

let binary: string;
let session: LspSession;

beforeAll(async () => {
  binary = await awstoeBinary();
  session = await startLsp(binary);
});

afterAll(async () => {
  if (session.child.exitCode === null) await session.close();
});

interface Validated {
  code: string;
  severity: string;
  message: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  hint?: string;
}

function validateJson(file: string, platform = "linux"): Validated[] {
  const run = runAwstoe(["validate", "-d", file, "--output", "json", "--platform", platform]);
  return (JSON.parse(run.stdout) as { documents: { diagnostics: Validated[] }[] }).documents[0]!.diagnostics;
}

describe("awstoe lsp diagnostics", () => {
  test("are awstoe validate's for the same file: code, place, message, hint, severity", async () => {
    const uri = `file://${BROKEN}`;
    await openDocument(session, uri, readFileSync(BROKEN, "utf8"));
    const published = await session.diagnosticsFor(uri, 1);
    const expected = validateJson(BROKEN);
    expect(expected.length).toBeGreaterThan(6);
    expect(published.map((d) => ({
      code: d.code,
      severity: d.severity === 1 ? "error" : "warning",
      message: String(d.message).split("\n")[0],
      hint: String(d.message).split("\n")[1],
      line: d.range.start.line + 1,
      column: d.range.start.character + 1,
      endLine: d.range.end.line + 1,
      endColumn: d.range.end.character + 1,
    }))).toEqual(expected.map((d) => ({ code: d.code, severity: d.severity, message: d.message, hint: d.hint, line: d.line, column: d.column, endLine: d.endLine, endColumn: d.endColumn })));
    expect(published.some((d) => d.severity === 2 && d.code === "W_UNKNOWN_VARIABLE")).toBe(true);
  });

  test("a valid document publishes an empty list", async () => {
    const uri = `file://${GOOD}`;
    await openDocument(session, uri, readFileSync(GOOD, "utf8"));
    expect(await session.diagnosticsFor(uri, 1)).toEqual([]);
  });

  test("the modeline picks the platform: ExecuteBash is not for windows", async () => {
    const text = readFileSync(GOOD, "utf8").replace("platform=linux", "platform=windows");
    const uri = "file:///virtual/windows.yaml";
    await openDocument(session, uri, text);
    const codes = (await session.diagnosticsFor(uri, 1)).map((d) => d.code);
    expect(codes).toContain("E_ACTION_UNSUPPORTED_ON_PLATFORM");
    expect(codes.length).toBe(validateJson(GOOD, "windows").length);
  });

  test("edits in a burst publish only the last version, with its problems", async () => {
    const uri = "file:///virtual/burst.yaml";
    const text = readFileSync(GOOD, "utf8");
    await openDocument(session, uri, text);
    await session.diagnosticsFor(uri, 1);
    const line = text.split("\n").findIndex((l) => l.includes("maxAttempts: 3"));
    for (let version = 2; version <= 21; version++) {
      // Each edit rewrites the attempts; the last one (21) leaves a typo in the key.
      const newText = version === 21 ? "        maxAttempt: 3" : `        maxAttempts: ${version}`;
      await session.connection.sendNotification("textDocument/didChange", {
        textDocument: { uri, version },
        contentChanges: [{ range: { start: { line, character: 0 }, end: { line, character: text.split("\n")[line]!.length + 10 } }, text: newText }],
      });
    }
    const last = await session.diagnosticsFor(uri, 21);
    expect(last.map((d) => d.code)).toEqual(["E_UNKNOWN_FIELD"]);
    const versions = session.published.filter((p) => p.uri === uri).map((p) => p.version);
    expect(versions).toEqual([1, 21]);
  });

  test("initializationOptions set the platform when there is no modeline", async () => {
    const windows = await startLsp(binary, { awstoe: { platform: "windows" } });
    try {
      const uri = "file:///virtual/no-modeline.yaml";
      await openDocument(windows, uri, readFileSync(GOOD, "utf8").replace(/^# awstoe.*\n/, ""));
      expect((await windows.diagnosticsFor(uri, 1)).map((d) => d.code)).toContain("E_ACTION_UNSUPPORTED_ON_PLATFORM");
    } finally {
      expect(await windows.close()).toBe(0);
    }
  });

  test("the awstoe.platform workspace setting, asked for with workspace/configuration", async () => {
    const windows = await startLsp(binary, {}, { platform: "windows" });
    try {
      const uri = "file:///virtual/setting.yaml";
      await openDocument(windows, uri, readFileSync(GOOD, "utf8").replace(/^# awstoe.*\n/, ""));
      // The answer to workspace/configuration may come after the first validation: wait for the one that has it.
      let codes: unknown[] = [];
      for (let tries = 0; tries < 50 && !codes.includes("E_ACTION_UNSUPPORTED_ON_PLATFORM"); tries++) {
        await Bun.sleep(100);
        codes = windows.published.filter((p) => p.uri === uri).flatMap((p) => p.diagnostics.map((d) => d.code));
      }
      expect(codes).toContain("E_ACTION_UNSUPPORTED_ON_PLATFORM");
    } finally {
      expect(await windows.close()).toBe(0);
    }
  });

  test("shutdown then exit ends the server with 0; a closed stdin without shutdown with 1", async () => {
    const clean = await startLsp(binary);
    expect(await clean.close()).toBe(0);
    expect(clean.stderr()).toBe("");
    const dropped = await startLsp(binary);
    const code = new Promise((resolve) => dropped.child.on("exit", resolve));
    dropped.child.stdin.end();
    expect(await code).toBe(1);
    expect(dropped.stderr()).toContain("awstoe lsp: the editor closed the connection without a shutdown request; exiting with 1");
  });

  test("an editor that dies without shutdown (its processId gone) ends the server with 1", async () => {
    const editor = Bun.spawn(["sleep", "60"]);
    const child = Bun.spawn([binary, "lsp"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { processId: editor.pid, rootUri: null, capabilities: {} } });
    child.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await child.stdin.flush();
    const reply = child.stdout.getReader();
    let answered = "";
    while (!answered.includes('"id":1')) {
      const { done, value } = await reply.read();
      if (done) break;
      answered += new TextDecoder().decode(value);
    }
    expect(answered).toContain('"capabilities"');
    editor.kill();
    await editor.exited;
    // stdin stays open: only the watch on the editor's process can end the server (it looks every 3 s).
    expect(await child.exited).toBe(1);
  }, 20_000);

  test("bytes that are not LSP get one clear line on stderr, no stack trace", async () => {
    const child = Bun.spawn([binary, "lsp"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    child.stdin.write("Content-Length: 5\r\n\r\nhello");
    child.stdin.write("nonsense header\r\n\r\n");
    await child.stdin.flush();
    await Bun.sleep(300);
    child.stdin.end();
    expect(await child.exited).toBe(1);
    const stderr = await new Response(child.stderr).text();
    expect(stderr).toContain("awstoe lsp: a message from the editor could not be read (JSON Parse error");
    expect(stderr).toContain("check that the editor speaks LSP over stdio to 'awstoe lsp'");
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(await new Response(child.stdout).text()).toBe("");
  });
});
