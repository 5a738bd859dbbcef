/**
 * @module test/e2e/no-dotenv.test: the compiled awstoe ignores `.env*` files and `bunfig.toml` in
 * the folder it is started from. It runs as root in arbitrary folders (an AMI bake, a component's
 * working directory); Bun's executables load both by default, which would let any file lying there
 * set awstoe's environment — inherited by every command a document runs — or preload code into it.
 *
 * The folder holds a `.env` and a `.env.local` that each set a variable, and a bunfig.toml whose
 * preload writes a marker file. A document's ExecuteBash step prints the variables, which a child
 * sees only when awstoe's own environment has them. The controls show the same folder and the same
 * checks do catch loading: `bun run src/main.ts` there, and a probe compiled with Bun's defaults,
 * both pick up the variables and run the preload. So the binary's clean result comes from
 * scripts/build.ts's compile flags, not from a probe that cannot see anything.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostTarget, REPO } from "../../scripts/build.ts";
import { awstoeBinary } from "../helpers/binary.ts";

const PROBE_DOC = `name: DotenvProbe
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: PrintEnvironment
        action: ExecuteBash
        inputs:
          commands:
            - echo "probe=\${OPENTOE_DOTENV_PROBE:-unset} local=\${OPENTOE_DOTENV_LOCAL_PROBE:-unset}"
`;

const LOADED = "probe=from-dotenv local=from-dotenv-local";
const NOT_LOADED = "probe=unset local=unset";

let scratch: string;
let projects = 0;

/** A fresh folder with the trap files and the probe document; returns its path. */
function trapFolder(): string {
  const dir = join(scratch, `project-${++projects}`);
  mkdirSync(dir);
  writeFileSync(join(dir, ".env"), "OPENTOE_DOTENV_PROBE=from-dotenv\n");
  writeFileSync(join(dir, ".env.local"), "OPENTOE_DOTENV_LOCAL_PROBE=from-dotenv-local\n");
  writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./preload.ts"]\n');
  writeFileSync(join(dir, "preload.ts"), 'require("node:fs").writeFileSync(require("node:path").join(__dirname, "preload-ran"), String(process.pid));\n');
  writeFileSync(join(dir, "probe.yaml"), PROBE_DOC);
  return dir;
}

/**
 * The environment of every run: the test's, without the probe variables and without NODE_ENV,
 * which `bun test` sets to "test" and which would make Bun skip `.env.local`.
 */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && key !== "NODE_ENV" && !key.startsWith("OPENTOE_DOTENV")) env[key] = value;
  }
  return env;
}

function runIn(dir: string, argv: readonly string[]): { code: number; output: string } {
  const run = Bun.spawnSync([...argv], { cwd: dir, env: cleanEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 60_000, killSignal: "SIGKILL" });
  return { code: run.exitCode ?? -1, output: `${run.stdout.toString()}${run.stderr.toString()}` };
}

const runProbe = (dir: string, program: readonly string[]) => runIn(dir, [...program, "run", "--documents", "probe.yaml", "--log-directory", join(dir, "logs")]);

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "opentoe-dotenv-"));
});

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe("the compiled awstoe ignores .env and bunfig.toml in its working folder", () => {
  let binary: string;

  beforeAll(async () => {
    binary = await awstoeBinary();
  });

  test("a run there sees none of the .env variables and the bunfig preload never runs", () => {
    const dir = trapFolder();
    const run = runProbe(dir, [binary]);
    expect(run.code).toBe(0);
    expect(run.output).toContain(NOT_LOADED);
    expect(run.output).not.toContain("from-dotenv");
    expect(existsSync(join(dir, "preload-ran"))).toBe(false);
  });

  test("--version and validate there do not run the preload either", () => {
    const dir = trapFolder();
    expect(runIn(dir, [binary, "--version"]).code).toBe(0);
    expect(runIn(dir, [binary, "validate", "--documents", "probe.yaml"]).code).toBe(0);
    expect(existsSync(join(dir, "preload-ran"))).toBe(false);
  });
});

describe("controls: the same folder and checks do detect loading", () => {
  test("`bun run src/main.ts` started there loads both .env files and runs the preload", () => {
    const dir = trapFolder();
    const run = runProbe(dir, [process.execPath, "run", join(REPO, "src/main.ts")]);
    expect(run.code).toBe(0);
    expect(run.output).toContain(LOADED);
    expect(readFileSync(join(dir, "preload-ran"), "utf8")).toMatch(/^\d+$/);
  });

  test("an executable compiled with Bun's default settings loads both too", async () => {
    // The counterfactual of the release binary: same bundler, host target, autoload options left
    // at their defaults. A tiny entry keeps the compile to about a second.
    const dir = trapFolder();
    const entry = join(scratch, "default-probe.ts");
    writeFileSync(entry, 'console.log(`probe=${process.env.OPENTOE_DOTENV_PROBE ?? "unset"} local=${process.env.OPENTOE_DOTENV_LOCAL_PROBE ?? "unset"}`);\n');
    const outfile = join(scratch, "default-probe");
    const result = await Bun.build({ entrypoints: [entry], compile: { target: hostTarget().target, outfile }, minify: true, bytecode: true, format: "esm", throw: false });
    expect(result.success).toBe(true);
    try {
      const run = runIn(dir, [outfile]);
      expect(run.code).toBe(0);
      expect(run.output).toContain(LOADED);
      expect(existsSync(join(dir, "preload-ran"))).toBe(true);
    } finally {
      rmSync(outfile, { force: true });
    }
  });
});
