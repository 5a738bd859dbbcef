#!/usr/bin/env bun
/**
 * @module scripts/gen-fleet: writes the documents that run opentoe on many instances
 * (docs/fleet.md) into examples/fleet/, from scripts/install.sh and the scripts/_fleet-*.ts parts:
 *
 *   opentoe-run-command.json        SSM Command document (schema 2.2) for Run Command
 *   opentoe-imagebuilder-linux.yaml Image Builder component (ExecuteBash)
 *   opentoe-imagebuilder-windows.yaml  the same with ExecutePowerShell
 *
 *   bun run scripts/gen-fleet.ts          rewrites them
 *   bun run scripts/gen-fleet.ts --check  exits 1 when a committed file differs from what it renders
 *
 * The Linux scripts carry install.sh itself, so a change to the installer must be followed by a
 * run of this script; test/scripts/fleet-documents.test.ts fails until it is.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { imageBuilderComponent } from "./_fleet-imagebuilder.ts";
import { runCommandDocument } from "./_fleet-ssm.ts";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const FLEET_DIR = join(REPO, "examples", "fleet");
export const INSTALL_SH = join(REPO, "scripts", "install.sh");

/** File name under examples/fleet/ → its content, rendered from `installer` (install.sh's text). */
export function renderFleetFiles(installer = readFileSync(INSTALL_SH, "utf8")): Record<string, string> {
  return {
    "opentoe-run-command.json": runCommandDocument(installer),
    "opentoe-imagebuilder-linux.yaml": imageBuilderComponent("linux", installer),
    "opentoe-imagebuilder-windows.yaml": imageBuilderComponent("windows", installer),
  };
}

/** Names of the committed files that differ from what is rendered now. */
export function staleFleetFiles(): string[] {
  return Object.entries(renderFleetFiles()).flatMap(([name, text]) => {
    let committed: string | undefined;
    try {
      committed = readFileSync(join(FLEET_DIR, name), "utf8");
    } catch {
      committed = undefined;
    }
    return committed === text ? [] : [name];
  });
}

if (import.meta.main) {
  if (process.argv.includes("--check")) {
    const stale = staleFleetFiles();
    if (stale.length > 0) {
      process.stderr.write(`examples/fleet/ is out of date: ${stale.join(", ")}; run \`bun run scripts/gen-fleet.ts\` and commit the result\n`);
      process.exitCode = 1;
    }
  } else {
    for (const [name, text] of Object.entries(renderFleetFiles())) writeFileSync(join(FLEET_DIR, name), text);
    process.stderr.write(`wrote ${Object.keys(renderFleetFiles()).map((n) => `examples/fleet/${n}`).join(", ")}\n`);
  }
}
