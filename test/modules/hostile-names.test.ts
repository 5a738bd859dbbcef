/**
 * Trees with hostile names: every recursive module on a tree that holds names which are not UTF-8
 * (`d\xff`, `x\xff`) beside symlinks named with their lossy decoding (`d\uFFFD`, `x\uFFFD`) that
 * lead out of the tree — the way a local user who owns the tree would set a trap for root. A walk
 * that read names as text acted on the link instead of the entry (chmod/chown/copied/listed what
 * is outside). Each test checks that nothing outside changed and that the entry itself was handled,
 * by its exact bytes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createS3Port } from "../../src/aws/s3.ts";
import { modules } from "../../src/modules/index.ts";
import { showBytes } from "../../src/modules/_fs.ts";
import { otherDevice, scratch, sha1 } from "../helpers/fs-tree.ts";
import { at, bad, below, expectedTree, hostileTree, key, lossy, NOBODY, snapshot } from "../helpers/hostile-tree.ts";
import { moduleContext, runModule } from "../helpers/module-context.ts";
import { startLocalS3, testClient, useLocalS3, type LocalS3 } from "../helpers/s3-server.ts";

const area = scratch("opentoe-hostile-names-");
chmodSync(area.dir, 0o755); // `nobody` builds its trees below it
const device = otherDevice();
const remote = device === undefined ? undefined : mkdtempSync(join(device, "opentoe-hostile-names-"));
afterAll(() => {
  area.remove();
  if (remote !== undefined) rmSync(remote, { recursive: true, force: true });
});

/** `tree` with its root given `own` ("mode uid:gid") instead. */
const rootMode = (tree: Record<string, string>, own: string) => ({ ...tree, ".": `dir ${own}` });

/**
 * chattr +i on a file or folder given by bytes (so even root cannot change it, or remove what is in
 * a folder); returns an undo, or undefined when the file system or the sandbox does not allow it.
 */
function lock(path: Buffer): (() => void) | undefined {
  const chattr = (flag: string) => execFileSync("sh", ["-c", `chattr ${flag} "$(printf '%b' "$1")"`, "sh", octal(path)], { stdio: "ignore" });
  try {
    chattr("+i");
    return () => chattr("-i");
  } catch {
    return undefined;
  }
}

/** Bytes as printf %b escapes (\0NNN), so a shell argument can carry any byte. */
const octal = (bytes: Buffer) => [...bytes].map((b) => `\\0${b.toString(8).padStart(3, "0")}`).join("");

function recordingContext(cwd: string) {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, ctx: moduleContext({ cwd, log: { debug: () => {}, info: (m) => infos.push(m), warn: (m) => warnings.push(m) } }) };
}

/** The module's failure message, or "" when it succeeded. */
async function failureOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return "";
  } catch (error) {
    return (error as Error).message;
  }
}

describe("shown names (the convention for names that are not UTF-8)", () => {
  test("valid UTF-8 as it is; each byte outside a well-formed sequence as \\xHH", () => {
    expect(showBytes(Buffer.from("plain é 名前 \uFFFD"))).toBe("plain é 名前 \uFFFD");
    expect(showBytes(bad("d"))).toBe("d\\xff");
    expect(showBytes(Buffer.from([0x61, 0xc3, 0xa9, 0xfe, 0x62]))).toBe("aé\\xfeb");
    expect(showBytes(Buffer.from([0xc0, 0xaf]))).toBe("\\xc0\\xaf"); // overlong "/"
    expect(showBytes(Buffer.from([0xed, 0xa0, 0x80]))).toBe("\\xed\\xa0\\x80"); // a surrogate
    expect(showBytes(Buffer.from([0xe2, 0x82, 0x41]))).toBe("\\xe2\\x82A"); // cut short
    expect(showBytes(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe("\\xf4\\x90\\x80\\x80"); // above U+10FFFF
  });
});

describe("SetFolderPermissions", () => {
  test("changes d\\xff and x\\xff themselves, never what d\\uFFFD / x\\uFFFD lead to", async () => {
    const cwd = area.folder();
    const { tree, outside } = hostileTree(cwd);
    const before = snapshot(outside);
    const { ctx } = recordingContext(cwd);
    expect(await failureOf(runModule(modules.SetFolderPermissions, [{ path: "tree", permissions: "0777" }], ctx))).toBe("");
    expect(snapshot(outside)).toEqual(before);
    expect(snapshot(tree)).toEqual(expectedTree(outside, `777 ${NOBODY}:${NOBODY}`, `777 ${NOBODY}:${NOBODY}`));
  });

  test("a failure inside d\\xff names the entry with its shown name (not 'does not exist'), and outside stays", async () => {
    const cwd = area.folder();
    const { tree, outside } = hostileTree(cwd);
    const undo = lock(at(tree, bad("d"), "inner"));
    if (undo === undefined) return; // chattr refused here (file system or sandbox)
    try {
      const before = snapshot(outside);
      const { ctx } = recordingContext(cwd);
      const message = await failureOf(runModule(modules.SetFolderPermissions, [{ path: "tree", permissions: "0777" }], ctx));
      expect(message).toMatch(/^operation not permitted on 'tree\/d\\xff\/inner'; (nothing in it had|\d+ items? inside 'tree' had already) been changed$/);
      expect(snapshot(outside)).toEqual(before);
    } finally {
      undo();
    }
  });
});

describe("SetFolderOwner", () => {
  test("gives d\\xff, its contents and x\\xff the owner; the links change themselves; outside stays root's", async () => {
    const cwd = area.folder();
    const { tree, outside } = hostileTree(cwd);
    const before = snapshot(outside);
    const { ctx } = recordingContext(cwd);
    expect(await failureOf(runModule(modules.SetFolderOwner, [{ path: "tree", owner: "4242", group: "4343" }], ctx))).toBe("");
    expect(snapshot(outside)).toEqual(before);
    expect(snapshot(tree)).toEqual(rootMode(expectedTree(outside, "700 4242:4343", "600 4242:4343"), "755 4242:4343"));
    expect(lstatSync(at(tree, lossy("d"))).uid).toBe(4242); // lchown: the link itself
  });
});

describe("ListFiles", () => {
  test("lists x\\xff and d\\xff/… as shown names, never the files behind d\\uFFFD, and says so in the log", async () => {
    const cwd = area.folder();
    const { tree } = hostileTree(cwd);
    const { ctx, warnings } = recordingContext(cwd);
    const result = await runModule(modules.ListFiles, [{ path: "tree", recursive: true }], ctx);
    const files = (result.outputs as { files: string }).files.split(",");
    // x\uFFFD is a link to a regular file: listed as a file (by design), by its own valid name.
    expect(files).toEqual([`${tree}/d\\xff/inner`, `${tree}/d\\xff/sub/deep`, `${tree}/x\\xff`, `${tree}/x\uFFFD`]);
    expect(warnings.join("\n")).toContain("3 listed path(s) have names that are not valid UTF-8");
    expect(warnings.join("\n")).toContain(`${tree}/x\\xff`);
  });

  test("a pattern is matched against the shown name", async () => {
    const cwd = area.folder();
    const { tree } = hostileTree(cwd);
    const { ctx } = recordingContext(cwd);
    const result = await runModule(modules.ListFiles, [{ path: "tree", fileNamePattern: "x*" }], ctx);
    expect((result.outputs as { files: string }).files).toBe(`${tree}/x\\xff,${tree}/x\uFFFD`);
  });
});

describe("DeleteFolder", () => {
  test("force deletes the tree with its non-UTF-8 entries; the links go as links, outside stays", async () => {
    const cwd = area.folder();
    const { tree, outside } = hostileTree(cwd);
    const before = snapshot(outside);
    const { ctx } = recordingContext(cwd);
    expect(await failureOf(runModule(modules.DeleteFolder, [{ path: "tree", force: true }], ctx))).toBe("");
    expect(existsSync(tree)).toBe(false);
    expect(snapshot(outside)).toEqual(before);
  });

  test("when an entry cannot go, the entry-by-entry pass names it by its shown name (not 'does not exist')", async () => {
    const cwd = area.folder();
    const { tree, outside } = hostileTree(cwd);
    const undo = lock(at(tree, bad("d"), "sub"));
    if (undo === undefined) return; // chattr refused here (file system or sandbox)
    try {
      const before = snapshot(outside);
      const { ctx } = recordingContext(cwd);
      const message = await failureOf(runModule(modules.DeleteFolder, [{ path: "tree", force: true }], ctx));
      expect(message).toBe("operation not permitted on 'tree/d\\xff/sub/deep'; part of 'tree' may already have been deleted");
      expect(snapshot(outside)).toEqual(before);
    } finally {
      undo();
    }
  });
});

describe("DeleteFile with *", () => {
  test("deletes x\\xff itself and the x\\uFFFD link as a link; the secret stays", async () => {
    const cwd = area.folder();
    const { tree, outside } = hostileTree(cwd);
    const before = snapshot(outside);
    const { ctx, infos } = recordingContext(cwd);
    expect(await failureOf(runModule(modules.DeleteFile, [{ path: "tree/x*" }], ctx))).toBe("");
    expect(snapshot(outside)).toEqual(before);
    expect(readdirSync(tree, { encoding: "buffer" }).map(key).sort()).toEqual(["d\\xef\\xbf\\xbd", "d\\xff"]);
    expect(infos.join("\n")).toContain("deleted 2 files matching 'tree/x*': x\\xff, x\uFFFD");
  });
});

describe("CopyFolder", () => {
  /** What a copy of the hostile tree is: the same entries, links as links, nothing from outside. */
  const copied = (outside: string) => rootMode(expectedTree(outside, "700 0:0", "600 0:0"), "755 0:0");

  test("copies d\\xff and x\\xff under their own bytes and the links as links; nothing outside is read in", async () => {
    const cwd = area.folder();
    const { outside } = hostileTree(cwd);
    const before = snapshot(outside);
    const { ctx } = recordingContext(cwd);
    expect(await failureOf(runModule(modules.CopyFolder, [{ source: "tree", destination: "copy" }], ctx))).toBe("");
    expect(snapshot(join(cwd, "copy"))).toEqual(copied(outside));
    expect(snapshot(outside)).toEqual(before);
  });

  test("merging into an existing folder does the same", async () => {
    const cwd = area.folder();
    const { outside } = hostileTree(cwd);
    const before = snapshot(outside);
    mkdirSync(join(cwd, "copy"));
    chmodSync(join(cwd, "copy"), 0o755);
    const { ctx } = recordingContext(cwd);
    expect(await failureOf(runModule(modules.CopyFolder, [{ source: "tree", destination: "copy", overwrite: true }], ctx))).toBe("");
    expect(snapshot(join(cwd, "copy"))).toEqual(copied(outside));
    expect(snapshot(outside)).toEqual(before);
  });

  test("a wildcard matches the shown name and copies the non-UTF-8 folder by its bytes", async () => {
    const cwd = area.folder();
    const { outside } = hostileTree(cwd);
    const { ctx } = recordingContext(cwd);
    // Folder wildcards take real folders only: d\xff, not the d\uFFFD link.
    expect(await failureOf(runModule(modules.CopyFolder, [{ source: "tree/d*", destination: "copy/" }], ctx))).toBe("");
    expect(readdirSync(join(cwd, "copy"), { encoding: "buffer" }).map(key)).toEqual(["d\\xff"]);
    expect(snapshot(at(cwd, "copy", bad("d")))).toEqual({
      ".": "dir 700 0:0",
      inner: `file 600 0:0 ${sha1(Buffer.from("inner"))}`,
      sub: "dir 700 0:0",
      "sub/deep": `file 600 0:0 ${sha1(Buffer.from("deep"))}`,
    });
    expect(existsSync(join(outside, "secret"))).toBe(true);
  });
});

describe("MoveFolder", () => {
  const moved = (outside: string) => rootMode(expectedTree(outside, `700 ${NOBODY}:${NOBODY}`, `600 ${NOBODY}:${NOBODY}`), `755 ${NOBODY}:${NOBODY}`);

  test("merging into an existing folder moves d\\xff and x\\xff themselves and the links as links", async () => {
    const cwd = area.folder();
    const { tree, outside } = hostileTree(cwd);
    const before = snapshot(outside);
    mkdirSync(join(cwd, "dest"));
    chownSync(join(cwd, "dest"), NOBODY, NOBODY);
    chmodSync(join(cwd, "dest"), 0o755);
    const { ctx } = recordingContext(cwd);
    expect(await failureOf(runModule(modules.MoveFolder, [{ source: "tree", destination: "dest", overwrite: true }], ctx))).toBe("");
    expect(existsSync(tree)).toBe(false);
    expect(snapshot(join(cwd, "dest"))).toEqual(moved(outside));
    expect(snapshot(outside)).toEqual(before);
  });

  test.skipIf(remote === undefined)("to another file system (copy, then delete) the same, owners kept", async () => {
    const cwd = area.folder();
    const { tree, outside } = hostileTree(cwd);
    const before = snapshot(outside);
    const target = join(remote!, `t-${Date.now()}`);
    const { ctx } = recordingContext(cwd);
    expect(await failureOf(runModule(modules.MoveFolder, [{ source: "tree", destination: target }], ctx))).toBe("");
    expect(existsSync(tree)).toBe(false);
    expect(snapshot(target)).toEqual(moved(outside));
    expect(snapshot(outside)).toEqual(before);
  });
});

describe("CopyFile and MoveFile with *", () => {
  test("CopyFile copies x\\xff's own bytes under its own name (the x\\uFFFD link to a file is copied as the file, by design)", async () => {
    const cwd = area.folder();
    const { outside } = hostileTree(cwd);
    const before = snapshot(outside);
    const { ctx } = recordingContext(cwd);
    expect(await failureOf(runModule(modules.CopyFile, [{ source: "tree/x*", destination: "copy/" }], ctx))).toBe("");
    expect(readFileSync(at(cwd, "copy", bad("x")), "utf8")).toBe("x-bytes");
    expect(readFileSync(join(cwd, "copy", lossy("x")), "utf8")).toBe("root's secret");
    expect(readdirSync(join(cwd, "copy")).length).toBe(2);
    expect(snapshot(outside)).toEqual(before);
  });

  test("MoveFile moves x\\xff itself and the x\\uFFFD link as a link", async () => {
    const cwd = area.folder();
    const { tree, outside } = hostileTree(cwd);
    const before = snapshot(outside);
    const { ctx } = recordingContext(cwd);
    expect(await failureOf(runModule(modules.MoveFile, [{ source: "tree/x*", destination: "dest/" }], ctx))).toBe("");
    expect(below(join(cwd, "dest"))).toEqual({
      "x\\xef\\xbf\\xbd": `link -> ${outside}/secret`,
      "x\\xff": `file 600 ${NOBODY}:${NOBODY} ${sha1(Buffer.from("x-bytes"))}`,
    });
    expect(readdirSync(tree, { encoding: "buffer" }).map(key).sort()).toEqual(["d\\xef\\xbf\\xbd", "d\\xff"]);
    expect(snapshot(outside)).toEqual(before);
  });
});

describe("S3Upload with recurse", () => {
  let s3: LocalS3;
  let client: S3Client;
  let restoreEnv: () => void;
  beforeAll(async () => {
    s3 = await startLocalS3(["hostile"]);
    restoreEnv = useLocalS3(s3);
    client = await testClient(s3);
  });
  afterAll(async () => {
    restoreEnv();
    await s3.close();
  });

  test("a file whose name is not UTF-8 stops the upload before anything is sent; nothing behind d\\uFFFD is read", async () => {
    const cwd = area.folder();
    hostileTree(cwd);
    const ctx = moduleContext({ cwd, s3: createS3Port() });
    const message = await failureOf(runModule(modules.S3Upload, [{ source: "tree", destination: "s3://hostile/up/", recurse: true }], ctx));
    // Sorted, breadth first: x\xff is met before anything inside d\xff.
    expect(message).toBe("cannot upload 'tree/x\\xff': its name is not valid UTF-8 (shown with \\xHH bytes), and an S3 key is UTF-8 text");
    const page = await client.send(new ListObjectsV2Command({ Bucket: "hostile" }));
    expect(page.Contents ?? []).toEqual([]);
  });

  test("an empty d\\xff adds nothing and the d\\uFFFD link beside it is not entered: only the plain file goes up", async () => {
    const cwd = area.folder();
    const { tree } = hostileTree(cwd);
    rmSync(at(tree, bad("d"), "inner"));
    rmSync(at(tree, bad("d"), "sub"), { recursive: true });
    rmSync(at(tree, bad("x")));
    rmSync(join(tree, lossy("x"))); // a link to a file is sent with its target's content (by design): not this test's point
    writeFileSync(join(tree, "plain.txt"), "plain");
    const ctx = moduleContext({ cwd, s3: createS3Port() });
    expect(await failureOf(runModule(modules.S3Upload, [{ source: "tree", destination: "s3://hostile/ok/", recurse: true }], ctx))).toBe("");
    const page = await client.send(new ListObjectsV2Command({ Bucket: "hostile", Prefix: "ok/" }));
    expect((page.Contents ?? []).map((o) => o.Key)).toEqual(["ok/plain.txt"]);
  });
});
