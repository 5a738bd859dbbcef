/**
 * @module test/helpers/hostile-tree: a tree that a hostile local user (`nobody`) prepared for root —
 * names that are not UTF-8 (`d\xff`, `x\xff`) beside symlinks named with their lossy decoding
 * (`d\uFFFD`, `x\uFFFD`) that lead out of the tree — and byte-exact snapshots to compare
 * trees by (mode, owner, content, link text), for the module and end-to-end tests of recursive
 * modules.
 */
import { execFileSync } from "node:child_process";
import { chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha1 } from "./fs-tree.ts";

/** `nobody` (and `nogroup`): the hostile local user. */
export const NOBODY = 65534;

/** `prefix` + the byte 0xff: not UTF-8. */
export const bad = (prefix: string) => Buffer.concat([Buffer.from(prefix), Buffer.from([0xff])]);
/** What `bad(prefix)` decodes to when read as text: `prefix` + U+FFFD (bytes ef bf bd). */
export const lossy = (prefix: string) => `${prefix}\uFFFD`;
/** A path from parts, by bytes. */
export const at = (...parts: (string | Buffer)[]) => Buffer.concat(parts.flatMap((p, i) => [...(i === 0 ? [] : [Buffer.from("/")]), typeof p === "string" ? Buffer.from(p) : p]));
/** A key for a name that shows every non-ASCII byte as \xHH (independent of the code under test). */
export const key = (bytes: Buffer) => [...bytes].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`)).join("");

/**
 * Every entry under `root`, root itself as ".", links never followed, by key:
 * `dir 755 0:0`, `file 600 0:0 <sha1>`, `link -> <target>`.
 */
export function snapshot(root: string | Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  const describe = (path: Buffer, relative: string) => {
    const stats = lstatSync(path);
    const own = `${(stats.mode & 0o7777).toString(8)} ${stats.uid}:${stats.gid}`;
    if (stats.isSymbolicLink()) out[relative] = `link -> ${key(readlinkSync(path, { encoding: "buffer" }))}`;
    else if (stats.isDirectory()) {
      out[relative] = `dir ${own}`;
      for (const name of readdirSync(path, { encoding: "buffer" }).sort(Buffer.compare)) {
        describe(Buffer.concat([path, Buffer.from("/"), name]), relative === "." ? key(name) : `${relative}/${key(name)}`);
      }
    } else out[relative] = `file ${own} ${sha1(readFileSync(path))}`;
  };
  describe(typeof root === "string" ? Buffer.from(root) : root, ".");
  return out;
}

/** Everything below `root` (snapshot without the root itself). */
export function below(root: string | Buffer): Record<string, string> {
  const { ".": _, ...rest } = snapshot(root);
  return rest;
}

/** Runs a shell script as `nobody` (the hostile local user), with `args` as $1, $2, … */
export function asNobody(script: string, ...args: string[]): void {
  execFileSync("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "sh", "-euc", script, "sh", ...args], { stdio: "pipe" });
}

/**
 * `cwd/outside`: root's secrets (0600). `cwd/tree`: owned by `nobody`, who put in it
 * - `d\xff/` (0700) with `inner` (0600) and `d\xff/sub/deep` (0600),
 * - `x\xff` (0600),
 * - `d\uFFFD` -> the outside folder and `x\uFFFD` -> the outside secret.
 */
export function hostileTree(cwd: string): { tree: string; outside: string } {
  const outside = join(cwd, "outside");
  mkdirSync(join(outside, "deep"), { recursive: true, mode: 0o700 });
  writeFileSync(join(outside, "secret"), "root's secret", { mode: 0o600 });
  writeFileSync(join(outside, "deep/key"), "root's key", { mode: 0o600 });
  const tree = join(cwd, "tree");
  mkdirSync(tree);
  chownSync(tree, NOBODY, NOBODY);
  asNobody(
    `cd "$1"
     D="d$(printf '\\377')"; X="x$(printf '\\377')"; R="$(printf '\\357\\277\\275')"
     mkdir -m 700 "$D" "$D/sub"
     printf inner > "$D/inner"; printf deep > "$D/sub/deep"; printf x-bytes > "$X"
     chmod 600 "$D/inner" "$D/sub/deep" "$X"
     ln -s "$2" "d$R"; ln -s "$2/secret" "x$R"`,
    tree,
    outside,
  );
  return { tree, outside };
}

/** The tree as hostileTree leaves it, with every file and folder given `own` ("mode uid:gid"). */
export function expectedTree(outside: string, folders: string, files: string): Record<string, string> {
  return {
    ".": `dir ${folders}`,
    "d\\xef\\xbf\\xbd": `link -> ${outside}`,
    "d\\xff": `dir ${folders}`,
    "d\\xff/inner": `file ${files} ${sha1(Buffer.from("inner"))}`,
    "d\\xff/sub": `dir ${folders}`,
    "d\\xff/sub/deep": `file ${files} ${sha1(Buffer.from("deep"))}`,
    "x\\xef\\xbf\\xbd": `link -> ${outside}/secret`,
    "x\\xff": `file ${files} ${sha1(Buffer.from("x-bytes"))}`,
  };
}
