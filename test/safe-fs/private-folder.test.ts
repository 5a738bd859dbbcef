/**
 * Private folders on real files, with another account (nobody, 65534) owning what an attacker
 * would prepare. chown needs root; as another user these tests skip, saying so.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkTrustedFile, ensurePrivateFolder, UntrustedFolderError } from "../../src/safe-fs/private-folder.ts";

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn("skipped: private-folder tests with another account's folders: they need root (chown)");

const root = mkdtempSync(join(tmpdir(), "opentoe-private-"));
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const place = () => {
  const dir = join(root, `p${++count}`);
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  return dir;
};
const mode = (path: string) => lstatSync(path).mode & 0o7777;
const refusal = (work: () => unknown): UntrustedFolderError => {
  try {
    work();
  } catch (error) {
    if (error instanceof UntrustedFolderError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
};

describe("ensurePrivateFolder", () => {
  test("creates the folder 0700 (and missing parents), and narrows an existing one of ours", () => {
    const base = place();
    const state = ensurePrivateFolder(join(base, "logs", "TOE_state"));
    expect(mode(state)).toBe(0o700);
    chmodSync(state, 0o755);
    ensurePrivateFolder(state);
    expect(mode(state)).toBe(0o700);
  });

  test("a sticky, world-writable parent owned by root (like /tmp) is fine", () => {
    const shared = place();
    chmodSync(shared, 0o1777);
    expect(mode(ensurePrivateFolder(join(shared, "TOE_state")))).toBe(0o700);
  });

  test("a world-writable parent without the sticky bit is refused, and nothing is created", () => {
    const open = place();
    chmodSync(open, 0o777);
    const error = refusal(() => ensurePrivateFolder(join(open, "TOE_state")));
    expect(error.message).toContain(`'${open}' can be changed by other users (mode 0777)`);
    expect(() => lstatSync(join(open, "TOE_state"))).toThrow();
  });

  test("a symbolic link in place of the folder is refused", () => {
    const base = place();
    mkdirSync(join(base, "elsewhere"));
    symlinkSync(join(base, "elsewhere"), join(base, "TOE_state"));
    expect(refusal(() => ensurePrivateFolder(join(base, "TOE_state"))).message).toContain("is a symbolic link");
  });

  describe.skipIf(!isRoot)("folders of another account (nobody)", () => {
    test("a parent owned by nobody is refused, even a sticky one", () => {
      const theirs = place();
      chownSync(theirs, NOBODY, NOBODY);
      chmodSync(theirs, 0o1777);
      const error = refusal(() => ensurePrivateFolder(join(theirs, "TOE_state")));
      expect(error.message).toContain(`'${theirs}' belongs to user id ${NOBODY}`);
    });

    test("a state folder nobody made first is refused (its owner could replace what is in it)", () => {
      const shared = place();
      chmodSync(shared, 0o1777);
      mkdirSync(join(shared, "TOE_state"));
      chownSync(join(shared, "TOE_state"), NOBODY, NOBODY);
      expect(refusal(() => ensurePrivateFolder(join(shared, "TOE_state"))).message).toContain("belongs to user id 65534, not to root");
    });

    test("a link on the way owned by nobody is refused, even when it leads somewhere safe", () => {
      const base = place();
      mkdirSync(join(base, "safe"));
      symlinkSync(join(base, "safe"), join(base, "via"));
      lchownSync(join(base, "via"), NOBODY, NOBODY); // the link itself
      expect(refusal(() => ensurePrivateFolder(join(base, "via", "TOE_state"))).message).toContain(`'${join(base, "via")}' belongs to user id ${NOBODY}`);
    });

    test("a root link that leads below a folder of nobody is refused through its real path", () => {
      const base = place();
      const theirs = join(base, "theirs");
      mkdirSync(theirs);
      chownSync(theirs, NOBODY, NOBODY);
      symlinkSync(theirs, join(base, "via"));
      expect(refusal(() => ensurePrivateFolder(join(base, "via", "TOE_state"))).message).toContain(`'${theirs}' belongs to user id ${NOBODY}`);
    });
  });
});

describe("checkTrustedFile", () => {
  test("a program only root can change passes; a group-writable one does not", () => {
    expect(() => checkTrustedFile("/bin/sh", 0)).not.toThrow();
    const dir = place();
    const program = join(dir, "awstoe");
    writeFileSync(program, "#!/bin/sh\n");
    chmodSync(program, 0o775);
    expect(refusal(() => checkTrustedFile(program, 0)).message).toContain("can be changed by other users");
  });

  test("a program in a world-writable folder does not pass", () => {
    const dir = place();
    chmodSync(dir, 0o777);
    const program = join(dir, "awstoe");
    writeFileSync(program, "#!/bin/sh\n");
    chmodSync(program, 0o755);
    expect(refusal(() => checkTrustedFile(program, 0)).message).toContain(`'${dir}' can be changed by other users`);
  });
});
