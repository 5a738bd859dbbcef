/** @module cli/lsp: `awstoe lsp` — the Language Server over stdio (docs/lsp.md); loaded only for this command. */
import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "lsp", description: "run a Language Server (LSP over stdio) for component documents" },
  args: {
    stdio: { type: "boolean", description: "talk over stdin/stdout (the only transport, accepted for clients that pass it)" },
  },
  async run() {
    const [{ serveLsp }, { pidExists }] = await Promise.all([import("../lsp/server.ts"), import("../platform/process-identity.ts")]);
    return serveLsp({ input: process.stdin, output: process.stdout, errors: process.stderr, processExists: pidExists });
  },
});
