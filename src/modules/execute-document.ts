/** @module modules/execute-document: ExecuteDocument — run another component document, nested. */
import { Type } from "@sinclair/typebox";
import { Fields, Text, Whole } from "../model/schema-kit.ts";
import { defineModule, literalText, type InputIssue } from "./_define.ts";
import { parseS3Uri } from "./_inputs.ts";

/** Image Builder component ARNs: version ARN, optionally with a build number. */
export const COMPONENT_ARN_PATTERN =
  /^arn:[\w-]+:imagebuilder:[\w-]+:(?:\d{12}|aws):component\/[a-z0-9-_]+\/\d+\.\d+\.\d+(?:\/\d+)?$/i;

export default defineModule({
  name: "ExecuteDocument",
  summary: "Runs another component document (local path, s3:// URI or component ARN) as a nested execution.",
  platforms: ["linux", "windows", "macos"],
  shape: "map",
  input: Fields({
    document: Text({ minLength: 1, description: "local path, s3://bucket/key or Image Builder component ARN" }),
    "document-s3-bucket-owner": Type.Optional(Text({ description: "expected owner account of the S3 bucket" })),
    phases: Type.Optional(Text({ description: "comma-separated phases to run (default: all)" })),
    parameters: Type.Optional(
      Type.Array(
        Fields({ name: Text({ minLength: 1 }), value: Text() }),
        { description: "parameters for the nested document" },
      ),
    ),
  }),
  output: Fields({
    executedStepCount: Whole(),
    executionId: Text(),
    failedStepCount: Whole(),
    failureMessage: Text(),
    ignoredFailedStepCount: Whole(),
    logUrl: Text(),
    status: Text(),
  }),
  fixedStepFields: { timeoutSeconds: -1, maxAttempts: 1 },
  check(input) {
    const issues: InputIssue[] = [];
    const document = literalText(input.document);
    if (document?.startsWith("s3://") && parseS3Uri(document)?.key === "") {
      issues.push({ path: ["document"], message: `'${document}' names a bucket but no object key` });
    }
    if (document?.startsWith("arn:") && !COMPONENT_ARN_PATTERN.test(document)) {
      issues.push({
        path: ["document"],
        message: `'${document}' is not an Image Builder component ARN`,
        hint: "expected arn:<partition>:imagebuilder:<region>:<account>:component/<name>/<x.y.z>[/<build>]",
      });
    }
    return issues;
  },
  async execute(input, ctx) {
    const given = input as { document: string; "document-s3-bucket-owner"?: string; phases?: string; parameters?: { name: string; value: string }[] | null };
    const phases = (given.phases ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "");
    const parameters = new Map((given.parameters ?? []).map((p) => [p.name, p.value] as const));
    const owner = given["document-s3-bucket-owner"];
    const { record, summary } = await ctx.runDocument({
      document: given.document,
      phases,
      parameters,
      ...(owner ? { bucketOwner: owner } : {}),
    });
    const outputs = { ...summary, logUrl: "" };
    const ok = summary.status === "success" || summary.status === "successWithIgnoredFailure";
    return {
      outputs,
      detailedOutput: [record],
      ...(ok ? {} : { failed: `nested document '${given.document}' ${summary.status}: ${summary.failureMessage || "see its record"}` }),
    };
  },
});
