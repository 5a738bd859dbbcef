/** Reading Image Builder component ARNs: what they name, and what exactly is wrong with bad ones. */
import { describe, expect, test } from "bun:test";
import { isArnSource, parseComponentArn } from "../../src/model/component-arn.ts";

/**
 * GetComponent's own pattern for componentBuildVersionArn (its API reference). Every ARN we accept
 * must also match it, so nothing we let through is refused by the service for its form.
 */
const SERVICE_PATTERN =
  /^arn:aws[^:]*:imagebuilder:[^:]+:(?:[0-9]{12}|aws(?:-[a-z-]+)?|third-party):component\/[a-z0-9-_]+\/(?:(?:([0-9]+|x)\.([0-9]+|x)\.([0-9]+|x))|(?:[0-9]+\.[0-9]+\.[0-9]+\/[0-9]+))$/;

describe("well-formed component ARNs", () => {
  test("a build-version ARN, every part read", () => {
    expect(parseComponentArn("arn:aws:imagebuilder:us-west-2:123456789012:component/my-example-component/1.0.0/1")).toEqual({
      ok: true,
      arn: {
        text: "arn:aws:imagebuilder:us-west-2:123456789012:component/my-example-component/1.0.0/1",
        partition: "aws",
        region: "us-west-2",
        owner: "123456789012",
        name: "my-example-component",
        version: "1.0.0",
        build: 1,
      },
    });
  });

  test("a version ARN has no build", () => {
    const parsed = parseComponentArn("arn:aws:imagebuilder:eu-west-1:aws:component/python-3-linux/1.0.0");
    expect(parsed).toEqual({
      ok: true,
      arn: { text: "arn:aws:imagebuilder:eu-west-1:aws:component/python-3-linux/1.0.0", partition: "aws", region: "eu-west-1", owner: "aws", name: "python-3-linux", version: "1.0.0" },
    });
  });

  const accepted = [
    "arn:aws:imagebuilder:us-east-1:aws:component/amazon-cloudwatch-agent-linux/1.0.0/1",
    "arn:aws-cn:imagebuilder:cn-north-1:123456789012:component/a_b-c/10.20.30/4",
    "arn:aws-us-gov:imagebuilder:us-gov-west-1:123456789012:component/x/0.0.1",
    "arn:aws-iso-b:imagebuilder:us-isob-east-1:123456789012:component/x/1.0.0/1",
    "arn:aws:imagebuilder:us-east-1:aws-marketplace:component/vendor-thing/1.0.0/1",
    "arn:aws:imagebuilder:us-east-1:third-party:component/vendor-thing/1.0.0",
    // Wildcards in trailing parts: GetComponent resolves them to the newest matching build.
    "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/1.0.x",
    "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/1.x.x",
    "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x",
  ];
  for (const text of accepted) {
    test(`accepted, and GetComponent's pattern agrees: ${text}`, () => {
      const parsed = parseComponentArn(text);
      expect(parsed.ok, parsed.ok ? "" : parsed.problem).toBe(true);
      expect(SERVICE_PATTERN.test(text)).toBe(true);
    });
  }

  test("upper-case names, as in the AWS user guide's ExecuteDocument example, are accepted", () => {
    const parsed = parseComponentArn("arn:aws:imagebuilder:us-west-2:aws:component/Sample-Test/1.0.0");
    expect(parsed.ok && parsed.arn.name).toBe("Sample-Test");
  });
  test("wildcard versions keep their text and have no build", () => {
    const parsed = parseComponentArn("arn:aws:imagebuilder:us-east-1:aws:component/update-linux/2.x.x");
    expect(parsed.ok && parsed.arn.version).toBe("2.x.x");
    expect(parsed.ok && parsed.arn.build).toBeUndefined();
  });
});

describe("malformed ARNs name the part that is wrong", () => {
  const cases: [string, string][] = [
    ["ARN:aws:imagebuilder:us-east-1:aws:component/a/1.0.0", "it does not start with 'arn:'"],
    ["arn:aws:imagebuilder:us-east-1:aws:component/a/1.0.0:extra", "an ARN has 6 parts separated by ':', this one has 7"],
    ["arn:aws:imagebuilder:us-east-1:component/a/1.0.0", "an ARN has 6 parts separated by ':', this one has 5"],
    ["arn:azure:imagebuilder:us-east-1:aws:component/a/1.0.0", "partition 'azure' is not an AWS partition (aws, aws-cn, aws-us-gov, …)"],
    ["arn:aws:s3:us-east-1:aws:component/a/1.0.0", "it names the service 's3', not 'imagebuilder'"],
    ["arn:aws:imagebuilder::aws:component/a/1.0.0", "it has no region"],
    ["arn:aws:imagebuilder:US-EAST-1:aws:component/a/1.0.0", "region 'US-EAST-1' is not an AWS region name such as us-east-1"],
    ["arn:aws:imagebuilder:us-east-1::component/a/1.0.0", "it has no account id"],
    ["arn:aws:imagebuilder:us-east-1:12345:component/a/1.0.0", "owner '12345' is neither a 12-digit account id nor 'aws'"],
    ["arn:aws:imagebuilder:us-east-1:aws:image/a/1.0.0/1", "resource 'image' is not a component"],
    ["arn:aws:imagebuilder:us-east-1:aws:component/a", "a component is named component/<name>/<x.y.z>[/<build>], not 'component/a'"],
    ["arn:aws:imagebuilder:us-east-1:aws:component/a/1.0.0/1/2", "a component is named component/<name>/<x.y.z>[/<build>], not 'component/a/1.0.0/1/2'"],
    ["arn:aws:imagebuilder:us-east-1:aws:component//1.0.0", "the component name is empty"],
    ["arn:aws:imagebuilder:us-east-1:aws:component/My Thing/1.0.0", "component name 'My Thing' may hold only letters, digits, '-' and '_'"],
    ["arn:aws:imagebuilder:us-east-1:aws:component/a/1.0", "version '1.0' is not <major>.<minor>.<patch>, e.g. 1.0.0"],
    ["arn:aws:imagebuilder:us-east-1:aws:component/a/v1.0.0", "version 'v1.0.0' is not <major>.<minor>.<patch>, e.g. 1.0.0"],
    ["arn:aws:imagebuilder:us-east-1:aws:component/a/x.1.0", "version 'x.1.0' may use the wildcard 'x' only in trailing parts (1.0.x, 1.x.x, x.x.x)"],
    ["arn:aws:imagebuilder:us-east-1:aws:component/a/1.0.0/latest", "build 'latest' is not a number"],
    ["arn:aws:imagebuilder:us-east-1:aws:component/a/1.0.x/1", "a build number needs an exact version, not '1.0.x'"],
    ["arn:aws:imagebuilder:us-east-1:aws:component/a/1.0.0/ 1", "build ' 1' is not a number"],
  ];
  for (const [text, problem] of cases) {
    test(text, () => {
      expect(parseComponentArn(text)).toEqual({ ok: false, problem });
    });
  }
});

test("isArnSource: anything starting with arn: (any case) is meant as an ARN; paths and s3:// are not", () => {
  expect(isArnSource("arn:aws:imagebuilder:us-east-1:aws:component/a/1.0.0")).toBe(true);
  expect(isArnSource("ARN:whatever")).toBe(true);
  expect(isArnSource("s3://bucket/arn:x")).toBe(false);
  expect(isArnSource("./arn:x.yaml")).toBe(false);
  expect(isArnSource("component.yaml")).toBe(false);
});
