/**
 * End-to-end tests of the compiled `awstoe` (dist/awstoe-<host>, built on demand by
 * test/helpers/binary.ts). Every run has NO_COLOR=1 unless a test says otherwise.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, ftruncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { validateArgs } from "../../src/cli/validate.ts";
import { awstoeBinary, runAwstoe, type AwstoeRun } from "../helpers/binary.ts";
import { expectUsageError } from "../helpers/run-output.ts";

const REPO = join(import.meta.dir, "../..");
const HELLO_LINUX = join(REPO, "examples/hello-linux.yaml");
const HELLO_WINDOWS = join(REPO, "examples/hello-windows.yaml");

let tmp: string;
let binary: string;

/** Writes a file in the test's temp folder and returns its path. */
function file(name: string, content: string | Uint8Array): string {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
}

/** A failure the user caused: exit 1, no crash, no stack trace, no hang. */
function expectCleanFailure(run: AwstoeRun): void {
  expect(run.timedOut).toBe(false);
  expect(run.code).toBe(1);
  const all = `${run.stdout}\n${run.stderr}`;
  expect(all).not.toMatch(/internal error/i);
  expect(all).not.toMatch(/^\s*at .*:\d+(:\d+)?\)?$/m); // a JS stack frame
  expect(all).not.toContain("$bunfs");
  expect(all).not.toMatch(/\b(TypeError|RangeError|ReferenceError|SyntaxError)\b/);
  expect(run.ms).toBeLessThan(10_000); // hang guard only, not a performance target
}

const BAD_ACTION_DOC = `name: Bad
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: SayHello
        action: ExecuteBsh
        inputs:
          commands:
            - echo hi
`;

beforeAll(async () => {
  binary = await awstoeBinary();
  tmp = mkdtempSync(join(tmpdir(), "opentoe-e2e-"));
});

afterAll(() => {
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

describe("awstoe --version / --help", () => {
  test("--version prints the package version and exits 0", () => {
    const run = runAwstoe(["--version"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]!).toContain(packageJson.version);
    expect(lines[0]!).toMatch(/^awstoe \S+ \(opentoe, commit \S+\)$/);
    // The build embeds the git commit; "dev" would mean the define was lost.
    expect(lines[0]!).not.toContain("commit dev)");
  });

  test("--help lists the commands", () => {
    const run = runAwstoe(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("validate");
    expect(run.stdout).toContain("schema");
    expect(run.stdout).not.toMatch(/\u001b\[/);
  });

  test("validate --help lists every option with its description", () => {
    const run = runAwstoe(["validate", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(/\u001b\[/);
    const lines = run.stdout.split("\n");
    expect(lines.find((l) => l.startsWith("  awstoe validate"))).toContain("a.yaml b.yaml …"); // the positional documents
    for (const [name, def] of Object.entries(validateArgs)) {
      if (def.type === "positional") continue;
      // Each option on a line of its own; its description wrapped on the lines below it.
      const at = lines.findIndex((l) => new RegExp(`^  (-\\w, )?--${name}\\b`).test(l));
      expect(at, `--${name} is in the help`).toBeGreaterThan(0);
      const below = [];
      for (let i = at + 1; i < lines.length && lines[i]!.startsWith("        "); i++) below.push(lines[i]!.trim());
      expect(below.join(" ")).toContain(def.description);
      if ("alias" in def) expect(lines[at]!).toContain(`-${def.alias},`);
    }
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(100);
    for (const section of ["Usage:", "Options:", "Examples:", "Exit codes:", "Environment:"]) expect(lines).toContain(section);
  });
});

describe("validate takes documents as plain arguments (a shell-expanded -d *.yaml)", () => {
  test("after -d and on their own; every document is checked", () => {
    const good = file("plain-good.yaml", "schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: A\n        action: ExecuteBash\n        inputs:\n          commands: [echo hi]\n");
    const bad = file("plain-bad.yaml", "schemaVersion: 1.0\nphases: []\n");
    const both = runAwstoe(["validate", "--platform", "linux", "-d", good, bad]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain(good);
    expect(both.stderr).toContain(bad);
    const alone = runAwstoe(["validate", "--platform", "linux", good, good]);
    expect(alone.code, alone.stderr).toBe(0);
    expect(runAwstoe(["run", "-d", good, "extra"]).code).toBe(2);
  });
});

describe("usage errors (exit 2, one line)", () => {
  test("unknown command suggests the right one", () => {
    const line = expectUsageError(runAwstoe(["valdate", "--documents", HELLO_LINUX]));
    expect(line).toContain("awstoe validate");
  });

  test("unknown option suggests --documents", () => {
    const line = expectUsageError(runAwstoe(["validate", "--documnets", HELLO_LINUX]));
    expect(line).toContain("--documnets");
    expect(line).toContain("--documents");
  });

  test.each([
    [["validate", "--documents"]],
    [["validate", "-d"]],
    [["validate", "--output"]],
    [["validate", "--platform"]],
    [["validate", "--documents", "--trace"]],
  ])("option missing its value: %j", (args) => {
    const line = expectUsageError(runAwstoe(args));
    expect(line).toContain("needs a value");
  });

  test("both --documents and --config", () => {
    const line = expectUsageError(runAwstoe(["validate", "--documents", HELLO_LINUX, "--config", join(tmp, "c.json")]));
    expect(line).toContain("--documents");
    expect(line).toContain("--config");
  });

  test("neither --documents nor --config", () => {
    const line = expectUsageError(runAwstoe(["validate"]));
    expect(line).toContain("--documents");
  });
});

describe("option syntax is Go's flag package's", () => {
  // awstoe is a Go program: `-s=/path` is the folder /path (getopt would read `=/path`), one or
  // two dashes are the same, and a flag takes `=true|false`.
  test("-x=value and -long-name value mean what they mean to awstoe", () => {
    const cwd = mkdtempSync(join(tmp, "eq-cwd-"));
    const logs = join(tmp, "eq-logs");
    const run = runAwstoe(["run", `-d=${HELLO_LINUX}`, `-l=${logs}`, `-s=${join(tmp, "eq-state")}`, "-o=json", "-trace=false"], { cwd });
    expect(run.stderr).not.toContain("awstoe: ");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).status).toBe("success");
    expect(readdirSync(logs).some((name) => name.startsWith("TOE_"))).toBe(true);
    expect(readdirSync(cwd)).toEqual([]); // no folder named '=' or '=…' in the working folder
    const long = runAwstoe(["validate", "-documents", HELLO_LINUX, "-platform=linux"]);
    expect(long.code).toBe(0);
    expect(long.stderr).toContain("valid");
  });

  test("a flag with a value Go would not take is a usage error", () => {
    expect(expectUsageError(runAwstoe(["validate", "-d", HELLO_LINUX, "-t=yes"]))).toContain("'--trace' takes true or false");
  });
});

describe("arguments that are not UTF-8 (Linux: read from /proc/self/cmdline)", () => {
  const LATIN1 = Buffer.concat([Buffer.from("caf"), Buffer.from([0xe9]), Buffer.from(".yaml")]);

  test.each([
    ["validate --documents <path>", (p: Uint8Array) => ["validate", "--documents", p], "--documents"],
    ["validate -d=<path>", (p: Uint8Array) => ["validate", Buffer.concat([Buffer.from("-d="), p])], "--documents"],
    ["run -s <dir>", (p: Uint8Array) => ["run", "-d", HELLO_LINUX, "-s", p], "--state-directory"],
    ["run --log-directory=<dir>", (p: Uint8Array) => ["run", "-d", HELLO_LINUX, Buffer.concat([Buffer.from("--log-directory="), p])], "--log-directory"],
  ])("%s is refused, naming the option and showing the bytes", (_, args, option) => {
    const path = Buffer.concat([Buffer.from(`${tmp}/`), LATIN1]);
    writeFileSync(path, readFileSync(HELLO_LINUX)); // the file exists: it is not reported missing
    const cwd = mkdtempSync(join(tmp, "utf8-cwd-"));
    const line = expectUsageError(runWithBytes(args(path) as (string | Uint8Array)[], cwd));
    expect(line).toContain(`option '${option}' has a value that is not valid UTF-8: '${tmp}/caf\\xe9.yaml'`);
    expect(line).toContain("awstoe needs UTF-8 paths");
    expect(line).toContain("rename the file or folder");
    expect(line).not.toContain("\ufffd");
    expect(readdirSync(cwd)).toEqual([]); // nothing was run, no log folder made
  });

  test("UTF-8 paths outside ASCII are fine", () => {
    const path = join(tmp, "café-ü-日本.yaml");
    copyFileSync(HELLO_LINUX, path);
    const run = runWithBytes(["validate", "-d", Buffer.from(path), "--platform", "linux"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(path);
  });
});

describe("control characters in what the user typed are escaped in messages", () => {
  test("a usage error stays one line, without raw escapes", () => {
    const line = expectUsageError(runAwstoe(["validate", "-d", HELLO_LINUX, "--output", "js\non\u001b[31m"]));
    expect(line).toContain("does not take 'js\\non\\x1b[31m'");
  });

  test("a document path in diagnostics", () => {
    const run = runAwstoe(["validate", "--documents", "bad\u0007\u001b]0;title\u0007\nname.yaml", "--platform", "linux"]);
    expectCleanFailure(run);
    expect(run.stderr).toContain("bad\\x07\\x1b]0;title\\x07\\nname.yaml");
    expect(run.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });

  test("a NUL in a --config value (the command line cannot carry one)", () => {
    const config = file("nul-config.json", JSON.stringify({ documents: [{ path: "a\u0000b.yaml" }] }));
    const run = runAwstoe(["validate", "--config", config, "--platform", "linux"]);
    expectCleanFailure(run);
    expect(run.stderr).toContain("a\\x00b.yaml");
    expect(run.stderr).not.toContain("\u0000");
    const id = file("nul-id-config.json", JSON.stringify({ documents: [{ path: HELLO_LINUX }], executionId: "x\u0000\u001b[2Jy" }));
    const line = expectUsageError(runAwstoe(["run", "--config", id, "--dry-run"]));
    expect(line).toContain("execution id 'x\\x00\\x1b[2Jy'");
  });
});

/**
 * Runs the compiled awstoe with arguments given as bytes: Bun's spawn encodes string arguments
 * as UTF-8 (and Buffers the same, lossily), so the bytes are made by printf in a shell (a dash
 * too, as \055, so that no format starts with one).
 */
function runWithBytes(args: (string | Uint8Array)[], cwd = REPO): AwstoeRun {
  const word = (arg: string | Uint8Array) => {
    const bytes = typeof arg === "string" ? Buffer.from(arg) : Buffer.from(arg);
    const octal = [...bytes].map((b) => (/[A-Za-z0-9/._=]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, "0")}`)).join("");
    return `"$(printf '${octal}')"`;
  };
  const started = performance.now();
  const run = Bun.spawnSync(["sh", "-c", `exec "$0" ${args.map(word).join(" ")}`, binary], { cwd, env: { ...process.env, NO_COLOR: "1" }, timeout: 30_000 });
  return { code: run.exitCode ?? -1, stdout: run.stdout.toString(), stderr: run.stderr.toString(), ms: performance.now() - started, timedOut: run.exitedDueToTimeout === true };
}

describe("awstoe validate", () => {
  test("a good document is valid", () => {
    const run = runAwstoe(["validate", "--documents", HELLO_LINUX, "--platform", "linux"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("valid");
    expect(run.stdout).toBe(VALIDATION_SUCCESSFUL); // the documented result only; the report is on stderr
  });

  test("an unknown action: file:line:col, caret line and a suggestion", () => {
    const doc = file("bad-action.yaml", BAD_ACTION_DOC);
    const run = runAwstoe(["validate", "--documents", doc, "--platform", "linux"]);
    expectCleanFailure(run);
    expect(run.stderr).toContain(`${doc}:7:17:`);
    expect(run.stderr).toMatch(/^\s*\|\s*\^{10}\s*$/m); // carets under "ExecuteBsh"
    expect(run.stderr).toContain("did you mean 'ExecuteBash'");
  });

  test("--output json: status and per-document diagnostics with line/column on stdout", () => {
    const doc = file("bad-action-json.yaml", BAD_ACTION_DOC);
    const run = runAwstoe(["validate", "--documents", `${doc},${HELLO_LINUX}`, "--platform", "linux", "--output", "json"]);
    expect(run.code).toBe(1);
    const body = JSON.parse(run.stdout);
    expect(body.validationStatus).toBe("failed");
    expect(body.documents).toHaveLength(2);
    const [bad, good] = body.documents;
    expect(bad.document).toBe(doc);
    expect(bad.validationStatus).toBe("failed");
    expect(bad.diagnostics).toHaveLength(1);
    expect(bad.diagnostics[0]).toMatchObject({ code: "E_UNKNOWN_ACTION", severity: "error", line: 7, column: 17 });
    expect(good.validationStatus).toBe("success");
    expect(good.diagnostics).toEqual([]);
  });

  test("several documents in one call report every problem of every document", () => {
    const a = file("multi-a.yaml", BAD_ACTION_DOC.replace("name: build", "name: build\n    timeoutSeconds: 5").replace("      - name: SayHello", "      - name: SayHello\n        maxAttempts: 0"));
    const b = file("multi-b.yaml", "schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: One\n        action: CreateFlie\n        inputs: []\n      - name: One\n        action: Reboot\n");
    const text = runAwstoe(["validate", "--documents", `${a},${b}`, "--platform", "linux"]);
    expectCleanFailure(text);
    const json = runAwstoe(["validate", "--documents", `${a},${b}`, "--platform", "linux", "--output", "json"]);
    expect(json.code).toBe(1);
    const body = JSON.parse(json.stdout);
    expect(body.documents.map((d: { document: string }) => d.document)).toEqual([a, b]);
    for (const d of body.documents) {
      expect(d.validationStatus).toBe("failed");
      expect(d.diagnostics.length).toBeGreaterThanOrEqual(2);
      for (const diag of d.diagnostics) {
        // every diagnostic is in the text report too, at its position
        const at = diag.line === undefined ? `${d.document}:` : `${d.document}:${diag.line}:${diag.column}:`;
        expect(text.stderr).toContain(at);
        expect(text.stderr).toContain(diag.message);
      }
    }
    const codes = body.documents.flatMap((d: { diagnostics: { code: string }[] }) => d.diagnostics.map((x) => x.code));
    expect(codes).toContain("E_UNKNOWN_ACTION");
    expect(codes).toContain("E_DUPLICATE_STEP");
  });

  test("--platform windows rejects ExecuteBash; the windows example passes", () => {
    const linuxDoc = runAwstoe(["validate", "--documents", HELLO_LINUX, "--platform", "windows"]);
    expectCleanFailure(linuxDoc);
    expect(linuxDoc.stderr).toContain("ExecuteBash");
    expect(linuxDoc.stderr).toContain("windows");
    const windowsDoc = runAwstoe(["validate", "--documents", HELLO_WINDOWS, "--platform", "windows"]);
    expect(windowsDoc.code).toBe(0);
    expect(windowsDoc.stderr).toContain("valid");
  });
});

describe("awstoe validate --config", () => {
  test("a config listing documents validates them", () => {
    const config = file("good-config.json", JSON.stringify({ documents: [{ path: HELLO_LINUX }, { path: HELLO_LINUX }] }, null, 2));
    const run = runAwstoe(["validate", "--config", config, "--platform", "linux"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("valid");
    const bad = file("bad-via-config.yaml", BAD_ACTION_DOC);
    const config2 = file("config-with-bad.json", JSON.stringify({ documents: [{ path: HELLO_LINUX }, { path: bad }] }));
    const run2 = runAwstoe(["validate", "-c", config2, "--platform", "linux"]);
    expectCleanFailure(run2);
    expect(run2.stderr).toContain(`${bad}:7:17:`);
  });

  test("a config with a JSON syntax error gives line:column", () => {
    const config = file("syntax-config.json", '{\n  "documents": [\n    {"path": "x.yaml"},\n  ]\n');
    const run = runAwstoe(["validate", "--config", config]);
    expectCleanFailure(run);
    expect(run.stderr).toMatch(new RegExp(`${escape(config)}:\\d+:\\d+: error`));
    expect(run.stderr).toContain("JSON");
  });

  test("a config with an unknown key gives line:column", () => {
    const config = file("unknown-key-config.json", `{\n  "documents": [{"path": ${JSON.stringify(HELLO_LINUX)}}],\n  "documnts": 1\n}\n`);
    const run = runAwstoe(["validate", "--config", config]);
    expectCleanFailure(run);
    expect(run.stderr).toContain(`${config}:3:3:`);
    expect(run.stderr).toContain("documnts");
  });
});

describe("bad inputs: exit 1, a clear message, no crash, no hang", () => {
  const cases: [string, () => string, RegExp][] = [
    ["a missing file", () => join(tmp, "does-not-exist.yaml"), /does not exist/],
    ["a directory", () => { const d = join(tmp, "a-folder.yaml"); mkdirSync(d, { recursive: true }); return d; }, /folder/],
    ["an empty file", () => file("empty.yaml", ""), /empty/],
    ["binary garbage with NUL bytes", () => file("garbage.yaml", new Uint8Array([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x0a, 0x00, 0x01, 0x02, 0xff, 0x00, 0x7f, 0x80, 0x00])), /binary|NUL/],
    ["a non-UTF-8 file", () => file("latin1.yaml", new Uint8Array([...new TextEncoder().encode("name: ok\ndescription: caf"), 0xff, 0xfe, ...new TextEncoder().encode(" here\n")])), /UTF-8/],
    ["a YAML alias bomb", () => file("bomb.yaml", aliasBomb()), /alias/i],
    ["100000 nested [", () => file("nested.yaml", "[".repeat(100_000)), /nest|deep/i],
  ];
  for (const [name, make, message] of cases) {
    test(name, () => {
      const path = make();
      const run = runAwstoe(["validate", "--documents", path, "--platform", "linux"]);
      expectCleanFailure(run);
      expect(run.stderr).toContain(path);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toMatch(/\[E_[A-Z_]+\]/);
    });
  }

  test("a 50 MB file", () => {
    const path = join(tmp, "huge.yaml");
    const fd = openSync(path, "w");
    try {
      ftruncateSync(fd, 50 * 1024 * 1024); // sparse: no 50 MB of disk writes
    } finally {
      closeSync(fd);
    }
    try {
      const run = runAwstoe(["validate", "--documents", path, "--platform", "linux"]);
      expectCleanFailure(run);
      expect(run.stderr).toContain("E_SOURCE_TOO_LARGE");
      expect(run.stderr).toMatch(/limit/);
    } finally {
      rmSync(path, { force: true });
    }
  });
});

describe("awstoe schema", () => {
  test("prints the JSON Schema with definitions.Condition", () => {
    const out = join(tmp, "schema.json");
    const run = runAwstoe(["schema"], { stdoutFile: out });
    expect(run.code).toBe(0);
    const schema = JSON.parse(run.stdout);
    expect(schema.definitions.Condition).toBeDefined();
  });

  // main.ts lets stdout/stderr drain before exiting; without that a pipe's slow reader lost
  // everything past the 64 KiB pipe buffer.
  test("schema and long reports arrive whole through a slow pipe", async () => {
    const binary = await awstoeBinary();
    const doc = file("many-errors.yaml", manyErrorsDoc(1500));
    const env = { ...process.env, NO_COLOR: "1" };
    // Each command writes its output (> 64 KiB) to stdout; compare a file with a slow pipe.
    for (const command of [
      `'${binary}' schema`,
      `'${binary}' validate --platform linux --documents '${doc}' --output json`,
      `'${binary}' validate --platform linux --documents '${doc}' 2>&1 >/dev/null`,
    ]) {
      const whole = join(tmp, "whole.out");
      Bun.spawnSync(["sh", "-c", `{ ${command}; } > '${whole}'`], { env });
      const expected = Bun.file(whole).size;
      expect(expected).toBeGreaterThan(65536);
      const slow = Bun.spawnSync(["sh", "-c", `${command} | (sleep 1; wc -c)`], { env });
      expect(Number(slow.stdout.toString().trim())).toBe(expected);
    }
  });
});

describe("the binary ignores the folder it runs in", () => {
  test("no bunfig.toml preload and no .env from the working directory", () => {
    const cwd = mkdtempSync(join(tmp, "cwd-"));
    const marker = join(cwd, "marker.txt");
    writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./boom.ts"]\n');
    writeFileSync(join(cwd, "boom.ts"), `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "bunfig preload ran");\n`);
    // FORCE_COLOR makes .env loading observable: with NO_COLOR unset and stderr a pipe, output is
    // plain unless something turned colour on. (Checked by hand: a build with autoloadDotenv and
    // autoloadBunfig left on creates the marker and colours this output.)
    writeFileSync(join(cwd, ".env"), "AWSTOE_DOTENV_PROBE=1\nFORCE_COLOR=1\n");
    copyFileSync(HELLO_LINUX, join(cwd, "x.yaml"));
    const run = runAwstoe(["validate", "--documents", "x.yaml", "--platform", "linux", "--trace"], {
      cwd,
      env: { NO_COLOR: undefined, FORCE_COLOR: undefined, AWSTOE_DOTENV_PROBE: undefined },
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("valid");
    expect(existsSync(marker)).toBe(false);
    expect(run.stderr).not.toMatch(/\u001b\[/);
    expect(run.stdout).not.toMatch(/\u001b\[/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** "Billion laughs": 9 levels of 9 aliases each. */
function aliasBomb(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++) {
    const prev = String.fromCharCode(97 + i - 1);
    const cur = String.fromCharCode(97 + i);
    lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(",")}]`);
  }
  return `${lines.join("\n")}\n`;
}

function manyErrorsDoc(steps: number): string {
  const body = Array.from({ length: steps }, (_, i) => `      - name: S${i}\n        action: ExecuteBsh\n`).join("");
  return `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n${body}`;
}

describe("output to a reader that stops early", () => {
  test("a closed pipe ends the command quietly, without a trace", async () => {
    const binary = await awstoeBinary();
    const run = Bun.spawnSync(["sh", "-c", `'${binary}' schema | head -c 10 >/dev/null; '${binary}' validate --documents '${HELLO_LINUX}' --output json | head -c 5 >/dev/null`], {
      env: { ...process.env, NO_COLOR: "1" },
    });
    const stderr = run.stderr.toString();
    expect(stderr).not.toContain("EPIPE");
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

/** What `awstoe validate` prints on stdout for valid documents (current-awstoe.md §3). */
const VALIDATION_SUCCESSFUL = '{\n    "validationStatus": "success",\n    "message": "Validation successful."\n}\n';

/** A document of the given steps (YAML text, indented for a phase's step list) in phase build. */
function component(name: string, steps: string): string {
  return file(name, `name: ${name}\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n${steps}`);
}
const bashStep = (name: string, command: string) => `      - name: ${name}\n        action: ExecuteBash\n        inputs:\n          commands:\n            - ${JSON.stringify(command)}\n`;
const rebootStep = (name: string) => `      - name: ${name}\n        action: Reboot\n        inputs:\n          delaySeconds: 0\n`;
const runDocStep = (name: string, document: string) => `      - name: ${name}\n        action: ExecuteDocument\n        inputs:\n          document: ${JSON.stringify(document)}\n`;

/** A new, empty folder under the test's temp folder. */
function folder(name: string): string {
  const path = join(tmp, name);
  mkdirSync(path, { recursive: true });
  return path;
}

/** The run summary on stdout (pretty-printed JSON). */
function summaryOf(run: AwstoeRun): { status: string; executedStepCount: number; failureMessage: string; logUrl: string } {
  return JSON.parse(run.stdout.slice(run.stdout.indexOf("{")));
}

describe("validate prints the documented result on stdout (current-awstoe.md §3)", () => {
  test("valid documents: exactly the success object, the report on stderr", () => {
    const run = runAwstoe(["validate", "--documents", `${HELLO_LINUX},${HELLO_LINUX}`, "--platform", "linux"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(VALIDATION_SUCCESSFUL);
    expect(run.stderr).toContain(`✔ ${HELLO_LINUX}: valid`);
    expect(run.stderr).not.toContain("validationStatus");
  });

  test("invalid documents: failed, the first error placed, and how many more", () => {
    const bad = file("result-bad.yaml", BAD_ACTION_DOC);
    const worse = file("result-worse.yaml", manyErrorsDoc(2));
    const run = runAwstoe(["validate", "--documents", `${HELLO_LINUX},${bad},${worse}`, "--platform", "linux"]);
    expectCleanFailure(run);
    const body = JSON.parse(run.stdout);
    expect(Object.keys(body)).toEqual(["validationStatus", "message"]);
    expect(body).toEqual({ validationStatus: "failed", message: `${bad}:7:17: unknown action 'ExecuteBsh' — did you mean 'ExecuteBash'? (and 2 more errors)` });
    expect(run.stdout).toBe(`${JSON.stringify(body, null, 4)}\n`);
    expect(run.stderr).toContain(`${bad}:7:17: error: unknown action 'ExecuteBsh'`); // the human report is unchanged
    expect(run.stderr).toContain(`✖ ${worse}: 2 errors`);
    const one = runAwstoe(["validate", "--documents", bad, "--platform", "linux"]);
    expect(JSON.parse(one.stdout).message).toBe(`${bad}:7:17: unknown action 'ExecuteBsh' — did you mean 'ExecuteBash'?`);
  });

  test("a document that cannot be read, and a config file that cannot be used, are failures too", () => {
    const missing = join(tmp, "no-such-document.yaml");
    const run = runAwstoe(["validate", "--documents", missing]);
    expectCleanFailure(run);
    expect(JSON.parse(run.stdout)).toEqual({ validationStatus: "failed", message: `${missing}: document '${missing}' does not exist` });
    const config = file("result-config.json", `{\n  "documents": [],\n  "bogus": 1\n}\n`);
    const bad = runAwstoe(["validate", "--config", config]);
    expectCleanFailure(bad);
    const body = JSON.parse(bad.stdout);
    expect(body.validationStatus).toBe("failed");
    expect(body.message).toStartWith(`${config}:`);
    expect(body.message).toContain("(and 1 more error)");
  });

  test("--output json: the same two fields first, then the richer diagnostics", () => {
    const bad = file("result-json.yaml", BAD_ACTION_DOC);
    const failed = runAwstoe(["validate", "--documents", `${bad},${HELLO_LINUX}`, "--platform", "linux", "--output", "json"]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe("");
    const body = JSON.parse(failed.stdout);
    expect(Object.keys(body)).toEqual(["validationStatus", "message", "platform", "documents"]);
    expect(body.validationStatus).toBe("failed");
    expect(body.message).toBe(`${bad}:7:17: unknown action 'ExecuteBsh' — did you mean 'ExecuteBash'?`);
    expect(body.documents.map((d: { validationStatus: string }) => d.validationStatus)).toEqual(["failed", "success"]);
    const passed = runAwstoe(["validate", "--documents", HELLO_LINUX, "--platform", "linux", "--output", "json"]);
    expect(passed.code).toBe(0);
    const good = JSON.parse(passed.stdout);
    expect(Object.keys(good)).toEqual(["validationStatus", "message", "platform", "documents"]);
    expect(good).toMatchObject({ validationStatus: "success", message: "Validation successful.", platform: "linux" });
  });
});

describe("validate --os-platforms (AWS's sample kit)", () => {
  test("linux, windows and darwin choose the platform like --platform", () => {
    const windowsDoc = runAwstoe(["validate", "--documents", HELLO_WINDOWS, "--os-platforms", "windows"]);
    expect(windowsDoc.code).toBe(0);
    expect(windowsDoc.stdout).toBe(VALIDATION_SUCCESSFUL);
    const onLinux = runAwstoe(["validate", "--documents", HELLO_WINDOWS, "--os-platforms", "linux"]);
    expectCleanFailure(onLinux);
    expect(JSON.parse(onLinux.stdout).message).toContain("is not supported on linux");
    // darwin means macOS: ExecutePowerShell is not available there, ExecuteBash is
    const onMac = runAwstoe(["validate", "--documents", HELLO_WINDOWS, "--os-platforms", "darwin"]);
    expectCleanFailure(onMac);
    expect(JSON.parse(onMac.stdout).message).toContain("is not supported on macos");
    const json = runAwstoe(["validate", "--documents", HELLO_LINUX, "--os-platforms", "darwin", "--output", "json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).platform).toBe("macos");
  });

  test("the kit's own call: several documents, one platform", () => {
    const run = runAwstoe(["validate", "--documents", `${HELLO_LINUX},${HELLO_LINUX}`, "--os-platforms", "linux"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(VALIDATION_SUCCESSFUL);
  });

  test("a wrong value, or a clash with --platform, is a usage error", () => {
    expect(expectUsageError(runAwstoe(["validate", "--documents", HELLO_LINUX, "--os-platforms", "darwn"]))).toContain("did you mean 'darwin'?");
    expect(expectUsageError(runAwstoe(["validate", "--documents", HELLO_LINUX, "--os-platforms", "darwin", "--platform", "linux"]))).toContain("disagree");
  });
});

describe("--blocked-action-modules", () => {
  test("validate: a blocked module fails validation naming the module, the step and file:line:col", () => {
    const doc = component("blocked-top.yaml", bashStep("Hello", "echo hi") + rebootStep("Restart"));
    const run = runAwstoe(["validate", "--documents", doc, "--platform", "linux", "--blocked-action-modules", "Reboot"]);
    expectCleanFailure(run);
    const message = `${doc}:12:17: step 'Restart' (phase 'build') uses the blocked action module 'Reboot'`;
    expect(JSON.parse(run.stdout)).toEqual({ validationStatus: "failed", message });
    expect(run.stderr).toContain(`${message.replace(": step", ": error: step")} [E_ACTION_BLOCKED]`);
    const json = runAwstoe(["validate", "--documents", doc, "--platform", "linux", "--blocked-action-modules=Reboot", "-o", "json"]);
    expect(JSON.parse(json.stdout).documents[0].diagnostics[0]).toMatchObject({ code: "E_ACTION_BLOCKED", line: 12, column: 17 });
    // without the flag, or blocking something else, the document is valid
    expect(runAwstoe(["validate", "--documents", doc, "--platform", "linux"]).code).toBe(0);
    expect(runAwstoe(["validate", "--documents", doc, "--platform", "linux", "--blocked-action-modules", "UpdateOS,InstallMSI"]).code).toBe(0);
  });

  test("validate: through ExecuteDocument, and from a config file's blockedActionModules", () => {
    const child = component("blocked-child.yaml", rebootStep("Restart"));
    const parent = component("blocked-parent.yaml", runDocStep("RunChild", child));
    const run = runAwstoe(["validate", "--documents", parent, "--platform", "linux", "--blocked-action-modules", "Reboot"]);
    expectCleanFailure(run);
    expect(JSON.parse(run.stdout).message).toBe(`${parent}:9:21: step 'RunChild' (phase 'build') runs '${child}': ${child}:7:17: step 'Restart' (phase 'build') uses the blocked action module 'Reboot'`);
    const config = file("blocked-config.json", JSON.stringify({ documents: [{ path: parent }], blockedActionModules: "Reboot" }));
    expectCleanFailure(runAwstoe(["validate", "--config", config, "--platform", "linux"]));
    expect(runAwstoe(["validate", "--config", config, "--platform", "linux", "--blocked-action-modules", ""]).code).toBe(0); // the command line wins
  });

  test("an unknown module name is a usage error with a suggestion, on run and validate", () => {
    for (const command of ["run", "validate"]) {
      const line = expectUsageError(runAwstoe([command, "--documents", HELLO_LINUX, "--blocked-action-modules", "Reboot,ExecuteBsh"]));
      expect(line).toContain("--blocked-action-modules: unknown action module 'ExecuteBsh' — did you mean 'ExecuteBash'?");
    }
  });

  test("run: nothing runs when a document, or a document it runs, uses a blocked module", () => {
    const dir = folder("blocked-run");
    const marker = join(dir, "ran");
    const child = component("blocked-run-child.yaml", rebootStep("Restart"));
    const parent = component("blocked-run-parent.yaml", bashStep("First", `touch ${marker}`) + runDocStep("RunChild", child));
    const run = runAwstoe(["run", "--documents", parent, "-l", join(dir, "logs"), "-s", join(dir, "state"), "--blocked-action-modules", "Reboot"], { cwd: dir });
    expectCleanFailure(run);
    expect(existsSync(marker)).toBe(false);
    const summary = summaryOf(run);
    expect(summary.executedStepCount).toBe(0);
    expect(summary.failureMessage).toContain(`${parent}:14:21: step 'RunChild' (phase 'build') runs '${child}': ${child}:7:17: step 'Restart' (phase 'build') uses the blocked action module 'Reboot'`);
    expect(run.stderr).toContain("[E_ACTION_BLOCKED]");
  });

  test("run: a nested document that cannot be read before the run is refused when its step loads it", () => {
    const dir = folder("blocked-later");
    writeFileSync(join(dir, "template.txt"), `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n${rebootStep("Restart")}`);
    const parent = component("blocked-later-parent.yaml", bashStep("Write", "cp template.txt later-child.yaml") + runDocStep("RunChild", "later-child.yaml"));
    const run = runAwstoe(["run", "--documents", parent, "-l", "logs", "-s", "state", "--blocked-action-modules", "Reboot"], { cwd: dir, env: { AWSTOE_REBOOT_MODE: "disabled", AWS_SSM_INSTANCE_ID: undefined } });
    expectCleanFailure(run);
    expect(existsSync(join(dir, "later-child.yaml"))).toBe(true); // the first step ran
    const summary = summaryOf(run);
    expect(summary.status).toBe("failed");
    expect(summary.executedStepCount).toBe(2);
    expect(summary.failureMessage).toContain("later-child.yaml:6:17: step 'Restart' (phase 'build') uses the blocked action module 'Reboot'");
  });

  test("run: with Reboot blocked, a script's exit code 194 still asks for a reboot", () => {
    const dir = folder("blocked-194");
    const doc = component("blocked-194.yaml", bashStep("AskForReboot", "if [ ! -f asked ]; then touch asked; exit 194; fi"));
    const args = ["run", "--documents", doc, "-l", "logs", "-s", "state", "--blocked-action-modules", "Reboot"];
    const env = { AWSTOE_REBOOT_MODE: "disabled", AWS_SSM_INSTANCE_ID: undefined };
    const first = runAwstoe(args, { cwd: dir, env });
    expect(first.code).toBe(194);
    expect(first.stdout).toBe("");
    const second = runAwstoe(args, { cwd: dir, env });
    expect(second.code).toBe(0);
    expect(summaryOf(second).status).toBe("success");
  });

  test("the sample kit's run: relative log folder, fresh state folder, Reboot blocked, phases and parameters", () => {
    const dir = folder("kit-run");
    const state = mkdtempSync(join(tmpdir(), "opentoe-kit-state-"));
    const doc = file("kit-doc.yml", `name: Kit\nschemaVersion: 1.0\nparameters:\n  - Greeting:\n      type: string\n      default: hello\nphases:\n  - name: build\n    steps:\n${bashStep("Say", "echo {{ Greeting }}")}  - name: validate\n    steps:\n${bashStep("Check", "true")}`);
    mkdirSync(join(dir, "awstoe-logs", "20260101T000000Z"), { recursive: true });
    const run = runAwstoe(["run", "--documents", doc, "-l", "./awstoe-logs/20260101T000000Z", "-s", state, "--blocked-action-modules", "Reboot", "--phases", "build", "--parameters", "Greeting=hi"], { cwd: dir });
    rmSync(state, { recursive: true, force: true });
    expect(run.code).toBe(0);
    // the kit greps this from the pretty-printed summary
    expect(run.stdout.match(/"executedStepCount": *([0-9]*)/)?.[1]).toBe("1");
    const failing = file("kit-fail.yml", `name: KitFail\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n${bashStep("Fail", "exit 3")}`);
    const state2 = mkdtempSync(join(tmpdir(), "opentoe-kit-state-"));
    const failed = runAwstoe(["run", "--documents", failing, "-l", "./awstoe-logs/second", "-s", state2, "--blocked-action-modules", "Reboot"], { cwd: dir });
    rmSync(state2, { recursive: true, force: true });
    expect(failed.code).toBe(1);
    const logFolder = summaryOf(failed).logUrl;
    expect(logFolder.startsWith(join(dir, "awstoe-logs", "second"))).toBe(true);
    expect(existsSync(join(logFolder, "console.log"))).toBe(true);
    expect(existsSync(join(logFolder, "detailedoutput.json"))).toBe(true);
  });
});

describe("run --version / -v: the component application version", () => {
  test("is recorded in detailedoutput.json as componentVersion; awstoe --version is unchanged", () => {
    for (const [flag, version] of [["-v", "1.0.0"], ["--version", "2.3.4"], ["--version=3.0.0", undefined]] as const) {
      const dir = folder(`version-${version ?? "inline"}`);
      const args = version === undefined ? [flag] : [flag, version];
      const run = runAwstoe(["run", ...args, "-d", HELLO_LINUX, "-l", "logs"], { cwd: dir });
      expect(run.code).toBe(0);
      const record = JSON.parse(readFileSync(join(summaryOf(run).logUrl, "detailedoutput.json"), "utf8"));
      expect(Object.keys(record).slice(0, 3)).toEqual(["executionId", "componentVersion", "status"]);
      expect(record.componentVersion).toBe(version ?? "3.0.0");
    }
    const plain = runAwstoe(["run", "-d", HELLO_LINUX, "-l", "logs"], { cwd: folder("version-none") });
    expect(plain.code).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(join(summaryOf(plain).logUrl, "detailedoutput.json"), "utf8")))).not.toContain("componentVersion");
    expect(runAwstoe(["-v"]).stdout).toMatch(/^awstoe \S+ \(opentoe, commit \S+\)\n$/);
    expect(expectUsageError(runAwstoe(["run", "-d", HELLO_LINUX, "-v"]))).toContain("'--version' needs a value");
  });
});

describe("--cw-ignore-failures with or without a value", () => {
  test("bare, with a separate true/false and with =false, the run starts", () => {
    for (const form of [["--cw-ignore-failures"], ["--cw-ignore-failures", "true"], ["--cw-ignore-failures", "false"], ["--cw-ignore-failures=false"]]) {
      const run = runAwstoe(["run", "-d", HELLO_LINUX, ...form, "-l", "logs"], { cwd: folder(`cw-${form.join("-")}`) });
      expect(run.code, `${form.join(" ")}\n${run.stderr}`).toBe(0);
      expect(summaryOf(run).status).toBe("success");
    }
    expect(expectUsageError(runAwstoe(["run", "-d", HELLO_LINUX, "--cw-ignore-failures", "perhaps"]))).toContain("unexpected argument 'perhaps'");
  });
});
