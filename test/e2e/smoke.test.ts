/**
 * @module test/e2e/smoke.test: one small suite run against every build of awstoe that can run on
 * this machine — the release acceptance check of the build matrix (scripts/build.ts TARGETS and
 * scripts/build-node.ts):
 *
 *   linux-x64    natively (the host binary, test/helpers/binary.ts)
 *   linux-arm64  under qemu-user: `qemu-aarch64 -L /usr/aarch64-linux-gnu` (TOOLCHAIN.md §4)
 *   windows-x64  under Wine 8 with the stub bcryptprimitives.dll (test/helpers/wine.ts)
 *   node         dist/awstoe-node.cjs under the `node` on PATH
 *
 * Each row: `--version` names the package version and a git commit; a good document validates
 * (exit 0); a bad one fails (exit 1) naming file:line:col; a small document runs, writing its log
 * folder with detailedoutput.json status "success". The darwin targets cannot run here: they are
 * built and checked for a Mach-O header of the right CPU and the embedded version line. A row
 * whose runner is not installed is skipped with the reason
 * (scripts/ci-deps.sh installs qemu and Wine). Under qemu each call costs 1.5-3 s, so every row
 * makes exactly four calls.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { buildNodeBundle, NODE_BUNDLE, nodeBundleStaleReason } from "../../scripts/build-node.ts";
import { buildTargetInChild, executableFormat, expectedFormat, gitCommit, outputPath, staleReason, TARGETS } from "../../scripts/build.ts";
import { awstoeBinary, freshBinary } from "../helpers/binary.ts";
import { fromWinePath, missingWineTools, runUnderWine, stopWine, toWinePath, windowsBinary } from "../helpers/wine.ts";

/** The aarch64 sysroot of Debian's libc6-arm64-cross: the arm64 binary is linked against glibc. */
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface Row {
  /** The scripts/build.ts TARGETS row it checks, or "node" for the CommonJS bundle. */
  target: string;
  name: string;
  /** Why the row cannot run here, or undefined. */
  skip: string | undefined;
  /** Builds what the row runs when missing or stale; can take a while (a cross build, a Wine prefix). */
  prepare(): Promise<void>;
  run(args: readonly string[], cwd: string): Run;
  /** A Linux path as the program under test names it. */
  toProgram(path: string): string;
  /** A path the program printed, back to Linux. */
  fromProgram(path: string): string;
  finish(): void;
}

/** Runs a command to completion with the test environment (NO_COLOR=1, reboots disabled). */
function spawnRun(argv: readonly string[], cwd: string): Run {
  const run = Bun.spawnSync([...argv], { cwd, env: process.env, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 60_000, killSignal: "SIGKILL" });
  if (run.exitedDueToTimeout === true) throw new Error(`${argv.join(" ")} ran for over 60 s and was killed`);
  return { code: run.exitCode ?? -1, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

const sameLinuxPath = (path: string) => path;

function hostRow(): Row {
  let binary = "";
  return {
    target: "linux-x64",
    name: "linux-x64, native",
    skip: process.platform === "linux" && process.arch === "x64" ? undefined : `the host is ${process.platform}-${process.arch}, not linux-x64`,
    prepare: async () => {
      binary = await awstoeBinary();
    },
    run: (args, cwd) => spawnRun([binary, ...args], cwd),
    toProgram: sameLinuxPath,
    fromProgram: sameLinuxPath,
    finish: () => {},
  };
}

function arm64Row(): Row {
  const target = TARGETS.find((t) => t.name === "linux-arm64");
  const missing = [
    ...(Bun.which("qemu-aarch64") === null ? ["qemu-aarch64 (qemu-user)"] : []),
    ...(existsSync(join(ARM64_SYSROOT, "lib/ld-linux-aarch64.so.1")) ? [] : [`${ARM64_SYSROOT} (libc6-arm64-cross)`]),
  ];
  let binary = "";
  return {
    target: "linux-arm64",
    name: "linux-arm64, qemu-user",
    skip:
      target === undefined
        ? "scripts/build.ts has no linux-arm64 target"
        : process.platform !== "linux" || process.arch !== "x64"
          ? `runs only on a linux-x64 host (this is ${process.platform}-${process.arch})`
          : missing.length > 0
            ? `linux-arm64 smoke skipped: ${missing.join(", ")} not installed (run scripts/ci-deps.sh as root)`
            : undefined,
    prepare: async () => {
      binary = await freshBinary(outputPath(target!), () => buildTargetInChild("linux-arm64"));
    },
    run: (args, cwd) => spawnRun(["qemu-aarch64", "-L", ARM64_SYSROOT, binary, ...args], cwd),
    toProgram: sameLinuxPath,
    fromProgram: sameLinuxPath,
    finish: () => {},
  };
}

function windowsRow(): Row {
  const missing = missingWineTools();
  return {
    target: "windows-x64",
    name: "windows-x64, Wine",
    skip: missing.length > 0 ? `windows-x64 smoke skipped: ${missing.join(", ")} not installed (run scripts/ci-deps.sh as root)` : undefined,
    prepare: async () => {
      await windowsBinary();
    },
    run: (args, cwd) => {
      const run = runUnderWine(args, { cwd });
      if (run.timedOut) throw new Error(`awstoe-windows-x64.exe ${args.join(" ")} ran for over 60 s under Wine and was killed`);
      return { code: run.exitCode, stdout: run.stdout, stderr: run.stderr };
    },
    toProgram: toWinePath,
    fromProgram: fromWinePath,
    finish: stopWine,
  };
}

function nodeRow(): Row {
  return {
    target: "node",
    name: "node, dist/awstoe-node.cjs",
    skip: Bun.which("node") === null ? "node bundle smoke skipped: no `node` on PATH" : undefined,
    prepare: async () => {
      const reason = nodeBundleStaleReason();
      if (reason === undefined) return;
      process.stderr.write(`[e2e] building ${NODE_BUNDLE} (${reason})…\n`);
      await buildNodeBundle();
    },
    run: (args, cwd) => spawnRun(["node", NODE_BUNDLE, ...args], cwd),
    toProgram: sameLinuxPath,
    fromProgram: sameLinuxPath,
    finish: () => {},
  };
}

const ROWS: Row[] = [hostRow(), arm64Row(), windowsRow(), nodeRow()];

// Valid on every platform: only modules that exist on Linux and Windows alike. It writes a file,
// reads it back through chaining and asserts on it, so "success" means the steps did real work.
const RUN_DOC = `name: SmokeRun
description: Writes a file, reads it back and checks what came back.
schemaVersion: 1.0
parameters:
  - target:
      type: string
      description: The file to write.
phases:
  - name: build
    steps:
      - name: Write
        action: CreateFile
        inputs:
          - path: '{{ target }}'
            content: smoke-ok
      - name: Read
        action: ReadFile
        inputs:
          - path: '{{ target }}'
  - name: validate
    steps:
      - name: Check
        action: Assert
        inputs:
          stringEquals: smoke-ok
          value: '{{ build.Read.outputs.content }}'
`;

// Line 7, column 17 is the misspelt action name.
const BAD_DOC = `name: SmokeBad
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Write
        action: CreateFlie
        inputs:
          - path: smoke.txt
`;

interface Detailed {
  status: string;
  documents: { status: string; phases: { name: string; steps: { name: string; status: string }[] }[] }[];
}

/** The run summary: the last JSON object on stdout (cli.md §7.4). */
function summaryOf(stdout: string): { status: string; logUrl: string } {
  const start = stdout.lastIndexOf("\n{");
  return JSON.parse(stdout.slice(start + 1)) as { status: string; logUrl: string };
}

/** No crash output: a stack frame, an internal error or Bun's virtual file system path. */
function expectNoCrash(run: Run): void {
  const all = `${run.stdout}\n${run.stderr}`;
  expect(all).not.toMatch(/internal error/i);
  expect(all).not.toMatch(/^\s*at .*:\d+(:\d+)?\)?$/m);
  expect(all).not.toContain("$bunfs");
}

let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "opentoe-smoke-"));
});

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

for (const row of ROWS) {
  if (row.skip !== undefined) console.warn(row.skip);

  describe.skipIf(row.skip !== undefined)(`smoke: ${row.name}`, () => {
    let dir: string;
    let good: string;
    let bad: string;

    beforeAll(async () => {
      dir = join(scratch, row.name.replace(/[^a-z0-9]+/gi, "-"));
      mkdirSync(dir);
      good = join(dir, "smoke-run.yaml");
      bad = join(dir, "smoke-bad.yaml");
      writeFileSync(good, RUN_DOC);
      writeFileSync(bad, BAD_DOC);
      await row.prepare();
    }, 180_000);

    afterAll(() => row.finish());

    test("--version prints the package version and the commit it was built from", () => {
      const run = row.run(["--version"], dir);
      expect(run.code).toBe(0);
      // A hex commit, not "dev" (the define was lost) nor "unknown" (built outside git).
      expect(run.stdout.trim()).toMatch(new RegExp(`^awstoe ${packageJson.version.replace(/\./g, "\\.")} \\(opentoe, commit [0-9a-f]{7,40}\\)$`));
    });

    test("validate: a good document exits 0", () => {
      const run = row.run(["validate", "--documents", row.toProgram(good)], dir);
      expectNoCrash(run);
      expect(run.stderr).toContain("valid");
      expect(run.code).toBe(0);
    });

    test("validate: a bad document exits 1 naming file:line:col", () => {
      const run = row.run(["validate", "--documents", row.toProgram(bad)], dir);
      expectNoCrash(run);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${row.toProgram(bad)}:7:17:`);
      expect(run.stderr).toContain("CreateFlie");
    });

    test("run: a small document succeeds and writes its log folder", () => {
      const logs = join(dir, "logs");
      const written = join(dir, "written.txt");
      const run = row.run(["run", "--documents", row.toProgram(good), "--parameters", `target=${row.toProgram(written)}`, "--log-directory", row.toProgram(logs)], dir);
      expectNoCrash(run);
      expect(run.code).toBe(0);
      const summary = summaryOf(run.stdout);
      expect(summary.status).toBe("success");
      const folder = row.fromProgram(summary.logUrl);
      expect(readdirSync(logs)).toEqual([folder.slice(logs.length + 1)]);
      expect(folder.slice(logs.length + 1)).toMatch(/^TOE_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_UTC-0_/);
      const detailed = JSON.parse(readFileSync(join(folder, "detailedoutput.json"), "utf8")) as Detailed;
      expect(detailed.status).toBe("success");
      const steps = detailed.documents[0]!.phases.flatMap((p) => p.steps.map((s) => `${p.name}/${s.name}:${s.status}`));
      expect(steps).toEqual(["build/Write:success", "build/Read:success", "validate/Check:success"]);
      expect(readFileSync(written, "utf8")).toBe("smoke-ok");
      for (const file of ["application.log", "console.log", "document.yaml"]) expect(existsSync(join(folder, file))).toBe(true);
    });
  });
}

/** TARGETS rows no smoke row runs: built and checked without running. */
const BUILD_ONLY = TARGETS.filter((t) => !ROWS.some((row) => row.target === t.name));

test("every build target is smoke-tested here, or is a macOS one (nothing here can run those)", () => {
  // A new linux or windows row in scripts/build.ts needs a smoke row above.
  expect(BUILD_ONLY.map((t) => t.name).filter((name) => !name.startsWith("darwin-"))).toEqual([]);
});

describe("build-only targets: compiled for the right OS and CPU, version embedded", () => {
  for (const target of BUILD_ONLY) {
    test(`${target.name}: ${target.outfile}`, async () => {
      const rebuilt = staleReason(outputPath(target)) !== undefined;
      const path = await freshBinary(outputPath(target), () => buildTargetInChild(target.name));
      expect(executableFormat(path)).toBe(expectedFormat(target.target));
      // The version line is assembled at run time from this text and the commit the build defined.
      const bytes = readFileSync(path);
      expect(bytes.indexOf("(opentoe, commit ")).toBeGreaterThan(0);
      // Built just now, so it must hold this checkout's commit (an older, still-fresh file may not).
      if (rebuilt) expect(bytes.indexOf(gitCommit())).toBeGreaterThan(0);
    }, 120_000);
  }
});
