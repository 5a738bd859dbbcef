/**
 * @module platform/os-info: the operating system's name and version for `{{ context:osName }}`
 * and `{{ context:osVersion }}` — on Linux NAME and VERSION_ID of /etc/os-release (or
 * /usr/lib/os-release); on Windows and macOS the name the system gives and no version.
 */
import { readFileSync } from "node:fs";
import { hostname, version } from "node:os";
import type { PlatformName } from "../model/platform.ts";

export interface OsInfo {
  name: string;
  version: string;
}

/** Reads the answer once per process. */
export function osInfo(platform: PlatformName): () => OsInfo {
  let known: OsInfo | undefined;
  return () => (known ??= readOsInfo(platform));
}

function readOsInfo(platform: PlatformName): OsInfo {
  if (platform === "windows") return { name: safe(version) ?? "Windows", version: "" };
  if (platform === "macos") return { name: "macOS", version: "" };
  for (const file of ["/etc/os-release", "/usr/lib/os-release"]) {
    try {
      const fields = parseOsRelease(readFileSync(file, "utf8"));
      return { name: fields.NAME ?? "Linux", version: fields.VERSION_ID ?? "" };
    } catch {
      // try the next place
    }
  }
  return { name: "Linux", version: "" };
}

/** KEY=value lines; values may be quoted (shell-like, as os-release(5) describes). */
export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match === null) continue;
    let value = match[2]!.trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\(["\\$`])/g, "$1");
    }
    fields[match[1]!] = value;
  }
  return fields;
}

export function hostName(): string {
  return safe(hostname) ?? "";
}

function safe(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
