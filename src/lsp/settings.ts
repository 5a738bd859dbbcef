/**
 * @module lsp/settings: which platform a document is validated for — a modeline comment in the
 * document (`# awstoe: platform=windows`) wins over the editor's `awstoe.platform` setting (or
 * initializationOptions), and Linux is the default (docs/lsp.md).
 */
import { PLATFORMS, type PlatformName } from "../model/platform.ts";
import { isRecord } from "../model/platform.ts";

const MODELINE = /^\s*#\s*awstoe:.*\bplatform\s*=\s*(\w+)/m;

/** The platform a `# awstoe: platform=…` comment names, if any and if it is one awstoe knows. */
export function modelinePlatform(text: string): PlatformName | undefined {
  // Only the head of the file is searched: a modeline is written at the top, and big documents stay cheap.
  const named = MODELINE.exec(text.slice(0, 4096))?.[1]?.toLowerCase();
  return asPlatform(named);
}

/** `awstoe.platform` from settings or initializationOptions: `{ awstoe: { platform } }` or `{ platform }`. */
export function settingsPlatform(settings: unknown): PlatformName | undefined {
  if (!isRecord(settings)) return undefined;
  const section = isRecord(settings.awstoe) ? settings.awstoe : settings;
  return asPlatform(typeof section.platform === "string" ? section.platform.toLowerCase() : undefined);
}

export function platformFor(text: string, configured: PlatformName | undefined): PlatformName {
  return modelinePlatform(text) ?? configured ?? "linux";
}

function asPlatform(name: string | undefined): PlatformName | undefined {
  return (PLATFORMS as readonly string[]).includes(name ?? "") ? (name as PlatformName) : undefined;
}
