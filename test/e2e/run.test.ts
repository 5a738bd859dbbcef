/**
 * End-to-end tests of `awstoe run` with the compiled binary (dist/awstoe-<host>, built on demand by
 * test/helpers/binary.ts). Every run gets its own temp --log-directory (and, where the document
 * writes files, its own temp cwd), so runs never see each other's log folders.
 *
 * POSIX only: the documents use ExecuteBash, and the process checks read /proc.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeWithShared, manifestRows } from "../helpers/corpus.ts";
import { awstoeBinary, runAwstoe, type AwstoeRun } from "../helpers/binary.ts";
import { lastJsonObject, expectUsageError } from "../helpers/run-output.ts";

const REPO = join(import.meta.dir, "../..");
const HELLO_LINUX = join(REPO, "examples/hello-linux.yaml");
const SAFE_CORPUS_TABLE = join(import.meta.dir, "safe-corpus.md");
const RUNNABLE_ACTIONS = new Set(["ExecuteBash", "ExecuteBinary", "Assert", "ExecuteDocument"]);

let binary: string;
let tmp: string;

interface Summary {
  executedStepCount: number;
  executionId: string;
  failedStepCount: number;
  failureMessage: string;
  ignoredFailedStepCount: number;
  logUrl: string;
  status: string;
}

interface StepRecord {
  name: string;
  status: string;
  failureMessage: string;
  action: string;
  outputs: string;
}
interface PhaseRecord {
  name: string;
  status: string;
  failureMessage: string;
  steps: StepRecord[];
}
interface DocumentRecord {
  name: string;
  filePath: string;
  status: string;
  phases: PhaseRecord[];
}
interface ExecutionRecord {
  executionId: string;
  status: string;
  failureMessage: string;
  documents: DocumentRecord[];
}

beforeAll(async () => {
  binary = await awstoeBinary();
  tmp = mkdtempSync(join(tmpdir(), "opentoe-run-e2e-"));
});

afterAll(() => {
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

let dirCount = 0;
/** A fresh, empty folder for one run (its log directory, cwd, marker files). */
function newDir(label: string): string {
  const dir = join(tmp, `${String(++dirCount).padStart(2, "0")}-${label}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function write(dir: string, name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The TOE_… folders directly inside a log directory. */
function toeFolders(logDir: string): string[] {
  return existsSync(logDir) ? readdirSync(logDir).filter((n) => n.startsWith("TOE_")) : [];
}

function readRecord(logUrl: string): ExecutionRecord {
  return JSON.parse(readFileSync(join(logUrl, "detailedoutput.json"), "utf8")) as ExecutionRecord;
}

/** Gone = no /proc entry, or a zombie waiting for its (new) parent to reap it: it runs no more. */
function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 3 (after the parenthesised command, which may contain spaces) is the state.
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state === "Z" || state === "X";
  } catch {
    return true;
  }
}

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(25);
  }
}

function readIfExists(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, NO_COLOR: "1", ...extra })) {
    if (value !== undefined && key !== "FORCE_COLOR") env[key] = value;
  }
  return env;
}

// ---------------------------------------------------------------------------------------------

describe("awstoe run examples/hello-linux.yaml", () => {
  test("succeeds and leaves a complete log folder", () => {
    const logDir = newDir("hello");
    const run = runAwstoe(["run", "--documents", HELLO_LINUX, "--log-directory", logDir]);
    expect(run.code).toBe(0);
    const summary = lastJsonObject<Summary>(run.stdout);
    expect(summary.status).toBe("success");
    expect(summary.executedStepCount).toBe(2);
    expect(summary.failedStepCount).toBe(0);
    expect(summary.ignoredFailedStepCount).toBe(0);
    expect(summary.failureMessage).toBe("");
    expect(summary.executionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    // logUrl: an existing TOE_<date>_<time>_UTC-0_<executionId> folder inside the log directory.
    expect(existsSync(summary.logUrl)).toBe(true);
    expect(statSync(summary.logUrl).isDirectory()).toBe(true);
    expect(toeFolders(logDir)).toEqual([summary.logUrl.slice(logDir.length + 1)]);
    const folderName = summary.logUrl.split("/").pop()!;
    const escapedId = summary.executionId.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    expect(folderName).toMatch(new RegExp(`^TOE_\\d{4}-\\d\\d-\\d\\d_\\d\\d-\\d\\d-\\d\\d_UTC-0_${escapedId}$`));

    // document.yaml: the input, byte for byte.
    expect(readFileSync(join(summary.logUrl, "document.yaml"))).toEqual(readFileSync(HELLO_LINUX));

    // application.log: every line timestamped (RFC 3339 UTC) with a level.
    const appLog = readFileSync(join(summary.logUrl, "application.log"), "utf8");
    const appLines = appLog.split("\n").filter((l) => l !== "");
    expect(appLines.length).toBeGreaterThan(2);
    for (const line of appLines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (DEBUG|INFO|WARN|ERROR) /);
    expect(appLog).toContain(summary.executionId);

    // console.log: the child's output and the progress lines, as printed on stderr (uncoloured).
    const consoleLog = readFileSync(join(summary.logUrl, "console.log"), "utf8");
    expect(consoleLog).toContain("Hello from Linux");
    expect(consoleLog).toMatch(/\[HelloLinux\] build\/SayHello: success/);
    expect(consoleLog).toMatch(/\[HelloLinux\] validate\/CheckGreeting: success/);
    expect(consoleLog).not.toContain("\x1b[");
    expect(run.stderr).toContain("Hello from Linux");
    expect(run.stderr).toMatch(/build\/SayHello: success/);

    // detailedoutput.json: valid JSON, 4-space indent, success all the way down.
    const detailedText = readFileSync(join(summary.logUrl, "detailedoutput.json"), "utf8");
    const record = JSON.parse(detailedText) as ExecutionRecord;
    expect(detailedText.trimEnd()).toBe(JSON.stringify(record, null, 4));
    expect(record.executionId).toBe(summary.executionId);
    expect(record.status).toBe("success");
    expect(record.documents).toHaveLength(1);
    expect(record.documents[0]!.name).toBe("HelloLinux");
    expect(record.documents[0]!.phases.map((p) => p.name)).toEqual(["build", "validate"]);
    const sayHello = record.documents[0]!.phases[0]!.steps[0]!;
    expect(sayHello.status).toBe("success");
    expect(JSON.parse(sayHello.outputs)).toEqual([{ stdout: "Hello from Linux" }]);

    // chaining.json: the one reference, resolved, without its value.
    const chaining = JSON.parse(readFileSync(join(summary.logUrl, "chaining.json"), "utf8")) as { references: Record<string, unknown>[] };
    expect(chaining.references).toEqual([{ expression: "build.SayHello.outputs.stdout", resolved: true, usedBy: "validate/CheckGreeting" }]);
    expect(JSON.stringify(chaining)).not.toContain("Hello from Linux");
  });

  test("--execution-id is used in the folder name and the summary", () => {
    const logDir = newDir("exec-id");
    const run = runAwstoe(["run", "--documents", HELLO_LINUX, "--log-directory", logDir, "--execution-id", "my-id-1"]);
    expect(run.code).toBe(0);
    const summary = lastJsonObject<Summary>(run.stdout);
    expect(summary.executionId).toBe("my-id-1");
    expect(summary.logUrl.split("/").pop()!).toMatch(/^TOE_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_UTC-0_my-id-1$/);
    expect(readRecord(summary.logUrl).executionId).toBe("my-id-1");
  });

  test("an execution id with '/' is a usage error and creates nothing", () => {
    const logDir = newDir("bad-id");
    const line = expectUsageError(runAwstoe(["run", "--documents", HELLO_LINUX, "--log-directory", logDir, "--execution-id", "a/b"]));
    expect(line).toContain("a/b");
    expect(readdirSync(logDir)).toEqual([]);
  });

  test("--phases validate runs only validate; its chaining reference into the skipped build phase fails clearly", () => {
    // documents.md §6: an unresolvable chaining reference is a run-time failure of the referencing
    // step with "chaining expression '<expr>' could not be resolved". Phase selection does not
    // make the validator reject the document (the reference is still to an earlier phase).
    const logDir = newDir("phases");
    const run = runAwstoe(["run", "--documents", HELLO_LINUX, "--log-directory", logDir, "--phases", "validate"]);
    expect(run.code).toBe(1);
    const summary = lastJsonObject<Summary>(run.stdout);
    expect(summary.status).toBe("failed");
    expect(summary.executedStepCount).toBe(1);
    expect(summary.failedStepCount).toBe(1);
    expect(summary.failureMessage).toContain("validate/CheckGreeting");
    expect(summary.failureMessage).toContain("chaining expression 'build.SayHello.outputs.stdout' could not be resolved");
    expect(summary.failureMessage).toContain("has not run");
    const record = readRecord(summary.logUrl);
    expect(record.documents[0]!.phases.map((p) => p.name)).toEqual(["validate"]);
    const consoleLog = readFileSync(join(summary.logUrl, "console.log"), "utf8");
    expect(consoleLog).not.toContain("Hello from");
    const chaining = JSON.parse(readFileSync(join(summary.logUrl, "chaining.json"), "utf8")) as { references: Record<string, unknown>[] };
    expect(chaining.references).toEqual([{ expression: "build.SayHello.outputs.stdout", resolved: false, usedBy: "validate/CheckGreeting" }]);
  });
});

// ---------------------------------------------------------------------------------------------

const PARAMS_DOC = `name: Params
schemaVersion: 1.0
parameters:
  - Colour:
      type: string
      default: red
  - Size:
      type: string
      default: small
  - Shape:
      type: string
      default: round
phases:
  - name: build
    steps:
      - name: Show
        action: ExecuteBash
        inputs:
          commands:
            - echo "colour={{ Colour }} size={{ Size }} shape={{ Shape }}"
`;

/** The `Show` step's stdout of each document in a run. */
function shownValues(logUrl: string): string[] {
  return readRecord(logUrl).documents.map((d) => (JSON.parse(d.phases[0]!.steps[0]!.outputs) as { stdout: string }[])[0]!.stdout);
}

describe("parameters", () => {
  test("--parameters overrides defaults; undeclared names are ignored", () => {
    const dir = newDir("params-cli");
    const doc = write(dir, "params.yaml", PARAMS_DOC);
    const run = runAwstoe(["run", "--documents", doc, "--log-directory", dir, "--parameters", "Colour=blue,Size=large,Unknown=x"]);
    expect(run.code).toBe(0);
    const summary = lastJsonObject<Summary>(run.stdout);
    expect(summary.status).toBe("success");
    expect(shownValues(summary.logUrl)).toEqual(["colour=blue size=large shape=round"]);
  });

  test("without parameters the defaults are used", () => {
    const dir = newDir("params-default");
    const doc = write(dir, "params.yaml", PARAMS_DOC);
    const run = runAwstoe(["run", "--documents", doc, "--log-directory", dir]);
    expect(run.code).toBe(0);
    expect(shownValues(lastJsonObject<Summary>(run.stdout).logUrl)).toEqual(["colour=red size=small shape=round"]);
  });

  test("--config: per-document parameters > global parameters > defaults", () => {
    const dir = newDir("params-config");
    const doc = write(dir, "params.yaml", PARAMS_DOC);
    const logDir = join(dir, "logs");
    const config = write(
      dir,
      "config.json",
      JSON.stringify({
        documents: [{ path: doc, parameters: [{ name: "Colour", value: "green" }] }, { path: doc }],
        parameters: [
          { name: "Colour", value: "blue" },
          { name: "Size", value: "large" },
        ],
        logDirectory: logDir,
        executionId: "config-run-1",
      }),
    );
    const run = runAwstoe(["run", "--config", config]);
    expect(run.code).toBe(0);
    const summary = lastJsonObject<Summary>(run.stdout);
    expect(summary.status).toBe("success");
    expect(summary.executionId).toBe("config-run-1");
    expect(summary.executedStepCount).toBe(2);
    // The config's logDirectory and executionId are used.
    expect(summary.logUrl.startsWith(`${logDir}/TOE_`)).toBe(true);
    expect(summary.logUrl).toEndWith("_UTC-0_config-run-1");
    expect(shownValues(summary.logUrl)).toEqual([
      "colour=green size=large shape=round", // per-document Colour beats global; global Size beats default
      "colour=blue size=large shape=round", // global only
    ]);
  });
});

describe("usage errors (exit 2, one line)", () => {
  test("both --config and --documents", () => {
    const dir = newDir("usage-both");
    const config = write(dir, "c.json", JSON.stringify({ documents: [{ path: HELLO_LINUX }] }));
    const line = expectUsageError(runAwstoe(["run", "--config", config, "--documents", HELLO_LINUX, "--log-directory", dir]));
    expect(line).toMatch(/--config|--documents/);
    expect(toeFolders(dir)).toEqual([]);
  });

  test("neither --config nor --documents", () => {
    const dir = newDir("usage-neither");
    expect(expectUsageError(runAwstoe(["run", "--log-directory", dir]))).toContain("specify exactly one of --config or --documents");
    expect(toeFolders(dir)).toEqual([]);
  });

  test("--parameters with --config", () => {
    const dir = newDir("usage-params-config");
    const config = write(dir, "c.json", JSON.stringify({ documents: [{ path: HELLO_LINUX }] }));
    expect(expectUsageError(runAwstoe(["run", "--config", config, "--parameters", "a=b", "--log-directory", dir]))).toContain("--parameters");
    expect(toeFolders(dir)).toEqual([]);
  });

  test("--parameters ntp= (empty value)", () => {
    const dir = newDir("usage-ntp");
    const line = expectUsageError(runAwstoe(["run", "--documents", HELLO_LINUX, "--parameters", "ntp=", "--log-directory", dir]));
    expect(line).toContain("invalid parameter 'ntp=': expected name=value");
    expect(toeFolders(dir)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("documents that cannot run", () => {
  test("an invalid document: exit 1, nothing runs, placed diagnostics on stderr, status failed", () => {
    const dir = newDir("invalid");
    const marker = join(dir, "marker");
    const doc = write(
      dir,
      "bad.yaml",
      `name: Bad
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Touch
        action: ExecuteBash
        inputs:
          commands:
            - touch '${marker}'
      - name: Broken
        action: ExecuteBash
        timeoutSeconds: banana
        inputs:
          commands:
            - echo hi
`,
    );
    const run = runAwstoe(["run", "--documents", doc, "--log-directory", dir]);
    expect(run.code).toBe(1);
    expect(existsSync(marker)).toBe(false);
    expect(run.stderr).toContain(`${doc}:13:25`); // file:line:column of `banana`
    expect(run.stderr).toContain("timeoutSeconds");
    const summary = lastJsonObject<Summary>(run.stdout);
    expect(summary.status).toBe("failed");
    expect(summary.executedStepCount).toBe(0);
    expect(summary.failureMessage).toContain("not valid");
    expect(readRecord(summary.logUrl).status).toBe("failed");
  });

});

// ---------------------------------------------------------------------------------------------

describe("timeouts, signals, big output", () => {
  test("a timeout kills the whole process tree", async () => {
    const dir = newDir("timeout");
    const pidFile = join(dir, "grandchild.pid");
    const doc = write(
      dir,
      "timeout.yaml",
      `name: Timeout
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Sleepy
        action: ExecuteBash
        timeoutSeconds: 1
        inputs:
          commands:
            - bash -c 'sleep 300 & echo $! > ${pidFile}; wait'
`,
    );
    const run = runAwstoe(["run", "--documents", doc, "--log-directory", dir]);
    expect(run.code).toBe(1);
    // 1 s limit + at most the SIGTERM→SIGKILL grace; a hang guard, not a speed target.
    expect(run.ms).toBeLessThan(8_000);
    const summary = lastJsonObject<Summary>(run.stdout);
    expect(summary.status).toBe("timedOut"); // the run stopped because a step went over its limit (current-awstoe.md §3)
    expect(summary.failureMessage).toContain("build/Sleepy");
    expect(summary.failureMessage).toContain("timed out after 1 second");
    const grandchild = Number(readFileSync(pidFile, "utf8").trim());
    expect(grandchild).toBeGreaterThan(1);
    await waitFor(`sleep (pid ${grandchild}) to be gone`, () => processGone(grandchild), 3_000);
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`${signal} to awstoe stops the running step, records it as interrupted, and kills the child`, async () => {
      const dir = newDir(`signal-${signal}`);
      const pidFile = join(dir, "sleep.pid");
      const afterMarker = join(dir, "after-ran");
      const stderrFile = join(dir, "stderr.txt");
      const stdoutFile = join(dir, "stdout.txt");
      const doc = write(
        dir,
        "nap.yaml",
        `name: Nap
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Nap
        action: ExecuteBash
        inputs:
          commands:
            - sleep 60 &
            - echo $! > '${pidFile}'
            - echo nap-started
            - wait
      - name: After
        action: ExecuteBash
        inputs:
          commands:
            - touch '${afterMarker}'
`,
      );
      const proc = Bun.spawn([binary, "run", "--documents", doc, "--log-directory", dir], {
        cwd: dir,
        env: testEnv(),
        stdin: "ignore",
        stdout: Bun.file(stdoutFile),
        stderr: Bun.file(stderrFile),
      });
      try {
        await waitFor("the step to start (nap-started on stderr)", () => readIfExists(stderrFile).includes("nap-started") && readIfExists(pidFile).trim() !== "", 10_000);
        const sleepPid = Number(readFileSync(pidFile, "utf8").trim());
        expect(processGone(sleepPid)).toBe(false);
        const sent = performance.now();
        proc.kill(signal);
        const code = await Promise.race([proc.exited, Bun.sleep(10_000).then(() => "hang" as const)]);
        const ms = performance.now() - sent;
        expect(code).toBe(signal === "SIGINT" ? 130 : 143); // 128 + the signal's number, as shells report it
        expect(ms).toBeLessThan(5_000);
        await waitFor(`sleep (pid ${sleepPid}) to be gone`, () => processGone(sleepPid), 3_000);
        expect(existsSync(afterMarker)).toBe(false);

        const stderr = readFileSync(stderrFile, "utf8");
        expect(stderr).toContain(`${signal} received`);
        const summary = lastJsonObject<Summary>(readFileSync(stdoutFile, "utf8"));
        expect(summary.status).toBe("failed");
        const record = readRecord(summary.logUrl);
        expect(record.status).toBe("failed");
        const steps = record.documents[0]!.phases[0]!.steps;
        expect(steps.map((s) => s.name)).toEqual(["Nap"]); // After never started
        expect(steps[0]!.status).toBe("failed");
        expect(steps[0]!.failureMessage).toMatch(/interrupt/i);
      } finally {
        if (proc.exitCode === null) proc.kill("SIGKILL");
        const pid = Number(readIfExists(pidFile).trim());
        if (pid > 1 && !processGone(pid)) process.kill(pid, "SIGKILL");
      }
    });
  }

  test("a step printing 200 MB: console.log holds all of it; awstoe's memory stays bounded", async () => {
    const dir = newDir("big-output");
    const bytes = 200 * 1024 * 1024;
    const doc = write(
      dir,
      "flood.yaml",
      `name: Flood
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Flood
        action: ExecuteBash
        inputs:
          commands:
            - yes | head -c ${bytes}
`,
    );
    const stdoutFile = join(dir, "stdout.txt");
    const timeReport = join(dir, "time.txt");
    const gnuTime = existsSync("/usr/bin/time") && Bun.spawnSync(["/usr/bin/time", "-v", "true"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
    const argv = [binary, "run", "--documents", doc, "--log-directory", dir];
    // stderr (200 MB of "y") goes to /dev/null, so the test itself does not buffer it.
    const proc = Bun.spawn(gnuTime ? ["/usr/bin/time", "-v", "-o", timeReport, ...argv] : argv, {
      cwd: dir,
      env: testEnv(),
      stdin: "ignore",
      stdout: Bun.file(stdoutFile),
      stderr: "ignore",
    });
    let peakKb = 0;
    if (!gnuTime) {
      // Fallback: poll VmRSS of awstoe (proc.pid is awstoe itself here) every 50 ms.
      while (proc.exitCode === null) {
        const status = readIfExists(`/proc/${proc.pid}/status`);
        const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
        if (rss) peakKb = Math.max(peakKb, Number(rss[1]));
        await Bun.sleep(50);
      }
    }
    const code = await proc.exited;
    if (gnuTime) peakKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeReport, "utf8"))?.[1] ?? "0");

    expect(code).toBe(0);
    const summary = lastJsonObject<Summary>(readFileSync(stdoutFile, "utf8"));
    expect(summary.status).toBe("success");
    const consoleLog = join(summary.logUrl, "console.log");
    // All of the child's output, plus progress lines and the summary.
    expect(statSync(consoleLog).size).toBeGreaterThanOrEqual(bytes);
    expect(statSync(consoleLog).size).toBeLessThan(bytes + 64 * 1024);
    // A guard against unbounded buffering of child output (which would need > 200 MB), not a
    // speed or footprint target: awstoe keeps only bounded tails of each stream.
    expect(peakKb).toBeGreaterThan(0);
    expect(peakKb * 1024).toBeLessThan(400 * 1024 * 1024);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------

describe("several documents", () => {
  test("run in order, each document's phases in turn; document_2.yaml is written", () => {
    const dir = newDir("multi");
    const docText = (name: string) => `name: Doc${name}
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Say
        action: ExecuteBash
        inputs:
          commands:
            - echo "marker ${name}.build"
  - name: validate
    steps:
      - name: Say
        action: ExecuteBash
        inputs:
          commands:
            - echo "marker ${name}.validate"
  - name: test
    steps:
      - name: Say
        action: ExecuteBash
        inputs:
          commands:
            - echo "marker ${name}.test"
`;
    const a = write(dir, "a.yaml", docText("A"));
    const b = write(dir, "b.yaml", `# second document\n${docText("B")}`);
    const run = runAwstoe(["run", "--documents", `${a},${b}`, "--phases", "validate,build", "--log-directory", dir]);
    expect(run.code).toBe(0);
    const summary = lastJsonObject<Summary>(run.stdout);
    expect(summary.status).toBe("success");
    expect(summary.executedStepCount).toBe(4);
    const consoleLog = readFileSync(join(summary.logUrl, "console.log"), "utf8");
    const markers = [...consoleLog.matchAll(/^marker (\S+)$/gm)].map((m) => m[1]);
    // Phases run in document order, whatever the order given to --phases (documents.md §4).
    expect(markers).toEqual(["A.build", "A.validate", "B.build", "B.validate"]);
    const record = readRecord(summary.logUrl);
    expect(record.documents.map((d) => [d.name, d.phases.map((p) => p.name)])).toEqual([
      ["DocA", ["build", "validate"]],
      ["DocB", ["build", "validate"]],
    ]);
    expect(readFileSync(join(summary.logUrl, "document.yaml"), "utf8")).toBe(docText("A"));
    expect(readFileSync(join(summary.logUrl, "document_2.yaml"), "utf8")).toBe(`# second document\n${docText("B")}`);
  });
});

// ---------------------------------------------------------------------------------------------

describe("loops", () => {
  // for-loop bounds stay numbers while forEach items are read as written (engine/inputs.ts
  // loopAsWritten); before that fix every `for` loop failed at run time.
  test("a for loop runs once per value", () => {
    const dir = newDir("for-loop");
    const doc = write(
      dir,
      "for.yaml",
      `name: ForLoop
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Count
        action: ExecuteBash
        loop:
          name: n
          for:
            start: 1
            end: 3
            updateBy: 1
        inputs:
          commands:
            - echo "count {{ n.value }}"
`,
    );
    const run = runAwstoe(["run", "--documents", doc, "--log-directory", dir]);
    expect(run.code).toBe(0);
    const summary = lastJsonObject<Summary>(run.stdout);
    expect(summary.status).toBe("success");
    const step = readRecord(summary.logUrl).documents[0]!.phases[0]!.steps[0]!;
    expect(JSON.parse(step.outputs)).toEqual([{ stdout: "count 1\ncount 2\ncount 3" }]);
  });

  test("a forEach loop runs once per item (the for-loop bug does not affect forEach)", () => {
    const dir = newDir("foreach-loop");
    const doc = write(
      dir,
      "foreach.yaml",
      `name: ForEachLoop
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Greet
        action: ExecuteBash
        loop:
          forEach:
            - alpha
            - beta
        inputs:
          commands:
            - echo "item {{ loop.index }} is {{ loop.value }}"
`,
    );
    const run = runAwstoe(["run", "--documents", doc, "--log-directory", dir]);
    expect(run.code).toBe(0);
    const step = readRecord(lastJsonObject<Summary>(run.stdout).logUrl).documents[0]!.phases[0]!.steps[0]!;
    expect(JSON.parse(step.outputs)).toEqual([{ stdout: "item 0 is alpha\nitem 1 is beta" }]);
  });
});

// ---------------------------------------------------------------------------------------------

interface SafeCorpusRow {
  document: string;
  run: "yes" | "no" | "todo";
  exit: number;
  status: string;
  mentions: string[];
  reason: string;
}

/** The table of test/e2e/safe-corpus.md (cells split on unescaped `|`). */
function safeCorpusRows(): SafeCorpusRow[] {
  const rows: SafeCorpusRow[] = [];
  for (const line of readFileSync(SAFE_CORPUS_TABLE, "utf8").split("\n")) {
    if (!line.startsWith("| ") || line.startsWith("| Document ") || line.startsWith("|---")) continue;
    const cells = line
      .slice(1, line.trimEnd().length - 1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/\\\|/g, "|"));
    if (cells.length !== 6) throw new Error(`safe-corpus.md: expected 6 cells in: ${line}`);
    const [document, run, exit, status, mentions, reason] = cells as [string, string, string, string, string, string];
    if (run !== "yes" && run !== "no" && run !== "todo") throw new Error(`safe-corpus.md: Run must be yes, no or todo in: ${line}`);
    rows.push({
      document,
      run,
      exit: exit === "" ? Number.NaN : Number(exit),
      status,
      mentions: mentions === "" ? [] : mentions.split(";").map((m) => m.trim()),
      reason,
    });
  }
  return rows;
}

const CORPUS_ROWS = safeCorpusRows();
/** Words that must never appear in a document the tests run (a second line of defence). */
const UNSAFE_WORDS = /\b(sudo|apt|apt-get|yum|dnf|zypper|rpm|dpkg|curl|wget|systemctl|service|reboot|shutdown|aws|git|pip|npm|ping)\b|exit 194|\/etc\/|\/var\//;

describeWithShared("corpus", "safe corpus documents (test/e2e/safe-corpus.md)", (corpus) => {
  test("the table reviews exactly the linux/both valid-looking corpus documents with only runnable actions", () => {
    const expected = manifestRows(corpus)
      .filter((r) => (r.platform === "linux" || r.platform === "both") && r.validity === "valid-looking")
      .filter((r) => r.actions.split(",").every((a) => RUNNABLE_ACTIONS.has(a.trim())))
      .map((r) => r.file)
      .sort();
    expect(CORPUS_ROWS.map((r) => r.document).sort()).toEqual(expected);
    for (const row of CORPUS_ROWS) expect(row.reason.length).toBeGreaterThan(10);
  });

  test("documents marked to run pass the sanity screen", () => {
    for (const row of CORPUS_ROWS.filter((r) => r.run !== "no")) {
      const text = readFileSync(join(corpus, "docs", row.document), "utf8").replace(/^\s*#.*$/gm, "");
      expect({ document: row.document, unsafe: UNSAFE_WORDS.exec(text)?.[0] ?? null }).toEqual({ document: row.document, unsafe: null });
      expect(Number.isInteger(row.exit)).toBe(true);
      expect(["success", "failed", "successWithIgnoredFailure"]).toContain(row.status);
    }
  });

  for (const row of CORPUS_ROWS.filter((r) => r.run !== "no")) {
    const name = `${row.document}: exit ${row.exit}, ${row.status}${row.mentions.length ? ` (${row.mentions.join(", ")})` : ""}`;
    const body = () => {
      const dir = newDir("corpus");
      const home = join(dir, "home");
      const cwd = join(dir, "cwd");
      mkdirSync(home);
      mkdirSync(cwd);
      const run = runAwstoe(["run", "--documents", join(corpus, "docs", row.document), "--log-directory", join(dir, "logs")], {
        cwd,
        env: { HOME: home },
      });
      expect({ code: run.code, stderr: run.code === row.exit ? "" : run.stderr }).toEqual({ code: row.exit, stderr: "" });
      const summary = lastJsonObject<Summary>(run.stdout);
      expect(summary.status).toBe(row.status);
      expect(existsSync(join(summary.logUrl, "detailedoutput.json"))).toBe(true);
      expect(readRecord(summary.logUrl).status).toBe(row.status);
      if (row.status === "success") expect(summary.failureMessage).toBe("");
      for (const text of row.mentions) expect(summary.failureMessage).toContain(text);
    };
    // "todo" rows: safe and correctly specified, but blocked by a known bug named in the reason column.
    if (row.run === "todo") test.todo(`${name} — ${row.reason}`, body);
    else test(name, body);
  }
});
