/** @module version: the version and commit, embedded by scripts/build.ts or read from package.json. */
import packageJson from "../package.json" with { type: "json" };

declare const OPENTOE_COMMIT: string | undefined;

export const VERSION: string = packageJson.version;

/** The git commit the binary was built from, or "dev" when running from source. */
export const COMMIT: string = typeof OPENTOE_COMMIT === "string" ? OPENTOE_COMMIT : "dev";

export function versionLine(): string {
  return `awstoe ${VERSION} (opentoe, commit ${COMMIT})`;
}
