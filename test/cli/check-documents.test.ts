/** Validation shared across worker threads gives exactly what one thread gives, in order. */
import { expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { checkDocuments, checkInThisThread, plannedWorkers } from "../../src/cli/_check-documents.ts";
import { CORPUS_DIR, manifestRows } from "../helpers/corpus.ts";

test("how many workers: none for few documents or one core, at most three", () => {
  expect(plannedWorkers(5, 8)).toBe(0);
  expect(plannedWorkers(200, 1)).toBe(0);
  expect(plannedWorkers(50, 2)).toBe(1);
  expect(plannedWorkers(1000, 64)).toBe(3);
});

test("worker threads return the same reports, in the order asked", async () => {
  const sources = manifestRows().map((row) => join(CORPUS_DIR, "docs", row.file));
  const request = { sources, platform: "linux" as const, color: false };
  const shared = await checkDocuments(request);
  const single = checkInThisThread(request);
  const withoutThread = (rows: typeof shared) => rows.map(({ thread: _, ...rest }) => rest);
  expect(shared.map((r) => r.source)).toEqual(sources);
  expect(withoutThread(shared)).toEqual(withoutThread(single));
  const threads = new Set(shared.map((r) => r.thread));
  expect(threads.size).toBe(1 + plannedWorkers(sources.length, availableParallelism()));
});
