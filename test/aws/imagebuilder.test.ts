/**
 * GetComponent through the unmodified AWS SDK against the local Image Builder stand-in
 * (test/helpers/imagebuilder-server.ts, which checks SigV4): the port (aws/imagebuilder.ts), the
 * document loader for ARNs (engine/document-sources.ts), and that the SDK is loaded only when an
 * ARN is actually read.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createImageBuilderPort } from "../../src/aws/imagebuilder.ts";
import { createS3Port } from "../../src/aws/s3.ts";
import { MAX_DOCUMENT_BYTES } from "../../src/document/load.ts";
import { documentLoader } from "../../src/engine/document-sources.ts";
import { identityOf } from "../../src/engine/prepare.ts";
import { parseComponentArn, type ComponentArn } from "../../src/model/component-arn.ts";
import { imageBuilderEnv, SERVICE_ERRORS, startImageBuilder, type LocalImageBuilder } from "../helpers/imagebuilder-server.ts";

const REPO = resolve(import.meta.dir, "../..");
const BASE = "arn:aws:imagebuilder:eu-west-3:123456789012:component";
const doc = (word: string) => `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Say\n        action: ExecuteBash\n        inputs:\n          commands: ["echo ${word}"]\n`;

let ib: LocalImageBuilder;
let dir: string;
let savedEnv: NodeJS.ProcessEnv;
let closedPort: number;

beforeAll(() => {
  ib = startImageBuilder();
  dir = mkdtempSync(join(tmpdir(), "opentoe-ib-"));
  ib.addComponent(`${BASE}/hello/1.0.0/1`, doc("one-zero-zero build 1"));
  ib.addComponent(`${BASE}/hello/1.0.0/2`, doc("one-zero-zero build 2"));
  ib.addComponent(`${BASE}/hello/1.2.0/1`, doc("one-two-zero"));
  ib.addComponent(`${BASE}/hello/2.0.0/1`, doc("two"));
  ib.addComponent(`${BASE}/chunky/1.0.0/1`, doc("sent in chunks"));
  ib.chunkedFor(`${BASE}/chunky/1.0.0/1`);
  ib.addComponent(`${BASE}/empty/1.0.0/1`, "");
  ib.addComponent(`${BASE}/huge/1.0.0/1`, `# ${"a".repeat(MAX_DOCUMENT_BYTES)}\n`);
  ib.failFor(`${BASE}/secret/1.0.0/1`, SERVICE_ERRORS.forbidden());
  ib.failFor(`${BASE}/refused/1.0.0/1`, SERVICE_ERRORS.invalidArn());
  ib.failFor(`${BASE}/broken/1.0.0/1`, SERVICE_ERRORS.internal());
  savedEnv = { ...process.env };
  process.env = imageBuilderEnv(ib, dir);
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  closedPort = probe.port!;
  probe.stop(true);
});
afterAll(() => {
  process.env = savedEnv;
  ib.close();
  rmSync(dir, { recursive: true, force: true });
});

function arn(text: string): ComponentArn {
  const parsed = parseComponentArn(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.arn;
}
const options = { maxResponseBytes: 1024 * 1024 };

describe("the Image Builder port", () => {
  test("a build ARN returns that build's data, signed for the ARN's region (not AWS_REGION)", async () => {
    const before = ib.requests.length;
    const got = await createImageBuilderPort().getComponentData(arn(`${BASE}/hello/1.0.0/1`), options);
    expect(got).toEqual({ ok: true, data: doc("one-zero-zero build 1"), resolvedArn: `${BASE}/hello/1.0.0/1` });
    expect(ib.requests.slice(before)).toEqual([{ arn: `${BASE}/hello/1.0.0/1`, region: "eu-west-3", service: "imagebuilder", signatureValid: true }]);
    expect(process.env.AWS_REGION).toBe("ap-southeast-2");
  });

  test("a version ARN without a build is sent as is and gets the newest build", async () => {
    const got = await createImageBuilderPort().getComponentData(arn(`${BASE}/hello/1.0.0`), options);
    expect(got).toEqual({ ok: true, data: doc("one-zero-zero build 2"), resolvedArn: `${BASE}/hello/1.0.0/2` });
    expect(ib.requests.at(-1)!.arn).toBe(`${BASE}/hello/1.0.0`);
  });

  test("a wildcard version ARN gets the newest matching build", async () => {
    const port = createImageBuilderPort();
    expect(await port.getComponentData(arn(`${BASE}/hello/1.x.x`), options)).toMatchObject({ ok: true, resolvedArn: `${BASE}/hello/1.2.0/1` });
    expect(await port.getComponentData(arn(`${BASE}/hello/x.x.x`), options)).toMatchObject({ ok: true, resolvedArn: `${BASE}/hello/2.0.0/1` });
  });

  test("another region in the ARN is signed for that region", async () => {
    ib.addComponent("arn:aws-cn:imagebuilder:cn-north-1:aws:component/cn-thing/3.1.4/1", doc("cn"));
    const got = await createImageBuilderPort().getComponentData(arn("arn:aws-cn:imagebuilder:cn-north-1:aws:component/cn-thing/3.1.4/1"), options);
    expect(got.ok).toBe(true);
    expect(ib.requests.at(-1)!.region).toBe("cn-north-1");
  });

  test("not found, forbidden, refused and internal errors each become one sentence", async () => {
    const port = createImageBuilderPort();
    const reason = async (text: string) => {
      const got = await port.getComponentData(arn(text), options);
      expect(got.ok).toBe(false);
      return got.ok ? "" : got.reason;
    };
    expect(await reason(`${BASE}/nothing/1.0.0/1`)).toBe("Image Builder in eu-west-3 has no such component (check its name, version and build, the account, and that it is shared with you)");
    expect(await reason(`${BASE}/secret/1.0.0/1`)).toBe(
      "Image Builder denied access (ForbiddenException); the credentials need imagebuilder:GetComponent on this component: You are not authorized to perform this operation.",
    );
    expect(await reason(`${BASE}/refused/1.0.0/1`)).toStartWith("Image Builder refused the request (InvalidParameterValueException): The value supplied for parameter 'componentBuildVersionArn' is not valid.");
    const before = ib.requests.length;
    expect(await reason(`${BASE}/broken/1.0.0/1`)).toBe("Image Builder failed with ServiceException (HTTP 500) after 3 attempts; try again later");
    expect(ib.requests.length - before).toBe(3); // the SDK's standard retries, then the sentence
    // A 5xx is worth trying again later (patient loading at boot); not-found, denied, refused are not.
    expect(await port.getComponentData(arn(`${BASE}/broken/1.0.0/1`), options)).toMatchObject({ ok: false, transient: true });
    for (const permanent of [`${BASE}/nothing/1.0.0/1`, `${BASE}/secret/1.0.0/1`, `${BASE}/refused/1.0.0/1`]) {
      expect(await port.getComponentData(arn(permanent), options)).not.toHaveProperty("transient");
    }
  });

  test("a wrong secret is refused by the server's signature check", async () => {
    process.env.AWS_SECRET_ACCESS_KEY = "not-the-secret";
    try {
      const got = await createImageBuilderPort().getComponentData(arn(`${BASE}/hello/1.0.0/1`), options);
      expect(got).toEqual({ ok: false, reason: "Image Builder refused the request signature (check the secret access key)" });
      expect(ib.requests.at(-1)!.signatureValid).toBe(false);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = imageBuilderEnv(ib, dir).AWS_SECRET_ACCESS_KEY;
    }
  });

  test("no credentials anywhere in the chain is said plainly, and nothing is sent", async () => {
    const before = ib.requests.length;
    process.env = imageBuilderEnv(ib, dir, { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    try {
      const got = await createImageBuilderPort().getComponentData(arn(`${BASE}/hello/1.0.0/1`), options);
      expect(got).toEqual({ ok: false, reason: "no AWS credentials were found (environment, shared files, or instance role)" });
      expect(ib.requests.length).toBe(before);
    } finally {
      process.env = imageBuilderEnv(ib, dir);
    }
  });

  test("an endpoint nobody listens on is reported as unreachable", async () => {
    process.env.AWS_ENDPOINT_URL_IMAGEBUILDER = `http://127.0.0.1:${closedPort}`;
    try {
      const got = await createImageBuilderPort().getComponentData(arn(`${BASE}/hello/1.0.0/1`), options);
      expect(got.ok).toBe(false);
      if (!got.ok) {
        expect(got.reason).toBe(
          "the Image Builder endpoint for eu-west-3 could not be reached (ECONNREFUSED) after 3 attempts; check the network, proxy settings and the endpoint (AWS_ENDPOINT_URL_IMAGEBUILDER, a profile's endpoint_url)",
        );
        expect(got.transient).toBe(true);
      }
    } finally {
      process.env.AWS_ENDPOINT_URL_IMAGEBUILDER = ib.endpoint;
    }
  });

  test("a response over the cap is refused, with or without a content-length", async () => {
    const port = createImageBuilderPort();
    const small = { maxResponseBytes: 200 };
    expect(await port.getComponentData(arn(`${BASE}/hello/1.0.0/1`), small)).toEqual({ ok: false, reason: "Image Builder's response is larger than 200 bytes, far more than a component document" });
    expect(await port.getComponentData(arn(`${BASE}/chunky/1.0.0/1`), small)).toEqual({ ok: false, reason: "Image Builder's response is larger than 200 bytes, far more than a component document" });
    // Under the cap, the chunked response is read whole.
    expect(await port.getComponentData(arn(`${BASE}/chunky/1.0.0/1`), options)).toMatchObject({ ok: true, data: doc("sent in chunks") });
  });

  test("an aborted fetch says it was stopped", async () => {
    const controller = new AbortController();
    controller.abort(new Error("SIGINT"));
    const got = await createImageBuilderPort().getComponentData(arn(`${BASE}/hello/1.0.0/1`), { ...options, signal: controller.signal });
    expect(got).toEqual({ ok: false, reason: "stopped before the component was fetched" });
  });
});

describe("the document loader with component ARNs", () => {
  const load = documentLoader(createS3Port(), undefined, { imageBuilder: createImageBuilderPort() });

  test("the component's data is the document text", async () => {
    expect(await load(`${BASE}/hello/1.2.0/1`)).toEqual({ ok: true, text: doc("one-two-zero") });
  });

  test("a malformed ARN fails before any request, naming the part that is wrong", async () => {
    const before = ib.requests.length;
    const result = await load(`${BASE}/Hello world/1.0.0/1`);
    expect(result).toEqual({
      ok: false,
      diagnostic: {
        code: "E_SOURCE_UNREADABLE",
        severity: "error",
        file: `${BASE}/Hello world/1.0.0/1`,
        path: "",
        message: `failed to load document '${BASE}/Hello world/1.0.0/1': not an Image Builder component ARN (component name 'Hello world' may hold only letters, digits, '-' and '_')`,
        hint: "expected arn:<partition>:imagebuilder:<region>:<account id or aws>:component/<name>/<x.y.z>[/<build>]",
      },
    });
    expect(ib.requests.length).toBe(before);
  });

  test("service failures carry the ARN and the reason", async () => {
    const result = await load(`${BASE}/nothing/1.0.0`);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.diagnostic.code).toBe("E_SOURCE_UNREADABLE");
      expect(result.diagnostic.message).toBe(`failed to load document '${BASE}/nothing/1.0.0': Image Builder in eu-west-3 has no such component (check its name, version and build, the account, and that it is shared with you)`);
    }
  });

  test("data over the document size limit is refused", async () => {
    const result = await load(`${BASE}/huge/1.0.0/1`);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.diagnostic.code).toBe("E_SOURCE_TOO_LARGE");
      expect(result.diagnostic.message).toBe(`failed to load document '${BASE}/huge/1.0.0/1': the component's document is 4.0 MiB; the limit is 4.0 MiB`);
    }
  });

  test("cycle identities: ARNs as written, s3:// with the scheme lower-cased, paths absolute", () => {
    expect(identityOf(`${BASE}/hello/1.0.0/1`, "/work")).toBe(`${BASE}/hello/1.0.0/1`);
    expect(identityOf("S3://Bucket/Key.yaml", "/work")).toBe("s3://Bucket/Key.yaml");
    expect(identityOf("docs/../a.yaml", "/work")).toBe("/work/a.yaml");
  });

  test("empty data is refused like an empty file", async () => {
    const result = await load(`${BASE}/empty/1.0.0/1`);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.diagnostic.code).toBe("E_SOURCE_EMPTY");
  });
});

/**
 * Runs src/main.ts in a child bun with a preload that reports, when the process exits, which
 * @aws-sdk packages were loaded. The child is spawned asynchronously so this process's server answers.
 */
async function sdkPackagesLoadedBy(args: string[]): Promise<{ code: number; packages: string[]; stderr: string }> {
  const preload = join(dir, "report-sdk.ts");
  writeFileSync(
    preload,
    `process.on("exit", () => {
      const names = new Set(Object.keys(require.cache).map((k) => /@aws-sdk\\/([^/]+)/.exec(k)?.[1]).filter(Boolean));
      process.stderr.write("\\nSDK-PACKAGES:" + JSON.stringify([...names].sort()) + "\\n");
    });\n`,
  );
  const proc = Bun.spawn([process.execPath, "--preload", preload, join(REPO, "src/main.ts"), ...args], {
    cwd: dir,
    env: imageBuilderEnv(ib, dir),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited, new Response(proc.stdout).text()]);
  const line = /SDK-PACKAGES:(.*)/.exec(stderr);
  if (line === null) throw new Error(`no SDK report from the child:\n${stderr}`);
  return { code, packages: JSON.parse(line[1]!) as string[], stderr };
}

describe("the SDK is loaded only for remote sources", () => {
  test("the report sees the SDK when it is loaded (the check can fail)", async () => {
    ib.addComponent(`${BASE}/valid/1.0.0/1`, doc("valid"));
    const run = await sdkPackagesLoadedBy(["validate", "--documents", `${BASE}/valid/1.0.0/1`]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.packages).toContain("client-imagebuilder");
    expect(run.packages).not.toContain("client-s3");
  }, 30_000);

  test("--version and validate of a local document load no SDK", async () => {
    const local = join(dir, "local.yaml");
    writeFileSync(local, doc("local"));
    const version = await sdkPackagesLoadedBy(["--version"]);
    expect(version.code).toBe(0);
    expect(version.packages).toEqual([]);
    const validate = await sdkPackagesLoadedBy(["validate", "--documents", local]);
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.packages).toEqual([]);
  }, 30_000);
});
