#!/usr/bin/env bun
/**
 * @module main: the entry point. Runs the command line and turns its outcome into the exit code;
 * the only place that decides how the process ends. `--version` is answered before anything else loads.
 */
import { ExitCode, isToeError } from "./errors.ts";

/**
 * A reader that goes away early (`awstoe schema | head`) is not an error of ours: stop quietly.
 * Streams are touched only when written to: creating them costs start-up time (cli/_out.ts).
 */
function quiet<T extends NodeJS.WriteStream>(stream: T): T {
  if (stream.listenerCount("error") === 0) stream.on("error", () => {});
  return stream;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    const { versionLine } = await import("./version.ts");
    // console.log, not process.stdout: the first use of process.stdout loads node's stream
    // modules, which took --version from 19 ms to 32 ms (a compiled hello-world: 18 ms).
    console.log(versionLine());
    return ExitCode.ok;
  }
  try {
    const { runCli } = await import("./cli/index.ts");
    return await runCli(argv, (text) => quiet(process.stdout).write(`${text}\n`));
  } catch (error) {
    if (isToeError(error)) {
      // One line, with what the user typed escaped (cli/index.ts errorLine).
      const { errorLine } = await import("./cli/index.ts");
      quiet(process.stderr).write(`${errorLine(error)}\n`);
      return error.exitCode;
    }
    // Anything else is a bug in awstoe: say so plainly, with the trace for the report.
    quiet(process.stderr).write(`awstoe: internal error (please report it): ${(error as Error)?.stack ?? String(error)}\n`);
    return ExitCode.failed;
  }
}

// Set the exit code and let the process end on its own: Bun's process.exit() drops output a
// pipe's reader has not taken yet (anything past the 64 KiB pipe buffer), even after a write
// callback or a 'drain' event. Commands therefore must leave no open handles behind.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = ExitCode.failed;
  },
);
