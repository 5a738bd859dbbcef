/**
 * CreateFile killed mid-write. A child bun process runs the real module (through the registry) to
 * replace a file holding known old content with ~200 MB (or 50 MB) of new content, and is
 * SIGKILLed at several moments. Whatever the moment, the target must hold the complete old bytes or
 * the complete new bytes — never a prefix, never a mix — and any temporary file left behind by the
 * kill must be a hidden file beside the target, never the target itself.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempFolder } from "../helpers/text-samples.ts";

const REPO = resolve(import.meta.dir, "../..");
const BUN = join(REPO, "node_modules/.bin/bun");
const PATTERN = "0123456789abcdef";
const BIG = 200 * 1024 * 1024;
const SMALL = 50 * 1024 * 1024;
/** Old content: big enough that a truncate-and-rewrite would be caught half-way, and unlike the new. */
const OLD = Buffer.from("old content, line after line\n".repeat(40_000));

const temp = tempFolder();
afterAll(temp.remove);
let script = "";
const expected = new Map<number, Buffer>();

beforeAll(() => {
  script = join(temp.dir, "write.ts");
  // The child says "ready" (synchronously, so it is out before the blocking write starts) and then
  // runs CreateFile exactly as a step would.
  writeFileSync(
    script,
    [
      `import { writeSync } from "node:fs";`,
      `import { modules } from ${JSON.stringify(join(REPO, "src/modules/index.ts"))};`,
      `import { moduleContext } from ${JSON.stringify(join(REPO, "test/helpers/module-context.ts"))};`,
      `const [dir, size] = process.argv.slice(2);`,
      `const content = ${JSON.stringify(PATTERN)}.repeat(Number(size) / ${PATTERN.length});`,
      `const ctx = moduleContext({ cwd: dir });`,
      `writeSync(1, "ready\\n");`,
      `await modules.CreateFile.execute([{ path: "target.txt", content, overwrite: true }], ctx);`,
      `writeSync(1, "done\\n");`,
    ].join("\n"),
  );
  for (const size of [BIG, SMALL]) expected.set(size, Buffer.from(PATTERN.repeat(size / PATTERN.length)));
});

/** When to kill: a number of ms after the write began, or not at all. */
type Moment = { afterWriteStarts: number } | { never: true };

let runs = 0;
/** One child run; returns what the target folder holds afterwards. */
async function writeAndKill(size: number, moment: Moment): Promise<{ outcome: "old" | "new" | "mixed"; leftovers: string[]; finished: boolean }> {
  const dir = join(temp.dir, `run${++runs}`);
  mkdirSync(dir);
  const target = join(dir, "target.txt");
  writeFileSync(target, OLD);
  const oldStat = statSync(target);
  const child = spawn(BUN, [script, dir, String(size)], { stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  if ("afterWriteStarts" in moment) {
    await writeStarted(dir, target, oldStat.ino, oldStat.size, () => child.exitCode !== null);
    if (moment.afterWriteStarts > 0) await Bun.sleep(moment.afterWriteStarts);
    child.kill("SIGKILL");
  }
  await exited;
  const outcome = classify(readFileSync(target), size);
  const leftovers = readdirSync(dir).filter((name) => name !== "target.txt");
  rmSync(dir, { recursive: true, force: true });
  return { outcome, leftovers, finished: stdout.includes("done") };
}

/**
 * Waits until the child has begun writing — the first bytes leave the process only after the
 * 200 MB string is encoded (~0.3 s here) — seen as a new entry in the folder (a temporary file) or
 * as any change to the target itself (an implementation that wrote in place).
 */
async function writeStarted(dir: string, target: string, ino: number, size: number, gone: () => boolean): Promise<void> {
  for (;;) {
    if (gone() || readdirSync(dir).length > 1) return;
    const now = statSync(target);
    if (now.ino !== ino || now.size !== size) return;
    await Bun.sleep(1);
  }
}

function classify(bytes: Buffer, size: number): "old" | "new" | "mixed" {
  if (bytes.equals(OLD)) return "old";
  if (bytes.equals(expected.get(size)!)) return "new";
  return "mixed";
}

/** A temporary file the kill left behind: hidden, named after the target, never the target. */
const TEMPORARY = /^\.target\.txt\.opentoe-[0-9a-f]{16}\.tmp$/;

describe("CreateFile killed while writing", () => {
  test("a kill as soon as the write begins leaves the old content and a hidden leftover", async () => {
    const result = await writeAndKill(BIG, { afterWriteStarts: 0 });
    expect(result.finished).toBe(false);
    expect(result.outcome).toBe("old");
    expect(result.leftovers).toHaveLength(1);
    expect(result.leftovers[0]).toMatch(TEMPORARY);
  }, 20_000);

  test.each([20, 80, 200, 1000])("a kill %d ms into a 200 MB write leaves the old or the new content, whole", async (ms) => {
    const result = await writeAndKill(BIG, { afterWriteStarts: ms });
    expect(result.outcome).not.toBe("mixed");
    for (const name of result.leftovers) expect(name).toMatch(TEMPORARY);
    if (result.outcome === "new") expect(result.leftovers).toEqual([]);
  }, 20_000);

  test.each([10, 40])("a kill %d ms into a 50 MB write leaves the old or the new content, whole", async (ms) => {
    const result = await writeAndKill(SMALL, { afterWriteStarts: ms });
    expect(result.outcome).not.toBe("mixed");
    for (const name of result.leftovers) expect(name).toMatch(TEMPORARY);
  }, 20_000);

  test("left alone, the same child replaces the content completely and leaves nothing else", async () => {
    const result = await writeAndKill(SMALL, { never: true });
    expect(result.finished).toBe(true);
    expect(result.outcome).toBe("new");
    expect(result.leftovers).toEqual([]);
  }, 20_000);
});

test("the sizes are what the brief asks for", () => {
  expect(expected.get(BIG)!.length).toBe(BIG);
  expect(statSync(script).isFile()).toBe(true);
});
