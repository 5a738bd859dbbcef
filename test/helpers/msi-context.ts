/**
 * @module test/helpers/msi-context: a ModuleContext for InstallMSI/UninstallMSI unit tests whose
 * `exec` records each request and answers with canned results.
 *
 * A fake, because both programs the modules start exist only on Windows: msiexec (the Wine
 * tests in test/e2e/windows-msi.test.ts run the real one) and Windows PowerShell's
 * Get-AuthenticodeSignature (not in Wine at all). Everything else is real: files, folders, the
 * shell kit that writes the check script, the S3 and HTTPS downloads.
 */

import type { ExecResult } from "../../src/model/ports.ts";
import type { ModuleContext } from "../../src/modules/_define.ts";
import { execResult, moduleContext } from "./module-context.ts";
import { StepError } from "../../src/errors.ts";
import { expect } from "bun:test";

export type ExecCall = Parameters<ModuleContext["exec"]>[0] & { windowsVerbatimArguments?: boolean };

export interface Canned {
  /** What powershell.exe "prints" and returns; default: a Valid signature. */
  powershell?: Partial<ExecResult>;
  /** What msiexec returns; default: exit 0, no output. */
  msiexec?: Partial<ExecResult>;
}

export interface MsiContext {
  ctx: ModuleContext;
  calls: ExecCall[];
  warnings: string[];
  infos: string[];
  /** The commands run, in order: "powershell" and/or "msiexec". */
  ran(): string[];
}

/** Get-AuthenticodeSignature's lines as the check script prints them (_authenticode.ts). */
export function signatureOutput(status: string, message = "", signer?: string): string {
  const lines = [`opentoe-authenticode status=${status}`, `opentoe-authenticode message=${message}`];
  if (signer !== undefined) lines.push(`opentoe-authenticode signer=${signer}`);
  return lines.join("\r\n") + "\r\n";
}

export function result(fields: Partial<ExecResult> = {}): ExecResult {
  return execResult(fields);
}

export function msiContext(canned: Canned = {}, overrides: Partial<ModuleContext> = {}): MsiContext {
  const calls: ExecCall[] = [];
  const warnings: string[] = [];
  const infos: string[] = [];
  const ctx = moduleContext({
    platform: "windows",
    log: { debug: () => {}, info: (m) => infos.push(m), warn: (m) => warnings.push(m) },
    exec: async (request) => {
      calls.push(request);
      if (request.command === "powershell.exe") return result({ stdout: signatureOutput("Valid", "Signature verified.", "CN=Opentoe Test"), ...canned.powershell });
      return result(canned.msiexec);
    },
    ...overrides,
  });
  return { ctx, calls, warnings, infos, ran: () => calls.map((c) => (c.command === "powershell.exe" ? "powershell" : "msiexec")) };
}

/** The error a step fails with (the promise must reject with a StepError). */
export async function failure(promise: Promise<unknown>): Promise<StepError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StepError);
    return error as StepError;
  }
  throw new Error("the step succeeded");
}
