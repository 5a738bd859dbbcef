/** logs/step-log.ts: one step's own log — inputs per call, lines marked by stream, masked, private. */
import { expect, test } from "bun:test";
import { readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StepLog } from "../../src/logs/step-log.ts";
import { scratch } from "../helpers/fs-tree.ts";

test("inputs, stream-marked lines (a line split across pieces keeps one marker), the ending; 0600", () => {
  const place = scratch();
  try {
    const path = join(place.dir, "Step.log");
    const log = new StepLog(path, "[doc] build/Step (ExecuteBash)", (text) => text.replaceAll("s3cret", "****"));
    log.inputs("iteration 1 of 2 (a)", { commands: ["echo s3cret"] });
    log.output("stdout", "one\ntw");
    log.output("stdout", "o\nthree");
    log.output("stderr", "oops\n");
    log.end("ended: success after 0.01 s");
    expect(readFileSync(path, "utf8")).toBe(
      ["# [doc] build/Step (ExecuteBash)", '# inputs (iteration 1 of 2 (a)): {"commands":["echo ****"]}', "[stdout] one", "[stdout] two", "[stdout] three", "[stderr] oops", "# ended: success after 0.01 s", ""].join("\n"),
    );
    expect(statSync(path).mode & 0o777).toBe(0o600);
  } finally {
    place.remove();
  }
});

test("a link planted at its name is not followed: the log is given up, nothing is written through it", () => {
  const place = scratch();
  try {
    const target = join(place.dir, "target");
    writeFileSync(target, "untouched");
    symlinkSync(target, join(place.dir, "Step.log"));
    const log = new StepLog(join(place.dir, "Step.log"), "header", (t) => t);
    log.output("stdout", "hello\n");
    log.end("ended");
    expect(readFileSync(target, "utf8")).toBe("untouched");
  } finally {
    place.remove();
  }
});
