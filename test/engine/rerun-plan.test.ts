/** The pure decisions of run --retry / --from / --only / --outputs-from (engine/rerun-plan.ts). */
import { describe, expect, test } from "bun:test";
import { borrowedFrom, restorableSteps, selectSteps, type SelectableDocument } from "../../src/engine/rerun-plan.ts";
import { UsageError } from "../../src/errors.ts";
import type { ExecutionRecord, StepRecord } from "../../src/model/record.ts";
import type { StepEntry } from "../../src/state/journal.ts";

const entry = (key: string, status: string): StepEntry => ({ kind: "step", key, executed: true, record: { name: key, status }, data: { inputs: [], outputs: [] }, chaining: [], phaseStartTime: "", documentStartTime: "" });

describe("restorableSteps: what --retry restores", () => {
  test("the steps that finished before the first failure, in journal order", () => {
    const steps = [entry("d0/build/0", "success"), entry("d0/build/1", "skipped"), entry("d0/build/2", "ignoredFailure"), entry("d0/build/3", "failed"), entry("d0/build/4", "success")];
    expect(restorableSteps(steps).map((s) => s.key)).toEqual(["d0/build/0", "d0/build/1", "d0/build/2"]);
  });

  test("a timed-out step counts as failed; nothing before it: nothing restored", () => {
    expect(restorableSteps([entry("d0/build/0", "timedOut"), entry("d0/build/1", "success")])).toEqual([]);
  });

  test("a nested document's steps before its failure are restored; its ExecuteDocument step is not", () => {
    const steps = [entry("d0/build/0", "success"), entry("d0/build/1>d0/test/0", "success"), entry("d0/build/1>d0/test/1", "failed"), entry("d0/build/1", "failed")];
    expect(restorableSteps(steps).map((s) => s.key)).toEqual(["d0/build/0", "d0/build/1>d0/test/0"]);
  });
});

const step = (name: string, inputs: unknown = { commands: ["true"] }, extra: Record<string, unknown> = {}) => ({ name, action: "ExecuteBash", inputs, ...extra });
const document = (source: string, phases: Record<string, unknown[]>): SelectableDocument => ({ source, doc: { name: source, phases: Object.entries(phases).map(([name, steps]) => ({ name, steps })) } });

const setup = document("a.yaml", {
  build: [step("Fetch"), step("Configure", { commands: ["echo {{ build.Fetch.outputs.stdout }}"] }), step("Install")],
  test: [step("Check", { commands: ["echo {{ build.Install.outputs.stdout }} {{ build.Install.inputs.commands }}"] }), step("Report")],
});

function usageError(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).message;
  }
  throw new Error("expected a UsageError");
}

describe("selectSteps: --from and --only", () => {
  test("--from: the named step and everything after it run; earlier steps are left out with the reason", () => {
    const selection = selectSteps({ from: "build/Install" }, [setup], [], undefined);
    expect(selection.running).toBe(3);
    expect(selection.leftOut("d0/build/0")).toEqual({ reason: "not selected: this run starts at --from build/Install" });
    expect(selection.leftOut("d0/build/1")?.reason).toContain("--from build/Install");
    expect(selection.leftOut("d0/build/2")).toBeUndefined();
    expect(selection.leftOut("d0/test/0")).toBeUndefined();
    expect(selection.leftOut("d0/build/2>d0/test/0")).toBeUndefined(); // nested steps run with their parent
  });

  test("--only: exactly the named steps run", () => {
    const selection = selectSteps({ only: ["build/Fetch", "test/Report"] }, [setup], [], undefined);
    expect(selection.running).toBe(2);
    expect(["d0/build/0", "d0/build/1", "d0/build/2", "d0/test/0", "d0/test/1"].map((k) => selection.leftOut(k) === undefined)).toEqual([true, false, false, false, true]);
    expect(selection.leftOut("d0/build/1")?.reason).toBe("not selected: this run runs only build/Fetch,test/Report (--only)");
  });

  test("unknown names: one error naming each, with did-you-mean", () => {
    const message = usageError(() => selectSteps({ only: ["buld/Fetch", "build/Instal", "Fetch"] }, [setup], [], undefined));
    expect(message).toBe("--only: 'buld/Fetch': no phase 'buld' runs — did you mean 'build'?; 'build/Instal': phase 'build' has no step 'Instal' — did you mean 'Install'?; 'Fetch' is not phase/step (e.g. build/Install)");
  });

  test("a phase left out by --phases cannot be named", () => {
    expect(usageError(() => selectSteps({ from: "test/Check" }, [setup], ["build"], undefined))).toContain("no phase 'test' runs");
  });

  test("a reference to a left-out step's outputs, with no --outputs-from: refused, naming each missing value and who needs it", () => {
    const message = usageError(() => selectSteps({ from: "build/Configure" }, [setup], [], undefined));
    expect(message).toBe("--from leaves out steps whose values the steps that run need: build/Configure needs build.Fetch.outputs.stdout (build/Fetch does not run)");
    const only = usageError(() => selectSteps({ only: ["test/Check"] }, [setup], [], undefined));
    expect(only).toContain("test/Check needs build.Install.outputs.stdout (build/Install does not run); test/Check needs build.Install.inputs.commands (build/Install does not run)");
  });

  test("borrowed values answer them, and are what chaining reads of the left-out step", () => {
    const lent = { inputs: [{ commands: ["x"] }], outputs: [{ stdout: "fetched" }] };
    const selection = selectSteps({ from: "build/Configure", outputsFrom: "run-1" }, [setup], [], (d, phase, name) => (d === 0 && phase === "build" && name === "Fetch" ? lent : undefined));
    expect(selection.leftOut("d0/build/0")).toEqual({ reason: "not selected: this run starts at --from build/Configure; chaining reads its values from execution run-1", data: lent });
  });

  test("borrowed data without the field (a step that failed then) still counts as missing", () => {
    const message = usageError(() => selectSteps({ from: "build/Configure", outputsFrom: "run-1" }, [setup], [], () => ({ inputs: [], outputs: undefined })));
    expect(message).toContain("and execution run-1 did not produce it: build/Configure needs build.Fetch.outputs.stdout");
  });

  test("several documents: a name two documents have must say which (n:phase/step); one only one has needs nothing", () => {
    const other = document("b.yaml", { build: [step("Fetch"), step("Deploy")] });
    expect(usageError(() => selectSteps({ from: "build/Fetch" }, [setup, other], [], undefined))).toContain("'build/Fetch' is in more than one document; name one: 1:build/Fetch (a.yaml), 2:build/Fetch (b.yaml)");
    const second = selectSteps({ from: "2:build/Fetch" }, [setup, other], [], undefined);
    expect(second.leftOut("d0/test/1")).toBeDefined(); // all of the first document is before it
    expect(second.leftOut("d1/build/0")).toBeUndefined();
    expect(selectSteps({ only: ["build/Deploy"] }, [setup, other], [], undefined).leftOut("d1/build/1")).toBeUndefined();
    expect(usageError(() => selectSteps({ from: "3:build/Fetch" }, [setup, other], [], undefined))).toContain("there is no document 3 (this run has 2)");
  });
});

describe("borrowedFrom: an earlier record's steps as chaining reads them", () => {
  const recorded = (name: string, status: StepRecord["status"], outputs: string, notSelected?: string): StepRecord => ({
    name, status, failureMessage: "", timeoutSeconds: 7200, onFailure: "Abort", maxAttempts: 1, action: "ExecuteBash", startTime: "", endTime: "",
    inputs: '[{"commands":["echo hi"]}]', outputs, loop: null, detailedOutput: null, ...(notSelected === undefined ? {} : { notSelected }),
  });
  const record: ExecutionRecord = {
    executionId: "run-1", status: "failed", startTime: "", endTime: "", failureMessage: "",
    documents: [{ name: "a", filePath: "a.yaml", status: "failed", description: "", startTime: "", endTime: "", failureMessage: "", phases: [{ name: "build", status: "failed", startTime: "", endTime: "", failureMessage: "", steps: [
      recorded("Fetch", "success", '[{"stdout":"v1"}]'), recorded("Broken", "failed", "[]"), recorded("Lent", "skipped", '[{"stdout":"v0"}]', "not selected"),
    ] }] }],
  };

  test("a succeeded step's inputs and outputs; a failed one's outputs are absent; a left-out one passes on what it borrowed", () => {
    const borrowed = borrowedFrom(record, ["a.yaml"]);
    expect(borrowed(0, "build", "Fetch")).toEqual({ inputs: [{ commands: ["echo hi"] }], outputs: [{ stdout: "v1" }] });
    expect(borrowed(0, "build", "Broken")?.outputs).toBeUndefined();
    expect(borrowed(0, "build", "Lent")?.outputs).toEqual([{ stdout: "v0" }]);
    expect(borrowed(0, "build", "Nothing")).toBeUndefined();
  });

  test("only from the same document source at the same position", () => {
    expect(borrowedFrom(record, ["other.yaml"])(0, "build", "Fetch")).toBeUndefined();
  });
});
