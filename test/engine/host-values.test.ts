/**
 * engine/host-values.ts: what host references resolve to. The AWS ports here are counting
 * stand-ins (the real ones are tested against local servers in test/aws/); environment, masker and
 * the rest are real.
 */
import { describe, expect, test } from "bun:test";
import { HostValues, type HostPorts } from "../../src/engine/host-values.ts";
import { Masker } from "../../src/logs/mask.ts";
import type { HostReference } from "../../src/expr/template.ts";
import type { ParameterValue } from "../../src/model/ports.ts";

const PARAMETERS: Record<string, ParameterValue> = {
  "/plain": { value: "plain-value", type: "String", secret: false },
  "/list": { value: "a,b,c", type: "StringList", secret: false },
  "/secret": { value: "TOP-SECRET-1", type: "SecureString", secret: true },
};

function setup(options: { onEc2?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const calls = { parameters: [] as string[], metadata: [] as string[], identity: 0, accountId: 0, region: 0 };
  const ports: HostPorts = {
    env: options.env ?? { HOME: "/root", "A.B (x)": "odd" },
    hostname: () => "builder-1",
    os: () => ({ name: "Debian GNU/Linux", version: "12" }),
    metadata: {
      get: async (path) => {
        calls.metadata.push(path);
        if (path === "missing") throw new Error("instance metadata 'missing' could not be read: 404");
        return `md:${path}`;
      },
      identity: async () => {
        calls.identity++;
        return options.onEc2 === false ? undefined : { accountId: "111122223333", region: "eu-west-1" };
      },
    },
    parameters: {
      get: async (name) => {
        calls.parameters.push(name);
        const found = PARAMETERS[name];
        if (found === undefined) throw new Error(`no parameter '${name}'`);
        return found;
      },
    },
    account: {
      region: async () => {
        calls.region++;
        return "us-east-2";
      },
      accountId: async () => {
        calls.accountId++;
        return "444455556666";
      },
    },
  };
  const masker = new Masker();
  let uuids = 0;
  const values = new HostValues({ ports, platform: "linux", executionId: "exec-1", masker, now: () => new Date("2026-06-15T10:30:00.123Z"), newUuid: () => `uuid-${++uuids}` });
  return { values, calls, masker };
}

const step = (...texts: string[]) => ({ name: "S", action: "ExecuteBash", inputs: { commands: texts } });
const ref = (kind: HostReference["kind"], text: string): HostReference =>
  kind === "env" ? { kind, name: text } : kind === "context" ? { kind, key: text } : kind === "imds" ? { kind, path: text } : { kind: "ssm", name: text };

describe("HostValues", () => {
  test("env: exact names; a missing one fails naming it", () => {
    const { values } = setup();
    const lookup = values.lookup("build", "S");
    expect(lookup.resolve(ref("env", "A.B (x)"), "")).toBe("odd");
    expect(() => lookup.resolve(ref("env", "NOPE"), "")).toThrow(/environment variable 'NOPE' is not set/);
  });

  test("context keys", () => {
    const { values } = setup();
    const lookup = values.lookup("build", "Install");
    const context = (key: string) => lookup.resolve(ref("context", key), "");
    expect([context("executionId"), context("osPlatform"), context("osName"), context("osVersion"), context("hostname"), context("phase"), context("step")]).toEqual(["exec-1", "linux", "Debian GNU/Linux", "12", "builder-1", "build", "Install"]);
    expect(context("date")).toBe("2026-06-15");
    expect(context("dateTime")).toBe("2026-06-15T10:30:00Z");
    expect(context("uuid")).not.toBe(context("uuid")); // new at every use
    expect(() => context("nope")).toThrow(/'nope' is not a context key/);
  });

  test("accountId and region from the identity document on EC2", async () => {
    const { values, calls } = setup();
    await values.prefetch(step("{{ context:accountId }} {{ context:region }}"), new Map());
    const lookup = values.lookup("build", "S");
    expect(lookup.resolve(ref("context", "accountId"), "")).toBe("111122223333");
    expect(lookup.resolve(ref("context", "region"), "")).toBe("eu-west-1");
    expect([calls.identity, calls.accountId, calls.region]).toEqual([1, 0, 0]);
  });

  test("off EC2: the configured region and the credentials' account", async () => {
    const { values, calls } = setup({ onEc2: false });
    await values.prefetch(step("{{ context:accountId }} {{ context:region }}"), new Map());
    const lookup = values.lookup("build", "S");
    expect(lookup.resolve(ref("context", "region"), "")).toBe("us-east-2");
    expect(lookup.resolve(ref("context", "accountId"), "")).toBe("444455556666");
    expect([calls.accountId, calls.region]).toEqual([1, 1]);
  });

  test("parameters are fetched once per execution, resolve() through a document parameter", async () => {
    const { values, calls } = setup();
    const variables = new Map([["Which", "/list"]]);
    await values.prefetch(step("{{ aws:ssm:/plain }}", "{{ aws:ssm:/plain }} {{ aws:ssm:resolve(Which) }}"), variables);
    await values.prefetch({ name: "T", action: "ExecuteBash", loop: { forEach: { list: "{{ aws:ssm:/plain }}" } } }, variables);
    expect(calls.parameters.sort()).toEqual(["/list", "/plain"]);
    const lookup = values.lookup("build", "S");
    expect(lookup.resolve(ref("ssm", "/list"), "")).toBe("a,b,c");
    expect(lookup.usedSecret).toBe(false);
  });

  test("a secret goes to the masker when fetched, and the step that used it is marked", async () => {
    const { values, masker } = setup();
    expect(masker.mask("x TOP-SECRET-1 y")).toBe("x TOP-SECRET-1 y");
    await values.prefetch(step("{{ aws:ssm:/secret }}"), new Map());
    expect(masker.mask("x TOP-SECRET-1 y")).toBe("x **** y");
    const other = values.lookup("build", "Other");
    expect(other.usedSecret).toBe(false);
    const lookup = values.lookup("build", "S");
    expect(lookup.resolve(ref("ssm", "/secret"), "")).toBe("TOP-SECRET-1");
    expect(lookup.usedSecret).toBe(true);
  });

  test("a failed fetch fails the step that needs it, worded, and is tried again later", async () => {
    const { values, calls } = setup();
    await values.prefetch(step("{{ aws:ssm:/gone }} {{ aws:imds:missing }}"), new Map());
    const lookup = values.lookup("build", "S");
    expect(() => lookup.resolve(ref("ssm", "/gone"), "")).toThrow(/'\{\{ aws:ssm:\/gone \}\}' could not be resolved: no parameter '\/gone'/);
    expect(() => lookup.resolve(ref("imds", "missing"), "")).toThrow(/404/);
    await values.prefetch(step("{{ aws:ssm:/gone }}"), new Map());
    expect(calls.parameters).toEqual(["/gone", "/gone"]);
  });

  test("credential metadata paths are never fetched", async () => {
    const { values, calls } = setup();
    await values.prefetch(step("{{ aws:imds:iam/security-credentials/Role }}", "{{ aws:imds:instance-id }}"), new Map());
    expect(calls.metadata).toEqual(["instance-id"]);
    expect(() => values.lookup("b", "S").resolve(ref("imds", "iam/security-credentials/Role"), "")).toThrow(/holds credentials/);
    expect(values.lookup("b", "S").resolve(ref("imds", "instance-id"), "")).toBe("md:instance-id");
  });
});
