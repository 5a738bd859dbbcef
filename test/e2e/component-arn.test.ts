/**
 * End-to-end: the compiled awstoe reads documents named by Image Builder component ARNs (cli.md §5)
 * from the local GetComponent stand-in (test/helpers/imagebuilder-server.ts, SigV4-checked) — as
 * --documents, as a config file's documents[].path, as an ExecuteDocument child, and in `validate`.
 * Load failures (not found, forbidden, malformed, too large, unreachable) fail the run before
 * anything runs, naming the ARN and the reason.
 *
 * The server lives in this process, so the binary is spawned asynchronously (Bun.spawn):
 * runAwstoe's spawnSync would block the event loop the server answers on. POSIX only (ExecuteBash).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_DOCUMENT_BYTES } from "../../src/document/load.ts";
import { awstoeBinary, type AwstoeRun } from "../helpers/binary.ts";
import { imageBuilderEnv, SERVICE_ERRORS, startImageBuilder, type LocalImageBuilder } from "../helpers/imagebuilder-server.ts";

const REGION = "eu-west-3";
const BASE = `arn:aws:imagebuilder:${REGION}:111122223333:component`;

let binary: string;
let ib: LocalImageBuilder;
let tmp: string;
let marks: string;
let closedPort: number;
const data = new Map<string, string>();

/** A one-phase document whose single step runs `command` with bash. */
function bashDoc(name: string, command: string, extra = ""): string {
  return `name: ${name}\nschemaVersion: 1.0\n${extra}phases:\n  - name: build\n    steps:\n      - name: Run\n        action: ExecuteBash\n        inputs:\n          commands:\n            - ${JSON.stringify(command)}\n`;
}

function component(arn: string, text: string): void {
  data.set(arn, text);
  ib.addComponent(arn, text);
}

beforeAll(async () => {
  binary = await awstoeBinary();
  tmp = mkdtempSync(join(tmpdir(), "opentoe-arn-e2e-"));
  marks = join(tmp, "marks");
  mkdirSync(marks);
  ib = startImageBuilder();
  component(`${BASE}/hello/1.0.0/1`, bashDoc("hello", `echo 'hello build 1' && touch ${marks}/hello-1`));
  component(`${BASE}/hello/1.0.0/2`, bashDoc("hello", `echo 'hello build 2' && touch ${marks}/hello-2`));
  component(`${BASE}/greet/1.0.0/1`, bashDoc("greet", `echo "greetings from {{ Who }}" > ${marks}/greet-{{ Who }}`, "parameters:\n  - Who:\n      type: string\n"));
  component(
    `${BASE}/loop/1.0.0/1`,
    `name: loop\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Again\n        action: ExecuteDocument\n        inputs:\n          document: ${BASE}/loop/1.0.0/1\n`,
  );
  component(`${BASE}/invalid/1.0.0/1`, "name: invalid\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Run\n        action: ExecuteBsh\n        inputs:\n          commands: [echo]\n");
  component(`${BASE}/huge/1.0.0/1`, `# ${"a".repeat(MAX_DOCUMENT_BYTES)}\n${bashDoc("huge", `touch ${marks}/huge`)}`);
  ib.failFor(`${BASE}/secret/1.0.0/1`, SERVICE_ERRORS.forbidden());
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  closedPort = probe.port!;
  probe.stop(true);
}, 120_000);

afterAll(() => {
  ib?.close();
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

let count = 0;
function newDir(label: string): string {
  const dir = join(tmp, `${String(++count).padStart(2, "0")}-${label}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Runs the binary without blocking this process's event loop (the server answers on it). */
async function awstoe(args: string[], dir: string, extraEnv: Record<string, string | undefined> = {}): Promise<AwstoeRun> {
  const started = performance.now();
  const proc = Bun.spawn([binary, ...args], { cwd: dir, env: imageBuilderEnv(ib, dir, extraEnv), stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 30_000, killSignal: "SIGKILL" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, ms: performance.now() - started, timedOut: proc.signalCode === "SIGKILL" };
}

function run(args: string[], dir: string, extraEnv: Record<string, string | undefined> = {}): Promise<AwstoeRun> {
  return awstoe(["run", ...args, "--log-directory", join(dir, "logs")], dir, extraEnv);
}

interface Summary {
  status: string;
  failureMessage: string;
  executedStepCount: number;
  failedStepCount: number;
}

function summaryOf(result: AwstoeRun): Summary {
  const start = result.stdout.indexOf("{");
  if (start === -1) throw new Error(`no summary on stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  return JSON.parse(result.stdout.slice(start)) as Summary;
}

function logFolder(dir: string): string {
  const folders = readdirSync(join(dir, "logs")).filter((n) => n.startsWith("TOE_") && n !== "TOE_state"); // a failed run keeps its journal there for --retry
  expect(folders.length).toBe(1);
  return join(dir, "logs", folders[0]!);
}

const detail = (r: AwstoeRun) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

describe("awstoe run with component ARNs", () => {
  test("--documents <build ARN> runs the component's data, fetched in the ARN's region", async () => {
    const dir = newDir("build-arn");
    const before = ib.requests.length;
    const result = await run(["--documents", `${BASE}/hello/1.0.0/1`], dir);
    expect(result.code, detail(result)).toBe(0);
    expect(summaryOf(result)).toMatchObject({ status: "success", executedStepCount: 1, failedStepCount: 0 });
    expect(existsSync(join(marks, "hello-1"))).toBe(true);
    const folder = logFolder(dir);
    expect(readFileSync(join(folder, "document.yaml"), "utf8")).toBe(data.get(`${BASE}/hello/1.0.0/1`)!);
    const record = JSON.parse(readFileSync(join(folder, "detailedoutput.json"), "utf8")) as { documents: { filePath: string; name: string }[] };
    expect(record.documents.map((d) => [d.filePath, d.name])).toEqual([[`${BASE}/hello/1.0.0/1`, "hello"]]);
    // Signed for the ARN's region although AWS_REGION names another.
    expect(ib.requests.slice(before)).toEqual([{ arn: `${BASE}/hello/1.0.0/1`, region: REGION, service: "imagebuilder", signatureValid: true }]);
  }, 30_000);

  test("a version ARN without a build runs the newest build", async () => {
    const dir = newDir("version-arn");
    const result = await run(["--documents", `${BASE}/hello/1.0.0`], dir);
    expect(result.code, detail(result)).toBe(0);
    expect(result.stderr).toContain("hello build 2");
    expect(readFileSync(join(logFolder(dir), "document.yaml"), "utf8")).toBe(data.get(`${BASE}/hello/1.0.0/2`)!);
  }, 30_000);

  test("ExecuteDocument runs an ARN child with its parameters; an ARN that runs itself is a cycle", async () => {
    const dir = newDir("execute-document");
    const parent = join(dir, "parent.yaml");
    writeFileSync(
      parent,
      `name: parent\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Child\n        action: ExecuteDocument\n        inputs:\n          document: ${BASE}/greet/1.0.0/1\n          parameters:\n            - name: Who\n              value: nested\n      - name: Loop\n        action: ExecuteDocument\n        onFailure: Continue\n        inputs:\n          document: ${BASE}/loop/1.0.0/1\n`,
    );
    const result = await run(["--documents", parent], dir);
    expect(readFileSync(join(marks, "greet-nested"), "utf8")).toBe("greetings from nested\n");
    const record = JSON.parse(readFileSync(join(logFolder(dir), "detailedoutput.json"), "utf8")) as {
      documents: { phases: { steps: { name: string; status: string; failureMessage: string; detailedOutput?: { documents: { filePath: string }[] }[] }[] }[] }[];
    };
    const [child, loop] = record.documents[0]!.phases[0]!.steps;
    expect(child!.status, detail(result)).toBe("success");
    expect(child!.detailedOutput![0]!.documents[0]!.filePath).toBe(`${BASE}/greet/1.0.0/1`);
    expect(loop!.status).toBe("failed");
    expect(loop!.failureMessage).toContain(`cyclic document execution detected: ${parent} → ${BASE}/loop/1.0.0/1 → ${BASE}/loop/1.0.0/1`);
  }, 30_000);

  test("a config file's documents[].path may be an ARN, with its own parameters", async () => {
    const dir = newDir("config");
    const config = join(dir, "config.json");
    writeFileSync(config, JSON.stringify({ documents: [{ path: `${BASE}/greet/1.0.0/1`, parameters: [{ name: "Who", value: "config" }] }] }));
    const result = await run(["--config", config], dir);
    expect(result.code, detail(result)).toBe(0);
    expect(readFileSync(join(marks, "greet-config"), "utf8")).toBe("greetings from config\n");
  }, 30_000);
});

describe("awstoe run: an ARN that cannot be loaded fails the run before anything runs", () => {
  const cases: [string, string, string, Record<string, string>?][] = [
    ["not found", `${BASE}/missing/1.0.0/1`, `Image Builder in ${REGION} has no such component (check its name, version and build, the account, and that it is shared with you)`],
    ["forbidden", `${BASE}/secret/1.0.0/1`, "Image Builder denied access (ForbiddenException); the credentials need imagebuilder:GetComponent on this component: You are not authorized to perform this operation."],
    ["malformed", `${BASE}/hello/1.0`, "not an Image Builder component ARN (version '1.0' is not <major>.<minor>.<patch>, e.g. 1.0.0)"],
    ["too large", `${BASE}/huge/1.0.0/1`, "the component's document is 4.0 MiB; the limit is 4.0 MiB"],
    ["unreachable", `${BASE}/hello/1.0.0/1`, `the Image Builder endpoint for ${REGION} could not be reached (ECONNREFUSED) after 3 attempts`, {}],
  ];
  for (const [label, arn, reason, unreachable] of cases) {
    test(label, async () => {
      const dir = newDir(label.replace(/ /g, "-"));
      const first = join(dir, "first.yaml");
      writeFileSync(first, bashDoc("first", `touch ${join(dir, "first-ran")}`));
      const env = unreachable ? { AWS_ENDPOINT_URL_IMAGEBUILDER: `http://127.0.0.1:${closedPort}` } : {};
      const result = await run(["--documents", `${first},${arn}`], dir, env);
      expect(result.code, detail(result)).toBe(1);
      expect(result.timedOut).toBe(false);
      const message = `failed to load document '${arn}': ${reason}`;
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toContain("    at ");
      const summary = summaryOf(result);
      expect(summary.status).toBe("failed");
      expect(summary.executedStepCount).toBe(0);
      expect(summary.failureMessage).toContain(message);
      expect(existsSync(join(dir, "first-ran"))).toBe(false);
      expect(existsSync(join(marks, "huge"))).toBe(false);
    }, 30_000);
  }
});

describe("awstoe validate with component ARNs", () => {
  test("a valid component is fetched and checked", async () => {
    const dir = newDir("validate-valid");
    const result = await awstoe(["validate", "--documents", `${BASE}/hello/1.0.0/1`], dir);
    expect(result.code, detail(result)).toBe(0);
    expect(result.stderr.trim()).toBe(`✔ ${BASE}/hello/1.0.0/1: valid (1 phase, 1 step)`);
  }, 30_000);

  test("diagnostics point into the fetched text and name the ARN", async () => {
    const dir = newDir("validate-invalid");
    const arn = `${BASE}/invalid/1.0.0/1`;
    const result = await awstoe(["validate", "--documents", arn], dir);
    expect(result.code, detail(result)).toBe(1);
    const lines = result.stderr.split("\n");
    expect(lines[0]).toStartWith(`${arn}:7:17: error: `);
    expect(lines[0]).toContain("ExecuteBsh");
    expect(result.stderr).toContain(" 7 |         action: ExecuteBsh");
    expect(result.stderr).toContain(`✖ ${arn}: 1 error`);
    const json = await awstoe(["validate", "--documents", arn, "--output", "json"], dir);
    const body = JSON.parse(json.stdout) as { validationStatus: string; documents: { document: string; diagnostics: { file: string; line: number; column: number }[] }[] };
    expect(body.validationStatus).toBe("failed");
    expect(body.documents[0]!.document).toBe(arn);
    expect(body.documents[0]!.diagnostics[0]).toMatchObject({ file: arn, line: 7, column: 17 });
  }, 30_000);

  test("a component that cannot be loaded is reported with the reason", async () => {
    const dir = newDir("validate-missing");
    const result = await awstoe(["validate", "--documents", `${BASE}/missing/1.0.0/1`], dir);
    expect(result.code, detail(result)).toBe(1);
    expect(result.stderr).toContain(`failed to load document '${BASE}/missing/1.0.0/1': Image Builder in ${REGION} has no such component`);
  }, 30_000);

  test("a config file listing an ARN and a local document validates both", async () => {
    const dir = newDir("validate-config");
    const local = join(dir, "local.yaml");
    writeFileSync(local, bashDoc("local", "true"));
    const config = join(dir, "config.json");
    writeFileSync(config, JSON.stringify({ documents: [{ path: local }, { path: `${BASE}/greet/1.0.0/1` }] }));
    const result = await awstoe(["validate", "--config", config], dir);
    expect(result.code, detail(result)).toBe(0);
    expect(result.stderr).toContain(`✔ ${local}: valid`);
    expect(result.stderr).toContain(`✔ ${BASE}/greet/1.0.0/1: valid`);
  }, 30_000);

  test("ExecuteDocument children: well-formed ARNs pass, a malformed one is flagged, a template is left for run time", async () => {
    const dir = newDir("validate-child");
    const parent = (document: string) => {
      const path = join(dir, `parent-${++count}.yaml`);
      writeFileSync(
        path,
        `schemaVersion: 1.0\nparameters:\n  - Version:\n      type: string\n      default: 1.0.0\nphases:\n  - name: build\n    steps:\n      - name: Child\n        action: ExecuteDocument\n        inputs:\n          document: ${document}\n`,
      );
      return path;
    };
    for (const good of [`${BASE}/missing/1.0.0/1`, `${BASE}/missing/1.0.0`, `${BASE}/missing/{{ Version }}`]) {
      const result = await awstoe(["validate", "--documents", parent(good)], dir);
      expect(result.code, `${good}\n${detail(result)}`).toBe(0);
    }
    const before = ib.requests.length;
    const bad = parent(`${BASE}/missing/1.0`);
    const result = await awstoe(["validate", "--documents", bad], dir);
    expect(result.code, detail(result)).toBe(1);
    expect(result.stderr).toContain(`${bad}:12:21: error: ExecuteDocument: '${BASE}/missing/1.0' is not an Image Builder component ARN`);
    expect(ib.requests.length).toBe(before); // validation never fetches children
  }, 30_000);
});
