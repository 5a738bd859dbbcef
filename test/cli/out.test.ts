/**
 * cli/_out.ts: isTerminal answers without node:tty. A real pseudo-terminal comes from util-linux
 * `script`; where it is missing that case is skipped with a line saying so.
 */
import { describe, expect, test } from "bun:test";
import { closeSync, openSync } from "node:fs";
import { isTerminal } from "../../src/cli/_out.ts";
import { scratch } from "../helpers/fs-tree.ts";

const SCRIPT = Bun.which("script");
const MODULE = new URL("../../src/cli/_out.ts", import.meta.url).pathname;

describe("isTerminal", () => {
  test("a file, /dev/null (a character device) and a pipe are not terminals", () => {
    const place = scratch();
    const file = openSync(`${place.dir}/plain`, "w");
    const devNull = openSync("/dev/null", "w");
    try {
      expect(isTerminal(file)).toBe(false);
      expect(isTerminal(devNull)).toBe(false);
    } finally {
      closeSync(file);
      closeSync(devNull);
      place.remove();
    }
    const piped = Bun.spawnSync([process.execPath, "-e", `import { isTerminal } from ${JSON.stringify(MODULE)}; console.log(isTerminal(1))`], { stdout: "pipe" });
    expect(piped.stdout.toString().trim()).toBe("false");
  });

  test.skipIf(SCRIPT === null)("a pseudo-terminal is one (util-linux script)", () => {
    const program = `import { isTerminal } from ${JSON.stringify(MODULE)}; console.log("tty=" + isTerminal(1))`;
    const run = Bun.spawnSync([SCRIPT!, "-qec", `${process.execPath} -e '${program}'`, "/dev/null"], { stdout: "pipe", stderr: "pipe" });
    expect(run.stdout.toString()).toContain("tty=true");
  });
});
