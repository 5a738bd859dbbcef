/**
 * @module cli/_sandbox-args: `run --sandbox` and `--sandbox-keep DIR` (docs/cli.md, "Sandbox"):
 * the option definitions and which side of the sandbox this process is on.
 *
 * The awstoe a person starts (outside) checks the options, then starts itself again inside the
 * namespaces with the same arguments and AWSTOE_SANDBOX_INNER set to the execution id; that
 * second awstoe (inside) runs the documents as usual, except that a reboot request ends the run,
 * no state folder is kept (nothing inside can survive a restart) and it uses the id it was given.
 */
import type { ArgsDef } from "citty";
import { UsageError } from "../errors.ts";

export const sandboxArgs = {
  sandbox: {
    type: "boolean",
    description: "Linux, as root: run in a throwaway copy of this machine (overlay of the file systems, private PID namespace) and report what the run changed (stderr and changes.json); the machine itself is left unchanged",
  },
  "sandbox-keep": {
    type: "string",
    valueHint: "dir",
    description: "With --sandbox: also copy the changed files to DIR/root and list removed paths in DIR/removed.txt (DIR must not exist, or be empty)",
  },
} as const satisfies ArgsDef;

/** Set for the awstoe that runs inside the sandbox: the execution id the outside one chose. Steps see it too. */
export const SANDBOX_INNER_ENV = "AWSTOE_SANDBOX_INNER";

/** The reason a reboot request ends a sandboxed run: it becomes part of the record's failureMessage. */
export const SANDBOX_REBOOT_REASON = "awstoe runs in a sandbox (--sandbox), where a reboot ends the run: the steps after it did not run";

export type SandboxChoice = { side: "none" } | { side: "outside"; keep?: string } | { side: "inside"; executionId: string };

export interface SandboxFacts {
  platform: NodeJS.Platform;
  /** Effective user id (undefined where there is none, Windows). */
  uid: number | undefined;
  env: NodeJS.ProcessEnv;
  /** Whether this process really is inside a sandbox (asked only when AWSTOE_SANDBOX_INNER is set). */
  inSandbox: () => boolean;
}

/** Reads the sandbox options; every misuse is one UsageError saying why. */
export function sandboxChoice(args: Record<string, unknown>, facts: SandboxFacts): SandboxChoice {
  const keep = args["sandbox-keep"];
  const wanted = args.sandbox === true;
  if (keep !== undefined && !wanted) throw new UsageError("--sandbox-keep only goes with --sandbox", { hint: "add --sandbox, or drop --sandbox-keep" });
  if (!wanted) return { side: "none" };
  const inner = facts.env[SANDBOX_INNER_ENV];
  if (inner !== undefined && inner !== "") {
    if (!facts.inSandbox()) {
      throw new UsageError(`${SANDBOX_INNER_ENV} is set, but this awstoe does not run inside a sandbox`, { hint: `it is awstoe's own marker for the run it starts inside; unset ${SANDBOX_INNER_ENV} and run again` });
    }
    return { side: "inside", executionId: inner };
  }
  if (keep !== undefined && (typeof keep !== "string" || keep === "")) throw new UsageError("option '--sandbox-keep' needs a folder", { hint: "e.g. --sandbox-keep ./changes (a folder that does not exist yet)" });
  if (facts.platform !== "linux") {
    throw new UsageError(`--sandbox needs Linux (this is ${facts.platform})`, { hint: "it is made with Linux namespaces and overlayfs; run the component on a Linux machine or instance" });
  }
  if (facts.uid !== 0) throw new UsageError("--sandbox needs root", { hint: "it mounts an overlay of the whole file system and runs the component as root, as Image Builder does: use sudo awstoe run --sandbox …" });
  if (args["dry-run"] === true) throw new UsageError("--sandbox does not go with --dry-run", { hint: "a dry run changes nothing already; drop one of them" });
  if (args["state-directory"] !== undefined) {
    throw new UsageError("--state-directory does not go with --sandbox", { hint: "a sandboxed run cannot be resumed after a reboot (a reboot ends it), so it keeps no state; drop --state-directory" });
  }
  if (args.retry !== undefined) {
    throw new UsageError("--retry does not go with --sandbox", { hint: "a sandboxed run keeps no resume state to retry from; use --from or --only (with --outputs-from) to run part of a component in the sandbox" });
  }
  return typeof keep === "string" ? { side: "outside", keep } : { side: "outside" };
}
