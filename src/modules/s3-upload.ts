/** @module modules/s3-upload: S3Upload — put local files or folders into Amazon S3. */
import { Type } from "@sinclair/typebox";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { transferSettings } from "../model/transfer-limit.ts";
import { defineModule, literalText, type InputIssue, type InputOf } from "./_define.ts";
import { parseS3Uri } from "./_inputs.ts";
import { forEachOperation } from "./_fs.ts";
import { plannedUploads, uploadAll } from "./_s3-upload.ts";

/** One element of `inputs`. */
const inputSchema = () =>
  Fields({
    source: Text({ minLength: 1, description: "local file, folder, or pattern with * in its last segment" }),
    destination: Text({ minLength: 1, description: "s3://bucket/key for one file, s3://bucket/prefix/ for several" }),
    recurse: Type.Optional(Flag({ default: false, description: "include sub-folders (default false)" })),
    expectedBucketOwner: Type.Optional(Text({ description: "account id that must own the bucket" })),
  });

/** One element as execute receives it (engine/inputs.ts): recurse is always there. */
export type S3UploadItem = InputOf<typeof inputSchema>;

export default defineModule({
  name: "S3Upload",
  summary: "Uploads a file, a folder (with recurse) or files matching a * pattern to S3.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: inputSchema,
  output: () => Fields({
    uploaded: Text({ description: "s3://bucket/key of every object sent, comma-separated, in the order planned: items as written, a folder's files by name, folder by folder" }),
  }),
  check(input) {
    const destination = literalText(input.destination);
    const issues: InputIssue[] = [];
    if (destination !== undefined && parseS3Uri(destination) === undefined) {
      issues.push({ path: ["destination"], message: `'${destination}' is not an S3 URI`, hint: "write s3://bucket/key or s3://bucket/prefix/" });
    }
    return issues;
  },
  async execute(items, ctx) {
    const settings = transferSettings(process.env);
    const uploaded: string[] = [];
    await forEachOperation(items, (item) => item.source, async (item) => {
      const uploads = plannedUploads(item, ctx);
      const bucket = parseS3Uri(item.destination)!.bucket;
      const owner = item.expectedBucketOwner ? { expectedBucketOwner: item.expectedBucketOwner } : {};
      uploaded.push(...(await uploadAll(uploads, bucket, owner, settings, ctx)));
      ctx.log.info(`uploaded ${uploads.length} file(s) to s3://${bucket}/`);
    });
    return { outputs: { uploaded: uploaded.join(",") } };
  },
});
