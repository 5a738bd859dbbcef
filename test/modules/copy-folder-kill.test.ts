/**
 * CopyFolder killed mid-copy. A child bun process runs the real module (through the registry) on a
 * tree of 3,000 files / ~100 MB and is SIGKILLed at several moments, spread over the time a full
 * copy takes here (measured first). Afterwards:
 * - a new target either does not exist or is a complete, byte-identical copy (file lists, modes,
 *   links and hashes compared); anything else left is a hidden temporary sibling;
 * - a merge into an existing folder leaves every file with its old or its new content, never a
 *   prefix or a mix; extra entries are only hidden temporary files.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describeTree, put, scratch, temporaries, TEMPORARY_NAME } from "../helpers/fs-tree.ts";

const REPO = resolve(import.meta.dir, "../..");
const BUN = join(REPO, "node_modules/.bin/bun");
const FILES = 3000;
const temp = scratch("opentoe-copy-kill-");
afterAll(temp.remove);

let script = "";
let source = "";
let oldTemplate = "";
/** describeTree of the source: what a complete copy must look like. */
let complete: Record<string, string> = {};
/** Per file of the old template, its description (content hash) before a merge. */
let old: Record<string, string> = {};
/** How long an uninterrupted copy takes here, in ms from the child's "ready". */
let copyMs = 0;

const sizeOf = (i: number) => 1024 + ((i * 7919) % 65536);

/** 3,000 files in 30 folders two levels deep, 1–65 KB each (≈ 100 MB), plus a link inside. */
function buildTree(root: string): void {
  for (let i = 0; i < FILES; i++) {
    const folder = `d${i % 6}/e${Math.floor(i / 6) % 5}`;
    put(root, `${folder}/f${i}.bin`, randomBytes(sizeOf(i)));
  }
}

beforeAll(() => {
  source = join(temp.dir, "source");
  oldTemplate = join(temp.dir, "old-template");
  buildTree(source);
  mkdirSync(join(source, "links"));
  spawnSync("ln", ["-s", "../d0/e0/f0.bin", join(source, "links/first")]);
  buildTree(oldTemplate); // random bytes: every old file differs from its new one
  put(oldTemplate, "only-in-target.txt", "extra");
  complete = describeTree(source);
  old = describeTree(oldTemplate);
  script = join(temp.dir, "copy.ts");
  // The child says "ready" synchronously, just before the module starts, then runs CopyFolder
  // exactly as a step would.
  writeFileSync(
    script,
    [
      `import { writeSync } from "node:fs";`,
      `import { modules } from ${JSON.stringify(join(REPO, "src/modules/index.ts"))};`,
      `import { moduleContext } from ${JSON.stringify(join(REPO, "test/helpers/module-context.ts"))};`,
      `const [cwd, source, destination] = process.argv.slice(2);`,
      `const ctx = moduleContext({ cwd });`,
      `writeSync(1, "ready\\n");`,
      `await modules.CopyFolder.execute([{ source, destination, overwrite: true }], ctx);`,
      `writeSync(1, "done\\n");`,
    ].join("\n"),
  );
}, 30_000);

/** Runs the child copying `source` to `dir/target`; kills it `killAfter` ms after "ready" (or never). */
async function run(dir: string, killAfter?: number): Promise<{ ms: number; finished: boolean }> {
  const child = spawn(BUN, [script, dir, source, "target"], { stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  let started = 0;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  await new Promise<void>((ready) =>
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (started === 0 && stdout.includes("ready")) {
        started = performance.now();
        ready();
      }
    }),
  );
  if (killAfter !== undefined) {
    await Bun.sleep(killAfter);
    child.kill("SIGKILL");
  }
  await exited;
  return { ms: performance.now() - started, finished: stdout.includes("done") };
}

function freshFolder(name: string): string {
  const dir = join(temp.dir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  return dir;
}

describe("CopyFolder to a new target, killed", () => {
  test("left alone, the child copies the whole tree", async () => {
    const dir = freshFolder("full");
    const { ms, finished } = await run(dir);
    copyMs = ms;
    expect(finished).toBe(true);
    expect(readdirSync(dir)).toEqual(["target"]);
    expect(Object.keys(complete).length).toBe(FILES + 30 + 6 + 2);
    expect(describeTree(join(dir, "target"))).toEqual(complete);
    rmSync(dir, { recursive: true });
  }, 30_000);

  test("at every moment a kill leaves no target or the complete copy", async () => {
    const outcomes: string[] = [];
    for (const fraction of [0.05, 0.25, 0.5, 0.75, 0.95, 2.5]) {
      const dir = freshFolder(`kill-${fraction}`);
      const { finished } = await run(dir, Math.round(copyMs * fraction));
      const hasTarget = existsSync(join(dir, "target"));
      const leftovers = temporaries(dir);
      // Only the target and hidden temporary siblings named after it.
      expect(readdirSync(dir).sort()).toEqual([...leftovers, ...(hasTarget ? ["target"] : [])].sort());
      for (const name of leftovers) expect(name).toMatch(/^\.target\.opentoe-[0-9a-f]{16}\.tmp$/);
      if (hasTarget) expect(describeTree(join(dir, "target"))).toEqual(complete);
      if (finished) expect(hasTarget).toBe(true);
      outcomes.push(hasTarget ? "complete" : leftovers.length > 0 ? "absent, mid-copy" : "absent, not started");
      rmSync(dir, { recursive: true });
    }
    // The kills must have landed during the copy at least once, or the test proves nothing.
    expect(outcomes).toContain("absent, mid-copy");
    console.log(`kills during a ${Math.round(copyMs)} ms copy: ${outcomes.join(", ")}`);
  }, 60_000);
});

describe("CopyFolder merging into an existing folder, killed", () => {
  /**
   * The old target as hard links to the template: instant, and still a fair test — the module
   * replaces files by renaming new ones over them, so the template's inodes must stay untouched;
   * an implementation writing in place would change them and fail the old-or-new check.
   */
  function prepare(name: string): string {
    const dir = freshFolder(name);
    const copied = spawnSync("cp", ["-al", oldTemplate, join(dir, "target")]);
    if (copied.status !== 0) throw new Error(`cp -al failed: ${copied.stderr}`);
    return dir;
  }

  /** Each file old or new, nothing lost; returns how many were replaced. */
  function check(dir: string): number {
    const now = describeTree(join(dir, "target"));
    let replaced = 0;
    for (const [path, description] of Object.entries(now)) {
      const name = path.split("/").pop()!;
      if (TEMPORARY_NAME.test(name)) continue; // a kill's temporary file, never a final name
      if (description === complete[path] && description !== old[path]) replaced++;
      else expect([path, description]).toEqual([path, old[path]!]);
    }
    for (const path of Object.keys(old)) expect(now[path], path).toBeDefined();
    expect(now["only-in-target.txt"]).toBe(old["only-in-target.txt"]!);
    return replaced;
  }

  test("left alone, the merge replaces every file and keeps the target's own", async () => {
    const dir = prepare("merge-full");
    const { finished } = await run(dir);
    expect(finished).toBe(true);
    expect(describeTree(join(dir, "target"))).toEqual({ ...complete, "only-in-target.txt": old["only-in-target.txt"]! });
    rmSync(dir, { recursive: true });
  }, 30_000);

  test("at every moment a kill leaves each file with its old or its new content", async () => {
    // Replacing is slower than a fresh copy (a rename over an existing file makes ext4 write the
    // new data out), so moments within the fresh copy's duration all fall inside the merge.
    const counts: number[] = [];
    for (const fraction of [0.15, 0.4, 0.7, 1]) {
      const dir = prepare(`merge-kill-${fraction}`);
      const { finished } = await run(dir, Math.round(copyMs * fraction));
      const replaced = check(dir);
      if (finished) expect(replaced).toBe(FILES);
      counts.push(replaced);
      rmSync(dir, { recursive: true });
    }
    expect(describeTree(oldTemplate)).toEqual(old);
    // At least one kill must have landed mid-merge (some files replaced, not all).
    expect(counts.some((n) => n > 0 && n < FILES)).toBe(true);
    console.log(`files replaced when each merge was killed: ${counts.join(", ")} of ${FILES}`);
  }, 60_000);
});

test("the files are what the brief asks for: 3,000 files, about 100 MB", () => {
  const total = Object.entries(complete).filter(([, d]) => d.startsWith("file")).length;
  expect(total).toBe(FILES);
  let size = 0;
  for (let i = 0; i < FILES; i++) size += sizeOf(i);
  expect(size).toBeGreaterThan(90e6);
});
