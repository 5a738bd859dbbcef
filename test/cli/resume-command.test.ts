/** The command a boot trigger runs to continue an execution, for each way awstoe can be started. */
import { describe, expect, test } from "bun:test";
import { resumeCommandFor } from "../../src/cli/_resume-command.ts";

const pinned = ["--execution-id", "e-1", "--state-directory", "/work/state"];

describe("resumeCommandFor", () => {
  test("a compiled binary (Bun's embedded script path) is its own program; pinned options replace the user's", () => {
    for (const script of ["/$bunfs/root/awstoe-linux-x64", "B:\\~BUN\\root\\awstoe.exe"]) {
      const make = resumeCommandFor({ argv: ["bun", script, "run", "-d", "a.yaml", "-i", "old", "--state-directory=/x"], execPath: "/usr/local/bin/awstoe", cwd: "/work", path: "/usr/bin" });
      expect(make("e-1", "state")).toEqual({ executable: "/usr/local/bin/awstoe", args: ["run", "-d", "a.yaml", ...pinned], cwd: "/work", env: { PATH: "/usr/bin" } });
    }
  });
  test("bun run / node with a script: the script (made absolute) comes first", () => {
    const make = resumeCommandFor({ argv: ["/usr/bin/node", "dist/awstoe-node.cjs", "run", "--config", "c.json"], execPath: "/usr/bin/node", cwd: "/work", path: undefined });
    expect(make("e-1", "/work/state")).toEqual({ executable: "/usr/bin/node", args: ["/work/dist/awstoe-node.cjs", "run", "--config", "c.json", ...pinned], cwd: "/work" });
  });
  test("a Node single executable repeats argv0 in the script's place: no script prefix", () => {
    const make = resumeCommandFor({ argv: ["C:\\t\\awstoe.exe", "awstoe.exe", "run", "-d", "a.yaml"], argv0: "awstoe.exe", execPath: "C:\\t\\awstoe.exe", cwd: "/work", path: undefined });
    expect(make("e-1", "/work/state").args).toEqual(["run", "-d", "a.yaml", ...pinned]);
  });
});
