/**
 * @module model/component-arn: reading an Image Builder component ARN, the third kind of document
 * source (docs/cli.md §5, ExecuteDocument `document`). Pure: it says what the ARN names, or what part
 * of it is wrong, so both the loader and the validator can tell a person exactly what to fix.
 *
 * Accepted, like the `componentBuildVersionArn` of Image Builder's GetComponent:
 *   arn:<partition>:imagebuilder:<region>:<owner>:component/<name>/<version>[/<build>]
 * - partition: `aws` or `aws-…` (aws-cn, aws-us-gov, aws-iso-b, …);
 * - owner: a 12-digit account id, `aws`, `aws-…` (e.g. aws-marketplace) or `third-party`;
 * - name: letters, digits, `-` and `_`. The service's own ARNs carry names lower-cased, but
 *   AWS's user guide writes `component/Sample-Test/1.0.0` in its ExecuteDocument example, so
 *   upper case is accepted here and left to the service to answer;
 * - version: `<major>.<minor>.<patch>`, where trailing parts may be the wildcard `x` (`1.0.x`,
 *   `1.x.x`, `x.x.x`) — GetComponent resolves a version ARN to its latest matching build;
 * - build: a number, only after an exact version.
 */

export interface ComponentArn {
  /** The ARN exactly as given. */
  text: string;
  partition: string;
  region: string;
  /** Account id, `aws` (Amazon-managed) or another owner GetComponent accepts. */
  owner: string;
  name: string;
  /** `x.y.z`, possibly with trailing `x` wildcards. */
  version: string;
  /** The build number, when the ARN names one build rather than a version. */
  build?: number;
}

export type ComponentArnParse = { ok: true; arn: ComponentArn } | { ok: false; problem: string };

/** The shape every problem message ends by showing. */
export const COMPONENT_ARN_FORM = "arn:<partition>:imagebuilder:<region>:<account id or aws>:component/<name>/<x.y.z>[/<build>]";

/** Whether a document source is meant as an ARN (and so must parse as a component ARN). */
export function isArnSource(source: string): boolean {
  return /^arn:/i.test(source);
}

const PARTITION = /^aws(?:-[a-z0-9]+)*$/;
const REGION = /^[a-z]{2,}(?:-[a-z0-9]+)+$/;
const OWNER = /^(?:\d{12}|aws(?:-[a-z-]+)?|third-party)$/;
const NAME = /^[A-Za-z0-9_-]+$/;
const VERSION_PART = /^(?:\d+|x)$/;
const BUILD = /^\d+$/;

export function parseComponentArn(text: string): ComponentArnParse {
  const bad = (problem: string): ComponentArnParse => ({ ok: false, problem });
  if (!text.startsWith("arn:")) return bad(`it does not start with 'arn:'`);
  const fields = text.split(":");
  if (fields.length !== 6) return bad(`an ARN has 6 parts separated by ':', this one has ${fields.length}`);
  const [, partition, service, region, owner, resource] = fields as [string, string, string, string, string, string];
  if (!PARTITION.test(partition)) return bad(`partition '${partition}' is not an AWS partition (aws, aws-cn, aws-us-gov, …)`);
  if (service !== "imagebuilder") return bad(`it names the service '${service}', not 'imagebuilder'`);
  if (!REGION.test(region)) return bad(region === "" ? "it has no region" : `region '${region}' is not an AWS region name such as us-east-1`);
  if (!OWNER.test(owner)) return bad(owner === "" ? "it has no account id" : `owner '${owner}' is neither a 12-digit account id nor 'aws'`);
  const segments = resource.split("/");
  if (segments[0] !== "component") return bad(`resource '${segments[0]}' is not a component`);
  if (segments.length < 3 || segments.length > 4) return bad(`a component is named component/<name>/<x.y.z>[/<build>], not '${resource}'`);
  const [, name, version, build] = segments as [string, string, string, string | undefined];
  if (!NAME.test(name)) {
    return bad(name === "" ? "the component name is empty" : `component name '${name}' may hold only letters, digits, '-' and '_'`);
  }
  const versionProblem = problemWithVersion(version);
  if (versionProblem !== undefined) return bad(versionProblem);
  if (build !== undefined) {
    if (!BUILD.test(build)) return bad(`build '${build}' is not a number`);
    if (version.includes("x")) return bad(`a build number needs an exact version, not '${version}'`);
  }
  return {
    ok: true,
    arn: { text, partition, region, owner, name, version, ...(build === undefined ? {} : { build: Number(build) }) },
  };
}

/** `x.y.z` with numbers, trailing parts optionally `x`; undefined when fine. */
function problemWithVersion(version: string): string | undefined {
  const parts = version.split(".");
  if (parts.length !== 3 || !parts.every((part) => VERSION_PART.test(part))) return `version '${version}' is not <major>.<minor>.<patch>, e.g. 1.0.0`;
  const firstWildcard = parts.indexOf("x");
  if (firstWildcard !== -1 && parts.slice(firstWildcard).some((part) => part !== "x")) {
    return `version '${version}' may use the wildcard 'x' only in trailing parts (1.0.x, 1.x.x, x.x.x)`;
  }
  return undefined;
}

/** One sentence for a malformed ARN, with the expected shape. */
export function describeArnProblem(text: string, problem: string): string {
  return `'${text}' is not an Image Builder component ARN: ${problem}`;
}
