/**
 * @module test/scripts/fleet-linux.test: the Linux scripts of examples/fleet/ run for real.
 *
 * The Run Command document's Linux step runs the way the Systems Manager agent runs it: its runCommand lines written to
 * `_script.sh` in a fresh working folder and run with `sh` (dash), the parameters in SSM_<name>
 * variables, AWS_SSM_INSTANCE_ID set — so awstoe hands reboots to "the agent" with exit 194.
 *
 * What is real: dash, curl, sha256sum, GnuPG, scripts/install.sh (carried in the step), the
 * compiled awstoe (it is the released binary here: a release tree of it is built and signed with a
 * throwaway key, as test/scripts/install.test.ts does, and served over HTTP on 127.0.0.1), and S3
 * (the local s3rver behind the SigV4-checking proxy holds the component and receives the logs).
 * The test plays the agent: where the agent would restart the instance after 194, it runs the same
 * script again in the same working folder. Nothing restarts this machine (ssm mode only exits).
 *
 * The Image Builder Linux component runs under the compiled awstoe playing Image Builder's own
 * (reboot mode disabled: it exits 194 where Image Builder's would restart the instance, and the
 * test runs it again), with the component's absolute folders moved into the test's temp folder.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { FLEET_PARAMETERS, placeholder } from "../../scripts/_fleet-parameters.ts";
import { binaryPath, isSigned, listFiles, PLATFORMS, PUBLIC_KEY } from "../../scripts/_release-layout.ts";
import { FLEET_DIR } from "../../scripts/gen-fleet.ts";
import { isolatedAwsEnv } from "../helpers/aws-env.ts";
import { awstoeBinary, spawnAwstoe } from "../helpers/binary.ts";
import { GPG, throwawayKey, type ThrowawayKey } from "../helpers/gpg.ts";
import { serveFolder, signReleaseFile, writeSums } from "../helpers/release-folder.ts";
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, startLocalS3, testClient, type LocalS3 } from "../helpers/s3-server.ts";

const packageVersion = (JSON.parse(readFileSync(join(import.meta.dir, "../../package.json"), "utf8")) as { version: string }).version;
const DASH = Bun.which("dash");
const ARCH = process.arch === "x64" ? "amd64" : process.arch === "arm64" ? "arm64" : undefined;
const runnable = GPG !== null && DASH !== null && Bun.which("curl") !== null && process.platform === "linux" && ARCH !== undefined;
if (!runnable) {
  const line = "the fleet Linux step test needs Linux on x86_64 or arm64 with dash, curl and gpg (scripts/ci-deps.sh)";
  if (process.env.CI) throw new Error(line);
  console.warn(`skipped: ${line}`);
}
const HOST = PLATFORMS.find((p) => p.os === "linux" && p.arch === ARCH)!;

const steps = (JSON.parse(readFileSync(join(FLEET_DIR, "opentoe-run-command.json"), "utf8")) as { mainSteps: { action: string; inputs: { runCommand: string[] } }[] }).mainSteps;
/** The agent joins the lines into _script.sh. */
const SCRIPT = `${steps.find((s) => s.action === "aws:runShellScript")!.inputs.runCommand.join("\n")}\n`;

let root: string;
let server: ReturnType<typeof Bun.serve>;
let base: string;
let s3: LocalS3;
let client: S3Client;
let key: ThrowawayKey;
let otherKey: ThrowawayKey;
/** Paths the release server was asked for, in order. */
const requests: string[] = [];

/** `<root>/www/<folder>/` in the release layout holding `binary` for this host, summed and signed by `signer`. */
function release(folder: string, binary: string, signer: ThrowawayKey): string {
  const dir = join(root, "www", folder);
  const path = join(dir, binaryPath(HOST));
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync(binary, path);
  writeFileSync(join(dir, PUBLIC_KEY), readFileSync(signer.publicKeyFile));
  writeSums(dir);
  for (const file of listFiles(dir)) if (isSigned(file)) signReleaseFile(dir, file, signer);
  return dir;
}
/** A component that asks for two restarts: the Reboot module, then a script exiting 194 once. */
const REBOOTING_COMPONENT = `name: fleet-reboots
schemaVersion: 1.0
parameters:
  - ledger:
      type: string
phases:
  - name: build
    steps:
      - name: First
        action: ExecuteBash
        inputs:
          commands: ['echo x >> "{{ ledger }}/First"']
      - name: Restart
        action: Reboot
        inputs:
          delaySeconds: 0
      - name: Middle
        action: ExecuteBash
        inputs:
          commands: ['echo x >> "{{ ledger }}/Middle"']
      - name: AsksOnce
        action: ExecuteBash
        inputs:
          commands:
            - 'echo x >> "{{ ledger }}/AsksOnce.started"'
            - 'if [ ! -f "{{ ledger }}/asked" ]; then touch "{{ ledger }}/asked"; exit 194; fi'
            - 'echo x >> "{{ ledger }}/AsksOnce"'
      - name: Last
        action: ExecuteBash
        inputs:
          commands: ['echo x >> "{{ ledger }}/Last"']
`;

interface Agent {
  /** The agent's working folder for this command (the same after a restart). */
  work: string;
  prefix: string;
  stateDir: string;
  ledger: string;
  values: Record<string, string>;
}

let counter = 0;
/** A new command on a new "instance": a working folder, an empty prefix, a private state folder. */
function newAgent(values: Record<string, string>): Agent {
  const dir = join(root, `instance-${++counter}`);
  mkdirSync(dir, { mode: 0o700 });
  const agent = { work: join(dir, "orchestration"), prefix: join(dir, "bin"), stateDir: join(dir, "state"), ledger: join(dir, "ledger"), values: {} };
  mkdirSync(agent.work);
  mkdirSync(agent.ledger);
  agent.values = { installDirectory: agent.prefix, stateDirectory: agent.stateDir, ...values };
  return agent;
}

/** SSM's own check before a command is sent: every value must match its parameter's allowedPattern. */
function checkedBySsm(values: Record<string, string>): Record<string, string> {
  const all: Record<string, string> = {};
  for (const p of FLEET_PARAMETERS) {
    const value = values[p.name] ?? p.default;
    if (value === undefined) throw new Error(`the test gives no value for the required parameter ${p.name}`);
    if (!new RegExp(p.allowedPattern, "u").test(value)) throw new Error(`SSM would refuse ${p.name}=${JSON.stringify(value)}`);
    all[p.name] = value;
  }
  return all;
}

interface StepRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the step as the agent does. `agentVersion` "env" exports SSM_<name> (agent 3.3.2746.0 and
 * later); "text" replaces the {{ name }} placeholders in the script text instead, as older agents do.
 */
async function runStep(agent: Agent, agentVersion: "env" | "text" = "env"): Promise<StepRun> {
  const values = checkedBySsm(agent.values);
  let script = SCRIPT;
  const ssmVariables: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (agentVersion === "env") ssmVariables[`SSM_${name}`] = value;
    else script = script.split(placeholder(name)).join(value);
  }
  writeFileSync(join(agent.work, "_script.sh"), script, { mode: 0o700 });
  const tmp = join(agent.work, "..", "tmp");
  mkdirSync(tmp, { recursive: true });
  const env = isolatedAwsEnv(root, {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: agent.work,
    TMPDIR: tmp,
    AWS_SSM_INSTANCE_ID: "i-0123456789abcdef0",
    AWSTOE_REBOOT_MODE: undefined,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
    AWS_REGION: "us-east-1",
    ...ssmVariables,
  });
  for (const name of Object.keys(env)) if (name.startsWith("SSM_") && !(name in ssmVariables)) delete env[name];
  const proc = Bun.spawn([DASH!, "_script.sh"], { cwd: agent.work, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 120_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const count = (agent: Agent, name: string) => (existsSync(join(agent.ledger, name)) ? readFileSync(join(agent.ledger, name), "utf8").split("\n").filter(Boolean).length : 0);
const binaryRequests = () => requests.filter((path) => path.endsWith(`/${binaryPath(HOST)}`)).length;

// Shared by both groups below: the signed release over HTTP and the local S3.
beforeAll(async () => {
  if (!runnable) return;
  const binary = await awstoeBinary();
  root = mkdtempSync(join(tmpdir(), "opentoe-fleet-"));
  key = throwawayKey("opentoe fleet test release key");
  otherKey = throwawayKey("someone else");
  release(packageVersion, binary, key);
  // tampered: a different program put in place after signing, SHA256SUMS rewritten to match it
  // but not signed again (so the checksum alone would pass).
  // (A small stand-in: it is never run, and signing the real binary twice costs seconds.)
  const standIn = join(root, "stand-in");
  writeFileSync(standIn, `#!/bin/sh\necho 'awstoe ${packageVersion} (stand-in)'\n`);
  const tampered = release(`tampered/${packageVersion}`, standIn, key);
  writeFileSync(join(tampered, binaryPath(HOST)), `#!/bin/sh\necho 'awstoe ${packageVersion} (evil)'\n`);
  writeSums(tampered);
  server = serveFolder(join(root, "www"), requests);
  base = `http://127.0.0.1:${server.port}`;
  s3 = await startLocalS3(["components", "logs"]);
  client = await testClient(s3);
  await client.send(new PutObjectCommand({ Bucket: "components", Key: "fleet/reboots.yaml", Body: REBOOTING_COMPONENT }));
}, 300_000);

afterAll(async () => {
  await server?.stop(true);
  await s3?.close();
  key?.dispose();
  otherKey?.dispose();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!runnable)("the Run Command document's Linux step, run as the agent runs it", () => {
  const goodValues = (agent: () => Agent | undefined) => ({
    releaseBaseUrl: base,
    version: packageVersion,
    keyFingerprint: key.fingerprint,
    component: "s3://components/fleet/reboots.yaml",
    parameters: `ledger=${agent()?.ledger ?? ""}`,
    phases: "build",
    logS3BucketName: "logs",
    logS3KeyPrefix: "fleet/",
  });

  test("two reboots: 194, 194, then 0 — installed once, every step finished once, logs in S3", async () => {
    let agent: Agent | undefined;
    agent = newAgent({});
    agent.values = { ...agent.values, ...goodValues(() => agent) };

    const first = await runStep(agent);
    expect(first.stderr).not.toContain("error:");
    expect(first.code).toBe(194);
    expect(first.stdout).toContain(`install.sh: verified linux/${ARCH}/awstoe: OpenPGP signature by key ${key.fingerprint} and SHA-256 from SHA256SUMS`);
    expect(first.stderr).toContain("handing the reboot to the Systems Manager agent: exiting with 194");
    expect(first.stdout).toContain("opentoe: awstoe asked for a reboot");
    expect(readdirSync(agent.prefix)).toEqual(["awstoe"]);
    expect(readdirSync(agent.work)).toEqual(["_script.sh"]); // the carried installer is removed again
    expect([count(agent, "First"), count(agent, "Middle")]).toEqual([1, 0]);
    const downloads = binaryRequests();

    // The agent restarts the instance and runs the same step again.
    const second = await runStep(agent);
    expect(second.code).toBe(194);
    expect(second.stdout).toContain(`opentoe: ${agent.stateDir} holds an unfinished execution: resuming it with the awstoe installed at ${agent.prefix}/awstoe`);
    expect(second.stdout).not.toContain("install.sh:");
    expect([count(agent, "First"), count(agent, "Middle"), count(agent, "AsksOnce.started"), count(agent, "AsksOnce")]).toEqual([1, 1, 1, 0]);

    const third = await runStep(agent);
    expect(third.stderr).not.toContain("error:");
    expect(third.code).toBe(0);
    expect(third.stdout).not.toContain("install.sh:");
    const summary = JSON.parse(third.stdout.slice(third.stdout.indexOf("{"))) as { status: string; executedStepCount: number; logUrl: string };
    expect(summary.status).toBe("success");
    expect(summary.executedStepCount).toBe(5);
    // Every step finished exactly once; the one that asked with 194 started twice, as it must.
    expect(["First", "Middle", "AsksOnce", "Last"].map((name) => count(agent, name))).toEqual([1, 1, 1, 1]);
    expect(count(agent, "AsksOnce.started")).toBe(2);
    expect(binaryRequests()).toBe(downloads); // nothing downloaded after the first run
    expect(summary.logUrl).toMatch(/^s3:\/\/logs\/fleet\/TOE_/);
    const uploaded = await client.send(new ListObjectsV2Command({ Bucket: "logs", Prefix: summary.logUrl.slice("s3://logs/".length) }));
    expect((uploaded.Contents ?? []).map((o) => o.Key!.split("/").at(-1))).toContain("detailedoutput.json");
    expect(readdirSync(agent.stateDir).filter((name) => name.endsWith(".state"))).toEqual([]); // journal gone: finished
  }, 300_000);

  test("an older agent (values substituted into the text): the same step works; a pinned version already there is not downloaded again", async () => {
    let agent: Agent | undefined;
    agent = newAgent({});
    agent.values = { ...agent.values, ...goodValues(() => agent), logS3BucketName: "", logS3KeyPrefix: "" };
    writeFileSync(join(agent.ledger, "asked"), ""); // AsksOnce does not ask this time
    const first = await runStep(agent, "text");
    expect(first.code).toBe(194); // the Reboot module still asks
    expect(first.stdout).toContain("install.sh: verified");
    const downloads = binaryRequests();
    expect((await runStep(agent, "text")).code).toBe(0);
    expect(["First", "Middle", "AsksOnce", "Last"].map((name) => count(agent, name))).toEqual([1, 1, 1, 1]);

    // The same command sent again later: a new execution, the installed version kept.
    const again = await runStep(agent, "text");
    expect(again.stdout).toContain(`opentoe: ${agent.prefix}/awstoe is already version ${packageVersion}: not installing it again`);
    expect(again.code).toBe(194);
    expect(binaryRequests()).toBe(downloads);
  }, 300_000);

  for (const [label, folder, fingerprint, message] of [
    ["a tampered binary (SHA256SUMS rewritten, not signed again)", "tampered", () => key.fingerprint, "SHA256SUMS.sig does not verify with the pinned key"],
    ["the wrong fingerprint", "", () => otherKey.fingerprint, "is not the pinned key"],
  ] as const) {
    test(`${label}: nothing installed, nothing run, a clear error and a non-zero exit`, async () => {
      let agent: Agent | undefined;
      agent = newAgent({});
      agent.values = { ...agent.values, ...goodValues(() => agent), releaseBaseUrl: folder === "" ? base : `${base}/${folder}`, keyFingerprint: fingerprint() };
      const run = await runStep(agent);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(message);
      expect(run.stderr).toContain("nothing was installed");
      expect(run.stderr).toContain("opentoe: error: opentoe was not installed (install.sh exit 1; its reason is above); the component was not run");
      expect(existsSync(agent.prefix) ? readdirSync(agent.prefix) : []).toEqual([]);
      expect(readdirSync(agent.ledger)).toEqual([]);
      expect(existsSync(agent.stateDir)).toBe(false);
    }, 120_000);
  }
});

describe.skipIf(!runnable)("the Image Builder Linux component, run by an outer awstoe", () => {
  /** The component with its machine folders moved under `dir`. */
  function componentIn(dir: string): string {
    const text = readFileSync(join(FLEET_DIR, "opentoe-imagebuilder-linux.yaml"), "utf8");
    expect(text).toContain("/var/lib/opentoe/imagebuilder/");
    expect(text).toContain("prefix=/opt/opentoe/bin");
    const path = join(dir, "opentoe-run-linux.yaml");
    writeFileSync(path, text.split("/var/lib/opentoe/imagebuilder").join(join(dir, "imagebuilder")).split("/opt/opentoe/bin").join(join(dir, "bin")));
    return path;
  }

  test("install, nested run, two reboots through the outer awstoe, every nested step once; the test phase with no testPhases runs nothing", async () => {
    const dir = join(root, `imagebuilder-${++counter}`);
    mkdirSync(dir, { mode: 0o700 });
    const ledger = join(dir, "ledger");
    mkdirSync(ledger);
    const component = componentIn(dir);
    const parameters = [
      "component=s3://components/fleet/reboots.yaml",
      `releaseBaseUrl=${base}`,
      `keyFingerprint=${key.fingerprint}`,
      `version=${packageVersion}`,
      `componentParameters=ledger=${ledger}`,
      "phases=build",
    ].join(",");
    const env = isolatedAwsEnv(root, { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_REGION: "us-east-1", AWSTOE_REBOOT_MODE: "disabled", AWS_SSM_INSTANCE_ID: undefined });
    const outer = (phase: string) =>
      spawnAwstoe(["run", "--documents", component, "--phases", phase, "--parameters", parameters, "--log-directory", join(dir, "outer-logs")], { cwd: dir, env, timeoutMs: 120_000 });
    const ledgerCount = (name: string) => (existsSync(join(ledger, name)) ? readFileSync(join(ledger, name), "utf8").split("\n").filter(Boolean).length : 0);

    const first = await outer("build");
    expect(first.code).toBe(194);
    expect(first.stderr).toContain(`install.sh: verified linux/${ARCH}/awstoe`);
    expect(readdirSync(join(dir, "bin"))).toEqual(["awstoe"]);
    expect(readFileSync(join(dir, "imagebuilder", "values", "build", "component"), "utf8").trim()).toBe("s3://components/fleet/reboots.yaml");
    const downloads = binaryRequests();
    const second = await outer("build");
    expect(second.code).toBe(194);
    expect(second.stderr + second.stdout).toContain("holds an unfinished execution: resuming it");
    const third = await outer("build");
    expect(third.stderr).not.toContain("error:");
    expect(third.code).toBe(0);
    expect(["First", "Middle", "AsksOnce", "Last"].map(ledgerCount)).toEqual([1, 1, 1, 1]);
    expect(ledgerCount("AsksOnce.started")).toBe(2);
    expect(binaryRequests()).toBe(downloads);

    const testPhase = await outer("test");
    expect(testPhase.code).toBe(0);
    expect(testPhase.stderr + testPhase.stdout).toContain("testPhases is empty: nothing to run on the test instance");
  }, 300_000);
});
