import { expect, test } from "bun:test";
import { parseYamlText } from "../../src/document/parse.ts";
import { resolveVariables } from "../../src/engine/variables.ts";

const doc = `parameters:
  - Tier:
      type: string
      default: web
      allowedValues: [web, db, cache]
  - Region:
      type: string
  - Version:
      type: string
      default: 1.10
constants:
  - Dir:
      type: string
      value: /opt/x
phases:
  - name: build
    steps:
      - name: Uses
        action: ExecuteBash
        inputs:
          commands: ["echo {{ Region }}"]
      - name: Other
        action: ExecuteBash
        inputs:
          commands: ["echo {{ Tier }}"]
  - name: test
    steps:
      - name: ThroughSsm
        action: ExecuteBash
        if:
          stringEquals: x
          value: "{{ aws:ssm:resolve(Region) }}"
        inputs:
          commands: ["true"]
`;
const USED_BY = "in build/Uses, test/ThroughSsm";

function resolve(global: Record<string, string>, document: Record<string, string> = {}, requireValues = false) {
  const { value, map } = parseYamlText(doc, "d.yaml");
  return resolveVariables(value as Record<string, unknown>, { global: new Map(Object.entries(global)), document: new Map(Object.entries(document)) }, map, { requireValues });
}

test("per-document beats global beats default; numbers keep their text; constants are fixed", () => {
  const { values, issues } = resolve({ Region: "eu-west-1", Tier: "db", Dir: "/nope" }, { Tier: "cache" });
  expect(issues).toEqual([]);
  expect(Object.fromEntries(values)).toEqual({ Dir: "/opt/x", Tier: "cache", Region: "eu-west-1", Version: "1.10" });
});

test("a parameter without any value is an empty string, with a warning naming the steps that use it (as AWSTOE runs it)", () => {
  const { issues, values } = resolve({});
  expect(values.get("Region")).toBe("");
  expect(issues.map((i) => [i.code, i.severity, i.message])).toEqual([["W_PARAMETER_NO_VALUE", "warning", `parameter 'Region' has no value, so it is an empty string ${USED_BY}`]]);
});

test("--require-parameter-values: a parameter without any value stops the run", () => {
  const { issues, values } = resolve({}, {}, true);
  expect(values.has("Region")).toBe(false);
  expect(issues.map((i) => [i.code, i.severity, i.message])).toEqual([["E_PARAMETER_NO_VALUE", undefined, "parameter 'Region' has no value"]]);
});

test("a supplied value outside allowedValues is reported", () => {
  const { issues } = resolve({ Region: "x", Tier: "queue" });
  expect(issues[0]?.code).toBe("E_VARIABLE");
  expect(issues[0]?.message).toContain("not one of its allowedValues");
});
