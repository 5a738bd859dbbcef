/** @module modules/_inputs: input fields and rules shared by several action modules. */
import { Type } from "@sinclair/typebox";
import { Choice, Fields, Flag, Text } from "../model/schema-kit.ts";
import { literalText, type InputIssue } from "./_define.ts";

/** Accepted `encoding` values (docs/modules.md §2), matched case-insensitively. */
export const ENCODINGS = [
  "utf8", "utf-8",
  "utf16", "utf-16", "utf16-LE", "utf-16-LE", "utf16-BE", "utf-16-BE",
  "utf32", "utf-32", "utf32-LE", "utf-32-LE", "utf32-BE", "utf-32-BE",
] as const;

export const Encoding = () =>
  Type.Optional(Choice(ENCODINGS, { caseInsensitive: true, templates: true, default: "utf8", description: "text encoding (default utf8)" }));

/** Octal permission bits such as "0755" or "755", or a reference. */
export const Permissions = (description: string) =>
  Text({ description, pattern: "^(?:[0-7]{3,4}|.*\\{\\{[^{}]*\\}\\}.*)$", "x-expected": "octal permissions such as \"0755\" or \"644\"" });

export const NoOutput = () => Fields({});

/** Inputs of CopyFile and MoveFile (and, with folders, CopyFolder and MoveFolder). */
export const sourceDestination = (what: "file" | "folder") =>
  Fields({
    source: Text({ minLength: 1, description: `the ${what} to take; * may stand in its last path segment` }),
    destination: Text({
      minLength: 1,
      description: `the new ${what} path, or a folder when it ends with a path separator`,
    }),
    overwrite: Type.Optional(Flag({ default: true, description: "replace what is already there (default true)" })),
  });

/** Path separators: `/` everywhere, `\` as well on Windows (docs/modules.md §2). */
export function endsWithSeparator(path: string, windows: boolean): boolean {
  return path.endsWith("/") || (windows && path.endsWith("\\"));
}

/** A wildcard in a source must sit in the last segment, and then the destination must be a folder. */
export function checkWildcardSource(input: Record<string, unknown>, windows: boolean): InputIssue[] {
  const source = literalText(input.source);
  if (source === undefined || !source.includes("*")) return [];
  const segments = source.split(windows ? /[\\/]/ : /\//);
  const issues: InputIssue[] = [];
  if (segments.slice(0, -1).some((s) => s.includes("*"))) {
    issues.push({ path: ["source"], message: "a * wildcard may only appear in the last path segment", needle: "*" });
  }
  const destination = literalText(input.destination);
  if (destination !== undefined && !endsWithSeparator(destination, windows)) {
    issues.push({
      path: ["destination"],
      message: "with a wildcard source the destination must be a folder",
      hint: `end the destination with a path separator, e.g. '${destination}/'`,
    });
  }
  return issues;
}

/** `s3://bucket/key` split into its parts, or undefined when it is not an S3 URI. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (match === null) return undefined;
  return { bucket: match[1]!, key: match[2]! };
}

/** Owner/group settings of SetFileOwner and SetFolderOwner. */
export const ownerFields = () => ({
  path: Text({ minLength: 1, description: "the file or folder" }),
  owner: Text({ minLength: 1, description: "user name or numeric id" }),
  group: Type.Optional(Text({ minLength: 1, description: "group name or numeric id (default: the owner's group)" })),
});
