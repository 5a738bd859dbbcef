/**
 * Reboot and resume end to end with the compiled binary (cli.md §10).
 *
 * Nothing here restarts this machine. "disabled" and "ssm" modes exit 194 after saving the state,
 * exactly as the spec says; the standalone tests put recording stand-ins for shutdown, systemctl
 * and crontab first on PATH and point the systemd unit folder at a temp folder, then play the
 * part of the machine: they run the installed trigger's script, as the boot would.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJournal, STATE_FILE } from "../../src/state/journal.ts";
import { awstoeBinary, runAwstoe, type AwstoeRun } from "../helpers/binary.ts";

let binary: string;
const root = mkdtempSync(join(tmpdir(), "opentoe-reboot-e2e-"));
beforeAll(async () => {
  binary = await awstoeBinary();
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

let count = 0;
function newDir(label: string): string {
  const dir = join(root, `${String(++count).padStart(2, "0")}-${label}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A document of ExecuteBash steps; each logs "start"/"end" lines to ./ledger. */
function steps(dir: string, bodies: string[]): string {
  const yaml = bodies.map((body, i) =>
    [`      - name: S${i}`, "        action: ExecuteBash", "        inputs:", "          commands:", `            - echo start S${i} >> ledger`, ...body.split("\n").map((line) => `            - ${JSON.stringify(line)}`), `            - echo end S${i} >> ledger`].join("\n"),
  );
  writeFileSync(join(dir, "doc.yaml"), ["name: reboot-e2e", "schemaVersion: 1.0", "phases:", "  - name: build", "    steps:", ...yaml, ""].join("\n"));
  return "doc.yaml";
}
const REBOOT_ONCE = (marker: string) => `if [ ! -f ${marker} ]; then touch ${marker}; exit 194; fi`;
const ledger = (dir: string) => (existsSync(join(dir, "ledger")) ? readFileSync(join(dir, "ledger"), "utf8").split("\n").filter(Boolean) : []);
const run = (dir: string, env: Record<string, string | undefined> = {}, extra: string[] = []): AwstoeRun =>
  runAwstoe(["run", "--documents", "doc.yaml", "--log-directory", "logs", ...extra], { cwd: dir, env: { AWSTOE_REBOOT_MODE: "disabled", AWS_SSM_INSTANCE_ID: undefined, ...env } });
const summaryOf = (stdout: string) => JSON.parse(stdout.slice(stdout.indexOf("{"))) as { status: string; executionId: string; logUrl: string; executedStepCount: number };

describe("reboot mode disabled (and ssm): save, exit 194, resume on the next run", () => {
  test("exit 194 → run again → the step runs again from its start, finished steps do not", () => {
    const dir = newDir("exit-194");
    steps(dir, ["true", REBOOT_ONCE("r1"), "true"]);
    const first = run(dir);
    expect(first.code).toBe(194);
    expect(first.stdout).toBe(""); // no summary: the execution is not over
    expect(first.stderr).toContain("reboot mode is disabled (AWSTOE_REBOOT_MODE=disabled): exiting with 194 without restarting; run the same command again to continue");
    expect(existsSync(join(dir, "logs", "TOE_state", STATE_FILE))).toBe(true);
    const second = run(dir);
    expect(second.code).toBe(0);
    const summary = summaryOf(second.stdout);
    expect(summary.status).toBe("success");
    expect(summary.executedStepCount).toBe(3);
    expect(ledger(dir)).toEqual(["start S0", "end S0", "start S1", "start S1", "end S1", "start S2", "end S2"]);
    expect(readdirSync(join(dir, "logs"))).toEqual([summary.logUrl.split("/").at(-1)!]); // one log folder, state gone
    const console = readFileSync(join(summary.logUrl, "console.log"), "utf8");
    expect(console).toContain("build/S1: asked for a reboot (exit code 194); it runs again after the restart");
    expect(console.indexOf("asked for a reboot")).toBeLessThan(console.lastIndexOf("build/S2: success"));
  });

  test("the Reboot module: after the restart the NEXT step runs", () => {
    const dir = newDir("reboot-module");
    writeFileSync(
      join(dir, "doc.yaml"),
      ["name: reboot-module", "schemaVersion: 1.0", "phases:", "  - name: build", "    steps:",
        "      - name: Before", "        action: ExecuteBash", "        inputs:", "          commands: ['echo before >> ledger']",
        "      - name: Restart", "        action: Reboot", "        timeoutSeconds: 1", "        inputs:", "          delaySeconds: 2",
        "      - name: After", "        action: ExecuteBash", "        inputs:", "          commands: ['echo after >> ledger']", ""].join("\n"),
    );
    const first = run(dir);
    expect(first.code).toBe(194);
    expect(ledger(dir)).toEqual(["before"]);
    expect(first.ms).toBeGreaterThanOrEqual(2000); // delaySeconds waited, timeoutSeconds 1 did not apply
    const second = run(dir);
    expect(second.code).toBe(0);
    expect(ledger(dir)).toEqual(["before", "after"]);
  });

  test("under the Systems Manager agent (AWS_SSM_INSTANCE_ID) the reboot is handed over with 194", () => {
    const dir = newDir("ssm");
    steps(dir, [REBOOT_ONCE("r1")]);
    const first = run(dir, { AWSTOE_REBOOT_MODE: undefined, AWS_SSM_INSTANCE_ID: "i-0123456789abcdef0" });
    expect(first.code).toBe(194);
    expect(first.stderr).toContain("handing the reboot to the Systems Manager agent: exiting with 194");
    expect(run(dir, { AWSTOE_REBOOT_MODE: undefined, AWS_SSM_INSTANCE_ID: "i-0123456789abcdef0" }).code).toBe(0);
  });

  test("a bad AWSTOE_REBOOT_MODE is a usage error before anything runs", () => {
    const dir = newDir("bad-mode");
    steps(dir, ["true"]);
    const result = run(dir, { AWSTOE_REBOOT_MODE: "sometimes" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("AWSTOE_REBOOT_MODE is 'sometimes'");
    expect(result.stderr).toContain("ssm, standalone, disabled");
    expect(ledger(dir)).toEqual([]);
  });

  test("a corrupt or foreign state file is a clear error, never a fresh start", () => {
    const dir = newDir("foreign");
    steps(dir, [REBOOT_ONCE("r1"), "true"]);
    expect(run(dir).code).toBe(194);
    steps(dir, [REBOOT_ONCE("r1"), "echo changed"]);
    const foreign = run(dir);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain("the state directory holds the unfinished execution");
    expect(foreign.stderr).toContain("the documents, their text, the parameters or the phases differ");
    expect(foreign.stderr).not.toContain("    at ");
    const file = join(dir, "logs", "TOE_state", STATE_FILE);
    writeFileSync(file, readFileSync(file, "utf8").replace('"executionId":"', '"executionId":"x'));
    const corrupt = run(dir);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toContain(`cannot resume from the state file '${file}': its first line is damaged`);
    expect(ledger(dir)).toEqual(["start S0"]);
  });
});

/**
 * Recording stand-ins for the programs a standalone reboot uses, first on PATH: shutdown and
 * systemctl log their arguments; crontab keeps the table in a file. The real ones are never
 * reached (PATH has no sbin folder, and the stand-ins come first).
 */
function standIns(dir: string): { path: string; calls: () => string[]; crontab: string } {
  const bin = join(dir, "stand-ins");
  mkdirSync(bin, { recursive: true });
  const log = join(dir, "calls.log");
  const crontab = join(dir, "crontab.txt");
  const script = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> '${log}'\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  script("shutdown", "exit 0");
  script("systemctl", "exit 0");
  script("crontab", `case "$1" in -l) [ -f '${crontab}' ] || { echo "no crontab for root" >&2; exit 1; }; cat '${crontab}' ;; -) cat > '${crontab}' ;; esac`);
  return { path: `${bin}:/usr/bin:/bin`, calls: () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : []), crontab };
}

describe("standalone: boot trigger installed, reboot requested, the trigger's script resumes", () => {
  test("systemd unit (exit 194): run → unit + shutdown -r now → the unit's script → finished, unit gone", () => {
    const dir = newDir("systemd");
    steps(dir, ["true", REBOOT_ONCE("r1"), "true"]);
    const fake = standIns(dir);
    const env = { AWSTOE_REBOOT_MODE: "standalone", AWSTOE_BOOT_TRIGGER: "systemd", AWSTOE_SYSTEMD_UNIT_DIR: join(dir, "units"), PATH: fake.path };
    const first = run(dir, env);
    expect(first.code).toBe(194);
    expect(first.stderr).toContain("restarting the machine now");
    const [unit] = readdirSync(join(dir, "units"));
    expect(unit).toMatch(/^opentoe-resume-[0-9a-f]{8}\.service$/);
    const unitText = readFileSync(join(dir, "units", unit!), "utf8");
    const script = /^ExecStart=\/bin\/sh "?([^"\n]+)"?$/m.exec(unitText)![1]!;
    expect(fake.calls()).toEqual(["systemctl daemon-reload", `systemctl enable ${unit}`, "shutdown -r now"]);
    // The machine "boots": systemd would run the unit's command.
    const resumed = Bun.spawnSync(["/bin/sh", script], { env: { ...process.env, NO_COLOR: "1", ...env }, stdout: "pipe", stderr: "pipe" });
    expect(resumed.exitCode).toBe(0);
    expect(summaryOf(resumed.stdout.toString()).status).toBe("success");
    expect(ledger(dir)).toEqual(["start S0", "end S0", "start S1", "start S1", "end S1", "start S2", "end S2"]);
    expect(readdirSync(join(dir, "units"))).toEqual([]);
    expect(fake.calls().slice(3)).toEqual([`systemctl disable ${unit}`, "systemctl daemon-reload"]);
    expect(existsSync(join(dir, "logs", "TOE_state"))).toBe(false);
  });

  test("cron @reboot (Reboot module): other crontab lines are kept; the line goes when the run resumes", () => {
    const dir = newDir("cron");
    writeFileSync(
      join(dir, "doc.yaml"),
      ["name: cron", "schemaVersion: 1.0", "phases:", "  - name: build", "    steps:",
        "      - name: Restart", "        action: Reboot",
        "      - name: After", "        action: ExecuteBash", "        inputs:", "          commands: ['echo after >> ledger']", ""].join("\n"),
    );
    const fake = standIns(dir);
    const foreign = "# m h dom mon dow command\n15 3 * * * /usr/local/bin/backup --quiet\n";
    writeFileSync(fake.crontab, foreign);
    const env = { AWSTOE_REBOOT_MODE: "standalone", AWSTOE_BOOT_TRIGGER: "cron", PATH: fake.path };
    expect(run(dir, env, ["--execution-id", "cron-run-1"]).code).toBe(194);
    const table = readFileSync(fake.crontab, "utf8");
    expect(table.startsWith(foreign)).toBe(true);
    const line = table.slice(foreign.length);
    expect(line).toMatch(/^@reboot \/bin\/sh '[^']+\/resume\.sh' # opentoe-resume cron-run-1\n$/);
    expect(fake.calls().at(-1)).toBe("shutdown -r now");
    const resumeScript = /'([^']+)'/.exec(line)![1]!;
    expect(readFileSync(resumeScript, "utf8")).toContain("'--execution-id' 'cron-run-1' '--state-directory'");
    const resumed = Bun.spawnSync(["/bin/sh", resumeScript], { env: { ...process.env, NO_COLOR: "1", ...env }, stdout: "pipe", stderr: "pipe" });
    expect(resumed.exitCode).toBe(0);
    expect(ledger(dir)).toEqual(["after"]);
    expect(readFileSync(fake.crontab, "utf8")).toBe(foreign);
  });

  test("no shutdown or reboot program: the run fails saying so, and no trigger is left behind", () => {
    const dir = newDir("no-shutdown");
    steps(dir, [REBOOT_ONCE("r1")]);
    const bin = join(dir, "empty-bin");
    mkdirSync(bin);
    const result = run(dir, { AWSTOE_REBOOT_MODE: "standalone", AWSTOE_BOOT_TRIGGER: "systemd", AWSTOE_SYSTEMD_UNIT_DIR: join(dir, "units"), PATH: `${bin}:/usr/bin:/bin` });
    expect(result.code).toBe(1);
    expect(summaryOf(result.stdout).status).toBe("failed");
    expect(result.stderr).toContain("asked for a reboot, and the machine cannot be restarted: cannot reboot: neither shutdown nor reboot is on PATH");
    expect(existsSync(join(dir, "units")) ? readdirSync(join(dir, "units")) : []).toEqual([]);
    // Nothing to resume: the failed execution's journal is only in the --retry archive.
    expect(readdirSync(join(dir, "logs", "TOE_state"))).toEqual(["executions"]);
  });
});

describe("crash test: kill -9 at many points of a run with two reboots", () => {
  /**
   * Six steps, two of which ask for a reboot once. Each trial kills the first runs at chosen
   * moments (SIGKILL: no chance to clean up), then runs the same command again — as a restart
   * would — until the execution finishes. Checked after every kill: the state file reads back
   * whole; and after every run: no step the state had recorded as finished started again.
   */
  test("every resumed run finishes, no finished step runs twice, the state is never corrupt", async () => {
    const trials: number[][] = [];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 16; i++) trials.push([Math.floor(random() * 400), Math.floor(random() * 300)]);
    trials.push([0, 0], [5, 5], [20, 40]);
    let kills = 0;
    for (const [index, delays] of trials.entries()) {
      const dir = newDir(`crash-${index}`);
      steps(dir, ["true", "true", REBOOT_ONCE("r1"), "true", REBOOT_ONCE("r2"), "true"]);
      const state = join(dir, "logs", "TOE_state");
      let finished = false;
      for (let attempt = 0; attempt < 12 && !finished; attempt++) {
        const done = existsSync(join(state, STATE_FILE)) ? [...readJournal(state)!.steps.values()].map((e) => (e.record as { name: string }).name) : [];
        const before = ledger(dir).length;
        const delay = delays[attempt];
        const proc = Bun.spawn([binary, "run", "--documents", "doc.yaml", "--log-directory", "logs"], { cwd: dir, env: { ...process.env, NO_COLOR: "1", AWSTOE_REBOOT_MODE: "disabled" }, stdout: "pipe", stderr: "pipe" });
        const timer = delay === undefined ? undefined : setTimeout(() => proc.kill("SIGKILL"), delay);
        const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
        clearTimeout(timer);
        if (proc.signalCode === "SIGKILL") kills++;
        const started = ledger(dir).slice(before).filter((line) => line.startsWith("start ")).map((line) => line.slice(6));
        for (const name of started) expect(done, `trial ${index} attempt ${attempt}: ${name} finished before, ran again`).not.toContain(name);
        if (existsSync(join(state, STATE_FILE))) {
          const journal = readJournal(state)!; // throws if corrupt
          expect(journal.tornTail).toBe(false);
        }
        if (code === 0) {
          expect(summaryOf(stdout).status).toBe("success");
          finished = true;
        } else if (proc.signalCode !== "SIGKILL") {
          expect(code, stderr).toBe(194);
        }
      }
      expect(finished, `trial ${index} never finished`).toBe(true);
      const ends = ledger(dir).filter((line) => line.startsWith("end "));
      for (let i = 0; i < 6; i++) expect(ends).toContain(`end S${i}`);
      expect(existsSync(state)).toBe(false);
    }
    expect(kills).toBeGreaterThanOrEqual(10); // the delays really did interrupt runs
  }, 120_000);
});
