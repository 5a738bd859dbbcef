/** Reading what `awstoe` printed, shared by the end-to-end tests. */
import { expect } from "bun:test";
import type { AwstoeRun } from "./binary.ts";

/** The run summary (cli.md §7.4): the last JSON object on stdout, parsed. */
export function lastJsonObject<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i]!.startsWith("{")) continue;
    try {
      return JSON.parse(lines.slice(i).join("\n")) as T;
    } catch {
      // not the start of the last object; keep looking upwards
    }
  }
  throw new Error(`no JSON object on stdout:\n${stdout}`);
}

/** A usage error: exit 2, nothing on stdout, exactly one stderr line starting with `awstoe: `. */
export function expectUsageError(run: Pick<AwstoeRun, "code" | "stdout" | "stderr">): string {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe("");
  const lines = run.stderr.split("\n").filter((l) => l !== "");
  expect(lines).toHaveLength(1);
  expect(lines[0]!).toStartWith("awstoe: ");
  return lines[0]!;
}
