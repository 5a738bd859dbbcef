#!/usr/bin/env bun
/**
 * @module scripts/build-node: bundles `awstoe` into one CommonJS file, dist/awstoe-node.cjs, that
 * any Node >= 18.3 runs — the linux/386 fallback of cli.md §14 and the input of the windows/386 Node
 * SEA (scripts/build-windows-386.ts; TOOLCHAIN.md §5).
 *
 *   bun run scripts/build-node.ts        build, then check `dist/awstoe-node.cjs --version`
 *
 * The bundle holds everything, the AWS SDK included, so it needs nothing beside it but a `node`.
 * It is minified (it starts about 20% faster under Node, which parses the whole file at start-up)
 * with a linked source map beside it, which Node reads under `--enable-source-maps`. Version and
 * commit are embedded the same way as in the compiled binaries (scripts/build.ts).
 *
 * Exits non-zero when the build fails or the bundle fails its `--version` smoke check.
 */
import { chmodSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { ENTRY, gitCommit, REPO, smokeCheck, staleReason } from "./build.ts";

/** The bundle, and the source map written beside it. */
export const NODE_BUNDLE = join(REPO, "dist/awstoe-node.cjs");
export const NODE_BUNDLE_MAP = `${NODE_BUNDLE}.map`;

/**
 * The oldest Node the bundle runs on. cli.md §14 says 18; 18.0–18.2 lack util.parseArgs, without
 * which citty reads every option as a positional argument. The e2e suite passed on 18.3.0 and
 * 18.20.8 (the SDK's own `engines` says >= 20, so an SDK update may raise this).
 */
export const MINIMUM_NODE = { major: 18, minor: 3 } as const;

/**
 * Runs before anything else in the bundle: on an older Node, one line saying so and exit 1,
 * instead of a misleading usage error. (A Node too old to parse the bundle stops at a SyntaxError
 * before this can run.)
 */
const NODE_VERSION_GUARD = [
  `(function(){var v=process.versions.node.split(".").map(Number);`,
  `if(v[0]<${MINIMUM_NODE.major}||(v[0]===${MINIMUM_NODE.major}&&v[1]<${MINIMUM_NODE.minor})){`,
  `process.stderr.write("awstoe: this Node (v"+process.versions.node+") is too old for awstoe-node.cjs, which needs Node ${MINIMUM_NODE.major}.${MINIMUM_NODE.minor} or newer \\u2014 run it with a newer node\\n");`,
  `process.exit(1)}})();`,
].join("");

const THIS_SCRIPT = import.meta.path;

/**
 * The bundle's entry is a one-line module that imports src/main.ts rather than src/main.ts itself:
 * Bun.build reads the `#!/usr/bin/env bun` line of an entry point as "target bun" whatever `target`
 * says, and then wraps the bundle in a function that only Bun calls — Node would load it, run
 * nothing and exit 0.
 */
const VIRTUAL_ENTRY = "awstoe-node:entry";

const entryPlugin: Bun.BunPlugin = {
  name: "awstoe-node-entry",
  setup(build) {
    build.onResolve({ filter: /^awstoe-node:entry$/ }, () => ({ path: "entry.ts", namespace: "awstoe-node" }));
    build.onLoad({ filter: /.*/, namespace: "awstoe-node" }, () => ({ contents: `import ${JSON.stringify(ENTRY)};\n`, loader: "ts" }));
  },
};

export interface BuiltBundle {
  path: string;
  bytes: number;
  ms: number;
}

/**
 * Writes dist/awstoe-node.cjs (and its .map) for `commit`. The files appear whole or not at all:
 * they are built in a scratch folder and renamed into place. Throws with bun's messages when the
 * build fails, or when the output is not something Node can run.
 */
export async function buildNodeBundle(commit: string = gitCommit()): Promise<BuiltBundle> {
  const started = performance.now();
  // One level below the repository like dist/, so the source map's paths (../src/…) hold after the
  // move; `*.tmp` is git-ignored.
  const scratch = join(REPO, `.awstoe-node.${process.pid}.tmp`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  try {
    const result = await Bun.build({
      entrypoints: [VIRTUAL_ENTRY],
      plugins: [entryPlugin],
      outdir: scratch,
      naming: "awstoe-node.cjs",
      target: "node",
      format: "cjs",
      minify: true,
      sourcemap: "linked",
      banner: `#!/usr/bin/env node\n${NODE_VERSION_GUARD}`,
      define: {
        OPENTOE_COMMIT: JSON.stringify(commit),
        // consola reads `import.meta.env`, which is a syntax error in CommonJS (TOOLCHAIN.md §5).
        "import.meta.env": "undefined",
        // Under Node < 22 the SDK prints a ten-line NodeVersionSupportWarning on stderr at the first
        // client it makes. Its advice (upgrade Node) cannot be followed where this bundle is for —
        // 32-bit Linux has no Node 22 — and it would make the output differ from the compiled
        // binaries'. This is the SDK's own switch, set in the bundled code only, so the steps'
        // environment does not change.
        "process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": JSON.stringify("true"),
      },
      throw: false,
    });
    const errors = result.logs.filter((log) => log.level === "error");
    if (!result.success || errors.length > 0) {
      const detail = (errors.length > 0 ? errors : result.logs).map((log) => `  ${String(log)}`).join("\n");
      throw new Error(`bundling ${relative(REPO, ENTRY)} for Node failed${detail === "" ? "" : `:\n${detail}`}`);
    }
    for (const log of result.logs) console.warn(`  node: ${log.level}: ${String(log)}`);
    const written = join(scratch, "awstoe-node.cjs");
    checkRunsUnderNode(await Bun.file(written).text());
    chmodSync(written, 0o755);
    mkdirSync(dirname(NODE_BUNDLE), { recursive: true });
    renameSync(`${written}.map`, NODE_BUNDLE_MAP);
    renameSync(written, NODE_BUNDLE);
    return { path: NODE_BUNDLE, bytes: statSync(NODE_BUNDLE).size, ms: performance.now() - started };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Throws when the bundle holds something plain CommonJS under Node cannot run. */
function checkRunsUnderNode(text: string): void {
  if (/^\/\/ @bun\b/m.test(text.slice(0, 4096))) {
    throw new Error("the bundle came out in Bun's own CommonJS wrapper (a `// @bun` line at the top), which Node loads without running; was the entry point changed?");
  }
  const meta = /\bimport\.meta\b/.exec(text);
  if (meta !== null) {
    const around = text.slice(Math.max(0, meta.index - 60), meta.index + 60).replace(/\s+/g, " ");
    throw new Error(`the bundle still uses import.meta, a syntax error in CommonJS under Node; add it to the defines (near: …${around}…)`);
  }
}

/**
 * Why the bundle must be rebuilt, or undefined when it is newer than its sources: everything
 * scripts/build.ts staleReason() looks at, plus this script.
 */
export function nodeBundleStaleReason(): string | undefined {
  const reason = staleReason(NODE_BUNDLE);
  if (reason !== undefined) return reason;
  return statSync(THIS_SCRIPT).mtimeMs > statSync(NODE_BUNDLE).mtimeMs ? "older than scripts/build-node.ts" : undefined;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log("usage: bun run scripts/build-node.ts   (writes dist/awstoe-node.cjs; run it with node >= 18)");
    return 0;
  }
  if (argv.length > 0) {
    console.error(`build-node: unknown argument '${argv[0]}'\nusage: bun run scripts/build-node.ts`);
    return 2;
  }
  const commit = gitCommit();
  console.log(`bundling awstoe (commit ${commit}) for Node`);
  let built: BuiltBundle;
  try {
    built = await buildNodeBundle(commit);
  } catch (error) {
    console.error(`  FAIL  node: ${(error as Error).message}`);
    return 1;
  }
  console.log(`  ok    node         ${relative(REPO, built.path).padEnd(30)} ${(built.bytes / 1024 / 1024).toFixed(1).padStart(5)} MB (${built.bytes} bytes) in ${(built.ms / 1000).toFixed(1)} s`);
  // Runs the file itself, so its `#!/usr/bin/env node` line is checked too: this is the `node` on PATH.
  const smoke = smokeCheck(built.path, commit);
  console.log(`  ${smoke.ok ? "ok  " : "FAIL"}  smoke: ${relative(REPO, built.path)} --version → ${smoke.line}`);
  return smoke.ok ? 0 : 1;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`build-node: ${(error as Error)?.stack ?? String(error)}`);
      process.exit(1);
    },
  );
}
