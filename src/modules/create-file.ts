/** @module modules/create-file: CreateFile — write files with given content. */
import { Type } from "@sinclair/typebox";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { StepError } from "../errors.ts";
import { Fields, Flag, Text } from "../model/schema-kit.ts";
import { defineModule, type InputOf, type ModuleContext } from "./_define.ts";
import { codecOf, encodeText, forEachOperation, fsFailure, isWindows, writeAtomically } from "./_fs.ts";
import { Encoding, NoOutput, Permissions } from "./_inputs.ts";
import { ownership, parseMode } from "./_owner.ts";
import { aboutPath, filePath, findFile, finish, replaceFile, requireWritable, type Metadata } from "./_text-file.ts";

/** A brand-new file gets what `open` gives any new file: 0666 less the umask (docs/modules.md#createfile). */
const NEW_FILE_MODE = 0o666;

/** One element of `inputs`. */
const inputSchema = () =>
  Fields({
    path: Text({ minLength: 1, description: "the file to create" }),
    content: Type.Optional(Text({ default: "", description: "the file's text" })),
    encoding: Encoding(),
    owner: Type.Optional(Text({ minLength: 1, description: "user name or id (not on Windows)" })),
    group: Type.Optional(Text({ minLength: 1, description: "group name or id (not on Windows)" })),
    permissions: Type.Optional(Permissions("octal mode such as 0644 (not on Windows)")),
    overwrite: Type.Optional(Flag({ default: true, description: "replace an existing file (default true)" })),
  });

type Item = InputOf<typeof inputSchema>;

export default defineModule({
  name: "CreateFile",
  summary: "Creates (or rewrites) files with the given content, creating parent folders as needed.",
  platforms: ["linux", "windows", "macos"],
  shape: "list",
  input: inputSchema,
  output: NoOutput,
  notOnWindows: ["owner", "group", "permissions"],
  async execute(items, ctx) {
    await forEachOperation(items, (item) => item.path, (item) => createFile(item, ctx));
    return { outputs: {} };
  },
});

function createFile(item: Item, ctx: ModuleContext): void {
  const written = item.path;
  const target = filePath(ctx, written);
  // Everything that can be wrong with the inputs is found before the disk is touched.
  const bytes = encodeText(item.content, codecOf(item.encoding));
  const wanted: Metadata = {};
  const ids = ownership(item.owner, item.group);
  if (ids !== undefined) wanted.ids = ids;
  if (item.permissions !== undefined) wanted.mode = parseMode(item.permissions);
  const ownersApply = !isWindows(ctx);

  const existing = findFile(target, written);
  if (existing !== undefined) {
    if (item.overwrite === false) throw new StepError(`'${written}' already exists and overwrite is false`);
    requireWritable(existing, written);
    // "Overwrite" means new content in the same file: its owner and mode stay unless given.
    aboutPath(written, () => replaceFile(existing, bytes, wanted, ownersApply));
    return;
  }
  createParents(target, written);
  aboutPath(written, () => {
    writeAtomically(target, bytes, (wanted.mode ?? NEW_FILE_MODE) & 0o777);
    finish(target, ownersApply ? wanted.ids : undefined, wanted.mode);
  });
}

function createParents(target: string, written: string): void {
  try {
    mkdirSync(dirname(target), { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // mkdir reports a file in the way as EEXIST or ENOTDIR; "already exists" would mislead.
    if (code === "EEXIST" || code === "ENOTDIR") throw new StepError(`a part of '${written}' is a file, not a folder`);
    throw fsFailure(error, written);
  }
}
