/**
 * @module scripts/_esm-packages: a build plugin that takes a package's ES module build where its
 * package.json sends Bun to a CommonJS one.
 *
 * `yaml` exports CommonJS under the "node" condition (which Bun's resolver uses) and the same code
 * as ES modules under "default" (browser/dist). Inside the compiled executable the CommonJS form
 * costs every command that parses a document about 9 ms of start-up (a compiled program that only
 * imports yaml: +12 ms over hello-world as CommonJS, +2 ms as ES modules; scripts/bench-startup.ts).
 * The two builds differ only in how a warning is printed (console.warn instead of
 * process.emitWarning), and awstoe reads yaml's warnings from the parsed document, never from the
 * console. Tests and `bun run src/main.ts` keep the CommonJS build: the API is the same.
 */
import { join } from "node:path";

const YAML_ESM = join(import.meta.dir, "../node_modules/yaml/browser/dist/index.js");

export const esmPackages: Bun.BunPlugin = {
  name: "opentoe-esm-packages",
  setup(build) {
    build.onResolve({ filter: /^yaml$/ }, () => ({ path: YAML_ESM }));
  },
};
