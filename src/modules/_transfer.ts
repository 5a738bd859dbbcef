/**
 * @module modules/_transfer: what CopyFile, CopyFolder, MoveFile and MoveFolder share — sources
 * (one path or a `*` in the last segment), the destination rule (a trailing separator means "into
 * this folder"), overwrite checks made before anything changes, and copies that never leave a
 * half-written file or folder under its final name.
 *
 * Choices where the spec leaves room (docs/modules.md §7), each the one a careful user would expect:
 * - `*` matches names starting with a dot too, as the shared kit's wildcard does (awstoe is a Go
 *   program and Go's filepath.Match has no dotfile rule); unlike the shell's `*`.
 * - File wildcards match regular files and symbolic links to regular files; folder wildcards match
 *   real folders only — a link to a folder could pull a whole tree from outside the folder named.
 * - An explicitly named source link is treated like cp/mv do: CopyFile/CopyFolder copy what it
 *   points to, MoveFile/MoveFolder move the link itself. Inside a copied tree links stay links
 *   (never followed, so nothing outside the tree is read).
 * - CopyFile writes through a link at the destination file path (cp does; it keeps e.g. a managed
 *   /etc/resolv.conf link intact), replacing the linked file atomically; a dangling link there is
 *   an error. MoveFile replaces such a link (rename semantics, as mv does).
 * - A folder at the destination file path, a file where a folder should go, or the same file as
 *   source and destination are errors; existing folders are never deleted (docs/modules.md §7).
 * - Merging (overwrite true into an existing folder) replaces files one at a time, each atomically,
 *   keeps files that only the destination has, and leaves existing folders' modes alone (cp -r).
 * - Copies keep permission bits and modification times; owners are kept only by moves across file
 *   systems (as mv; cp -r as root makes root the owner). Files other than regular files, folders
 *   and links (sockets, FIFOs, devices) are an error rather than silently left out.
 * - Durability: a copied folder is renamed into place once complete, which protects against a
 *   killed process; files are not flushed one by one (cp does not either) — single-file copies
 *   are flushed before their rename, like writeAtomically.
 * - A kill can leave a hidden `.<name>.opentoe-<16 hex digits>.tmp` beside the target (the kit's
 *   temporary-name pattern); it is never under the final name.
 * - Names inside folders are read as bytes, and every entry is classified by lstat of its exact
 *   path (see "names as bytes" in _fs.ts): an entry whose name is not UTF-8 is copied or moved
 *   under the same bytes, and never confused with the entry its lossy decoding names (which may be
 *   a planted link whose target would be copied in). Messages show such names with \xHH bytes.
 */
import {
  accessSync, chmodSync, closeSync, constants, copyFileSync, fsyncSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync,
  readlinkSync, realpathSync, renameSync, rmdirSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync,
  type Stats,
} from "node:fs";
import { createBeside as createEntryBeside } from "../safe-fs/durable.ts";
import { basename, sep } from "node:path";
import { StepError } from "../errors.ts";
import type { InputOf, ModuleContext, ModuleResult } from "./_define.ts";
import type { sourceDestination } from "./_inputs.ts";
import {
  absolute, childPath, endsWithSeparator, entryAt, forEachOperation, fsFailure, isUtf8, isWindows, lastName, listFolder, parentPath, refuseRoot,
  showBytes, shownPath, splitWildcard, type FolderEntry, type FsPath, type Wildcard,
} from "./_fs.ts";

/** One element of the four modules' inputs, as execute receives it. */
export type TransferInput = InputOf<typeof sourceDestination>;

type What = "file" | "folder";
type How = "copy" | "move";

/**
 * A path twice: absolute, to work with (by exact bytes when a name in it is not UTF-8), and as the
 * user would write it (such names shown with \xHH bytes), for messages.
 */
interface Place {
  path: FsPath;
  written: string;
}

/** The `execute` of one of the four modules. */
export function transferModule(what: What, how: How) {
  return async (items: TransferInput[], ctx: ModuleContext): Promise<ModuleResult<Record<string, never>>> => {
    await forEachOperation(items, (item) => `'${item.source}' → '${item.destination}'`, (item) => transfer(item, what, how, ctx));
    return { outputs: {} };
  };
}

interface Plan {
  source: Place;
  target: Place;
}

async function transfer(item: TransferInput, what: What, how: How, ctx: ModuleContext): Promise<void> {
  const paths = pathRules(isWindows(ctx));
  // A reference that resolved to nothing must not turn into "the working directory".
  if (item.source.trim() === "") throw new StepError("the source is empty");
  if (item.destination.trim() === "") throw new StepError("the destination is empty");
  const intoFolder = paths.endsWithSeparator(item.destination);
  refuseMisplacedWildcard(item, intoFolder, paths);
  const sources = sourcesOf(item.source, what, ctx, paths);
  const destination: Place = { path: absolute(ctx, item.destination), written: item.destination };
  const plans = sources.map((source) => ({ source, target: intoFolder ? paths.child(destination, lastName(source.path)) : destination }));
  const run = OPERATIONS[what][how];
  const job: Job = { overwrite: item.overwrite !== false, paths, pace: new Pace(ctx.signal) };
  // Every target is checked before the first one changes, so an existing file among the matches
  // stops the operation with nothing done.
  for (const plan of plans) run.check(plan, job);
  for (const [index, plan] of plans.entries()) {
    try {
      await run.perform(plan, job);
    } catch (error) {
      if (plans.length === 1) throw error;
      const done = how === "copy" ? "copied" : "moved";
      throw new StepError(`${fsFailure(error, plan.source.written).message} (${index} of the ${plans.length} matching ${what}s had been ${done})`);
    }
  }
}

/** What one step's transfer goes by, made once per step. */
interface Job {
  overwrite: boolean;
  paths: PathRules;
  pace: Pace;
}

interface Operation {
  /** Throws when the plan cannot go ahead; changes nothing. */
  check(plan: Plan, job: Job): void;
  perform(plan: Plan, job: Job): Promise<void>;
}

const OPERATIONS: Record<What, Record<How, Operation>> = {
  file: {
    copy: { check: (plan, job) => void copyFileTarget(plan, job.overwrite), perform: copyOneFile },
    move: { check: (plan, job) => void moveFileTarget(plan, job.overwrite), perform: moveOneFile },
  },
  folder: {
    copy: { check: (plan, job) => void copyFolderTarget(plan, job), perform: copyOneFolder },
    move: { check: (plan, job) => void moveFolderTarget(plan, job), perform: moveOneFolder },
  },
};

/**
 * The path rules of the platform a step runs for: which characters separate folders in what the
 * user wrote, and whether names differ by letter case only.
 */
interface PathRules {
  /** Whether `path` ends with a separator: "into this folder". */
  endsWithSeparator(path: string): boolean;
  /** `path` split at its separators. */
  segments(path: string): string[];
  /** Whether `path` has a folder part, i.e. holds a separator. */
  hasFolder(path: string): boolean;
  splitWildcard(path: string): Wildcard | undefined;
  /** The entry `name` (exact bytes) in `parent`, written with the separator `parent` uses. */
  child(parent: Place, name: Buffer): Place;
  /** Is `inner` the folder `outer` or inside it? Compared by bytes (by text, ignoring case, on Windows). */
  contains(outer: FsPath, inner: FsPath): boolean;
}

function pathRules(windows: boolean): PathRules {
  const separators = windows ? /[\\/]/ : /\//;
  return {
    endsWithSeparator: (path) => endsWithSeparator(path, windows),
    segments: (path) => path.split(separators),
    hasFolder: (path) => separators.test(path),
    splitWildcard: (path) => splitWildcard(path, windows),
    child(parent, name) {
      const shown = showBytes(name);
      const separator = windows && parent.written.includes("\\") && !parent.written.includes("/") ? "\\" : "/";
      const written = endsWithSeparator(parent.written, windows) ? parent.written + shown : `${parent.written}${separator}${shown}`;
      return { path: childPath(parent.path, name), written };
    },
    contains: (outer, inner) => (windows ? containsIgnoringCase(outer, inner) : containsByBytes(outer, inner)),
  };
}

// --- sources ---

/** The validator's wildcard rules again, for values that only a reference resolved at run time. */
function refuseMisplacedWildcard(item: TransferInput, intoFolder: boolean, paths: PathRules): void {
  if (!item.source.includes("*")) return;
  const segments = paths.segments(item.source);
  if (segments.slice(0, -1).some((segment) => segment.includes("*"))) {
    throw new StepError(`a * wildcard may only appear in the last path segment ('${item.source}')`);
  }
  if (!intoFolder) throw new StepError(`with a wildcard source the destination must be a folder: end '${item.destination}' with a path separator`);
}

function sourcesOf(source: string, what: What, ctx: ModuleContext, paths: PathRules): Place[] {
  const wildcard = paths.splitWildcard(source);
  if (wildcard === undefined) {
    if (what === "file" && paths.endsWithSeparator(source)) throw new StepError(`source '${source}' ends with a path separator, so it names a folder, not a file`);
    return [{ path: absolute(ctx, source), written: source }];
  }
  const folder = absolute(ctx, wildcard.folder);
  let entries: FolderEntry[];
  try {
    entries = listFolder(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new StepError(`source folder '${wildcard.folder}' does not exist`);
    throw fsFailure(error, wildcard.folder);
  }
  const matches = entries
    .filter((entry) => wildcard.regex.test(entry.name) && (what === "folder" ? isFolderEntry(entry.path) : isFileEntry(entry.path)))
    .sort((a, b) => compareText(a.name, b.name));
  if (matches.length === 0) throw new StepError(`no ${what} matches '${source}'`);
  const written = (name: string) => (paths.hasFolder(source) ? wildcard.folder + name : name);
  return matches.map((entry) => ({ path: entry.path, written: written(entry.name) }));
}

/** A regular file, or a link to one (lstat of the exact entry, then what the link leads to). */
function isFileEntry(path: FsPath): boolean {
  const own = statOrUndefined(path, undefined, lstatSync);
  if (own?.isFile()) return true;
  return own?.isSymbolicLink() === true && statOrUndefined(path)?.isFile() === true;
}

/** A real folder, not a link to one. */
function isFolderEntry(path: FsPath): boolean {
  return statOrUndefined(path, undefined, lstatSync)?.isDirectory() === true;
}

// --- CopyFile / MoveFile ---

/** Where a file copy writes (through a link at the destination), after the overwrite rules. */
function copyFileTarget({ source, target }: Plan, overwrite: boolean): { from: Stats; final: FsPath } {
  const from = sourceStats(source, statSync);
  if (from.isDirectory()) throw new StepError(`'${source.written}' is a folder, not a file (CopyFolder copies folders)`);
  if (!from.isFile()) throw new StepError(`'${source.written}' is not a regular file`);
  const seen = lstatOrUndefined(target);
  if (seen === undefined) return { from, final: target.path };
  const through = seen.isSymbolicLink() ? statOrUndefined(target.path) : seen;
  refuseFolderAt(target, through);
  if (through !== undefined && sameEntry(through, from)) throw new StepError(`'${source.written}' and '${target.written}' are the same file`);
  if (!overwrite) throw alreadyExists(target);
  if (through === undefined) throw new StepError(`'${target.written}' is a symbolic link to nothing; not writing through it`);
  return { from, final: seen.isSymbolicLink() ? realPath(target.path) : target.path };
}

async function copyOneFile(plan: Plan, { overwrite }: Job): Promise<void> {
  const { from, final } = copyFileTarget(plan, overwrite);
  makeParent(plan.target);
  let temporary: FsPath | undefined;
  try {
    temporary = createBeside(final, (name) => copyFileSync(plan.source.path, name, constants.COPYFILE_EXCL));
    keepTimes(temporary, from);
    flush(temporary);
    renameSync(temporary, final);
  } catch (error) {
    if (temporary !== undefined) discard(temporary);
    throw copyFailure(error, plan.source, plan.target);
  }
}

/** MoveFile's target checks; a link at the destination is replaced, not written through. */
function moveFileTarget({ source, target }: Plan, overwrite: boolean): Stats {
  refuseRoot(source.written, source.path);
  const from = sourceStats(source, lstatSync);
  if (from.isDirectory()) throw new StepError(`'${source.written}' is a folder, not a file (MoveFolder moves folders)`);
  if (from.isSymbolicLink() && statOrUndefined(source.path)?.isDirectory()) throw new StepError(`'${source.written}' is a link to a folder, not a file (MoveFolder moves it)`);
  const seen = lstatOrUndefined(target);
  if (seen === undefined) return from;
  refuseFolderAt(target, seen.isSymbolicLink() ? statOrUndefined(target.path) : seen);
  if (sameEntry(seen, from) && !onlyCaseDiffers(source.path, target.path)) throw new StepError(`'${source.written}' and '${target.written}' are the same file`);
  if (!overwrite) throw alreadyExists(target);
  return from;
}

async function moveOneFile(plan: Plan, { overwrite }: Job): Promise<void> {
  const from = moveFileTarget(plan, overwrite);
  makeParent(plan.target);
  if (renamed(plan.source, plan.target)) return;
  replaceWithCopy(plan.source, plan.target, from, { owner: true, flush: true });
  removeSource(plan.source, plan.target, () => unlinkSync(plan.source.path));
}

// --- CopyFolder / MoveFolder ---

type FolderTarget = "new" | "merge";

function copyFolderTarget({ source, target }: Plan, job: Job): { from: Stats; state: FolderTarget } {
  const from = sourceStats(source, statSync);
  if (!from.isDirectory()) throw new StepError(`'${source.written}' is a file, not a folder (CopyFile copies files)`);
  refuseInsideItself(source, target, "copy", job.paths);
  return { from, state: folderTargetState(source, target, job) };
}

async function copyOneFolder(plan: Plan, job: Job): Promise<void> {
  const { from, state } = copyFolderTarget(plan, job);
  if (state === "merge") return mergeCopy(plan.source, plan.target, job);
  makeParent(plan.target);
  await copyTree(plan.source, plan.target, from, { owner: false }, job);
}

function moveFolderTarget({ source, target }: Plan, job: Job): { from: Stats; state: FolderTarget } {
  refuseRoot(source.written, source.path);
  const from = sourceStats(source, lstatSync);
  const link = from.isSymbolicLink();
  const pointsTo = link ? statOrUndefined(source.path) : from;
  if (pointsTo === undefined) throw new StepError(`'${source.written}' is a symbolic link to nothing, not a folder`);
  if (!pointsTo.isDirectory()) throw new StepError(`'${source.written}' is a file, not a folder (MoveFile moves files)`);
  if (!link) refuseInsideItself(source, target, "move", job.paths);
  const state = folderTargetState(source, target, job);
  if (link && state === "merge") throw new StepError(`'${source.written}' is a link to a folder and cannot be merged into the existing folder '${target.written}'`);
  return { from, state };
}

async function moveOneFolder(plan: Plan, job: Job): Promise<void> {
  const { from, state } = moveFolderTarget(plan, job);
  if (state === "merge") return mergeMove(plan.source, plan.target, job);
  makeParent(plan.target);
  if (renamed(plan.source, plan.target)) return;
  // Another file system: copy the whole tree into place first, then remove the source, so a kill
  // leaves the source intact or the target complete.
  if (from.isSymbolicLink()) replaceWithCopy(plan.source, plan.target, from, { owner: true, flush: false });
  else await copyTree(plan.source, plan.target, from, { owner: true }, job);
  removeSource(plan.source, plan.target, () => rmSync(plan.source.path, { recursive: true }));
}

/** "new" when nothing is at the target, "merge" when a folder is and overwrite allows it. */
function folderTargetState(source: Place, target: Place, job: Job): FolderTarget {
  const seen = statOrUndefined(target.path, target);
  if (seen === undefined) return "new";
  if (!seen.isDirectory()) throw new StepError(`'${target.written}' already exists and is not a folder`);
  if (!job.overwrite) throw alreadyExists(target);
  // Merging a folder into one that contains it would move or copy entries onto their own source.
  if (job.paths.contains(realish(target.path), realish(source.path))) throw new StepError(`'${target.written}' contains the source folder '${source.written}'`);
  return "merge";
}

function refuseInsideItself(source: Place, target: Place, how: How, paths: PathRules): void {
  if (paths.contains(realish(source.path), realish(target.path))) {
    throw new StepError(`cannot ${how} folder '${source.written}' into itself ('${target.written}')`);
  }
}

/**
 * Copies a folder to a target that does not exist: into a temporary sibling first, renamed into
 * place when complete, so the target is never there half-copied.
 */
async function copyTree(source: Place, target: Place, from: Stats, keep: Keep, job: Job): Promise<void> {
  let temporary: FsPath | undefined;
  try {
    temporary = createBeside(target.path, (name) => mkdirSync(name, { mode: 0o700 }));
    await fillFolder(source, { path: temporary, written: target.written }, keep, job);
    finishFolder(temporary, from, keep);
    renameSync(temporary, target.path);
  } catch (error) {
    if (temporary !== undefined) discard(temporary);
    if (["ENOTEMPTY", "EEXIST"].includes((error as NodeJS.ErrnoException).code ?? "")) throw new StepError(`'${target.written}' appeared while it was being written; it was left as it is`);
    throw fsFailure(error, target.written);
  }
}

interface Keep {
  /** Owner and group too (moves), not only permission bits and times. */
  owner: boolean;
}

/** Copies the entries of `source` into the new, empty folder `target`. */
async function fillFolder(source: Place, target: Place, keep: Keep, job: Job): Promise<void> {
  for (const entry of entriesOf(source)) {
    await job.pace.tick();
    const from = job.paths.child(source, entry.bytes);
    const to = job.paths.child(target, entry.bytes);
    const stats = sourceStats(from, lstatSync);
    if (stats.isDirectory()) {
      attempt(to, () => mkdirSync(to.path, { mode: 0o700 }));
      await fillFolder(from, to, keep, job);
      attempt(to, () => finishFolder(to.path, stats, keep));
    } else {
      copyEntry(stats, from, to, keep);
    }
  }
}

/** A file or a link (as a link) to a path that does not exist yet; `stats` are lstat's. */
function copyEntry(stats: Stats, from: Place, to: Place, keep: Keep): void {
  if (stats.isSymbolicLink()) {
    const link = attempt(from, () => readlinkSync(from.path, { encoding: "buffer" }));
    attempt(to, () => {
      symlinkSync(link, to.path, linkType(from.path));
      if (keep.owner) lchownSync(to.path, stats.uid, stats.gid);
      lutimesSync(to.path, stats.atimeMs / 1000, stats.mtimeMs / 1000);
    });
    return;
  }
  if (!stats.isFile()) throw new StepError(`'${from.written}' is not a file, folder or symbolic link and cannot be copied`);
  try {
    copyFileSync(from.path, to.path, constants.COPYFILE_EXCL);
  } catch (error) {
    throw copyFailure(error, from, to);
  }
  attempt(to, () => {
    if (keep.owner) {
      lchownSync(to.path, stats.uid, stats.gid);
      chmodSync(to.path, stats.mode & 0o7777); // chown clears set-id bits
    }
    keepTimes(to.path, stats);
  });
}

/** Mode, owner and times of a folder, set after its contents (adding entries changes its time). */
function finishFolder(path: FsPath, from: Stats, keep: Keep): void {
  if (keep.owner) lchownSync(path, from.uid, from.gid);
  chmodSync(path, from.mode & 0o7777);
  keepTimes(path, from);
}

/** CopyFolder into an existing folder: new entries appear whole, existing files are replaced one by one. */
async function mergeCopy(source: Place, target: Place, job: Job): Promise<void> {
  for (const entry of entriesOf(source)) {
    await job.pace.tick();
    const from = job.paths.child(source, entry.bytes);
    const to = job.paths.child(target, entry.bytes);
    const stats = sourceStats(from, lstatSync);
    const seen = lstatOrUndefined(to);
    if (stats.isDirectory()) {
      if (seen === undefined) await copyTree(from, to, stats, { owner: false }, job);
      else if (seen.isDirectory()) await mergeCopy(from, to, job);
      else throw new StepError(`cannot merge folder '${from.written}' into '${to.written}', which is not a folder`);
    } else {
      if (seen?.isDirectory()) throw new StepError(`cannot replace folder '${to.written}' with '${from.written}', which is not a folder`);
      replaceWithCopy(from, to, stats, { owner: false, flush: false });
    }
  }
}

/** MoveFolder into an existing folder: entries are renamed in (replacing files), then the emptied source goes. */
async function mergeMove(source: Place, target: Place, job: Job): Promise<void> {
  for (const entry of entriesOf(source)) {
    await job.pace.tick();
    const from = job.paths.child(source, entry.bytes);
    const to = job.paths.child(target, entry.bytes);
    const stats = sourceStats(from, lstatSync);
    const seen = lstatOrUndefined(to);
    if (stats.isDirectory() && seen?.isDirectory()) {
      await mergeMove(from, to, job);
      continue;
    }
    if (seen !== undefined && (stats.isDirectory() || seen.isDirectory())) {
      throw new StepError(`cannot move '${from.written}' onto '${to.written}': one is a folder and the other is not`);
    }
    if (renamed(from, to)) continue;
    if (stats.isDirectory()) await copyTree(from, to, stats, { owner: true }, job);
    else replaceWithCopy(from, to, stats, { owner: true, flush: false });
    removeSource(from, to, () => rmSync(from.path, { recursive: true }));
  }
  attempt(source, () => rmdirSync(source.path));
}

/**
 * Puts a copy of a file or link at `target` (absent or a file/link to replace): written beside it
 * under a temporary name, then renamed over it, so the target is always the old or the new entry.
 */
function replaceWithCopy(source: Place, target: Place, from: Stats, options: Keep & { flush: boolean }): void {
  let temporary: FsPath | undefined;
  try {
    if (from.isSymbolicLink()) {
      const link = readlinkSync(source.path, { encoding: "buffer" });
      temporary = createBeside(target.path, (name) => symlinkSync(link, name, linkType(source.path)));
      if (options.owner) lchownSync(temporary, from.uid, from.gid);
      lutimesSync(temporary, from.atimeMs / 1000, from.mtimeMs / 1000);
    } else if (from.isFile()) {
      temporary = createBeside(target.path, (name) => copyFileSync(source.path, name, constants.COPYFILE_EXCL));
      if (options.owner) {
        lchownSync(temporary, from.uid, from.gid);
        chmodSync(temporary, from.mode & 0o7777);
      }
      keepTimes(temporary, from);
      if (options.flush) flush(temporary);
    } else {
      throw new StepError(`'${source.written}' is not a file, folder or symbolic link and cannot be copied`);
    }
    renameSync(temporary, target.path);
  } catch (error) {
    if (temporary !== undefined) discard(temporary);
    throw copyFailure(error, source, target);
  }
}

// --- small pieces ---

/** Tries a rename; false when source and target are on different file systems. */
function renamed(source: Place, target: Place): boolean {
  try {
    renameSync(source.path, target.path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EXDEV") return false;
    // Taking an entry out of a folder needs write access to that folder, as putting one in does.
    if ((code === "EACCES" || code === "EPERM") && !writable(parentPath(source.path))) throw fsFailure(error, source.written);
    throw copyFailure(error, source, target);
  }
}

/** After a cross-device copy: the source goes; if it cannot, the message says the copy is done. */
function removeSource(source: Place, target: Place, remove: () => void): void {
  try {
    remove();
  } catch (error) {
    throw new StepError(`'${target.written}' was written, but the source could not be removed: ${fsFailure(error, source.written).message}`);
  }
}

/** The entries of a folder by their exact names (see "names as bytes" in _fs.ts). */
function entriesOf(folder: Place): FolderEntry[] {
  return attempt(folder, () => listFolder(folder.path));
}

/** Stats of a source; a missing one is "source '…' does not exist". */
function sourceStats(source: Place, stat: typeof statSync | typeof lstatSync): Stats {
  try {
    return stat(source.path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new StepError(`source '${source.written}' does not exist`);
    throw fsFailure(error, source.written);
  }
}

function lstatOrUndefined(place: Place): Stats | undefined {
  return entryAt(place.path, place.written);
}

/** undefined when nothing is there; other failures (permission) are errors about `place`. */
function statOrUndefined(path: FsPath, place?: Place, stat: typeof statSync | typeof lstatSync = statSync): Stats | undefined {
  try {
    return stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || place === undefined) return undefined;
    throw fsFailure(error, place.written);
  }
}

function refuseFolderAt(target: Place, seen: Stats | undefined): void {
  if (seen?.isDirectory()) throw new StepError(`a folder already exists at '${target.written}'; end the destination with a path separator to put the file into it`);
}

function alreadyExists(target: Place): StepError {
  return new StepError(`'${target.written}' already exists and overwrite is false`);
}

function sameEntry(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** A rename that only changes letter case, on a file system that ignores case: the same entry, and allowed. */
function onlyCaseDiffers(a: FsPath, b: FsPath): boolean {
  const [x, y] = [shownPath(a), shownPath(b)];
  return x !== y && x.toLowerCase() === y.toLowerCase();
}

function makeParent(target: Place): void {
  try {
    mkdirSync(parentPath(target.path), { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTDIR") throw new StepError(`a part of '${target.written}' is a file, not a folder`);
    throw fsFailure(error, target.written);
  }
}

/**
 * Creates an entry beside `path` under safe-fs's random hidden name (the same folder: the same
 * file system, so the final rename is atomic) and returns the name. `create` must fail on an
 * existing name (exclusive copy, mkdir, symlink), so an entry planted at a guessed name is never
 * written through or removed; a copy that failed half-way is removed.
 */
function createBeside(path: FsPath, create: (temporary: FsPath) => void): FsPath {
  let attempted: FsPath | undefined;
  try {
    createEntryBeside(typeof path === "string" ? path : showBytes(lastName(path)), (name) => {
      // safe-fs draws names as text: for a path that is not, the drawn name (made from the shown
      // name, so pure text) goes into the exact folder, by bytes.
      attempted = typeof path === "string" ? name : childPath(parentPath(path), Buffer.from(basename(name), "utf8"));
      create(attempted);
    });
    return attempted!;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST" && attempted !== undefined) discard(attempted);
    throw error;
  }
}

/** Removes a temporary file or folder after a failure; a failure to clean up must not hide the first. */
function discard(temporary: FsPath): void {
  try {
    rmSync(temporary, { recursive: true, force: true });
  } catch {
    // left as a hidden .opentoe-….tmp entry; the error being reported matters more
  }
}

/**
 * Windows needs to know whether a new link is to a folder; elsewhere the type is ignored. Only the
 * kind of what the link names is looked at, nothing is read through it.
 */
function linkType(link: FsPath): "dir" | "file" | undefined {
  if (process.platform !== "win32") return undefined;
  return statOrUndefined(link)?.isDirectory() ? "dir" : "file";
}

function keepTimes(path: FsPath, from: Stats): void {
  utimesSync(path, from.atimeMs / 1000, from.mtimeMs / 1000);
}

/** Flushes a file's bytes to disk (r+: Windows needs write access to flush). */
function flush(path: FsPath): void {
  const fd = openSync(path, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function attempt<T>(place: Place, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw fsFailure(error, place.written);
  }
}

/**
 * Which side a failed copy or rename is about: permission problems are the source's when it cannot
 * be read, otherwise the target's; a full, read-only or occupied target is the target's.
 */
function copyFailure(error: unknown, source: Place, target: Place): StepError {
  if (error instanceof StepError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (code === "ENOENT" && statOrUndefined(source.path, undefined, lstatSync) === undefined) return new StepError(`source '${source.written}' does not exist`);
  if (code === "EACCES" || code === "EPERM") return fsFailure(error, readable(source.path) ? target.written : source.written);
  const targetSide = ["ENOSPC", "EDQUOT", "EROFS", "EEXIST", "ENOTEMPTY", "EISDIR", "ENOTDIR", "ENOENT"].includes(code);
  return fsFailure(error, targetSide ? target.written : source.written);
}

function writable(folder: FsPath): boolean {
  try {
    accessSync(folder, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function readable(path: FsPath): boolean {
  try {
    closeSync(openSync(path, "r"));
    return true;
  } catch {
    return false;
  }
}

/** realpath by bytes (a text result would decode a name that is not UTF-8 lossily): text when exact. */
function realPath(path: FsPath): FsPath {
  return asPath(realpathSync(path, { encoding: "buffer" }));
}

/** Bytes as a path: text when they are valid UTF-8 (as every ordinary path is), else the bytes. */
function asPath(bytes: Buffer): FsPath {
  return isUtf8(bytes) ? bytes.toString("utf8") : bytes;
}

/** The real path of the longest existing part of `path`, with the rest appended. */
function realish(path: FsPath): FsPath {
  const rest: Buffer[] = [];
  let head = path;
  for (;;) {
    try {
      return rest.reduce<FsPath>((folder, name) => childPath(folder, name), realPath(head));
    } catch {
      const parent = parentPath(head);
      if (parent.length === head.length) return path; // the root: nothing of the path exists
      rest.unshift(lastName(head));
      head = parent;
    }
  }
}

/** Windows' `contains`: by the shown text, ignoring letter case. */
function containsIgnoringCase(outer: FsPath, inner: FsPath): boolean {
  const [a, b] = [shownPath(outer).toLowerCase(), shownPath(inner).toLowerCase()];
  return b === a || b.startsWith(a.endsWith(sep) ? a : a + sep);
}

/** Everywhere else: by the exact bytes. */
function containsByBytes(outer: FsPath, inner: FsPath): boolean {
  const [a, b] = [bytesOf(outer), bytesOf(inner)];
  const prefix = a[a.length - 1] === sep.charCodeAt(0) ? a : Buffer.concat([a, Buffer.from(sep)]);
  return b.equals(a) || (b.length > prefix.length && b.subarray(0, prefix.length).equals(prefix));
}

/** Orders names as text, by UTF-16 code units (the same order for every locale). */
function compareText(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

function bytesOf(path: FsPath): Buffer {
  return typeof path === "string" ? Buffer.from(path, "utf8") : path;
}

/**
 * Lets timers and the step's abort signal through during long copies: the file calls are
 * synchronous (fastest for many small files), so every ~20 ms the walk yields to the event loop.
 */
class Pace {
  private last = performance.now();
  constructor(private readonly signal: AbortSignal) {}
  async tick(): Promise<void> {
    if (this.signal.aborted) throw new StepError("stopped before it was complete");
    if (performance.now() - this.last < 20) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.last = performance.now();
    if (this.signal.aborted) throw new StepError("stopped before it was complete");
  }
}
