/** @module cli/validate-worker: a worker thread's share of `awstoe validate` (see _check-documents.ts). */
import { parentPort, workerData } from "node:worker_threads";
import { checkInThisThread, type CheckRequest } from "./_check-documents.ts";

parentPort?.postMessage(checkInThisThread(workerData as CheckRequest));
