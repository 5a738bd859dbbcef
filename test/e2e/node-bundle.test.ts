/**
 * @module test/e2e/node-bundle: the smoke suite of the other release targets, run on the 386
 * fallback's CommonJS bundle under real Node — `node dist/awstoe-node.cjs` (cli.md §14,
 * scripts/build-node.ts): `--version`, validate a good and a bad document, run a small document
 * and read its log folder, and one S3Download from the local S3 server to show the bundled AWS
 * SDK works under Node.
 *
 * The bundle is built once per test process when it is missing or older than its sources. The
 * Node is the one on PATH, or OPENTOE_NODE (e.g. a 32-bit Node 18) when set. Every run is spawned
 * asynchronously: the S3 server lives in this process and must keep answering.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { buildNodeBundle, MINIMUM_NODE, NODE_BUNDLE, nodeBundleStaleReason } from "../../scripts/build-node.ts";
import { isolatedAwsEnv } from "../helpers/aws-env.ts";
import { freshBinary } from "../helpers/binary.ts";
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, startLocalS3, testClient, type LocalS3 } from "../helpers/s3-server.ts";

const REPO = join(import.meta.dir, "../..");
const HELLO_LINUX = join(REPO, "examples/hello-linux.yaml");
const NODE = process.env.OPENTOE_NODE ?? Bun.which("node") ?? "node";
const BUCKET = "bundle-bucket";
const OBJECT_BODY = "fetched by the Node bundle\n";

let bundle: string;
let s3: LocalS3;
let tmp: string;

/**
 * dist/awstoe-node.cjs, built when missing or stale. freshBinary() judges staleness by src/,
 * package.json and scripts/build.ts; the bundle also depends on scripts/build-node.ts.
 */
async function freshNodeBundle(): Promise<string> {
  const build = async () => (await buildNodeBundle()).path;
  if (nodeBundleStaleReason() === "older than scripts/build-node.ts") {
    process.stderr.write(`[e2e] building ${NODE_BUNDLE} (older than scripts/build-node.ts)…\n`);
    await build();
  }
  return freshBinary(NODE_BUNDLE, build);
}

beforeAll(async () => {
  bundle = await freshNodeBundle();
  tmp = mkdtempSync(join(tmpdir(), "opentoe-node-bundle-"));
  s3 = await startLocalS3([BUCKET]);
  const client = await testClient(s3);
  const { PutObjectCommand } = await import("@aws-sdk/client-s3");
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "payload.txt", Body: OBJECT_BODY }));
  client.destroy();
}, 120_000);

afterAll(async () => {
  if (s3 !== undefined) await s3.close();
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node <bundle> ...args` in an environment with no AWS set-up but `env` (test/helpers/aws-env.ts). */
async function runBundle(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const cwd = opts.cwd ?? tmp;
  const proc = Bun.spawn([NODE, bundle, ...args], { cwd, env: isolatedAwsEnv(cwd, opts.env), stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 30_000, killSignal: "SIGKILL" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

let runtime: Promise<{ bun: string | null; node: string }> | undefined;
/** What the NODE that runs the bundle is: its version, and Bun's version if it is Bun in disguise. */
function runtimeFacts(): Promise<{ bun: string | null; node: string }> {
  runtime ??= (async () => {
    const probe = Bun.spawn([NODE, "-e", "process.stdout.write(JSON.stringify({ bun: process.versions.bun ?? null, node: process.versions.node }))"], { stdout: "pipe", stderr: "pipe" });
    const [text, code] = await Promise.all([new Response(probe.stdout).text(), probe.exited]);
    if (code !== 0) throw new Error(`'${NODE} -e …' exited ${code}`);
    return JSON.parse(text);
  })();
  return runtime;
}

async function nodeIsAtLeast(major: number, minor: number): Promise<boolean> {
  const [have, haveMinor] = (await runtimeFacts()).node.split(".").map(Number) as [number, number];
  return have > major || (have === major && haveMinor >= minor);
}

const detail = (run: Run) => `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

let dirCount = 0;
function newDir(label: string): string {
  const dir = join(tmp, `${String(++dirCount).padStart(2, "0")}-${label}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The run summary: the last JSON object on stdout (cli.md §7.4). */
function summaryOf(stdout: string): { status: string; logUrl: string; executedStepCount: number; failedStepCount: number; failureMessage: string } {
  return JSON.parse(stdout.slice(stdout.lastIndexOf("\n{") + 1));
}

describe("the Node bundle (386 fallback) under real Node", () => {
  test(`the runtime is Node ${MINIMUM_NODE.major}.${MINIMUM_NODE.minor} or newer, not Bun`, async () => {
    const facts = await runtimeFacts();
    expect(facts.bun).toBeNull();
    expect(await nodeIsAtLeast(MINIMUM_NODE.major, MINIMUM_NODE.minor)).toBe(true);
  });

  test("on a Node older than the minimum: one line saying so, exit 1, nothing run", async () => {
    // No such Node is installed here, so this Node is made to report 18.2.0 by a module it loads
    // first (--require), which is all the bundle's guard reads.
    const dir = newDir("old-node");
    const shim = join(dir, "pretend-18.2.cjs");
    writeFileSync(shim, 'Object.defineProperty(process.versions, "node", { value: "18.2.0" });\n');
    const proc = Bun.spawn([NODE, "--require", shim, bundle, "validate", "--documents", HELLO_LINUX], { cwd: dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(`awstoe: this Node (v18.2.0) is too old for awstoe-node.cjs, which needs Node ${MINIMUM_NODE.major}.${MINIMUM_NODE.minor} or newer — run it with a newer node\n`);
  });

  test("the bundle is CommonJS with a node shebang, and no Bun-only wrapper", () => {
    const head = readFileSync(bundle, "utf8").slice(0, 4096);
    expect(head.split("\n")[0]).toBe("#!/usr/bin/env node");
    // Bun's own CommonJS wrapper (a `// @bun @bun-cjs` line) is a function only Bun calls.
    expect(head).not.toMatch(/^\/\/ @bun\b/m);
  });

  test("--version names the package version and the embedded commit", async () => {
    const run = await runBundle(["--version"]);
    expect(run.code, detail(run)).toBe(0);
    expect(run.stderr).toBe("");
    const version = packageJson.version.replace(/\./g, "\\.");
    expect(run.stdout).toMatch(new RegExp(`^awstoe ${version} \\(opentoe, commit ([0-9a-f]{7,}|unknown)\\)\\n$`));
  });

  test("validate: a good document → exit 0", async () => {
    const run = await runBundle(["validate", "--documents", HELLO_LINUX, "--platform", "linux"]);
    expect(run.code, detail(run)).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ validationStatus: "success", message: "Validation successful." });
    expect(run.stderr.trim()).toBe(`✔ ${HELLO_LINUX}: valid (2 phases, 2 steps)`);
  });

  test("validate: a bad document → exit 1 with file:line:col and a suggestion, no stack trace", async () => {
    const dir = newDir("bad");
    const doc = join(dir, "bad.yaml");
    writeFileSync(doc, ["name: bad", "schemaVersion: 1.0", "phases:", "  - name: build", "    steps:", "      - name: A", "        action: ExecuteBassh", "        inputs:", "          commands: [echo hi]", ""].join("\n"));
    const run = await runBundle(["validate", "--documents", doc, "--platform", "linux"]);
    expect(run.code, detail(run)).toBe(1);
    expect(run.stderr.split("\n")[0]).toBe(`${doc}:7:17: error: unknown action 'ExecuteBassh' — did you mean 'ExecuteBash'? [E_UNKNOWN_ACTION]`);
    expect(run.stderr).not.toContain("    at ");
  });

  test("run: an ExecuteBash document succeeds and leaves a complete log folder", async () => {
    const dir = newDir("run");
    const doc = join(dir, "doc.yaml");
    writeFileSync(
      doc,
      [
        "name: NodeBundleRun",
        "schemaVersion: 1.0",
        "phases:",
        "  - name: build",
        "    steps:",
        "      - name: Say",
        "        action: ExecuteBash",
        "        inputs:",
        "          commands:",
        '            - echo "hello from $(basename "$PWD")"',
        // The bundle silences the SDK's Node-version warning in its own code; the steps' environment stays as it was.
        '            - echo "sdk-switch=${AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:-unset}"',
        "            - echo done > marker.txt",
        "",
      ].join("\n"),
    );
    const run = await runBundle(["run", "--documents", doc, "--log-directory", "logs"], { cwd: dir });
    expect(run.code, detail(run)).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary.status).toBe("success");
    expect(summary.executedStepCount).toBe(1);
    expect(summary.failedStepCount).toBe(0);
    expect(readFileSync(join(dir, "marker.txt"), "utf8")).toBe("done\n");
    // One TOE_ folder inside --log-directory, and it is the one the summary names.
    const folders = readdirSync(join(dir, "logs")).filter((name) => name.startsWith("TOE_"));
    expect(folders).toHaveLength(1);
    expect(summary.logUrl).toBe(join(dir, "logs", folders[0]!));
    for (const file of ["application.log", "console.log", "detailedoutput.json", "document.yaml"]) expect(existsSync(join(summary.logUrl, file)), file).toBe(true);
    const record = JSON.parse(readFileSync(join(summary.logUrl, "detailedoutput.json"), "utf8"));
    expect(record.status).toBe("success");
    expect(record.documents[0].phases[0].steps[0]).toMatchObject({ name: "Say", action: "ExecuteBash", status: "success" });
    const consoleLog = readFileSync(join(summary.logUrl, "console.log"), "utf8");
    expect(consoleLog).toContain(`hello from ${basename(dir)}`);
    expect(consoleLog).toContain("sdk-switch=unset");
  });

  test("run: S3Download through the bundled AWS SDK, signed and verified, without the SDK's Node-version warning", async () => {
    const dir = newDir("s3");
    const destination = join(dir, "out.txt");
    const doc = join(dir, "download.yaml");
    writeFileSync(
      doc,
      ["name: NodeBundleS3", "schemaVersion: 1.0", "phases:", "  - name: build", "    steps:", "      - name: Download", "        action: S3Download", "        inputs:", `          - source: s3://${BUCKET}/payload.txt`, `            destination: ${JSON.stringify(destination)}`, ""].join("\n"),
    );
    const rejectedBefore = s3.rejected;
    const run = await runBundle(["run", "--documents", doc, "--log-directory", "logs"], {
      cwd: dir,
      env: { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY },
    });
    expect(run.code, detail(run)).toBe(0);
    expect(summaryOf(run.stdout).status).toBe("success");
    expect(readFileSync(destination, "utf8")).toBe(OBJECT_BODY);
    expect(s3.rejected).toBe(rejectedBefore);
    expect(run.stderr).not.toContain("NodeVersionSupportWarning");
    // Node 18.3–18.12 add an ExperimentalWarning for fetch (S3 downloads go through it); 18.13 dropped it.
    if (await nodeIsAtLeast(18, 13)) expect(run.stderr).not.toContain("Warning");
  });
});
