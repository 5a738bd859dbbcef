/** @module platform/host: which of awstoe's platforms this process runs on. */
import type { PlatformName } from "../model/platform.ts";

export function hostPlatform(platform: NodeJS.Platform = process.platform): PlatformName {
  if (platform === "win32") return "windows";
  if (platform === "darwin") return "macos";
  return "linux";
}
