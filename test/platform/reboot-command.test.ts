/**
 * rebootNow against stand-ins: `shutdown` and `reboot` are sh scripts in a temporary folder that
 * is the whole PATH, recording their argv. Every exec goes through a guard that refuses anything
 * outside that folder, so the real /usr/sbin/shutdown can never run. Root is injected through
 * TriggerEnv.uid (0 or 1000) rather than by switching users.
 */
import type { ExecRequest, ExecResult } from "../../src/model/ports.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { StepError } from "../../src/errors.ts";
import type { TriggerEnv } from "../../src/platform/boot-trigger.ts";
import { findProgram } from "../../src/platform/probe.ts";
import { runProcess } from "../../src/platform/process.ts";
import { rebootCommand, rebootNow } from "../../src/platform/reboot-command.ts";
import { execResult } from "../helpers/module-context.ts";

const posix = process.platform !== "win32";
const root = mkdtempSync(join(tmpdir(), "opentoe-reboot-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let caseNumber = 0;
/** A PATH of only the given stand-ins; each records `name arg…` to calls and exits with its code. */
function scene(standins: Record<string, { exitCode?: number; stderr?: string }>, uid = 0) {
  const dir = join(root, `case-${++caseNumber}`);
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const calls = join(dir, "calls");
  for (const [name, behaviour] of Object.entries(standins)) {
    const path = join(bin, name);
    writeFileSync(
      path,
      [
        "#!/bin/sh",
        `{ printf '%s' '${name}'; for a in "$@"; do printf ' %s' "$a"; done; printf '\\n'; } >> '${calls}'`,
        behaviour.stderr === undefined ? "" : `printf '%s\\n' '${behaviour.stderr}' >&2`,
        `exit ${behaviour.exitCode ?? 0}`,
        "",
      ].join("\n"),
    );
    chmodSync(path, 0o755);
  }
  const counter = { calls: 0 };
  const exec = async (request: ExecRequest): Promise<ExecResult> => {
    counter.calls++;
    // Safety net: only a stand-in may ever run here.
    const path = request.command.includes("/") ? request.command : findProgram(request.command, request.env ?? {}, false);
    if (path === undefined || dirname(path) !== bin) throw new Error(`test safety: refusing to run '${request.command}' (not a stand-in)`);
    return runProcess({ ...request, command: path });
  };
  const t: TriggerEnv = { platform: "linux", env: { PATH: bin }, exec, uid };
  const recorded = () => (existsSync(calls) ? readFileSync(calls, "utf8").split("\n").filter((line) => line !== "") : []);
  return { bin, t, counter, recorded };
}

describe.skipIf(!posix)("rebootNow", () => {
  test("runs `shutdown -r now` found on PATH and returns once it was accepted", async () => {
    const s = scene({ shutdown: {}, reboot: {} });
    await rebootNow(s.t);
    expect(s.recorded()).toEqual(["shutdown -r now"]);
    expect(rebootCommand(s.t)).toEqual({ command: join(s.bin, "shutdown"), args: ["-r", "now"] });
  });

  test("falls back to `reboot` when shutdown is not on PATH", async () => {
    const s = scene({ reboot: {} });
    await rebootNow(s.t);
    expect(s.recorded()).toEqual(["reboot"]);
  });

  test("neither on PATH: StepError, nothing run", async () => {
    const s = scene({});
    const error = await rebootNow(s.t).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as Error).message).toBe("cannot reboot: neither shutdown nor reboot is on PATH; add /usr/sbin or /sbin to PATH.");
    expect(s.counter.calls).toBe(0);
  });

  test("a refused shutdown is a StepError with its exit code and message", async () => {
    const s = scene({ shutdown: { exitCode: 1, stderr: "Failed to talk to init daemon." } });
    const error = await rebootNow(s.t).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as Error).message).toBe(`cannot reboot the machine: ${join(s.bin, "shutdown")} exited with code 1: Failed to talk to init daemon.`);
    expect((error as StepError).details.exitCode).toBe(1);
  });

  test("not root (uid 1000 injected): refused before anything is looked up or run", async () => {
    const s = scene({ shutdown: {} }, 1000);
    const error = await rebootNow(s.t).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as Error).message).toBe("cannot reboot the machine: that needs root and awstoe runs as user id 1000; run awstoe as root (sudo).");
    expect(s.counter.calls).toBe(0);
    expect(s.recorded()).toEqual([]);
  });

  test("Windows: `shutdown /r /t 0`, with no root check (Windows reports missing rights itself)", async () => {
    // A recording fake: Windows' shutdown.exe cannot run here, and a real one must never run.
    const seen: ExecRequest[] = [];
    const t: TriggerEnv = {
      platform: "windows",
      env: {},
      uid: 1000,
      exec: async (request) => {
        seen.push(request);
        return execResult();
      },
    };
    await rebootNow(t);
    expect(seen.map((r) => [r.command, ...r.args])).toEqual([["shutdown", "/r", "/t", "0"]]);
  });
});
