/**
 * The layering of ARCHITECTURE.md §2.5, checked on every runtime import under src/, plus the
 * runtime rule of §2.16 (node:* APIs only, no Bun globals) and the single exits/consola seams.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../src");

/** Which layers each layer may import — at run time and for types alike (a type is a dependency too). */
const ALLOWED: Record<string, readonly string[]> = {
  errors: [],
  version: [],
  // The durable-write and private-folder helpers: a leaf every layer may use (one way to write a file).
  "safe-fs": [],
  model: ["safe-fs", "errors"],
  expr: ["safe-fs", "model", "errors"],
  platform: ["safe-fs", "model", "errors"],
  aws: ["safe-fs", "model", "errors"],
  state: ["safe-fs", "model", "errors"],
  logs: ["safe-fs", "model", "errors"],
  modules: ["safe-fs", "model", "errors"],
  document: ["safe-fs", "model", "expr", "modules", "errors"],
  engine: ["safe-fs", "model", "expr", "modules", "document", "platform", "aws", "state", "logs", "errors", "version"],
  // The Language Server (awstoe lsp): reads documents the way validate does, runs nothing, so it
  // sits above document/ and below cli/, with none of the engine's side effects.
  lsp: ["model", "expr", "modules", "document", "errors"],
  cli: ["safe-fs", "model", "expr", "modules", "document", "platform", "aws", "state", "logs", "engine", "lsp", "errors", "version"],
  main: ["safe-fs", "cli", "errors", "version"],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

function layerOf(file: string): string {
  const rel = relative(SRC, file);
  const top = rel.split("/")[0]!;
  return top.endsWith(".ts") ? top.slice(0, -3) : top;
}

const files = sourceFiles(SRC);
const transpiler = new Bun.Transpiler({ loader: "ts" });

/**
 * Every module a file names: runtime imports (the transpiler's scan, which also sees `await
 * import()` and `require`), plus `import type` / `export … from` lines, which it erases.
 */
function importsOf(code: string): string[] {
  const runtime = transpiler.scanImports(code).map((i) => i.path);
  const typeOnly = [...code.matchAll(/^\s*(?:import|export)\s+(?:type\s+)?[^;]*?\bfrom\s+"([^"]+)"/gm)].map((m) => m[1]!);
  return [...new Set([...runtime, ...typeOnly])];
}

describe("architecture", () => {
  test("every src file belongs to a known layer", () => {
    for (const file of files) expect(Object.keys(ALLOWED), relative(SRC, file)).toContain(layerOf(file));
  });

  for (const file of files) {
    const rel = relative(SRC, file);
    test(`imports of ${rel} respect the layers`, () => {
      const code = readFileSync(file, "utf8").replace(/^#!.*\n/, "");
      const layer = layerOf(file);
      for (const path of importsOf(code)) {
        if (!path.startsWith(".")) {
          // Packages: only node:* built-ins and the approved dependencies. re2js: the RE2 engine
          // (Go's regexp semantics) for patternMatches, required lazily by expr/condition.ts.
          // @smithy/*: the AWS SDK v3's own runtime — its fetch handler, and its SigV4 signer and
          // config loader for aws/s3-direct.ts. vscode-languageserver(-textdocument): the LSP plumbing
          // of awstoe lsp, in lsp/ only (checked below).
          expect(path, `${rel} imports ${path}`).toMatch(/^(node:|citty$|yaml$|consola$|re2js$|@sinclair\/typebox|@aws-sdk\/|@smithy\/(fetch-http-handler|signature-v4|core\/config)$|vscode-languageserver(\/node|-textdocument)?$)/);
          if (path.startsWith("vscode-languageserver")) expect(layer, `${rel} imports ${path}`).toBe("lsp");
          continue;
        }
        const target = resolve(dirname(file), path);
        if (!target.startsWith(SRC)) continue; // package.json for the version
        const targetLayer = layerOf(target);
        if (targetLayer === layer) continue;
        expect(ALLOWED[layer], `${rel} (${layer}) may not import ${relative(SRC, target)} (${targetLayer})`).toContain(targetLayer);
        expect(relative(SRC, target).split("/").pop()!.startsWith("_") && targetLayer !== layer, `${rel} imports another folder's private file ${path}`).toBe(false);
      }
    });
  }

  test("src/ uses node:* APIs, never Bun globals (the Node fallback runs the same code)", () => {
    for (const file of files) {
      // The one exception looks Bun up at run time, and every caller has a node:* path without it.
      if (relative(SRC, file) === "safe-fs/bun-native.ts") {
        expect(readFileSync(file, "utf8")).toContain("(globalThis as { Bun?: BunNative }).Bun");
        continue;
      }
      const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      expect(/\bBun\.|from "bun"|bun:/.test(code), relative(SRC, file)).toBe(false);
    }
  });

  test("only main.ts ends the process", () => {
    for (const file of files) {
      if (layerOf(file) === "main") continue;
      expect(/process\.exit(Code\b|\s*\()/.test(readFileSync(file, "utf8")), relative(SRC, file)).toBe(false);
    }
  });

  test("files are written only through safe-fs (one durable-write helper)", () => {
    // Writing whole files, appending, or making temporary names by hand is what let planted links
    // redirect root's writes; safe-fs/durable.ts is the one place that does it.
    const forbidden = /\b(writeFileSync|appendFileSync|createWriteStream|randomBytes)\s*\(|["']wx["']/;
    for (const file of files) {
      if (layerOf(file) === "safe-fs") continue;
      const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      expect(forbidden.exec(code)?.[0], relative(SRC, file)).toBeUndefined();
    }
  });

  test("comments cite the reference in docs/, not files outside the repository", () => {
    // The behaviour spec the project started from is not in a clone; docs/ is (ARCHITECTURE.md).
    const outside = /(?<![-/\w])(cli|documents|modules)\.md|README Q\d|current-awstoe\.md/;
    for (const file of files) expect(outside.exec(readFileSync(file, "utf8"))?.[0], relative(SRC, file)).toBeUndefined();
  });

  test("every docs/ page a comment cites exists", () => {
    for (const file of files) {
      for (const [, page] of readFileSync(file, "utf8").matchAll(/\bdocs\/([\w-]+\.md)/g)) {
        expect(existsSync(resolve(SRC, "..", "docs", page!)), `${relative(SRC, file)} cites docs/${page}`).toBe(true);
      }
    }
  });

  test("only logs/logger.ts constructs consola", () => {
    for (const file of files) {
      if (relative(SRC, file) === "logs/logger.ts") continue;
      expect(/from "consola"/.test(readFileSync(file, "utf8")), relative(SRC, file)).toBe(false);
    }
  });

  test("the checker sees real violations, type-only imports included", () => {
    const imports = importsOf('import { x } from "../engine/run.ts";\nimport type { T } from "../cli/x.ts";\nexport type { U } from "../logs/_y.ts";\nawait import("./y.ts");');
    expect(imports.sort()).toEqual(["../cli/x.ts", "../engine/run.ts", "../logs/_y.ts", "./y.ts"]);
  });
});
