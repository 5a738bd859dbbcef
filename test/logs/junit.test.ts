/**
 * logs/junit.ts and `awstoe run --junit`: every report is checked by xmllint against
 * test/fixtures/junit/junit.xsd (Jenkins' JUnit shape), and read back with XPath.
 * Needs xmllint (Debian libxml2-utils, scripts/ci-deps.sh).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { junitReport, NOT_RUN_MESSAGE, tail, xmlSafe, type PlannedDocument } from "../../src/logs/junit.ts";
import type { ExecutionRecord, PhaseRecord, StepRecord } from "../../src/model/record.ts";
import { scratch } from "../helpers/fs-tree.ts";

const REPO = join(import.meta.dir, "../..");
const XSD = join(REPO, "test/fixtures/junit/junit.xsd");
const MAIN = join(REPO, "src/main.ts");
const BUN = join(REPO, "node_modules/.bin/bun");

/** Runs `command` (ending with the report's path) on `xml` saved to a temporary file. */
function xmllint(xml: string | Uint8Array, command: string[]): { ok: boolean; stdout: string; stderr: string } {
  const place = scratch("opentoe-junit-");
  try {
    const file = join(place.dir, "report.xml");
    writeFileSync(file, xml);
    const run = Bun.spawnSync(["xmllint", ...command, file], { stdout: "pipe", stderr: "pipe" });
    return { ok: run.exitCode === 0, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
  } finally {
    place.remove();
  }
}

/** xmllint's verdict on `xml` against the JUnit schema. */
function lint(xml: string | Uint8Array): { ok: boolean; stderr: string } {
  return xmllint(xml, ["--noout", "--schema", XSD]);
}

/** The value of an XPath expression over `xml` (xmllint --xpath; string() / count() results). */
function xpath(xml: string, expression: string): string {
  const run = xmllint(xml, ["--xpath", expression]);
  if (!run.ok) throw new Error(`xmllint --xpath ${expression}: ${run.stderr}`);
  return run.stdout.replace(/\n$/, ""); // xmllint ends its answer with a newline
}

function expectValid(xml: string): void {
  const verdict = lint(xml);
  if (!verdict.ok) throw new Error(`the report does not validate:\n${verdict.stderr}\n${xml}`);
}

const T0 = "2024-03-05T10:00:00+00:00";
const T1 = "2024-03-05T10:00:02+00:00";

function step(name: string, fields: Partial<StepRecord> = {}): StepRecord {
  return {
    name, status: "success", failureMessage: "", timeoutSeconds: 7200, onFailure: "Abort", maxAttempts: 1, action: "ExecuteBash",
    startTime: T0, endTime: T1, durationMs: 1234, inputs: "[]", outputs: "[]", loop: null, detailedOutput: null, ...fields,
  };
}

function phase(name: string, steps: StepRecord[], status: PhaseRecord["status"] = "success"): PhaseRecord {
  return { name, status, startTime: T0, endTime: T1, failureMessage: "", steps };
}

function execution(documents: ExecutionRecord["documents"], fields: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return { executionId: "11111111-2222-3333-4444-555555555555", status: "success", startTime: T0, endTime: T1, failureMessage: "", documents, ...fields };
}

function doc(name: string, phases: PhaseRecord[], status: PhaseRecord["status"] = "success"): ExecutionRecord["documents"][number] {
  return { name, filePath: `/docs/${name}.yaml`, status, description: "", startTime: T0, endTime: T1, failureMessage: "", phases };
}

const stdout = (text: string) => JSON.stringify([{ stdout: text }]);

/** Every step status, a loop, a nested document, and steps the execution never reached. */
function everyStatus(): { record: ExecutionRecord; planned: PlannedDocument[] } {
  const nested = execution([doc("inner", [phase("build", [step("InnerOk", { outputs: stdout("inner says hi") }), step("InnerBad", { status: "failed", failureMessage: "inner failure" })], "failed")], "failed")], {
    executionId: "nested-1", status: "failed", failureMessage: "inner failure",
  });
  const build = phase("build", [
    step("Ok", { outputs: stdout("hello\nworld") }),
    step("Broken", { status: "failed", onFailure: "Continue", failureMessage: "ExecuteBash: the script exited with code 3\nsecond line" }),
    step("Slow", { status: "timedOut", onFailure: "Continue", timeoutSeconds: 5, failureMessage: "ExecuteBash: stopped after the time limit of 5 s" }),
    step("Skipped", { status: "skipped" }),
    step("Ignored", { status: "ignoredFailure", onFailure: "Ignore", failureMessage: "ExecuteBash: the script exited with code 1" }),
    step("Looped", {
      status: "failed", onFailure: "Continue", failureMessage: "ExecuteBash: iteration 2 of 3 (b): the script exited with code 1",
      loop: { name: "item", type: "forEach", values: ["a", "b", "c"], failedIterations: [1] }, outputs: stdout("item a"),
    }),
    step("Nest", { action: "ExecuteDocument", status: "failed", onFailure: "Abort", failureMessage: "nested execution failed", detailedOutput: [nested] }),
  ], "failed");
  const record = execution([doc("outer", [build], "failed")], { status: "failed", failureMessage: "step 'build/Nest' failed" });
  const planned: PlannedDocument[] = [
    { name: "outer", phases: [
      { name: "build", steps: [...build.steps.map((s) => ({ name: s.name, action: s.action })), { name: "AfterNest", action: "ExecuteBash" }] },
      { name: "test", steps: [{ name: "Later", action: "ExecuteBash" }] },
    ] },
    { name: "second", phases: [{ name: "build", steps: [{ name: "Other", action: "ExecuteBash" }] }] },
  ];
  return { record, planned };
}

describe("junitReport", () => {
  test("every status, a loop, a nested document and steps never reached: valid, with the right counts", () => {
    const { record, planned } = everyStatus();
    const xml = junitReport(record, { planned });
    expectValid(xml);
    // 7 outer steps + 1 not reached in build, 1 in test, 1 of the second document, 2 nested.
    expect(xpath(xml, "string(/testsuites/@tests)")).toBe("12");
    expect(xpath(xml, "count(//testcase)")).toBe("12");
    expect(xpath(xml, "string(/testsuites/@failures)")).toBe("5"); // Broken, Slow, Looped, Nest, InnerBad
    expect(xpath(xml, "string(/testsuites/@errors)")).toBe("0");
    expect(xpath(xml, "count(//testcase[skipped])")).toBe("4"); // Skipped + 3 not run
    expect(xpath(xml, "string(//testsuite[@name='outer/build']/@tests)")).toBe("8");
    expect(xpath(xml, "string(//testsuite[@name='outer/build']/@failures)")).toBe("4");
    expect(xpath(xml, "string(//testsuite[@name='outer/build']/@skipped)")).toBe("2");
    expect(xpath(xml, "string(//testsuite[@name='outer/build']/@timestamp)")).toBe(T0);
    // Suites in document order: the nested one right after its step's phase, the unreached ones after.
    expect(xpath(xml, "string(//testsuite[2]/@name)")).toBe("outer/build/Nest > inner/build");
    expect(xpath(xml, "string(//testsuite[3]/@name)")).toBe("outer/test");
    expect(xpath(xml, "string(//testsuite[4]/@name)")).toBe("second/build");

    const kase = (name: string) => `//testcase[@name='${name}' and @classname='outer']`;
    expect(xpath(xml, `string(${kase("build/Ok")}/@time)`)).toBe("1.234");
    expect(xpath(xml, `string(${kase("build/Ok")}/system-out)`)).toBe("hello\nworld");
    expect(xpath(xml, `count(${kase("build/Ok")}/*)`)).toBe("1");
    expect(xpath(xml, `string(${kase("build/Broken")}/failure/@type)`)).toBe("failed");
    expect(xpath(xml, `string(${kase("build/Broken")}/failure/@message)`)).toBe("ExecuteBash: the script exited with code 3 …");
    expect(xpath(xml, `string(${kase("build/Broken")}/failure)`)).toContain("code 3\nsecond line\naction: ExecuteBash\nonFailure: Continue");
    expect(xpath(xml, `string(${kase("build/Slow")}/failure/@type)`)).toBe("timedOut");
    expect(xpath(xml, `count(${kase("build/Skipped")}/skipped)`)).toBe("1");
    expect(xpath(xml, `count(${kase("build/Ignored")}/failure)`)).toBe("0");
    expect(xpath(xml, `string(${kase("build/Ignored")}/system-err)`)).toStartWith("failure ignored (onFailure: Ignore): ExecuteBash: the script exited with code 1");
    expect(xpath(xml, `string(${kase("build/Looped")}/failure)`)).toContain("loop 'item' (forEach, 3 iteration(s)): failed at iteration 2 (value 'b')");
    expect(xpath(xml, `string(${kase("build/AfterNest")}/skipped/@message)`)).toBe(NOT_RUN_MESSAGE);
    expect(xpath(xml, "string(//testcase[@name='test/Later']/skipped/@message)")).toBe(NOT_RUN_MESSAGE);
    expect(xpath(xml, "string(//testcase[@name='build/Other']/@classname)")).toBe("second");
    expect(xpath(xml, "string(//testcase[@name='build/InnerBad']/@classname)")).toBe("outer/build/Nest > inner");
    expect(xpath(xml, "string(//testcase[@name='build/InnerOk']/system-out)")).toBe("inner says hi");
  });

  test("a successful run without a plan: nothing skipped, nothing failed, times from the record", () => {
    const record = execution([doc("d", [phase("build", [step("A", { durationMs: undefined })])])]);
    delete record.documents[0]!.phases[0]!.steps[0]!.durationMs;
    const xml = junitReport(record);
    expectValid(xml);
    expect(xpath(xml, "string(/testsuites/@tests)")).toBe("1");
    expect(xpath(xml, "string(/testsuites/@failures)")).toBe("0");
    expect(xpath(xml, "string(//testcase/@time)")).toBe("2.000"); // endTime - startTime
    expect(xpath(xml, "string(/testsuites/@time)")).toBe("2.000");
  });

  test("a step run --from/--only left out is skipped with its reason; a restored one passes", () => {
    const reason = "not selected: this run starts at --from build/B";
    const xml = junitReport(execution([doc("d", [phase("build", [step("A", { status: "skipped", notSelected: reason }), step("B", { restored: true })])])]));
    expectValid(xml);
    expect(xpath(xml, "string(//testcase[@name='build/A']/skipped/@message)")).toBe(reason);
    expect(xpath(xml, "count(//testcase[@name='build/B']/*)")).toBe("0");
  });

  test("an execution that failed where no step did (an invalid document) reports one error case", () => {
    const record = execution([], { status: "failed", failureMessage: "document 'x.yaml' is not valid, so nothing ran: x.yaml:3:5: unknown action" });
    const xml = junitReport(record, { planned: [] });
    expectValid(xml);
    expect(xpath(xml, "string(/testsuites/@errors)")).toBe("1");
    expect(xpath(xml, "string(//testcase/error/@message)")).toBe(record.failureMessage);
    expect(xpath(xml, "string(//testcase/@name)")).toBe("execution");
  });

  test("hostile text: quotes, <, &, ]]>, control characters, lone surrogates, CR — escaped or replaced, never invalid", () => {
    const nasty = `a"b'c<d>&e]]>f\u0000g\u0001h\u0008i\u000bj\u001fk\u007fl\ud800m\uFFFEn\uFFFFo\r\np\tq\u001b[31mred\u001b[0m`;
    const record = execution(
      [doc(`doc ${nasty}`, [phase(`ph ${nasty}`, [
        step(`st ${nasty}`, { status: "failed", failureMessage: nasty, outputs: stdout(nasty) }),
        step(`ig ${nasty}`, { status: "ignoredFailure", onFailure: "Ignore", failureMessage: nasty, loop: { name: nasty, type: "forEach", values: [nasty], failedIterations: [0] } }),
        step(`sk ${nasty}`, { status: "skipped", failureMessage: nasty }),
      ], "failed")], "failed")],
      { executionId: nasty, status: "failed", failureMessage: nasty },
    );
    const xml = junitReport(record);
    expectValid(xml);
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(xml).not.toContain("]]>");
    // What a reader gets back: the text with disallowed characters as U+FFFD, colours dropped, CR kept.
    const expected = `a"b'c<d>&e]]>f\uFFFDg\uFFFDh\uFFFDi\uFFFDj\uFFFDk\u007fl\uFFFDm\uFFFDn\uFFFDo\r\np\tqred`;
    expect(xmlSafe(nasty)).toBe(expected);
    expect(xpath(xml, "string(//testcase[1]/failure/@message)")).toBe(`a"b'c<d>&e]]>f\uFFFDg\uFFFDh\uFFFDi\uFFFDj\uFFFDk\u007fl\uFFFDm\uFFFDn\uFFFDo …`);
    expect(xpath(xml, "string(//testcase[1]/system-out)")).toBe(expected);
    expect(xpath(xml, "string(//testcase[1]/@classname)")).toBe(`doc ${expected}`);
    expect(xpath(xml, "string(//testcase[3]/skipped/@message)")).toBe(`skipped: ${expected}`);
    expect(xpath(xml, "string(/testsuites/@name)")).toBe(`awstoe ${expected}`);
  });

  test("stdout: only the last bytes, cut on a whole character, with a note; the mask applies before the cut", () => {
    const long = `${"x".repeat(100)}s3cret${"é".repeat(40)}END`;
    const xml = junitReport(execution([doc("d", [phase("build", [step("A", { outputs: stdout(long), failureMessage: "", status: "success" })])])]), { stdoutTailBytes: 50, mask: (t) => t.replaceAll("s3cret", "****") });
    expectValid(xml);
    const out = xpath(xml, "string(//system-out)");
    expect(out).toMatch(/^\[… \d+ earlier byte\(s\) cut: the whole output is in the step's log in the log folder\]\n/);
    expect(out).toEndWith("ééEND");
    expect(Buffer.byteLength(out.slice(out.indexOf("\n") + 1))).toBeLessThanOrEqual(50);
    expect(tail("abc", 10)).toBe("abc");
    expect(tail("aé", 1)).toStartWith("[… 3 earlier byte(s) cut"); // the cut lands inside é: nothing of it is kept
    // 64 KiB by default.
    const big = `${"a".repeat(70 * 1024)}Z`;
    const bigXml = junitReport(execution([doc("d", [phase("build", [step("A", { outputs: stdout(big) })])])]));
    expect(xpath(bigXml, "string-length(//system-out)")).toBe(String(64 * 1024 + xpath(bigXml, "string(//system-out)").indexOf("\n") + 1));
  });

  test("secrets are masked in every text: messages, names, stdout", () => {
    const record = execution([doc("d", [phase("build", [step("A", { status: "failed", failureMessage: "curl -u admin:s3cret failed", outputs: stdout("token s3cret") })], "failed")], "failed")], { status: "failed" });
    const xml = junitReport(record, { mask: (t) => t.replaceAll("s3cret", "****") });
    expectValid(xml);
    expect(xml).not.toContain("s3cret");
    expect(xpath(xml, "string(//failure/@message)")).toBe("curl -u admin:**** failed");
    // A secret that happens to be a digit masks text, never the report's own times and counts.
    const digit = junitReport(record, { mask: (t) => t.replaceAll("0", "****") });
    expectValid(digit);
    expect(xpath(digit, "string(//testcase/@time)")).toBe("1.234");
  });

  test("a broken report fails xmllint (the check can fail)", () => {
    const xml = junitReport(everyStatus().record);
    expect(lint(xml).ok).toBe(true);
    // Not well-formed: a raw control character, an unescaped <, a bare &.
    expect(lint(xml.replace("hello", "hel\u0001lo")).ok).toBe(false);
    expect(lint(xml.replace('name="build/Ok"', 'name="build/<Ok"')).ok).toBe(false);
    expect(lint(xml.replace("hello", "a & b")).ok).toBe(false);
    // Valid XML, but not the schema: a negative count, a failure before skipped, an unknown attribute, no name.
    expect(lint(xml.replace(/tests="\d+"/, 'tests="-1"')).ok).toBe(false);
    expect(lint(xml.replace(/<skipped message="[^"]*"\/>/, '<failure type="x"/><skipped/>')).ok).toBe(false);
    expect(lint(xml.replace("<testcase ", '<testcase colour="red" ')).ok).toBe(false);
    expect(lint(xml.replace(/<testcase name="[^"]*"/, "<testcase")).ok).toBe(false);
    expect(lint(xml.replace(/time="[\d.]+"/, 'time="soon"')).ok).toBe(false);
  });
});

describe("awstoe run --junit (src/main.ts under Bun)", () => {
  const DOCUMENT = `name: junit-e2e
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Hello
        action: ExecuteBash
        inputs:
          commands:
            - echo 'hello <junit> & "ci"'
      - name: Broken
        action: ExecuteBash
        onFailure: Continue
        inputs:
          commands:
            - echo about to fail
            - exit 3
      - name: NotToday
        action: ExecuteBash
        if:
          stringEquals: yes
          value: no
        inputs:
          commands:
            - echo never
      - name: After
        action: ExecuteBash
        inputs:
          commands:
            - echo after
`;

  /** A scratch folder holding `text` as a document: `body(folder, documentPath)`. */
  function withDocument(text: string, body: (dir: string, document: string) => void): void {
    const place = scratch("opentoe-junit-e2e-");
    try {
      const document = join(place.dir, "doc.yaml");
      writeFileSync(document, text);
      body(place.dir, document);
    } finally {
      place.remove();
    }
  }

  function run(args: string[], cwd: string): { code: number; stdout: string; stderr: string } {
    const child = Bun.spawnSync([BUN, MAIN, "run", ...args], { cwd, env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
    return { code: child.exitCode ?? -1, stdout: child.stdout.toString(), stderr: child.stderr.toString() };
  }

  test("a failing (Continue) and a skipped step: the file validates, with the right counts; exit 1 as without --junit", () => {
    withDocument(DOCUMENT, (dir, document) => {
      const report = join(dir, "out", "report.xml");
      mkdirSync(join(dir, "out"));
      const result = run(["--documents", document, "--junit", report, "--log-directory", join(dir, "logs")], dir);
      expect(result.code).toBe(1);
      const xml = readFileSync(report, "utf8");
      expectValid(xml);
      expect(xpath(xml, "string(/testsuites/@tests)")).toBe("4");
      expect(xpath(xml, "string(/testsuites/@failures)")).toBe("1");
      expect(xpath(xml, "string(/testsuites/@errors)")).toBe("0");
      expect(xpath(xml, "string(//testsuite/@name)")).toBe("junit-e2e/build");
      expect(xpath(xml, "string(//testsuite/@skipped)")).toBe("1");
      expect(xpath(xml, "string(//testcase[@name='build/Broken']/failure/@message)")).toContain("code 3");
      // A failed step records no outputs, so its stdout is only in the log folder.
      expect(xpath(xml, "count(//testcase[@name='build/Broken']/system-out)")).toBe("0");
      expect(xpath(xml, "string(//testcase[@name='build/Hello']/system-out)")).toBe('hello <junit> & "ci"');
      expect(xpath(xml, "count(//testcase[@name='build/NotToday']/skipped)")).toBe("1");
      expect(xpath(xml, "count(//testcase[@name='build/After']/*)")).toBe("1");
      expect(xpath(xml, "string(//testcase[@name='build/After']/system-out)")).toBe("after");
      expect(statSync(report).mode & 0o777).toBe(0o666 & ~process.umask()); // as a shell redirection would make it
    });
  }, 30_000);

  test("a report that cannot be written: one line on stderr naming it, the exit code stays the run's", () => {
    const ok = "name: ok\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: A\n        action: ExecuteBash\n        inputs:\n          commands:\n            - echo fine\n";
    withDocument(ok, (dir, document) => {
      const cases: [string, string][] = [
        [join(dir, "missing-folder", "report.xml"), "its folder does not exist"],
        [join(document, "report.xml"), "a part of its path is not a folder"],
        [dir, "it is a folder"],
      ];
      for (const [report, why] of cases) {
        const result = run(["--documents", document, "--junit", report, "--log-directory", join(dir, "logs")], dir);
        expect(result.code).toBe(0);
        expect(result.stderr.split("\n").filter((l) => l.includes("JUnit"))).toEqual([`awstoe: cannot write the JUnit report '${report}': ${why} (the run's result is unchanged)`]);
        expect(JSON.parse(result.stdout.slice(result.stdout.indexOf("{"))).status).toBe("success");
      }
      expect(existsSync(join(dir, "missing-folder"))).toBe(false);
    });
  }, 30_000);

  test("--junit with --dry-run is a usage error; nothing is written", () => {
    withDocument(DOCUMENT, (dir, document) => {
      const report = join(dir, "report.xml");
      const result = run(["--documents", document, "--dry-run", "--junit", report], dir);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("--junit does not go with --dry-run");
      expect(existsSync(report)).toBe(false);
    });
  }, 30_000);
});
