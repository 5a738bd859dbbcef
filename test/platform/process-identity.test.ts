/**
 * Telling processes apart and stopping what a killed awstoe left running, with real processes
 * (Linux /proc; elsewhere nothing is signalled and these skip).
 */
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { bootId, groupExists, identityOf, stillRunning, stopLeftoverGroup } from "../../src/platform/process-identity.ts";

const linux = bootId() !== undefined;
if (!linux) console.warn("skipped: process identity tests need Linux /proc");

/** A detached shell leading its own group, with a grandchild that ignores SIGTERM. */
function stubbornGroup(): Promise<number> {
  const child = spawn("sh", ["-c", "trap '' TERM; sleep 60 & sleep 60; wait"], { detached: true, stdio: "ignore" });
  child.unref();
  return new Promise((resolve) => setTimeout(() => resolve(child.pid!), 100));
}

describe.skipIf(!linux)("process identity", () => {
  test("this process is alive as recorded; another boot or start time means gone", () => {
    const me = identityOf(process.pid);
    expect(me.boot).toBe(bootId());
    expect(stillRunning(me)).toBe("alive");
    expect(stillRunning({ ...me, boot: "other" })).toBe("gone");
    expect(stillRunning({ ...me, started: (me.started ?? 0) + 1 })).toBe("gone");
    expect(stillRunning({ pid: 2 ** 22 + 7 })).toBe("gone");
  });

  test("a leftover group is stopped, SIGKILL after the grace time for a member that ignores SIGTERM", async () => {
    const pgid = await stubbornGroup();
    const recorded = identityOf(pgid);
    expect(groupExists(pgid)).toBe(true);
    expect(await stopLeftoverGroup({ pgid, boot: recorded.boot!, started: recorded.started! }, 300)).toBe("stopped");
    expect(groupExists(pgid)).toBe(false);
  });

  test("a group recorded in another boot, or whose leader is a newer process, is left alone", async () => {
    const pgid = await stubbornGroup();
    try {
      const recorded = identityOf(pgid);
      expect(await stopLeftoverGroup({ pgid, boot: "another-boot", started: recorded.started! }, 100)).toBe("none");
      expect(await stopLeftoverGroup({ pgid, boot: recorded.boot!, started: recorded.started! - 1 }, 100)).toBe("none");
      expect(await stopLeftoverGroup({ pgid }, 100)).toBe("unknown");
      expect(groupExists(pgid)).toBe(true);
    } finally {
      process.kill(-pgid, "SIGKILL");
    }
  });
});
