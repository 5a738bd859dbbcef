/** @module cli/_args: option definitions shared by commands, so their help text stays the same. */
import type { ArgsDef } from "citty";

export const documentsArgs = {
  documents: {
    type: "string",
    alias: "d",
    valueHint: "a.yaml,b.yaml",
    description: "Comma-separated component documents: local paths, s3://bucket/key or Image Builder component ARNs",
  },
  config: {
    type: "string",
    alias: "c",
    valueHint: "file.json",
    description: "JSON run configuration whose `documents` are used (instead of --documents)",
  },
  "document-s3-bucket-owner": {
    type: "string",
    valueHint: "account-id",
    description: "Expected owner account of buckets holding s3:// documents",
  },
} as const satisfies ArgsDef;

export const traceArgs = {
  trace: { type: "boolean", alias: "t", description: "Show debug detail on stderr" },
} as const satisfies ArgsDef;

export const outputArgs = {
  output: {
    type: "enum",
    alias: "o",
    options: ["text", "json"],
    default: "text",
    valueHint: "text|json",
    description: "text: a report on stderr; json: every diagnostic as data on stdout",
  },
} as const satisfies ArgsDef;

export const platformArgs = {
  platform: {
    type: "enum",
    options: ["linux", "windows", "macos"],
    valueHint: "linux|windows|macos",
    description: "Check the documents for this platform (default: this machine's)",
  },
} as const satisfies ArgsDef;

/** Splits a comma list, trimming items; an empty item is a usage mistake the caller reports. */
export function splitList(value: string): string[] {
  return value.split(",").map((item) => item.trim());
}
