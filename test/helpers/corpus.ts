/** The shared corpus of real component documents (../shared/corpus beside the repository). */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const CORPUS_DIR = process.env.OPENTOE_CORPUS ?? resolve(import.meta.dir, "../../../shared/corpus");

export interface ManifestRow {
  file: string;
  platform: "linux" | "windows" | "both";
  actions: string;
  constructs: string;
  validity: string;
}

export function manifestRows(): ManifestRow[] {
  const lines = readFileSync(join(CORPUS_DIR, "MANIFEST.tsv"), "utf8").trim().split("\n");
  const header = lines[0]!.split("\t");
  const col = (name: string) => header.indexOf(name);
  return lines.slice(1).map((line) => {
    const cells = line.split("\t");
    return {
      file: cells[col("file")]!,
      platform: cells[col("platform")] as ManifestRow["platform"],
      actions: cells[col("actions")] ?? "",
      constructs: cells[col("constructs")] ?? "",
      validity: cells[col("validity")]!,
    };
  });
}
