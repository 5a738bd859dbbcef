/**
 * The hardening issue's acceptance suite, part 1: the compiled awstoe runs as root while the
 * unprivileged user `nobody` plays the hostile local user — preparing folders, planting symlinks at
 * names awstoe will use, forging the resume journal, reading what root left behind, racing a
 * second run. Each case started from a reproduction of the adversarial review (repros 01, 06, 12).
 *
 * Needs root (awstoe runs as root; `setpriv` acts as nobody): skipped otherwise, saying so; with CI
 * set, not being root is a failure. POSIX only.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join, relative } from "node:path";
import { asNobody, binaryUnderTest, filesBelow, linesOf, logFolders, NOBODY, readIfExists, readRecord, run, scratchRoot, sq, start, summaryOf, waitFor, writeDocument, type Outcome } from "../helpers/hardening.ts";

const isRoot = process.getuid?.() === 0;
if (!isRoot) {
  if (process.env.CI) throw new Error("hostile-user.test.ts must run as root in CI");
  console.warn("skipped: hostile-user tests need root (awstoe as root, setpriv to act as nobody)");
}
const scratch = scratchRoot("hostile");
let binary: string;
beforeAll(async () => {
  binary = await binaryUnderTest();
}, 300_000);
afterAll(() => scratch.remove());

const STEP_TIMEOUT = 60_000;

/** `awstoe run --documents <doc> --log-directory <logs> …` in `dir`. */
const awstoe = (dir: string, doc: string, logs: string, extra: string[] = [], env: Record<string, string | undefined> = {}) =>
  run(binary, ["run", "--documents", doc, "--log-directory", logs, ...extra], { cwd: dir, env, timeoutMs: 60_000 });

function expectNoCrash(result: Outcome): void {
  expect(result.stderr).not.toContain("    at ");
  expect(result.stderr.toLowerCase()).not.toContain("internal error");
}

/** A root-owned 0600 file an attacker would love to overwrite. */
function victimFile(dir: string): { path: string; unchanged(): boolean } {
  const path = join(dir, "victim");
  const text = "precious root-owned content\n";
  writeFileSync(path, text);
  chmodSync(path, 0o600);
  return { path, unchanged: () => lstatSync(path).isFile() && readFileSync(path, "utf8") === text && (statSync(path).mode & 0o777) === 0o600 };
}

/** A folder anyone may add to, like /tmp: root-owned, 1777. */
function sharedFolder(dir: string, name = "shared"): string {
  const path = join(dir, name);
  mkdirSync(path);
  chmodSync(path, 0o1777);
  return path;
}

/** The next process ids the kernel hands out are above this one. */
function lastPid(): number {
  return Number(readFileSync("/proc/sys/kernel/ns_last_pid", "utf8").trim());
}

const ECHO_LEDGER = (ledger: string, word: string) => `echo ${word} >> ${sq(ledger)}`;

describe.skipIf(!isRoot)("nobody prepares the state folder", () => {
  test("(a) a nobody-made 0777 TOE_state full of symlinks at guessable temp names: refused, the victim untouched, nothing written", async () => {
    const dir = scratch.newDir("pre-made-state");
    const shared = sharedFolder(dir);
    const victim = victimFile(dir);
    const ledger = join(dir, "ledger");
    const doc = writeDocument(dir, "doc.yaml", [{ name: "s", commands: [ECHO_LEDGER(ledger, "ran")] }]);
    // Links at the names the journal and the record used to be written through, for the process
    // ids the kernel is about to hand out (the old names were `<file>.<pid>.tmp`).
    // perl (part of every Debian/Ubuntu base system) makes them all in one process, so the spray
    // does not use up the very process ids it covers.
    const from = lastPid() + 1;
    const to = from + 3000;
    const spray = asNobody(
      `set -e; mkdir ${sq(join(shared, "TOE_state"))}; chmod 777 ${sq(join(shared, "TOE_state"))}; cd ${sq(join(shared, "TOE_state"))}
       exec perl -e 'for my $i (${from}..${to}) { for my $n ("opentoe-execution.state", "detailedoutput.json", "chaining.json") { symlink($ARGV[0], "$n.$i.tmp") or die "$!" } }' ${sq(victim.path)}`,
    );
    expect(spray.code, spray.stderr).toBe(0);
    const before = readdirSync(join(shared, "TOE_state")).sort();

    const result = await awstoe(dir, doc, shared);
    expect(victim.unchanged()).toBe(true);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`refusing the state folder '${join(shared, "TOE_state")}'`);
    expect(result.stderr).toContain("belongs to user id 65534");
    expectNoCrash(result);
    expect(result.stdout).toBe("");
    expect(victim.unchanged()).toBe(true);
    expect(existsSync(ledger)).toBe(false); // nothing ran
    expect(readdirSync(shared)).toEqual(["TOE_state"]); // no log folder either
    expect(readdirSync(join(shared, "TOE_state")).sort()).toEqual(before);
    expect(lstatSync(join(shared, "TOE_state")).uid).toBe(NOBODY);
  }, STEP_TIMEOUT);

  test("(b) a log directory inside a folder nobody owns: the state folder is refused before anything is made", async () => {
    const dir = scratch.newDir("nobody-parent");
    const theirs = join(dir, "theirs");
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, NOBODY, NOBODY);
    const ledger = join(dir, "ledger");
    const doc = writeDocument(dir, "doc.yaml", [{ name: "s", commands: [ECHO_LEDGER(ledger, "ran")] }]);
    const result = await awstoe(dir, doc, join(theirs, "logs"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`refusing the state folder '${join(theirs, "logs", "TOE_state")}'`);
    expect(result.stderr).toContain(`'${theirs}' belongs to user id 65534`);
    expectNoCrash(result);
    expect(existsSync(ledger)).toBe(false);
    expect(readdirSync(theirs)).toEqual([]);
    // The same with --state-directory naming a folder below theirs, and the logs somewhere safe.
    const second = await awstoe(dir, doc, join(dir, "logs"), ["--state-directory", join(theirs, "state")]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`refusing the state folder '${join(theirs, "state")}'`);
    expect(existsSync(ledger)).toBe(false);
    expect(readdirSync(theirs)).toEqual([]);
  }, STEP_TIMEOUT);

  test("(b2) a symlink on the way to the state folder: its owner counts, and so does the folder it leads to", async () => {
    const dir = scratch.newDir("symlinked-parent");
    const ledger = join(dir, "ledger");
    const doc = writeDocument(dir, "doc.yaml", [{ name: "s", commands: [ECHO_LEDGER(ledger, "ran")] }]);
    // nobody's link (in a sticky shared folder) pointing at a safe root folder
    const shared = sharedFolder(dir);
    const safe = join(dir, "safe");
    mkdirSync(safe, { mode: 0o755 });
    expect(asNobody(`ln -s ${sq(safe)} ${sq(join(shared, "link"))}`).code).toBe(0);
    const viaTheirLink = await awstoe(dir, doc, join(dir, "logs"), ["--state-directory", join(shared, "link", "state")]);
    expect(viaTheirLink.code).toBe(1);
    expect(viaTheirLink.stderr).toContain(`refusing the state folder '${join(shared, "link", "state")}'`);
    expect(viaTheirLink.stderr).toContain(`'${join(shared, "link")}' belongs to user id 65534`);
    // root's link pointing at a folder anyone may change
    const open = join(dir, "open");
    mkdirSync(open);
    chmodSync(open, 0o777);
    const link = join(dir, "root-link");
    symlinkSync(open, link);
    const viaRootLink = await awstoe(dir, doc, join(dir, "logs"), ["--state-directory", join(link, "state")]);
    expect(viaRootLink.code).toBe(1);
    expect(viaRootLink.stderr).toContain(`refusing the state folder '${join(link, "state")}'`);
    expect(viaRootLink.stderr).toContain(`'${open}' can be changed by other users (mode 0777)`);
    expect(existsSync(ledger)).toBe(false);
    expect(readdirSync(safe)).toEqual([]);
    expect(readdirSync(open)).toEqual([]);
  }, STEP_TIMEOUT);

  for (const mode of [0o777, 0o770, 0o757]) {
    test(`(c) a root-owned parent with mode ${mode.toString(8)} (others may write, not sticky) is refused`, async () => {
      const dir = scratch.newDir(`open-${mode.toString(8)}`);
      const open = join(dir, "open");
      mkdirSync(open);
      chmodSync(open, mode);
      const ledger = join(dir, "ledger");
      const doc = writeDocument(dir, "doc.yaml", [{ name: "s", commands: [ECHO_LEDGER(ledger, "ran")] }]);
      const result = await awstoe(dir, doc, join(open, "logs"));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`refusing the state folder '${join(open, "logs", "TOE_state")}'`);
      expect(result.stderr).toContain(`'${open}' can be changed by other users (mode 0${mode.toString(8)})`);
      expectNoCrash(result);
      expect(existsSync(ledger)).toBe(false);
      expect(readdirSync(open)).toEqual([]);
    }, STEP_TIMEOUT);
  }

  test("(c) a sticky root-owned 1777 parent is fine: the run succeeds, the state folder is 0700 while it exists and gone at the end", async () => {
    const dir = scratch.newDir("sticky-parent");
    const shared = sharedFolder(dir);
    const logs = join(shared, "logs");
    const seen = join(dir, "state-mode");
    const doc = writeDocument(dir, "doc.yaml", [{ name: "s", commands: [`stat -c %a ${sq(join(logs, "TOE_state"))} > ${sq(seen)}`] }]);
    const result = await awstoe(dir, doc, logs);
    expect(result.code, result.stderr).toBe(0);
    expect(summaryOf(result.stdout).status).toBe("success");
    expect(readIfExists(seen).trim()).toBe("700");
    expect(existsSync(join(logs, "TOE_state"))).toBe(false);
    const [folder] = logFolders(logs);
    expect(folder).toBeDefined();
    expect(statSync(join(logs, folder!)).mode & 0o777).toBe(0o700);
    for (const file of ["detailedoutput.json", "chaining.json", "document.yaml", "console.log", "application.log"]) {
      expect(`${file} ${(statSync(join(logs, folder!, file)).mode & 0o777).toString(8)}`).toBe(`${file} 600`);
    }
  }, STEP_TIMEOUT);
});

describe.skipIf(!isRoot)("the folders awstoe makes itself", () => {
  test("(c) under umask 000 the log directory awstoe creates is not writable by others, so the run is not refused", async () => {
    const dir = scratch.newDir("umask-0");
    const doc = writeDocument(dir, "doc.yaml", [{ name: "s", commands: ["echo hi"] }]);
    for (const extra of [[], ["--state-directory", join(dir, "made", "by", "awstoe", "state")]]) {
      const logs = join(dir, `logs-${extra.length}`);
      const result = await run("/bin/sh", ["-c", `umask 000; exec ${sq(binary)} run --documents doc.yaml --log-directory ${sq(logs)} ${extra.map(sq).join(" ")}`], { cwd: dir, timeoutMs: 60_000 });
      expect(result.code, result.stderr).toBe(0);
      expect(statSync(logs).mode & 0o022).toBe(0);
      if (extra.length > 0) for (const made of ["made", "made/by", "made/by/awstoe"]) expect(`${made} ${(statSync(join(dir, made)).mode & 0o022).toString(8)}`).toBe(`${made} 0`);
      const [folder] = logFolders(logs);
      expect(statSync(join(logs, folder!)).mode & 0o777).toBe(0o700);
      for (const file of filesBelow(join(logs, folder!))) expect(`${relative(logs, file)} ${(statSync(file).mode & 0o077).toString(8)}`).toBe(`${relative(logs, file)} 0`);
    }
  }, STEP_TIMEOUT);
});

describe.skipIf(!isRoot)("nobody plants links and forges state", () => {
  test("(d) symlinks at the next seconds' log folder names (fixed execution id): awstoe refuses to write through them", async () => {
    const dir = scratch.newDir("planted-log-folder");
    const shared = sharedFolder(dir);
    const loot = join(dir, "loot"); // where nobody would like root's logs (with the parameter values) to land
    mkdirSync(loot);
    chmodSync(loot, 0o777);
    chownSync(loot, NOBODY, NOBODY);
    const victim = victimFile(dir);
    const ledger = join(dir, "ledger");
    const doc = writeDocument(dir, "doc.yaml", [{ name: "s", commands: [ECHO_LEDGER(ledger, "ran")] }]);
    const stamp = (d: Date) => d.toISOString().slice(0, 19).replace("T", "_").replace(/:/g, "-");
    const now = Date.now();
    const links: string[] = [];
    for (let s = -2; s <= 40; s++) {
      const name = `TOE_${stamp(new Date(now + s * 1000))}_UTC-0_fixed`;
      // every other second a link to the loot folder, else to the root-owned victim file
      links.push(`ln -s ${sq(s % 2 === 0 ? loot : victim.path)} ${sq(join(shared, name))}`);
    }
    expect(asNobody(links.join("\n")).code).toBe(0);
    const planted = readdirSync(shared).sort();

    const result = await awstoe(dir, doc, shared, ["--execution-id", "fixed"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot create the log folder '[^']+_UTC-0_fixed': something already has that name/);
    expectNoCrash(result);
    expect(existsSync(ledger)).toBe(false);
    expect(readdirSync(loot)).toEqual([]);
    expect(victim.unchanged()).toBe(true);
    // The links are still links to where they pointed; the state folder went with the run.
    expect(readdirSync(shared).sort()).toEqual(planted);
    for (const name of planted) expect(lstatSync(join(shared, name)).isSymbolicLink()).toBe(true);
  }, STEP_TIMEOUT);

  // With the state folder elsewhere, a log directory others can change let nobody move root's
  // TOE_… folder aside mid-run and put a link to a folder of theirs at its name: the next step's
  // script was then written there (steps/<phase>/<step>.input.sh), where nobody could swap it for
  // their own before bash ran it as root.
  for (const kind of ["0777 (not sticky)", "owned by nobody"] as const) {
    test(`(d2) a log directory ${kind}, the state folder elsewhere: refused before anything runs`, async () => {
      const dir = scratch.newDir("open-log-directory");
      const logs = join(dir, "logs");
      mkdirSync(logs);
      if (kind === "owned by nobody") chownSync(logs, NOBODY, NOBODY);
      else chmodSync(logs, 0o777);
      const ledger = join(dir, "ledger");
      const doc = writeDocument(dir, "doc.yaml", [{ name: "s", commands: [ECHO_LEDGER(ledger, "ran")] }]);
      const result = await awstoe(dir, doc, logs, ["--state-directory", join(dir, "state")]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`refusing the log directory '${logs}'`);
      expectNoCrash(result);
      expect(existsSync(ledger)).toBe(false);
      expect(readdirSync(logs)).toEqual([]);
      // A log directory still to be made below it: refused before anything is made there.
      const deeper = await awstoe(dir, doc, join(logs, "deeper", "logs"), ["--state-directory", join(dir, "state")]);
      expect(deeper.code).toBe(1);
      expect(deeper.stderr).toContain(`refusing the log directory '${join(logs, "deeper", "logs")}'`);
      expect(readdirSync(logs)).toEqual([]);
      expect(existsSync(ledger)).toBe(false);
    }, STEP_TIMEOUT);
  }

  test("(e) a journal whose header names another log folder (valid checksum): the resume is refused, nothing is written there", async () => {
    const dir = scratch.newDir("forged-journal");
    const ledger = join(dir, "ledger");
    const marker = join(dir, "rebooted");
    const doc = writeDocument(dir, "doc.yaml", [
      { name: "one", commands: [ECHO_LEDGER(ledger, "one")] },
      { name: "reboot", commands: [ECHO_LEDGER(ledger, "reboot"), `if [ ! -e ${sq(marker)} ]; then touch ${sq(marker)}; exit 194; fi`] },
      { name: "three", commands: [ECHO_LEDGER(ledger, "three")] },
    ]);
    const logs = join(dir, "logs");
    const first = await awstoe(dir, doc, logs, [], { AWSTOE_REBOOT_MODE: "disabled" });
    expect(first.code, first.stderr).toBe(194);
    const journalPath = join(logs, "TOE_state", "opentoe-execution.state");
    const original = readFileSync(journalPath, "utf8");
    const [headerLine, ...rest] = original.split("\n");
    const header = JSON.parse(headerLine!.slice(0, headerLine!.lastIndexOf("\t"))) as { logFolder: string; executionId: string };
    const realFolder = header.logFolder;
    expect(realFolder).toStartWith(join(logs, "TOE_"));

    const elsewhere = join(dir, "elsewhere");
    mkdirSync(elsewhere, { mode: 0o777 });
    chmodSync(elsewhere, 0o777);
    chownSync(elsewhere, NOBODY, NOBODY);
    const sameNameElsewhere = join(elsewhere, realFolder.split("/").at(-1)!);
    for (const forged of [elsewhere, sameNameElsewhere, join(logs, `TOE_2001-01-01_00-00-00_UTC-0_someone-else`), join(dir, "not-a-log-folder")]) {
      const json = JSON.stringify({ ...header, logFolder: forged });
      const line = `${json}\t${createHash("sha256").update(json).digest("hex").slice(0, 16)}`;
      writeFileSync(journalPath, [line, ...rest].join("\n"), { mode: 0o600 });
      const resumed = await awstoe(dir, doc, logs, [], { AWSTOE_REBOOT_MODE: "disabled" });
      expect(resumed.code, `forged ${forged}: ${resumed.stderr}`).toBe(1);
      expect(resumed.stderr).toContain(`the state file names the log folder '${forged}', which is not the folder of execution ${header.executionId}`);
      expectNoCrash(resumed);
      expect(readdirSync(elsewhere)).toEqual([]);
      expect(existsSync(join(logs, "TOE_2001-01-01_00-00-00_UTC-0_someone-else"))).toBe(false);
      expect(linesOf(ledger)).toEqual(["one", "reboot"]); // nothing ran again
    }
    expect(existsSync(join(dir, "not-a-log-folder"))).toBe(false);
    // The genuine journal still resumes.
    writeFileSync(journalPath, original, { mode: 0o600 });
    const genuine = await awstoe(dir, doc, logs, [], { AWSTOE_REBOOT_MODE: "disabled" });
    expect(genuine.code, genuine.stderr).toBe(0);
    expect(linesOf(ledger)).toEqual(["one", "reboot", "reboot", "three"]);
    expect(summaryOf(genuine.stdout).logUrl).toBe(realFolder);
  }, STEP_TIMEOUT);

  test("(f) secrets: every file holding a parameter value is private, in private folders, and nobody cannot read it", async () => {
    const dir = scratch.newDir("secrets");
    const logs = join(dir, "logs");
    const doc = writeDocument(
      dir,
      "sec.yaml",
      [
        { name: "s", commands: ["echo connecting with password {{ Secret }}", "mysql -p{{ Secret }} -e 'select 1' 2>/dev/null || true"] },
        { name: "r", action: "Reboot" },
      ],
      ["Secret"],
    );
    const result = await run("/bin/sh", ["-c", `umask 022; exec ${sq(binary)} run --documents sec.yaml --log-directory logs --parameters Secret=hunter2`], { cwd: dir, env: { AWSTOE_REBOOT_MODE: "disabled" }, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(194);
    // Control: nobody can read an ordinary 0644 file here, so a refusal below is the modes' doing.
    writeFileSync(join(dir, "public.txt"), "hunter2\n", { mode: 0o644 });
    expect(asNobody(`cat ${sq(join(dir, "public.txt"))}`).stdout).toBe("hunter2\n");

    const holders = filesBelow(logs).filter((file) => readFileSync(file).includes("hunter2"));
    const names = holders.map((f) => relative(logs, f));
    expect(names).toContain("TOE_state/opentoe-execution.state");
    expect(names.some((n) => n.endsWith("/detailedoutput.json"))).toBe(true);
    expect(names.some((n) => n.endsWith("/console.log"))).toBe(true);
    for (const file of holders) {
      const where = relative(logs, file);
      expect(`${where} ${(statSync(file).mode & 0o077).toString(8)}`).toBe(`${where} 0`);
      expect(statSync(file).uid).toBe(0);
      for (let folder = join(file, ".."); folder !== logs; folder = join(folder, "..")) {
        expect(`${relative(logs, folder)}/ ${(statSync(folder).mode & 0o777).toString(8)}`).toBe(`${relative(logs, folder)}/ 700`);
      }
      const read = asNobody(`cat ${sq(file)}`);
      expect(read.code).not.toBe(0);
      expect(read.stdout).not.toContain("hunter2");
    }
    expect(asNobody(`grep -rl hunter2 ${sq(logs)} 2>/dev/null`).stdout).toBe("");
    expect(asNobody(`ls ${sq(join(logs, "TOE_state"))}`).code).not.toBe(0);
  }, STEP_TIMEOUT);
});

describe.skipIf(!isRoot)("races on one state folder", () => {
  test("(g) two runs at once on the same state folder: one runs the steps, the other is refused naming the holder's pid", async () => {
    const dir = scratch.newDir("concurrent");
    const side = join(dir, "side-effects");
    const doc = writeDocument(dir, "doc.yaml", [
      { name: "one", commands: ["echo one-$$ >> side-effects", "sleep 2"] },
      { name: "two", commands: ["echo two-$$ >> side-effects", "sleep 2"] },
    ]);
    const first = start(binary, ["run", "--documents", doc, "--log-directory", "logs"], { cwd: dir });
    try {
      await waitFor("the first run's step to start", () => readIfExists(side).includes("one-"), 20_000);
      const second = await awstoe(dir, doc, "logs");
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`another awstoe run is using the state folder '${join(dir, "logs", "TOE_state")}'`);
      expect(second.stderr).toContain(`process ${first.pid} `);
      expectNoCrash(second);
      expect(second.stdout).toBe("");
      const done = await first.finish();
      expect(done.code, done.stderr).toBe(0);
      expect(summaryOf(done.stdout).status).toBe("success");
    } finally {
      if (first.proc.exitCode === null) first.proc.kill("SIGKILL");
    }
    const lines = linesOf(side);
    expect(lines.map((l) => l.replace(/-\d+$/, ""))).toEqual(["one", "two"]);
    expect(logFolders(join(dir, "logs"))).toHaveLength(1);
    expect(existsSync(join(dir, "logs", "TOE_state"))).toBe(false);
  }, STEP_TIMEOUT);

  test("(h) a stale lock (its holder exited, or its pid now names another process) is taken over", async () => {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const exited = Bun.spawn(["true"]);
    await exited.exited;
    const initStat = readFileSync("/proc/1/stat", "utf8");
    const initStarted = Number(initStat.slice(initStat.lastIndexOf(")") + 2).split(" ")[19]);
    const holders = [
      { label: "holder exited", pid: exited.pid, started: 1 },
      { label: "pid reused (pid 1, another start time)", pid: 1, started: initStarted + 12345 },
    ];
    for (const holder of holders) {
      const dir = scratch.newDir("stale-lock");
      const state = join(dir, "logs", "TOE_state");
      mkdirSync(state, { recursive: true, mode: 0o700 });
      chmodSync(state, 0o700);
      const lock = { pid: holder.pid, boot, started: holder.started, since: "2001-01-01T00:00:00.000Z", executionId: "old", command: "awstoe run --documents doc.yaml" };
      writeFileSync(join(state, "run.lock"), `${JSON.stringify(lock)}\n`, { mode: 0o600 });
      const doc = writeDocument(dir, "doc.yaml", [{ name: "s", commands: [`cat ${sq(join(state, "run.lock"))} > lock-seen`] }]);
      const started = start(binary, ["run", "--documents", doc, "--log-directory", "logs"], { cwd: dir });
      const result = await started.finish(60_000);
      expect(result.code, `${holder.label}: ${result.stderr}`).toBe(0);
      expect(summaryOf(result.stdout).status).toBe("success");
      const seen = JSON.parse(readIfExists(join(dir, "lock-seen")) || "{}") as { pid?: number };
      expect(seen.pid, holder.label).toBe(started.pid);
      expect(existsSync(state)).toBe(false);
    }
  }, STEP_TIMEOUT);
});

/** Recording stand-ins for shutdown and systemctl, first on PATH (as test/e2e/reboot.test.ts does). */
function standIns(dir: string): { path: string; calls: () => string[] } {
  const bin = join(dir, "stand-ins");
  mkdirSync(bin, { recursive: true });
  const log = join(dir, "calls.log");
  for (const name of ["shutdown", "reboot", "systemctl", "crontab"]) {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> '${log}'\nexit 0\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return { path: `${bin}:/usr/bin:/bin`, calls: () => linesOf(log) };
}

describe.skipIf(!isRoot)("(i) standalone reboot: the boot trigger is refused when what it runs could be replaced", () => {
  const variants = [
    { label: "the awstoe program in a 0777 folder", place: (dir: string) => placeBinary(dir, 0o777, 0o755), why: "can be changed by other users (mode 0777)" },
    { label: "the awstoe program itself writable by others (0777)", place: (dir: string) => placeBinary(dir, 0o755, 0o777), why: "can be changed by other users, who could replace what awstoe runs" },
  ];
  for (const variant of variants) {
    test(variant.label, async () => {
      const dir = scratch.newDir("boot-trigger");
      const program = variant.place(dir);
      const fake = standIns(dir);
      const units = join(dir, "units");
      const ledger = join(dir, "ledger");
      const doc = writeDocument(dir, "doc.yaml", [
        { name: "before", commands: [ECHO_LEDGER(ledger, "before")] },
        { name: "restart", action: "Reboot" },
        { name: "after", commands: [ECHO_LEDGER(ledger, "after")] },
      ]);
      const result = await run(program, ["run", "--documents", doc, "--log-directory", "logs"], {
        cwd: dir,
        env: { AWSTOE_REBOOT_MODE: "standalone", AWSTOE_BOOT_TRIGGER: "systemd", AWSTOE_SYSTEMD_UNIT_DIR: units, PATH: fake.path },
        timeoutMs: 60_000,
      });
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain("cannot register a boot trigger");
      expect(result.stderr).toContain(variant.why);
      expectNoCrash(result);
      const summary = summaryOf(result.stdout);
      expect(summary.status).toBe("failed");
      expect(summary.failureMessage).toContain("step 'build/restart' asked for a reboot, and the machine cannot be restarted: cannot register a boot trigger");
      // The Reboot step's own record stays "success" (it asked for the reboot); its phase fails.
      const phase = readRecord(summary.logUrl).documents[0]!.phases[0]!;
      expect(phase.status).toBe("failed");
      expect(phase.failureMessage).toContain("cannot register a boot trigger");
      expect(phase.steps.map((s) => s.name)).toEqual(["before", "restart"]);
      expect(fake.calls()).toEqual([]); // no systemctl, no shutdown
      expect(existsSync(units) ? readdirSync(units) : []).toEqual([]);
      const state = join(dir, "logs", "TOE_state");
      expect(existsSync(join(state, "resume.sh"))).toBe(false);
      expect(existsSync(join(state, "boot-trigger.json"))).toBe(false);
      expect(linesOf(ledger)).toEqual(["before"]);
    }, STEP_TIMEOUT);
  }
});

/** The binary under test at `<dir>/bin/awstoe`, the folder and file with the given modes. */
function placeBinary(dir: string, folderMode: number, fileMode: number): string {
  const folder = join(dir, "bin");
  mkdirSync(folder);
  chmodSync(folder, folderMode);
  const program = join(folder, "awstoe");
  let linked = false;
  if (fileMode === (statSync(binary).mode & 0o7777)) {
    try {
      linkSync(binary, program); // same inode and mode: nothing about the original changes
      linked = true;
    } catch {
      // another file system: copy
    }
  }
  if (!linked) {
    copyFileSync(binary, program);
    chmodSync(program, fileMode);
  }
  expect(readlinkSafe(program)).toBeUndefined();
  return program;
}

function readlinkSafe(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
