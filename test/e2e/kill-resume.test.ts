/**
 * The hardening issue's acceptance suite, part 2: awstoe itself killed in the middle of a step
 * (repro 07). The step appends `tick-<pid>-<i>` to a file once a second for 6 s.
 *
 * - kill -9 of awstoe leaves the step's process group running; running the same command again
 *   must stop that leftover group before the step starts again, so the ticks of two different
 *   step processes never interleave, and nothing of the old group survives.
 * - SIGHUP (a closed terminal) is handled like SIGTERM: the step is stopped, the record written
 *   with the step failed (interrupted), exit non-zero, and no process of the step survives.
 *
 * Each is tried a few times, at different moments of the step. POSIX only (reads /proc).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { binaryUnderTest, groupMembers, killGroupsOf, linesOf, processGone, processGroupOf, readRecord, scratchRoot, sq, start, summaryOf, waitFor, writeDocument } from "../helpers/hardening.ts";

const scratch = scratchRoot("kill-resume");
let binary: string;
beforeAll(async () => {
  binary = await binaryUnderTest();
}, 300_000);
afterAll(() => scratch.remove());

interface Tick {
  pid: number;
  i: number;
}

function ticksOf(file: string): Tick[] {
  return linesOf(file).map((line) => {
    const m = /^tick-(\d+)-(\d+)$/.exec(line);
    if (m === null) throw new Error(`unexpected line in ${file}: ${line}`);
    return { pid: Number(m[1]), i: Number(m[2]) };
  });
}

/** The pids in the order they first ticked; throws when one ticks again after another began. */
/** Runs `check`; when it throws, adds `context()` to the message. */
function explained<T>(check: () => T, context: () => string): T {
  try {
    return check();
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- the resumed run ---\n${context()}`);
  }
}

function applicationLogs(dir: string): string {
  const logs = join(dir, "logs");
  if (!existsSync(logs)) return "";
  return readdirSync(logs)
    .filter((name) => name.startsWith("TOE_"))
    .map((name) => readFileSync(join(logs, name, "application.log"), "utf8"))
    .join("\n");
}

function blocks(ticks: Tick[]): number[] {
  const order: number[] = [];
  for (const tick of ticks) {
    if (order.at(-1) === tick.pid) continue;
    if (order.includes(tick.pid)) {
      throw new Error(`two step processes ran at once: ${tick.pid} ticked again after ${order.at(-1)} had started\n${ticks.map((t) => `tick-${t.pid}-${t.i}`).join("\n")}`);
    }
    order.push(tick.pid);
  }
  return order;
}

function tickingDocument(dir: string): { doc: string; ticks: string; ledger: string } {
  const ticks = join(dir, "ticks");
  const ledger = join(dir, "ledger");
  const doc = writeDocument(dir, "doc.yaml", [
    { name: "long", commands: [`for i in 1 2 3 4 5 6; do echo tick-$$-$i >> ${sq(ticks)}; sleep 1; done`] },
    { name: "after", commands: [`echo after >> ${sq(ledger)}`] },
  ]);
  return { doc, ticks, ledger };
}

const ARGS = (doc: string) => ["run", "--documents", doc, "--log-directory", "logs"];

describe("kill -9 of awstoe mid-step, then the same command again", () => {
  // After how many ticks awstoe is killed: early in the step, in the middle, near its end.
  for (const after of [1, 2, 4]) {
    test(`killed after tick ${after}: the leftover step is stopped before the step runs again; never two at once`, async () => {
      const dir = scratch.newDir(`kill9-${after}`);
      const { doc, ticks, ledger } = tickingDocument(dir);
      const first = start(binary, ARGS(doc), { cwd: dir });
      const pids: number[] = [];
      try {
        await waitFor(`tick ${after}`, () => ticksOf(ticks).length >= after, 20_000);
        const orphan = ticksOf(ticks)[0]!.pid;
        pids.push(orphan);
        first.proc.kill("SIGKILL");
        const killed = await first.finish(10_000);
        expect(killed.signal).toBe("SIGKILL");
        // What kill -9 leaves: the step goes on without awstoe.
        const orphanAlive = !processGone(orphan);
        const pgid = processGroupOf(orphan);
        expect(orphanAlive).toBe(true);

        const resume = start(binary, ARGS(doc), { cwd: dir });
        pids.push(resume.pid);
        const result = await resume.finish(40_000);
        expect(result.timedOut).toBe(false);
        const all = ticksOf(ticks);
        // On interleaving, say what the resumed run decided (its stderr and application.log).
        const order = explained(() => blocks(all), () => `${result.stderr}\n${applicationLogs(dir)}`);
        expect(result.code, result.stderr).toBe(0);
        expect(summaryOf(result.stdout).status).toBe("success");
        if (orphanAlive && pgid !== undefined) expect(result.stderr).toContain(`stopped process group ${pgid} that step d0/build/0 had started before awstoe was killed`);
        expect(order).toHaveLength(2);
        expect(order[0]).toBe(orphan);
        const again = all.filter((t) => t.pid === order[1]).map((t) => t.i);
        expect(again).toEqual([1, 2, 3, 4, 5, 6]); // the step ran again, whole
        expect(linesOf(ledger)).toEqual(["after"]);
        // Nothing of the killed step is left.
        expect(processGone(orphan)).toBe(true);
        if (pgid !== undefined) expect(groupMembers(pgid)).toEqual([]);
        expect(existsSync(join(dir, "logs", "TOE_state"))).toBe(false);
      } finally {
        if (first.proc.exitCode === null && first.proc.signalCode === null) first.proc.kill("SIGKILL");
        killGroupsOf(ticksOf(ticks).map((t) => t.pid));
      }
    }, 90_000);
  }
});

describe("SIGHUP to awstoe mid-step", () => {
  for (const after of [1, 3]) {
    test(`after tick ${after}: the run ends by itself, the step recorded interrupted, nothing of it survives`, async () => {
      const dir = scratch.newDir(`sighup-${after}`);
      const { doc, ticks, ledger } = tickingDocument(dir);
      const first = start(binary, ARGS(doc), { cwd: dir });
      try {
        await waitFor(`tick ${after}`, () => ticksOf(ticks).length >= after, 20_000);
        const stepPid = ticksOf(ticks)[0]!.pid;
        const pgid = processGroupOf(stepPid);
        expect(pgid).toBeDefined();
        const sent = performance.now();
        first.proc.kill("SIGHUP");
        const result = await first.finish(15_000);
        const ms = performance.now() - sent;
        expect(result.signal).toBeNull(); // it exited by itself, not killed by the signal
        expect(result.timedOut).toBe(false);
        expect(result.code).toBe(129); // 128 + SIGHUP's number
        expect(ms).toBeLessThan(8_000);
        expect(result.stderr).toContain("SIGHUP");
        expect(result.stderr).not.toContain("    at ");
        const summary = summaryOf(result.stdout);
        expect(summary.status).toBe("failed");
        const steps = readRecord(summary.logUrl).documents[0]!.phases[0]!.steps;
        expect(steps.map((s) => s.name)).toEqual(["long"]); // "after" never started
        expect(steps[0]!.status).toBe("failed");
        expect(steps[0]!.failureMessage).toMatch(/interrupt/i);
        expect(linesOf(ledger)).toEqual([]);
        await waitFor(`the step's process group ${pgid} to be gone`, () => groupMembers(pgid!).length === 0, 5_000);
        const count = ticksOf(ticks).length;
        await Bun.sleep(1_500);
        expect(ticksOf(ticks).length).toBe(count); // nobody ticks any more
        expect(count).toBeLessThan(6);
      } finally {
        if (first.proc.exitCode === null && first.proc.signalCode === null) first.proc.kill("SIGKILL");
        killGroupsOf(ticksOf(ticks).map((t) => t.pid));
      }
    }, 60_000);
  }
});
