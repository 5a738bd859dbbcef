/**
 * @module test/helpers/aws-env: an environment in which the AWS SDK finds only what a test gives
 * it — for a child awstoe or for this process's own SDK — so nothing of the machine's or the
 * developer's AWS set-up (variables, ~/.aws files, an instance role) can make a test pass or fail.
 */

/**
 * This process's environment with every AWS_* variable removed, the shared config and credentials
 * files pointed at paths in `dir` that do not exist, instance metadata (IMDS) disabled and colour
 * off; then `extra` merged over it (`undefined` removes a variable, so a test can re-enable IMDS).
 */
export function isolatedAwsEnv(dir: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const merged: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined };
  for (const key of Object.keys(merged)) if (key.startsWith("AWS_")) merged[key] = undefined;
  Object.assign(
    merged,
    {
      AWS_CONFIG_FILE: `${dir}/no-such-aws-config`,
      AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-such-aws-credentials`,
      AWS_EC2_METADATA_DISABLED: "true",
    },
    extra,
  );
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(merged)) if (value !== undefined) env[key] = value;
  return env;
}

/**
 * isolatedAwsEnv for spawnAwstoe/runAwstoe, which merge what they are given over this process's
 * environment: every AWS_* variable of this process that the isolated set leaves out is named
 * with `undefined`, so it is removed rather than inherited.
 */
export function isolatedAwsOverrides(dir: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const isolated = isolatedAwsEnv(dir, extra);
  const removed: Record<string, undefined> = {};
  for (const key of Object.keys(process.env)) if (key.startsWith("AWS_") && !(key in isolated)) removed[key] = undefined;
  return { ...removed, ...isolated };
}
