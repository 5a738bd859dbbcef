/** @module modules/s3-upload: S3Upload — put local files or folders into Amazon S3. */
import { Type } from "@sinclair/typebox";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule, literalText, type InputIssue } from "./_define.ts";
import { NoOutput, parseS3Uri } from "./_inputs.ts";

export default defineModule({
  name: "S3Upload",
  summary: "Uploads a file, a folder (with recurse) or files matching a * pattern to S3.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: Fields({
    source: Text({ minLength: 1, description: "local file, folder, or pattern with * in its last segment" }),
    destination: Text({ minLength: 1, description: "s3://bucket/key for one file, s3://bucket/prefix/ for several" }),
    recurse: Type.Optional(Flag({ default: false, description: "include sub-folders (default false)" })),
    expectedBucketOwner: Type.Optional(Text({ description: "account id that must own the bucket" })),
  }),
  output: NoOutput(),
  check(input) {
    const destination = literalText(input.destination);
    const issues: InputIssue[] = [];
    if (destination !== undefined && parseS3Uri(destination) === undefined) {
      issues.push({ path: ["destination"], message: `'${destination}' is not an S3 URI`, hint: "write s3://bucket/key or s3://bucket/prefix/" });
    }
    return issues;
  },
});
