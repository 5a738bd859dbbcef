/**
 * The command line as awstoe reads it: Go flag-package syntax checked by cli/_strict.ts and
 * rewritten into the form citty parses without ambiguity; arguments that were not UTF-8
 * (cli/_raw-argv.ts); control characters escaped in what is printed (cli/_render.ts printable).
 */
import { describe, expect, test } from "bun:test";
import { parseArgs, type ArgsDef } from "citty";
import { isUtf8, nonUtf8Arguments, showBytes } from "../../src/cli/_raw-argv.ts";
import { printable } from "../../src/cli/_render.ts";
import { checkArguments, wantsHelp } from "../../src/cli/_strict.ts";
import { runArgs } from "../../src/cli/run.ts";
import { UsageError } from "../../src/errors.ts";

const ARGS = runArgs as unknown as ArgsDef;

/** What `awstoe run <raw>` hands its command, after checking and citty's parse. */
function parsed(raw: string[]): Record<string, unknown> {
  return parseArgs(checkArguments(raw, ARGS, "awstoe run"), ARGS) as Record<string, unknown>;
}

function usageError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).message;
  }
  throw new Error("expected a usage error");
}

describe("option syntax (Go's flag package)", () => {
  test.each([
    [["-s=/p"], "/p"],
    [["-s", "/p"], "/p"],
    [["--s=/p"], "/p"],
    [["-state-directory", "/p"], "/p"],
    [["-state-directory=/p"], "/p"],
    [["--state-directory=/p"], "/p"],
    [["--state-directory", "/p"], "/p"],
    [["-s==/p"], "=/p"], // only the first '=' separates
    [["-s=-/p"], "-/p"], // a value after '=' may start with a dash
    [["-s", "/a", "-s", "/b"], "/b"], // the last one wins, as in Go
  ])("%j is the state directory %j", (raw, expected) => {
    expect(parsed(raw)["state-directory"]).toBe(expected);
  });

  test("short and single-dash forms of every value option reach the command", () => {
    const args = parsed(["-d=a.yaml", "-p=build", "-i=id1", "-l=/logs", "-b=bkt", "-k=pre", "-o=json", "-cw-log-group=g", "-cw-log-stream", "s"]);
    expect(args).toMatchObject({ documents: "a.yaml", phases: "build", "execution-id": "id1", "log-directory": "/logs", "log-s3-bucket-name": "bkt", "log-s3-key-prefix": "pre", output: "json", "cw-log-group": "g", "cw-log-stream": "s" });
  });

  test.each([
    [["-t"], true],
    [["--trace"], true],
    [["-trace"], true],
    [["-t=false"], false],
    [["-t=0"], false],
    [["--trace=F"], false],
    [["--trace=TRUE"], true],
    [["--no-trace"], false],
    [["--no-trace", "--trace"], true], // the last one wins
    [["--trace", "--no-trace"], false],
    [[], undefined],
  ])("flag %j is %j", (raw, expected) => {
    expect(parsed(raw).trace).toBe(expected);
  });

  test("a flag's value must be one Go's ParseBool takes", () => {
    expect(usageError(() => checkArguments(["-t=yes"], ARGS, "awstoe run"))).toContain("takes true or false, not 'yes'");
    expect(usageError(() => checkArguments(["--no-trace=1"], ARGS, "awstoe run"))).toContain("takes no value");
  });

  test("everything from -- on is passed unchanged", () => {
    expect(checkArguments(["-d", "a.yaml", "--", "-s=x", "y"], ARGS, "awstoe run")).toEqual(["--documents=a.yaml", "--", "-s=x", "y"]);
  });

  test("mistakes are still refused", () => {
    expect(usageError(() => checkArguments(["-s/p"], ARGS, "awstoe run"))).toContain("unknown option '-s/p'");
    expect(usageError(() => checkArguments(["-sd"], ARGS, "awstoe run"))).toContain("unknown option '-sd'"); // no bundling in Go
    expect(usageError(() => checkArguments(["-s"], ARGS, "awstoe run"))).toContain("'--state-directory' needs a value");
    expect(usageError(() => checkArguments(["-d", "--trace"], ARGS, "awstoe run"))).toContain("'--documents' needs a value");
    expect(usageError(() => checkArguments(["-o=jsn"], ARGS, "awstoe run"))).toContain("does not take 'jsn'");
    expect(usageError(() => checkArguments(["stray"], ARGS, "awstoe run"))).toContain("unexpected argument 'stray'");
  });

  test("help in any of Go's spellings", () => {
    for (const help of ["-h", "--h", "-help", "--help"]) expect(wantsHelp(["-d", "x", help])).toBe(true);
    expect(wantsHelp(["--", "--help"])).toBe(false);
    expect(wantsHelp(["-hh"])).toBe(false);
  });
});

describe("arguments that are not UTF-8", () => {
  const bytes = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p))));
  /** A /proc/self/cmdline for `awstoe <args>`, each argument given as bytes. */
  const cmdline = (...args: Uint8Array[]) => () => Buffer.concat([Buffer.from("/usr/local/bin/awstoe\0"), ...args.flatMap((a) => [a, Buffer.from([0])])]);
  const lossy = (b: Uint8Array) => new TextDecoder().decode(b);

  test("UTF-8 well-formedness (Unicode table 3-7)", () => {
    for (const good of [[], [0x41], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0xed, 0x9f, 0xbf], [0xf4, 0x8f, 0xbf, 0xbf]]) {
      expect(isUtf8(Uint8Array.from(good)), JSON.stringify(good)).toBe(true);
    }
    // stray continuation, overlong, surrogate, past U+10FFFF, truncated, Latin-1
    for (const bad of [[0x80], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xe9], [0xff]]) {
      expect(isUtf8(Uint8Array.from(bad)), JSON.stringify(bad)).toBe(false);
    }
  });

  test("shown with each stray byte as \\xNN and control characters escaped", () => {
    expect(showBytes(bytes("caf", [0xe9], ".yaml"))).toBe("caf\\xe9.yaml");
    expect(showBytes(bytes("é", [0xe2, 0x82], "/\n"))).toBe("é\\xe2\\x82/\\n");
  });

  test("found by matching the raw command line's tail to argv", () => {
    const bad = bytes("/tmp/caf", [0xe9]);
    const read = cmdline(Buffer.from("run"), Buffer.from("-s"), bad, Buffer.from("-d"), Buffer.from("a.yaml"));
    expect(nonUtf8Arguments(["run", "-s", lossy(bad), "-d", "a.yaml"], read)).toEqual(new Map([[2, "/tmp/caf\\xe9"]]));
    // any tail of argv works (runCli passes all arguments after the program)
    expect(nonUtf8Arguments(["-s", lossy(bad), "-d", "a.yaml"], read)).toEqual(new Map([[1, "/tmp/caf\\xe9"]]));
  });

  test("nothing is reported when the command line cannot be matched or read", () => {
    const bad = bytes([0xff]);
    expect(nonUtf8Arguments(["run", "other", lossy(bad)], cmdline(Buffer.from("run"), Buffer.from("-s"), bad))).toEqual(new Map());
    expect(nonUtf8Arguments(["run", "-s", lossy(bad)], () => undefined)).toEqual(new Map());
    expect(nonUtf8Arguments(["a", "b", "c", "d"], cmdline(Buffer.from("a")))).toEqual(new Map());
  });

  test("the command line is read only when some argument decoded to U+FFFD", () => {
    let reads = 0;
    const counting = () => {
      reads++;
      return Buffer.from("run\0-d\0a.yaml\0");
    };
    expect(nonUtf8Arguments(["run", "-d", "a.yaml"], counting)).toEqual(new Map());
    expect(reads).toBe(0);
    // a typed U+FFFD that is valid UTF-8 is looked at, and not reported
    expect(nonUtf8Arguments(["run", "-d", "\ufffd.yaml"], cmdline(Buffer.from("run"), Buffer.from("-d"), Buffer.from("\ufffd.yaml")))).toEqual(new Map());
  });

  test("refused naming the option, whichever way the value was given", () => {
    const notUtf8 = new Map([[1, "caf\\xe9.yaml"]]);
    expect(usageError(() => checkArguments(["-d", "caf\ufffd.yaml"], ARGS, "awstoe run", notUtf8))).toBe("option '--documents' has a value that is not valid UTF-8: 'caf\\xe9.yaml'");
    const inline = new Map([[0, "--documents=caf\\xe9.yaml"]]);
    expect(usageError(() => checkArguments(["--documents=caf\ufffd.yaml"], ARGS, "awstoe run", inline))).toBe("option '--documents' has a value that is not valid UTF-8: 'caf\\xe9.yaml'");
  });
});

describe("printable", () => {
  test("control characters are escaped; other text, backslashes and U+FFFD are not", () => {
    expect(printable("a\u0000b\u001b[31mc\u0007\n\r\t\u007f\u0085\u2028\u202e")).toBe("a\\x00b\\x1b[31mc\\x07\\n\\r\\t\\x7f\\x85\\u2028\\u202e");
    expect(printable("C:\\Temp\\café — ok �")).toBe("C:\\Temp\\café — ok �");
  });
});

describe("suggestions for an unknown option", () => {
  const hintFor = (token: string) => {
    try {
      checkArguments([token, "x"], runArgs as unknown as ArgsDef, "awstoe run");
    } catch (error) {
      return (error as UsageError).hint;
    }
    return undefined;
  };
  test("a shortened name suggests the one option it starts", () => {
    expect(hintFor("--log-dir")).toContain("did you mean '--log-directory'?");
    expect(hintFor("--state")).toContain("did you mean '--state-directory'?");
  });
  test("a misspelt one suggests the closest; an ambiguous prefix suggests nothing wrong", () => {
    expect(hintFor("--log-directroy")).toContain("did you mean '--log-directory'?");
    expect(hintFor("--cw")).toBe("run 'awstoe run --help' to see its options");
  });
});
