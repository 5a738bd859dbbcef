/**
 * AWS's AWSTOE sample kit (../shared/kit: awstoe-local.sh and its cookbook, test material, never
 * copied into the project) run unchanged with opentoe's compiled binary as its `awstoe`: the
 * binary is put where the script keeps its downloaded copy (so nothing is downloaded) and
 * AWSTOE_IN_CONTAINER=1 lets `run` go without Docker.
 *
 * Cookbook documents run here: conditional-install (with a stand-in `unzip` first on PATH, so
 * `binaryExists: unzip` holds and neither install step can touch this machine's packages),
 * tolerated-failure (with a stand-in `rpm` that reports htop missing, so the ignored failure
 * the kit describes happens on any machine), secrets-at-build-time (a local Parameter Store on
 * 127.0.0.1 holds the SecureString), web-download-verified (an artifact served on 127.0.0.1; and
 * once without parameters, which the kit says render as empty strings). Left out:
 * foreach-install (dnf installs packages), reboot-and-resume (asks for a reboot). All are validated.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isolatedAwsEnv } from "../helpers/aws-env.ts";
import { awstoeBinary } from "../helpers/binary.ts";
import { describeWithShared } from "../helpers/corpus.ts";
import { parameterStoreEnv, startLocalParameterStore, type LocalParameterStore } from "../helpers/ssm-server.ts";

const SECRET = "KITMARK-build-secret-93e1";
const ARTIFACT = "an artifact served on 127.0.0.1\n";
const ARTIFACT_SHA256 = new Bun.CryptoHasher("sha256").update(ARTIFACT).digest("hex");

describeWithShared("kit", "AWS's sample kit (awstoe-local.sh) with opentoe as its awstoe", (kit) => {
  let work: string;
  let store: LocalParameterStore;
  let web: ReturnType<typeof Bun.serve>;

  beforeAll(async () => {
    const binary = await awstoeBinary();
    work = mkdtempSync(join(tmpdir(), "opentoe-kit-"));
    cpSync(kit, join(work, "kit"), { recursive: true });
    for (const entry of readdirSync(join(work, "kit"), { recursive: true })) chmodSync(join(work, "kit", String(entry)), 0o755);
    // Where the script keeps the copy it downloaded: with an executable there, it downloads nothing.
    mkdirSync(join(work, "cache", "awstoe-local"), { recursive: true });
    copyFileSync(binary, join(work, "cache", "awstoe-local", "awstoe"));
    chmodSync(join(work, "cache", "awstoe-local", "awstoe"), 0o755);
    // Stand-ins for the two programs whose real answer depends on this machine's packages.
    mkdirSync(join(work, "bin"));
    writeFileSync(join(work, "bin", "unzip"), "#!/bin/sh\necho 'UnZip 6.00 (stand-in for the kit test)'\n", { mode: 0o755 });
    writeFileSync(join(work, "bin", "rpm"), "#!/bin/sh\necho \"package $2 is not installed\"\nexit 1\n", { mode: 0o755 });
    store = await startLocalParameterStore({ parameters: { "/cookbook/build-secret": { type: "SecureString", value: SECRET } } });
    web = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(ARTIFACT) });
  }, 120_000);
  afterAll(() => {
    store?.close();
    web?.stop(true);
    rmSync("/tmp/downloaded-artifact", { force: true }); // the path web-download-verified writes
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function kitScript(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = isolatedAwsEnv(work, { ...parameterStoreEnv(store), XDG_CACHE_HOME: join(work, "cache"), AWSTOE_IN_CONTAINER: "1", PATH: `${join(work, "bin")}:${process.env.PATH}` });
    const proc = Bun.spawn(["bash", join(work, "kit", "awstoe-local.sh"), ...args], { cwd: join(work, "kit"), env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr };
  }
  const cookbook = () => readdirSync(join(work, "kit", "cookbook")).filter((n) => n.endsWith(".yml")).map((n) => `cookbook/${n}`).sort();
  const executed = (stdout: string) => Number(/"executedStepCount": (\d+)/.exec(stdout)?.[1]);
  const status = (stdout: string) => /"status": "([^"]+)"/.exec(stdout)?.[1];

  test("validate of every cookbook document, and with --os-platforms linux", async () => {
    expect(cookbook()).toHaveLength(6);
    for (const extra of [[], ["--os-platforms", "linux"]]) {
      const result = await kitScript(["validate", ...extra, ...cookbook()]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('"validationStatus": "success"');
      expect(result.stderr).toContain("opentoe"); // the script printed the binary's --version: ours, not a download
    }
  }, 60_000);

  test("conditional-install: both install steps skipped, the validate phase passes", async () => {
    const result = await kitScript(["run", "cookbook/conditional-install.yml"]);
    expect(result.code, result.stderr).toBe(0);
    expect(status(result.stdout)).toBe("success");
    expect(executed(result.stdout)).toBe(1);
    expect(result.stdout).toContain('"skippedStepCount": 2');
  }, 60_000);

  test("tolerated-failure: the ignored failure, and the document succeeds", async () => {
    const result = await kitScript(["run", "cookbook/tolerated-failure.yml"]);
    expect(result.code, result.stderr).toBe(0);
    expect(status(result.stdout)).toBe("successWithIgnoredFailure");
    expect(result.stdout).toContain('"ignoredFailedStepCount": 1');
  }, 60_000);

  test("secrets-at-build-time: resolve() reads the SecureString, and it is nowhere in the logs", async () => {
    const result = await kitScript(["run", "cookbook/secrets-at-build-time.yml", "--phases", "build"]);
    expect(result.code, result.stderr).toBe(0);
    expect(executed(result.stdout)).toBe(1);
    expect(store.calls.some((c) => c.name === "/cookbook/build-secret" && c.withDecryption === true)).toBe(true);
    const logs = join(work, "kit", "awstoe-logs");
    const files = readdirSync(logs, { recursive: true }).map(String).filter((entry) => statSync(join(logs, entry)).isFile());
    expect(files.some((f) => f.endsWith("console.log"))).toBe(true);
    for (const file of files) expect(`${file}: ${readFileSync(join(logs, file), "utf8").includes(SECRET)}`).toBe(`${file}: false`);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  }, 60_000);

  test("web-download-verified: with its parameters it downloads and checks; without them they are empty strings, said before the step fails", async () => {
    const ok = await kitScript(["run", "cookbook/web-download-verified.yml", "--parameters", `source=http://127.0.0.1:${web.port}/artifact,sha256=${ARTIFACT_SHA256}`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(executed(ok.stdout)).toBe(2);
    expect(readFileSync("/tmp/downloaded-artifact", "utf8")).toBe(ARTIFACT);
    rmSync("/tmp/downloaded-artifact", { force: true });

    const bare = await kitScript(["run", "cookbook/web-download-verified.yml"]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain("parameter 'source' has no value, so it is an empty string in build/FetchVerified");
    expect(bare.stderr).toContain("parameter 'sha256' has no value, so it is an empty string in build/FetchVerified");
    // The kit's own failure help: the console tail and where the record is.
    expect(bare.stderr).toContain("--- console.log (tail) ---");
    expect(bare.stderr).toMatch(/details: .*detailedoutput\.json/);
  }, 60_000);

  test("a phase no document has: opentoe refuses it (exit 2, did-you-mean) before the kit's own 0-steps guard is needed", async () => {
    // The kit's README expects AWSTOE to report success with 0 steps and guards against it; opentoe
    // says what is wrong instead, and the kit passes the exit code on.
    const result = await kitScript(["run", "cookbook/tolerated-failure.yml", "--phases", "biuld"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--phases names a phase no document has: 'biuld' — did you mean 'build'?");
  }, 60_000);
});
