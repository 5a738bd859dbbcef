/** Documents read from S3 (s3://bucket/key), top level and through ExecuteDocument, on a local S3. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { documentLoader } from "../../src/engine/document-sources.ts";
import { hostDeps } from "../../src/engine/host-deps.ts";
import { runExecution } from "../../src/engine/run.ts";
import { createS3Port } from "../../src/aws/s3.ts";
import { plainPalette } from "../../src/logs/terminal.ts";
import { startLocalS3, testClient, useLocalS3, type LocalS3 } from "../helpers/s3-server.ts";

let s3: LocalS3;
let dir: string;
let restoreEnv: () => void;

const child = `schemaVersion: 1.0
parameters:
  - Who:
      type: string
phases:
  - name: build
    steps:
      - name: Hello
        action: ExecuteBash
        inputs:
          commands: ["echo child says {{ Who }}"]
`;
const parent = `schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Nested
        action: ExecuteDocument
        inputs:
          document: s3://docs/child.yaml
          parameters:
            - name: Who
              value: hi
`;

beforeAll(async () => {
  s3 = await startLocalS3(["docs"]);
  dir = mkdtempSync(join(tmpdir(), "opentoe-s3docs-"));
  restoreEnv = useLocalS3(s3); // the SDK chain as awstoe uses it: endpoint, credentials, region
  const client = await testClient(s3);
  await client.send(new PutObjectCommand({ Bucket: "docs", Key: "child.yaml", Body: child }));
  await client.send(new PutObjectCommand({ Bucket: "docs", Key: "parent.yaml", Body: parent }));
});
afterAll(async () => {
  restoreEnv();
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

const quiet = { stdout: () => {}, stderr: () => {} };

test("a document and its nested document both come from S3", async () => {
  const deps = hostDeps({ signal: new AbortController().signal, palette: plainPalette, renderDiagnostics: () => "", cwd: dir, interactive: false, terminal: quiet });
  const { summary, record } = await runExecution(
    { documents: [{ source: "s3://docs/parent.yaml", parameters: new Map() }], parameters: new Map(), executionId: "s3-docs", logDirectory: dir, trace: false },
    deps,
  );
  expect(summary.status).toBe("success");
  expect(record.documents[0]!.filePath).toBe("s3://docs/parent.yaml");
  const nested = record.documents[0]!.phases[0]!.steps[0]!.detailedOutput![0]!;
  expect(nested.documents[0]!.phases[0]!.steps[0]!.outputs).toBe(JSON.stringify([{ stdout: "child says hi" }]));
});

test("a missing object names the source and the cause; nothing runs", async () => {
  const load = documentLoader(createS3Port());
  const result = await load("s3://docs/nope.yaml");
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.diagnostic.message).toBe("failed to load document 's3://docs/nope.yaml': cannot download s3://docs/nope.yaml: no such key");
});

test("local paths still load from disk", async () => {
  const result = await documentLoader(createS3Port())(join(import.meta.dir, "../../examples/hello-linux.yaml"));
  expect(result.ok).toBe(true);
});
