/** What the benchmark scripts share: the compiled binary they measure, medians, and a main runner. */
import { relative } from "node:path";
import { buildHost, hostTarget, outputPath, REPO, staleReason } from "./build.ts";

/** The host's compiled awstoe, rebuilt first when older than its sources. */
export async function hostBinary(): Promise<string> {
  const binary = outputPath(hostTarget());
  const reason = staleReason(binary);
  if (reason === undefined) {
    console.log(`using ${relative(REPO, binary)} (up to date)`);
    return binary;
  }
  console.log(`building ${relative(REPO, binary)} (${reason})…`);
  return buildHost();
}

export function median(samples: number[]): number {
  const sorted = [...samples].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs a benchmark's main and exits with its code; an error is one line, not a trace. */
export function runBench(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`${name}: ${(error as Error)?.message ?? String(error)}`);
      process.exit(1);
    },
  );
}
