/**
 * @module modules/_owner: owners, groups and permission bits (Linux/macOS) for the modules that
 * set them — names or numeric ids, read from the system's account databases.
 */
import { chmodSync, chownSync, lchownSync, readFileSync } from "node:fs";
import { StepError } from "../errors.ts";
import type { FsPath } from "./_fs.ts";

interface Account {
  name: string;
  id: number;
  /** Users only: the primary group id. */
  group?: number;
}

/** Entries of /etc/passwd or /etc/group (name:x:id:gid…). Network directories are not consulted. */
function accounts(file: "/etc/passwd" | "/etc/group"): Account[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text.split("\n").flatMap((line) => {
    const [name, , id, group] = line.split(":");
    if (!name || id === undefined || !/^\d+$/.test(id)) return [];
    return [{ name, id: Number(id), ...(file === "/etc/passwd" && group !== undefined && /^\d+$/.test(group) ? { group: Number(group) } : {}) }];
  });
}

/** The largest id chown accepts; 4294967295 is (uid_t)-1, which chown reads as "leave unchanged". */
export const MAX_ID = 0xfffffffe;

function numericId(text: string, what: "user" | "group"): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id > MAX_ID) throw new StepError(`${what} id '${text}' is out of range (at most ${MAX_ID})`);
  return id;
}

/** A user name or numeric id → uid and primary gid (gid unknown for an id with no account). */
export function resolveUser(user: string): { uid: number; gid?: number } {
  const trimmed = user.trim();
  const found = accounts("/etc/passwd").find((a) => a.name === trimmed || (/^\d+$/.test(trimmed) && a.id === Number(trimmed)));
  if (found !== undefined) return { uid: found.id, ...(found.group === undefined ? {} : { gid: found.group }) };
  if (/^\d+$/.test(trimmed)) return { uid: numericId(trimmed, "user") };
  throw new StepError(`unknown user '${user}'`);
}

/** A group name or numeric id → gid. */
export function resolveGroup(group: string): number {
  const trimmed = group.trim();
  if (/^\d+$/.test(trimmed)) return numericId(trimmed, "group");
  const found = accounts("/etc/group").find((a) => a.name === trimmed);
  if (found === undefined) throw new StepError(`unknown group '${group}'`);
  return found.id;
}

/** Owner and group ids to set: a missing group means the owner's primary group (or unchanged). */
export function ownership(owner: string | undefined, group: string | undefined): { uid: number; gid: number } | undefined {
  if (owner === undefined && group === undefined) return undefined;
  const user = owner === undefined ? undefined : resolveUser(owner);
  const gid = group !== undefined ? resolveGroup(group) : (user?.gid ?? -1);
  return { uid: user?.uid ?? -1, gid };
}

/**
 * Applies ownership; `follow: false` changes a symlink itself rather than what it points to. A path
 * found in a listing is passed by its exact bytes (see "names as bytes" in _fs.ts).
 */
export function applyOwnership(path: FsPath, ids: { uid: number; gid: number }, follow = true): void {
  (follow ? chownSync : lchownSync)(path, ids.uid, ids.gid);
}

/** "0755", "755", "1777" → mode bits; anything else is a clear error. */
export function parseMode(permissions: string): number {
  const text = permissions.trim();
  if (!/^[0-7]{3,4}$/.test(text)) throw new StepError(`permissions '${permissions}' are not octal digits such as 0755`);
  return Number.parseInt(text, 8);
}

export function applyMode(path: FsPath, mode: number): void {
  chmodSync(path, mode);
}
