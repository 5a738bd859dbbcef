/** @module modules/_system32: Windows programs by absolute path, never found through the working folder. */

/**
 * `<SystemRoot>\System32\<name>`. A bare name would be looked up in the current folder first
 * (CreateProcess's search order), where a step may have just downloaded anything.
 */
export function system32Program(name: string): string {
  const root = process.env.SystemRoot ?? process.env.SYSTEMROOT ?? "C:\\Windows";
  return `${root.replace(/[\\/]+$/, "")}\\System32\\${name}`;
}
