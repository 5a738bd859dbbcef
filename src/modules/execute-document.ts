/** @module modules/execute-document: ExecuteDocument — run another component document, nested. */
import { Type } from "@sinclair/typebox";
import { Fields, Text, Whole } from "../model/schema-kit.ts";
import { defineModule, literalText, type InputIssue } from "./_define.ts";
import { parseS3Uri } from "./_inputs.ts";
import { COMPONENT_ARN_FORM, isArnSource, parseComponentArn } from "../model/component-arn.ts";

export default defineModule({
  name: "ExecuteDocument",
  summary: "Runs another component document (local path, s3:// URI or component ARN) as a nested execution.",
  platforms: ["linux", "windows", "macos"],
  shape: "map",
  input: () => Fields({
    document: Text({ minLength: 1, description: "local path, s3://bucket/key or Image Builder component ARN" }),
    "document-s3-bucket-owner": Type.Optional(Text({ description: "expected owner account of the S3 bucket" })),
    phases: Type.Optional(Text({ description: "comma-separated phases to run (default: all)" })),
    parameters: Type.Optional(
      Type.Array(
        Fields({ name: Text({ minLength: 1, description: "a parameter of the nested document" }), value: Text({ description: "the value it gets" }) }),
        { description: "parameters for the nested document" },
      ),
    ),
  }),
  // The nested run's summary, in the order `awstoe run` prints it (engine/run.ts summaryOf).
  output: () => Fields({
    executionId: Text(),
    status: Text(),
    failedStepCount: Whole(),
    executedStepCount: Whole(),
    ignoredFailedStepCount: Whole(),
    skippedStepCount: Whole(),
    failureMessage: Text(),
    logUrl: Text(),
  }),
  fixedStepFields: { timeoutSeconds: -1, maxAttempts: 1 },
  check(input) {
    const issues: InputIssue[] = [];
    const document = literalText(input.document);
    if (document?.startsWith("s3://") && parseS3Uri(document)?.key === "") {
      issues.push({ path: ["document"], message: `'${document}' names a bucket but no object key` });
    }
    if (document !== undefined && isArnSource(document)) {
      const parsed = parseComponentArn(document);
      if (!parsed.ok) issues.push({ path: ["document"], message: `'${document}' is not an Image Builder component ARN: ${parsed.problem}`, hint: `expected ${COMPONENT_ARN_FORM}` });
    }
    return issues;
  },
  async execute(given, ctx) {
    const phases = (given.phases ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "");
    const parameters = new Map((given.parameters ?? []).map((p) => [p.name, p.value] as const));
    const owner = given["document-s3-bucket-owner"];
    const { record, summary, reboot } = await ctx.runDocument({
      document: given.document,
      phases,
      parameters,
      ...(owner ? { bucketOwner: owner } : {}),
    });
    const outputs = { ...summary, logUrl: "" };
    // A step of the child asked for a reboot: its request is this step's. This step runs again
    // after the restart, and the child's finished steps are restored rather than run (engine/resume.ts).
    if (reboot !== undefined) return { outputs, detailedOutput: [record], reboot };
    const ok = summary.status === "success" || summary.status === "successWithIgnoredFailure";
    return {
      outputs,
      detailedOutput: [record],
      ...(ok ? {} : { failed: `nested document '${given.document}' ${summary.status}: ${summary.failureMessage || "see its record"}` }),
    };
  },
});
