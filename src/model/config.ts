/** @module model/config: the `--config` JSON file (docs/cli.md §4) as a TypeBox schema. */
import { Type, type Static } from "@sinclair/typebox";
import { Fields } from "./schema-kit.ts";

const NameValue = Fields({
  name: Type.String({ minLength: 1, description: "parameter name" }),
  value: Type.String({ description: "parameter value" }),
});

const text = (description: string) => Type.Optional(Type.String({ description }));

export const RunConfig = Fields(
  {
    documents: Type.Array(
      Fields({
        path: Type.String({ minLength: 1, description: "local path, s3://bucket/key or component ARN" }),
        parameters: Type.Optional(Type.Array(NameValue, { description: "parameters for this document only" })),
      }),
      { minItems: 1, description: "documents to run, in order" },
    ),
    parameters: Type.Optional(Type.Array(NameValue, { description: "parameters for every document" })),
    phases: text("comma-separated phases to run"),
    executionId: text("execution id"),
    // The AWS documentation spells it this way in one example; accept it too.
    executonId: text("execution id (misspelt form found in the AWS documentation)"),
    logDirectory: text("parent folder of the TOE_… log folder"),
    logS3BucketName: text("bucket to upload logs to"),
    logS3KeyPrefix: text("key prefix for the log upload"),
    logS3BucketOwner: text("expected owner of the log bucket"),
    documentS3BucketOwner: text("expected owner of buckets holding documents"),
    cwLogGroup: text("CloudWatch Logs group"),
    cwLogStream: text("CloudWatch Logs stream"),
    cwLogRegion: text("CloudWatch Logs region"),
    cwIgnoreFailures: Type.Optional(Type.Boolean({ description: "ignore CloudWatch delivery errors" })),
    stateDirectory: text("folder for reboot/resume state"),
    trace: Type.Optional(Type.Boolean({ description: "verbose console output" })),
    blockedActionModules: text("comma-separated action modules no document may use, as --blocked-action-modules"),
    requireParameterValues: Type.Optional(Type.Boolean({ description: "a parameter with no default and no value stops the run, as --require-parameter-values" })),
  },
  { title: "awstoe run configuration" },
);

export type RunConfig = Static<typeof RunConfig>;
