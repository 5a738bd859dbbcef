/** @module model/platform: the platforms a component document can be written for, and a plain-object test every layer shares. */

export const PLATFORMS = ["linux", "windows", "macos"] as const;
export type PlatformName = (typeof PLATFORMS)[number];

/** A mapping (not null, not a list): what YAML mappings and JSON objects parse to. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
