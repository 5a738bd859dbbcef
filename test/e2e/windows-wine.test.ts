/**
 * @module test/e2e/windows-wine.test: the Windows build of awstoe (dist/awstoe-windows-x64.exe),
 * run for real under Wine 8 (test/helpers/wine.ts). It proves the .exe starts, detects that it
 * runs on Windows, reports Windows paths, starts Windows child processes and writes its log folder.
 *
 * Skipped, with the reason printed, when Wine or the mingw compiler is missing (scripts/ci-deps.sh
 * installs them; .ci/run runs it first, so CI never skips silently: a failed install is counted).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { fromWinePath, runUnderWine, stopWine, toWinePath, windowsBinary, wineAvailable, wineSkipReason, type WineRun } from "../helpers/wine.ts";

const skipReason = wineAvailable() ? undefined : wineSkipReason();
if (skipReason !== undefined) console.warn(skipReason);

/** cmd.exe of the Wine prefix, by its Windows path: what a component on a real Windows host would name. */
const CMD = "C:\\Windows\\System32\\cmd.exe";

const GOOD_DOC = `name: WineHello
description: Runs cmd.exe from ExecuteBinary.
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: SayHi
        action: ExecuteBinary
        inputs:
          path: ${CMD}
          arguments:
            - /c
            - echo opentoe-under-wine
`;

// ExecuteBash exists on Linux and macOS only, so a Windows awstoe must reject it without --platform.
const BASH_DOC = `name: BashOnWindows
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: SayHi
        action: ExecuteBash
        inputs:
          commands:
            - echo hi
`;

const FAILING_DOC = `name: WineExit3
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: ExitThree
        action: ExecuteBinary
        inputs:
          path: ${CMD}
          arguments: [/c, exit 3]
`;

interface Summary {
  status: string;
  executedStepCount: number;
  failedStepCount: number;
  logUrl: string;
}

interface Detailed {
  status: string;
  documents: { status: string; phases: { steps: { name: string; status: string; action: string; outputs: string; failureMessage: string }[] }[] }[];
}

let tmp: string;
let count = 0;

/** Writes a document into a fresh folder of the test's temp dir; returns its Linux path. */
function writeDoc(name: string, text: string): string {
  const dir = join(tmp, String(++count));
  mkdirSync(dir);
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The run summary: the last JSON object on stdout (cli.md §7.4). */
function summaryOf(run: WineRun): Summary {
  const start = run.stdout.lastIndexOf("\n{");
  return JSON.parse(run.stdout.slice(start + 1)) as Summary;
}

describe.skipIf(skipReason !== undefined)("awstoe-windows-x64.exe under Wine", () => {
  beforeAll(async () => {
    await windowsBinary(); // builds the .exe and the stub DLL when needed, and creates the prefix (~10 s)
    tmp = mkdtempSync(join(tmpdir(), "opentoe-winetest-"));
  }, 180_000);

  afterAll(() => {
    stopWine();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  test("--version starts the .exe and prints the version line", () => {
    const run = runUnderWine(["--version"]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toMatch(/^awstoe \S+ \(opentoe, commit \S+\)$/);
    expect(run.stdout).toContain(packageJson.version);
    expect(run.stdout).not.toContain("commit dev)");
  });

  test("validate: a good Windows document, given by its Windows path, is valid", () => {
    const doc = toWinePath(writeDoc("good.yaml", GOOD_DOC));
    const run = runUnderWine(["validate", "--documents", doc]);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ validationStatus: "success", message: "Validation successful." });
    expect(run.stderr).toContain(`${doc}: valid`);
  });

  test("validate: ExecuteBash is refused on Windows; the message names the file, line and column", () => {
    const doc = toWinePath(writeDoc("bash.yaml", BASH_DOC));
    const run = runUnderWine(["validate", "--documents", doc]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`${doc}:7:17: error`);
    expect(run.stderr).toContain("'ExecuteBash' is not supported on windows");
    expect(run.stderr).not.toContain("$bunfs"); // no stack trace
  });

  test("run: ExecuteBinary starts cmd.exe; the log folder records success and the output", () => {
    const docPath = writeDoc("good.yaml", GOOD_DOC);
    const logDir = join(docPath, "../logs");
    const run = runUnderWine(["run", "--documents", toWinePath(docPath), "--log-directory", toWinePath(logDir)]);
    expect(run.exitCode).toBe(0);
    // The child's output streams through awstoe to the console.
    expect(run.stderr).toContain("opentoe-under-wine");
    const summary = summaryOf(run);
    expect(summary).toMatchObject({ status: "success", executedStepCount: 1, failedStepCount: 0 });
    // awstoe reports the log folder as a Windows path inside the --log-directory it was given.
    expect(summary.logUrl).toStartWith(`${toWinePath(logDir)}\\TOE_`);
    const folder = fromWinePath(summary.logUrl);
    expect(existsSync(folder)).toBe(true);

    const detailed = JSON.parse(readFileSync(join(folder, "detailedoutput.json"), "utf8")) as Detailed;
    expect(detailed.status).toBe("success");
    const step = detailed.documents[0]!.phases[0]!.steps[0]!;
    expect(step).toMatchObject({ name: "SayHi", action: "ExecuteBinary", status: "success", failureMessage: "" });
    expect(JSON.parse(step.outputs)[0].stdout).toContain("opentoe-under-wine");

    expect(readFileSync(join(folder, "console.log"), "utf8")).toContain("opentoe-under-wine");
    expect(readFileSync(join(folder, "document.yaml"), "utf8")).toBe(GOOD_DOC);
  });

  test("run: a Windows child exiting 3 fails the step and the run (exit 1)", () => {
    const docPath = writeDoc("exit3.yaml", FAILING_DOC);
    const logDir = join(docPath, "../logs");
    const run = runUnderWine(["run", "--documents", toWinePath(docPath), "--log-directory", toWinePath(logDir)]);
    expect(run.exitCode).toBe(1);
    const summary = summaryOf(run);
    expect(summary).toMatchObject({ status: "failed", failedStepCount: 1 });
    const detailed = JSON.parse(readFileSync(join(fromWinePath(summary.logUrl), "detailedoutput.json"), "utf8")) as Detailed;
    const step = detailed.documents[0]!.phases[0]!.steps[0]!;
    expect(step.status).toBe("failed");
    expect(step.failureMessage).toMatch(/\b3\b/);
  });
});
