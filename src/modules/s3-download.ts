/** @module modules/s3-download: S3Download — fetch objects from Amazon S3 to local files. */
import { Type } from "@sinclair/typebox";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule, literalText, type InputIssue, type InputOf } from "./_define.ts";
import { NoOutput, parseS3Uri } from "./_inputs.ts";
import { forEachOperation } from "./_fs.ts";
import { downloadItem } from "./_s3-download.ts";

/** One element of `inputs`. */
const inputSchema = () =>
  Fields({
    source: Text({ minLength: 1, description: "s3://bucket/key, or s3://bucket/prefix/* for every object under it" }),
    destination: Text({ minLength: 1, description: "file path for one object; folder for a prefix" }),
    expectedBucketOwner: Type.Optional(Text({ description: "account id that must own the bucket" })),
    overwrite: Type.Optional(Flag({ default: true, description: "replace existing files (default true)" })),
  });

/** One element as execute receives it (engine/inputs.ts): overwrite is always there. */
export type S3DownloadItem = InputOf<typeof inputSchema>;

export default defineModule({
  name: "S3Download",
  summary: "Downloads one S3 object, or every object under a prefix (s3://bucket/prefix/*), to local paths.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: inputSchema,
  output: NoOutput,
  check(input) {
    const source = literalText(input.source);
    if (source === undefined) return [];
    const issues: InputIssue[] = [];
    const uri = parseS3Uri(source);
    if (uri === undefined || uri.key === "") {
      issues.push({ path: ["source"], message: `'${source}' is not an S3 object URI`, hint: "write s3://bucket/key or s3://bucket/prefix/*" });
    } else if (uri.key.includes("*") && !isTrailingWildcard(uri.key)) {
      issues.push({ path: ["source"], message: "only a trailing /* wildcard is allowed in an S3 source", needle: "*" });
    }
    return issues;
  },
  async execute(items, ctx) {
    await forEachOperation(items, (item) => item.source, (item) => downloadItem(item, ctx));
    return { outputs: {} };
  },
});

/** `prefix/*` or `*`: the only wildcard S3Download understands. */
function isTrailingWildcard(key: string): boolean {
  return key.indexOf("*") === key.length - 1 && (key === "*" || key.endsWith("/*"));
}
