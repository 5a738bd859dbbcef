/** @module modules/web-download: WebDownload — fetch files over HTTP or HTTPS. */
import { Type } from "@sinclair/typebox";
import { Choice, Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule, literalText, type InputIssue } from "./_define.ts";

export const CHECKSUM_ALGORITHMS = ["MD5", "SHA1", "SHA256", "SHA512"] as const;
const DIGEST_HEX_LENGTH: Record<string, number> = { MD5: 32, SHA1: 40, SHA256: 64, SHA512: 128 };

export default defineModule({
  name: "WebDownload",
  summary: "Downloads files from HTTP(S) URLs, with retries and optional checksum verification.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: Fields({
    source: Text({ minLength: 1, description: "http:// or https:// URL" }),
    destination: Text({ minLength: 1, description: "file path, or a folder when it ends with a path separator" }),
    overwrite: Type.Optional(Flag({ default: true, description: "replace an existing file (default true)" })),
    checksum: Type.Optional(Text({ description: "expected hex digest of the file" })),
    algorithm: Type.Optional(Choice(CHECKSUM_ALGORITHMS, { caseInsensitive: true, templates: true, description: "MD5, SHA1, SHA256 or SHA512" })),
    ignoreCertificateErrors: Type.Optional(Flag({ default: false, description: "skip TLS certificate checks for this download" })),
  }),
  output: Fields({ destination: Text({ description: "the downloaded files' paths, one per line" }) }),
  check(input) {
    const issues: InputIssue[] = [];
    const source = literalText(input.source);
    if (source !== undefined && !isHttpUrl(source)) {
      issues.push({ path: ["source"], message: `'${source}' is not an http:// or https:// URL` });
    }
    const hasChecksum = input.checksum !== undefined;
    const hasAlgorithm = input.algorithm !== undefined;
    if (hasChecksum !== hasAlgorithm) {
      issues.push({
        path: [hasChecksum ? "checksum" : "algorithm"],
        severity: "warning",
        message: `${hasChecksum ? "checksum" : "algorithm"} without ${hasChecksum ? "algorithm" : "checksum"}: the download will not be verified`,
        hint: "give both checksum and algorithm to verify the file",
      });
    }
    const checksum = literalText(input.checksum);
    const algorithm = literalText(input.algorithm)?.toUpperCase();
    if (checksum !== undefined && algorithm !== undefined && DIGEST_HEX_LENGTH[algorithm] !== undefined) {
      const want = DIGEST_HEX_LENGTH[algorithm]!;
      if (!/^[0-9a-fA-F]*$/.test(checksum) || checksum.length !== want) {
        issues.push({ path: ["checksum"], message: `an ${algorithm} checksum is ${want} hex digits; '${checksum}' is not` });
      }
    }
    return issues;
  },
});

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}
