/**
 * UpdateOS with the real apt-get and apt-mark, inside a throwaway Debian root.
 *
 * The root comes from `debootstrap --variant=minbase bookworm`, built once into .cache/ (about 45 s
 * cold with the mirror, 200 MB) and copied for each run (about 1 s). Inside the copy the test builds
 * three tiny packages at version 1.0, installs them, and serves 2.0 of each from a local file:
 * repository, so apt-get needs no network and the outcome is known: opentoe-a's 2.0 postinst
 * writes /run/reboot-required like a kernel update does on Ubuntu; opentoe-c is held before the run
 * (an administrator's hold that must survive). The module finds "apt-get" and "apt-mark" on its PATH
 * as two-line wrappers that run the real programs under chroot; the system root it reads the dpkg
 * database and the reboot marker from is the copy.
 *
 * Runs only as root with debootstrap and chroot installed (the test never installs packages on
 * this machine); OPENTOE_SKIP_DEBOOTSTRAP=1 skips it, OPENTOE_DEBIAN_MIRROR picks another mirror.
 * The tests share one root and run in order.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StepError } from "../../src/errors.ts";
import { findOnPath } from "../../src/modules/_package-managers.ts";
import { updateOS, type UpdateHost } from "../../src/modules/update-os.ts";
import { moduleContext } from "../helpers/module-context.ts";

const SEARCH_PATH = process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin";
const debootstrap = findOnPath("debootstrap", `${SEARCH_PATH}:/usr/sbin:/sbin`);
const chroot = findOnPath("chroot", `${SEARCH_PATH}:/usr/sbin:/sbin`);
/** One line saying why this file is skipped, or undefined when it can run. */
function skipReason(): string | undefined {
  if (process.env.OPENTOE_SKIP_DEBOOTSTRAP === "1") return "OPENTOE_SKIP_DEBOOTSTRAP=1";
  if (process.getuid?.() !== 0) return "not root (chroot needs it)";
  if (debootstrap === undefined || chroot === undefined) return "debootstrap is not installed (apt-get install debootstrap)";
  return undefined;
}
const skipped = skipReason();
if (skipped !== undefined) console.warn(`UpdateOS debootstrap tests skipped: ${skipped}`);
const usable = skipped === undefined;

const CACHE = join(import.meta.dir, "../../.cache/update-os-debootstrap/bookworm-minbase");
const MIRROR = process.env.OPENTOE_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";

let base = "";
let root = "";
let bin = "";

async function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([command, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

async function mustRun(command: string, args: string[]): Promise<string> {
  const result = await run(command, args);
  if (result.code !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${result.code}: ${result.stderr.slice(-1000)}`);
  return result.stdout;
}

const inRoot = (args: string[]) => mustRun(chroot!, [root, ...args]);

/** debootstrap once into .cache/, through a temporary name so an interrupted build is never used. */
async function cachedRoot(): Promise<string> {
  if (existsSync(join(CACHE, "var/lib/dpkg/status"))) return CACHE;
  const partial = `${CACHE}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    await mustRun(debootstrap!, ["--variant=minbase", "bookworm", partial, MIRROR]);
    renameSync(partial, CACHE);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return CACHE;
}

/** A binary package built by the root's own dpkg-deb: one version of `name`, with an optional postinst. */
async function buildPackage(name: string, version: string, output: string, postinst?: string): Promise<void> {
  const build = join(root, "build", `${name}-${version}`);
  mkdirSync(join(build, "DEBIAN"), { recursive: true });
  writeFileSync(
    join(build, "DEBIAN/control"),
    `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: opentoe tests <tests@example.invalid>\nDescription: UpdateOS test package\n`,
  );
  if (postinst !== undefined) {
    writeFileSync(join(build, "DEBIAN/postinst"), `#!/bin/sh\n${postinst}\n`);
    chmodSync(join(build, "DEBIAN/postinst"), 0o755);
  }
  await inRoot(["dpkg-deb", "--build", "--root-owner-group", `/build/${name}-${version}`, output]);
}

/** The Packages index of a flat repository: the fields apt needs to find and verify each .deb. */
function writePackagesIndex(repo: string): void {
  const stanzas = readdirSync(repo)
    .filter((file) => file.endsWith(".deb"))
    .sort()
    .map((file) => {
      const [name, version] = file.replace(/_all\.deb$/, "").split("_");
      const bytes = readFileSync(join(repo, file));
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      return `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: opentoe tests <tests@example.invalid>\nFilename: ./${file}\nSize: ${bytes.length}\nSHA256: ${sha256}\nDescription: UpdateOS test package\n`;
    });
  writeFileSync(join(repo, "Packages"), stanzas.join("\n"));
}

async function versions(): Promise<Record<string, string>> {
  const out = await inRoot(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", "opentoe-*"]);
  return Object.fromEntries(out.trim().split("\n").map((line) => line.split(" ") as [string, string]));
}

async function holds(): Promise<string[]> {
  return (await inRoot(["apt-mark", "showhold"])).split("\n").filter((line) => line !== "");
}

function host(): UpdateHost {
  return { searchPath: bin, systemRoot: root, userId: 0, env: process.env };
}

describe.skipIf(!usable)("UpdateOS with the real apt-get in a debootstrap root", () => {
  beforeAll(async () => {
    const cache = await cachedRoot();
    base = mkdtempSync(join(tmpdir(), "opentoe-updateos-chroot-"));
    root = join(base, "root");
    await mustRun("cp", ["-a", cache, root]);

    mkdirSync(join(root, "srv/repo"), { recursive: true });
    mkdirSync(join(root, "srv/old"), { recursive: true });
    for (const name of ["opentoe-a", "opentoe-b", "opentoe-c"]) {
      await buildPackage(name, "1.0", `/srv/old/${name}_1.0_all.deb`);
      await buildPackage(name, "2.0", `/srv/repo/${name}_2.0_all.deb`, name === "opentoe-a" ? "touch /run/reboot-required" : undefined);
    }
    writePackagesIndex(join(root, "srv/repo"));
    // Only the local repository: apt-get update and upgrade work offline and see exactly our 2.0s.
    writeFileSync(join(root, "etc/apt/sources.list"), "deb [trusted=yes] file:/srv/repo ./\n");
    rmSync(join(root, "etc/apt/sources.list.d"), { recursive: true, force: true });
    mkdirSync(join(root, "etc/apt/sources.list.d"));
    await inRoot(["dpkg", "-i", "/srv/old/opentoe-a_1.0_all.deb", "/srv/old/opentoe-b_1.0_all.deb", "/srv/old/opentoe-c_1.0_all.deb"]);
    await inRoot(["apt-mark", "hold", "opentoe-c"]);

    bin = join(base, "bin");
    mkdirSync(bin);
    for (const tool of ["apt-get", "apt-mark"]) {
      writeFileSync(join(bin, tool), `#!/bin/sh\nexec ${chroot} '${root}' /usr/bin/${tool} "$@"\n`);
      chmodSync(join(bin, tool), 0o755);
    }
  }, 240_000);

  afterAll(() => {
    if (base !== "") rmSync(base, { recursive: true, force: true });
  });

  test("the starting point: 1.0 everywhere, opentoe-c held by the administrator", async () => {
    expect(await versions()).toEqual({ "opentoe-a": "1.0", "opentoe-b": "1.0", "opentoe-c": "1.0" });
    expect(await holds()).toEqual(["opentoe-c"]);
    expect(statSync(join(root, "var/lib/dpkg/status")).isFile()).toBe(true);
  });

  test("exclude: the excluded package stays, the administrator's hold stays, the rest upgrades, reboot asked", async () => {
    const ctx = moduleContext();
    const result = await updateOS({ exclude: ["opentoe-b"] }, ctx, host());
    expect(result).toEqual({ outputs: {}, reboot: { rerunStep: false } });
    expect(await versions()).toEqual({ "opentoe-a": "2.0", "opentoe-b": "1.0", "opentoe-c": "1.0" });
    expect(await holds()).toEqual(["opentoe-c"]);
    expect(ctx.printed.join("")).toContain("Unpacking opentoe-a (2.0) over (1.0)");
  });

  test("include: only the named package, and no reboot when no marker", async () => {
    rmSync(join(root, "run/reboot-required"));
    const result = await updateOS({ include: ["opentoe-b"] }, moduleContext(), host());
    expect(result).toEqual({ outputs: {} });
    expect(await versions()).toEqual({ "opentoe-a": "2.0", "opentoe-b": "2.0", "opentoe-c": "1.0" });
    expect(await holds()).toEqual(["opentoe-c"]);
  });

  test("apt-mark refusing an unknown name half-way: the hold it did make is released", async () => {
    const run = updateOS({ exclude: ["opentoe-a", "opentoe-no-such-package"] }, moduleContext(), host());
    await expect(run).rejects.toThrow(StepError);
    await expect(run).rejects.toThrow(
      "apt-get failed: 'apt-mark hold opentoe-a opentoe-no-such-package' exited with code 100: E: Unable to locate package opentoe-no-such-package",
    );
    expect(await holds()).toEqual(["opentoe-c"]);
  });

  test("naming a package the administrator held fails with apt-get's reason, and the hold stays", async () => {
    const run = updateOS({ include: ["opentoe-c"] }, moduleContext(), host());
    await expect(run).rejects.toThrow(/^apt-get failed: 'apt-get -y .* install --only-upgrade opentoe-c' exited with code 100: .*Held packages were changed/);
    expect(await versions()).toEqual({ "opentoe-a": "2.0", "opentoe-b": "2.0", "opentoe-c": "1.0" });
    expect(await holds()).toEqual(["opentoe-c"]);
  });
});
