/**
 * run --retry, --from, --only and --outputs-from with the compiled binary, on the component in
 * test/fixtures/rerun: every step appends its name to ./counter each time it runs, so the counter
 * proves which steps ran. The record and the terminal output of a retry and of a --from run are
 * golden files there (volatile fields normalised); `UPDATE_GOLDEN=1` rewrites them — read the diff.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { awstoeBinary, runAwstoe, type AwstoeRun } from "../helpers/binary.ts";
import { lastJsonObject } from "../helpers/run-output.ts";

const FIXTURE = join(import.meta.dir, "..", "fixtures", "rerun");
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const root = realpathSync(mkdtempSync(join(tmpdir(), "opentoe-rerun-e2e-")));
beforeAll(async () => {
  await awstoeBinary();
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

let count = 0;
function workspace(seed: string): string {
  const dir = join(root, `w${++count}`);
  Bun.spawnSync(["mkdir", "-p", dir]);
  copyFileSync(join(FIXTURE, "component.yaml"), join(dir, "component.yaml"));
  writeFileSync(join(dir, "seed"), `${seed}\n`);
  return dir;
}

const run = (dir: string, extra: string[] = []): AwstoeRun => runAwstoe(["run", "-d", "component.yaml", "-l", "logs", ...extra], { cwd: dir, env: { AWSTOE_REBOOT_MODE: "disabled" } });
const counter = (dir: string) => (existsSync(join(dir, "counter")) ? readFileSync(join(dir, "counter"), "utf8").split("\n").filter(Boolean) : []);
const summary = (result: AwstoeRun) => lastJsonObject<{ executionId: string; status: string; logUrl: string; executedStepCount: number; skippedStepCount: number }>(result.stdout);
const logFolders = (dir: string) => readdirSync(join(dir, "logs")).filter((n) => n.startsWith("TOE_") && n !== "TOE_state").sort();
const stepsOf = (folder: string) =>
  (JSON.parse(readFileSync(join(folder, "detailedoutput.json"), "utf8")) as { documents: { phases: { steps: Record<string, unknown>[] }[] }[] }).documents[0]!.phases.flatMap((p) => p.steps);

/** One error line on stderr (and its hint), exit `code`, nothing on stdout. */
function refused(result: AwstoeRun, code: number): string {
  expect(result.code).toBe(code);
  expect(result.stdout).toBe("");
  const lines = result.stderr.split("\n").filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toStartWith("awstoe: ");
  expect(result.stderr).not.toContain("    at "); // no stack trace
  return lines[0]!;
}

/** Times, durations, ids and paths that differ between runs, replaced by placeholders. */
function normalise(text: string, replacements: [string, string][]): string {
  let out = text;
  for (const [from, to] of replacements) out = out.replaceAll(from, to);
  return out
    .replace(/("(?:startTime|endTime)": )"[^"]+"/g, '$1"<TIME>"')
    .replace(/("durationMs": )\d+/g, "$1<MS>")
    .replace(/\(\d+\.\d+ s\)/g, "(<S>)")
    .replace(/ in \d+\.\d+ s — /g, " in <S> — ");
}

function golden(name: string, actual: string): void {
  const file = join(FIXTURE, name);
  if (UPDATE || !existsSync(file)) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, "utf8"));
}

describe("run --retry", () => {
  test("restored steps do not run again, their values flow on, the failed step and the rest run once more, in the same log folder", () => {
    const dir = workspace("first");
    const first = run(dir);
    expect(first.code).toBe(1);
    const { executionId: id, logUrl } = summary(first);
    expect(counter(dir)).toEqual(["Fetch", "Prepare", "Flaky"]);
    expect(first.stderr).toContain(`retry: the same command with --retry ${id} restores the steps before the failure and runs the rest again`);
    expect(readdirSync(join(dir, "logs", "TOE_state", "executions"))).toEqual([`${id}.state`]);

    // Refusals: nothing runs, the counter stays, the execution stays retryable.
    writeFileSync(join(dir, "component.yaml"), `${readFileSync(join(dir, "component.yaml"), "utf8")}# changed\n`);
    expect(refused(run(dir, ["--retry", id]), 1)).toBe(`awstoe: cannot retry execution ${id} (component.yaml): this run asks for something else: document 'component.yaml' has changed since it ran — give the same documents, parameters and phases as that execution; to run changed documents from a step, use --from phase/step --outputs-from ${id}; nothing was run`);
    copyFileSync(join(FIXTURE, "component.yaml"), join(dir, "component.yaml"));
    expect(refused(run(dir, ["--retry", id, "--parameters", "Greeting=hi"]), 1)).toContain("this run asks for something else: parameter 'Greeting' is given now and was not then");
    expect(refused(run(dir, ["--retry", id, "--phases", "build"]), 1)).toContain("the phases differ: it ran all phases, this run asks for build");
    expect(refused(run(dir, ["--retry", "no-such-run"]), 1)).toBe(`awstoe: no execution no-such-run to retry: there is no '${join(dir, "logs", "TOE_state", "executions", "no-such-run.state")}', and the log directory '${join(dir, "logs")}' has no TOE_<time>_UTC-0_no-such-run folder — use the executionId of the failed run's summary, with the same --log-directory and --state-directory`);
    expect(refused(run(dir, ["--retry", "../../etc/passwd"]), 2)).toContain("--retry: '../../etc/passwd' is not an execution id");
    expect(counter(dir)).toEqual(["Fetch", "Prepare", "Flaky"]);
    expect(logFolders(dir)).toHaveLength(1);

    // The retry: the seed changed, so a step that prints "first" got it from a restored step.
    writeFileSync(join(dir, "seed"), "second\n");
    writeFileSync(join(dir, "flag"), "");
    const retry = run(dir, ["--retry", id]);
    expect(retry.code).toBe(0);
    expect(summary(retry)).toMatchObject({ executionId: id, status: "success", logUrl, executedStepCount: 4 });
    expect(counter(dir)).toEqual(["Fetch", "Prepare", "Flaky", "Flaky", "After"]);
    expect(readFileSync(join(dir, "after.txt"), "utf8")).toBe("after saw first\n");
    expect(retry.stderr).toContain("flaky saw hello first");
    expect(logFolders(dir)).toEqual([logUrl.split("/").at(-1)!]);
    expect(existsSync(join(dir, "logs", "TOE_state"))).toBe(false); // succeeded: nothing kept
    expect(stepsOf(logUrl).map((s) => [s.name, s.status, s.restored ?? false])).toEqual([["Fetch", "success", true], ["Prepare", "success", true], ["Flaky", "success", false], ["After", "success", false]]);
    const applicationLog = readFileSync(join(logUrl, "application.log"), "utf8");
    expect(applicationLog).toContain(`retrying execution ${id}: 2 step(s) that finished before the failure are restored`);
    const consoleLog = readFileSync(join(logUrl, "console.log"), "utf8");
    expect(consoleLog.indexOf("build/Flaky: failed")).toBeLessThan(consoleLog.indexOf("build/Fetch: restored")); // both attempts, in order

    const paths: [string, string][] = [[logUrl, "<LOG_FOLDER>"], [dir, "<DIR>"], [id, "<ID>"]];
    golden("retry-detailedoutput.json", normalise(readFileSync(join(logUrl, "detailedoutput.json"), "utf8"), paths));
    golden("retry-stderr.txt", normalise(retry.stderr, paths));

    // It succeeded: there is nothing to retry.
    expect(refused(run(dir, ["--retry", id]), 1)).toBe(`awstoe: execution ${id} succeeded (success, log folder '${logUrl}'): there is nothing to retry — to run some of its steps again, start a new run with --from or --only`);
    expect(counter(dir)).toHaveLength(5);
  });

  test("a retry that fails again can be retried again; the failed step is not restored", () => {
    const dir = workspace("one");
    const id = summary(run(dir)).executionId;
    expect(run(dir, ["--retry", id]).code).toBe(1);
    expect(counter(dir)).toEqual(["Fetch", "Prepare", "Flaky", "Flaky"]);
    writeFileSync(join(dir, "flag"), "");
    expect(run(dir, ["--retry", id]).code).toBe(0);
    expect(counter(dir)).toEqual(["Fetch", "Prepare", "Flaky", "Flaky", "Flaky", "After"]);
  });
});

describe("run --from / --only / --outputs-from", () => {
  test("only the selected steps run; chaining reads the earlier execution's values; missing ones and bad names are refused", () => {
    const dir = workspace("earlier");
    writeFileSync(join(dir, "flag"), "");
    const full = run(dir);
    expect(full.code).toBe(0);
    const earlier = summary(full).executionId;
    writeFileSync(join(dir, "counter"), "");
    writeFileSync(join(dir, "seed"), "later\n");

    expect(refused(run(dir, ["--from", "build/Flaky"]), 2)).toBe(
      "awstoe: --from leaves out steps whose values the steps that run need: build/Flaky needs build.Prepare.outputs.stdout (build/Prepare does not run); test/After needs build.Fetch.outputs.stdout (build/Fetch does not run) — pass --outputs-from <execution-id> of an earlier run of these documents whose steps produced them, or include those steps; nothing was run",
    );
    expect(refused(run(dir, ["--only", "build/Flakey,tests/After"]), 2)).toBe(
      "awstoe: --only: 'build/Flakey': phase 'build' has no step 'Flakey' — did you mean 'Flaky'?; 'tests/After': no phase 'tests' runs — did you mean 'test'? — steps are named phase/step as in the document; nothing was run",
    );
    expect(refused(run(dir, ["--from", "build/Flaky", "--outputs-from", "never-ran"]), 2)).toContain("--outputs-from never-ran: the log directory");
    expect(counter(dir)).toEqual([]);

    const from = run(dir, ["--from", "build/Flaky", "--outputs-from", earlier]);
    expect(from.code).toBe(0);
    expect(counter(dir)).toEqual(["Flaky", "After"]);
    expect(from.stderr).toContain("flaky saw hello earlier");
    expect(readFileSync(join(dir, "after.txt"), "utf8")).toBe("after saw earlier\n");
    const fromSummary = summary(from);
    expect(fromSummary).toMatchObject({ status: "success", executedStepCount: 2, skippedStepCount: 2 });
    expect(fromSummary.executionId).not.toBe(earlier);
    const paths: [string, string][] = [[fromSummary.logUrl, "<LOG_FOLDER>"], [dir, "<DIR>"], [fromSummary.executionId, "<ID>"], [earlier, "<EARLIER_ID>"]];
    golden("from-detailedoutput.json", normalise(readFileSync(join(fromSummary.logUrl, "detailedoutput.json"), "utf8"), paths));

    writeFileSync(join(dir, "counter"), "");
    const only = run(dir, ["--only", "test/After", "--outputs-from", fromSummary.executionId]); // values passed on by the --from run
    expect(only.code).toBe(0);
    expect(counter(dir)).toEqual(["After"]);
    expect(readFileSync(join(dir, "after.txt"), "utf8")).toBe("after saw earlier\n");
    expect(stepsOf(summary(only).logUrl).map((s) => [s.name, s.status])).toEqual([["Fetch", "skipped"], ["Prepare", "skipped"], ["Flaky", "skipped"], ["After", "success"]]);

    writeFileSync(join(dir, "counter"), "");
    expect(run(dir, ["--only", "build/Fetch"]).code).toBe(0); // needs nothing from a left-out step
    expect(counter(dir)).toEqual(["Fetch"]);
  });
  test("several documents: a step name both have must say which document (n:phase/step)", () => {
    const dir = workspace("two");
    copyFileSync(join(dir, "component.yaml"), join(dir, "copy.yaml"));
    writeFileSync(join(dir, "flag"), "");
    const both = (extra: string[]) => runAwstoe(["run", "-d", "component.yaml,copy.yaml", "-l", "logs", ...extra], { cwd: dir, env: { AWSTOE_REBOOT_MODE: "disabled" } });
    const full = both([]);
    expect(full.code).toBe(0);
    writeFileSync(join(dir, "counter"), "");
    expect(refused(both(["--from", "test/After"]), 2)).toContain("'test/After' is in more than one document; name one: 1:test/After (component.yaml), 2:test/After (copy.yaml)");
    const second = both(["--from", "2:test/After", "--outputs-from", summary(full).executionId]);
    expect(second.code).toBe(0);
    expect(counter(dir)).toEqual(["After"]);
    expect(summary(second)).toMatchObject({ executedStepCount: 1, skippedStepCount: 7 });
  });
});
