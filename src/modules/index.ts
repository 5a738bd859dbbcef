/** @module modules/index: the registry of every action module, by the name documents use. */
import { defineLazily, type ModuleDef } from "./_define.ts";

/**
 * How to load each module, by the name documents use. A module file (with its helpers and the
 * node:* built-ins they need, such as node:http for WebDownload) is loaded the first time its name
 * is looked up, not at start-up: validating a document that uses two modules loads those two.
 * `require` keeps every file inside the compiled binary and the Node bundle; only running it waits.
 */
const loaders = {
  AppendFile: () => (require("./append-file.ts") as typeof import("./append-file.ts")).default,
  Assert: () => (require("./assert.ts") as typeof import("./assert.ts")).default,
  CopyFile: () => (require("./copy-file.ts") as typeof import("./copy-file.ts")).default,
  CopyFolder: () => (require("./copy-folder.ts") as typeof import("./copy-folder.ts")).default,
  CreateFile: () => (require("./create-file.ts") as typeof import("./create-file.ts")).default,
  CreateFolder: () => (require("./create-folder.ts") as typeof import("./create-folder.ts")).default,
  CreateSymlink: () => (require("./create-symlink.ts") as typeof import("./create-symlink.ts")).default,
  DeleteFile: () => (require("./delete-file.ts") as typeof import("./delete-file.ts")).default,
  DeleteFolder: () => (require("./delete-folder.ts") as typeof import("./delete-folder.ts")).default,
  ExecuteBash: () => (require("./execute-bash.ts") as typeof import("./execute-bash.ts")).default,
  ExecuteBinary: () => (require("./execute-binary.ts") as typeof import("./execute-binary.ts")).default,
  ExecuteDocument: () => (require("./execute-document.ts") as typeof import("./execute-document.ts")).default,
  ExecutePowerShell: () => (require("./execute-powershell.ts") as typeof import("./execute-powershell.ts")).default,
  InstallMSI: () => (require("./install-msi.ts") as typeof import("./install-msi.ts")).default,
  ListFiles: () => (require("./list-files.ts") as typeof import("./list-files.ts")).default,
  MoveFile: () => (require("./move-file.ts") as typeof import("./move-file.ts")).default,
  MoveFolder: () => (require("./move-folder.ts") as typeof import("./move-folder.ts")).default,
  ReadFile: () => (require("./read-file.ts") as typeof import("./read-file.ts")).default,
  Reboot: () => (require("./reboot.ts") as typeof import("./reboot.ts")).default,
  S3Download: () => (require("./s3-download.ts") as typeof import("./s3-download.ts")).default,
  S3Upload: () => (require("./s3-upload.ts") as typeof import("./s3-upload.ts")).default,
  SetFileEncoding: () => (require("./set-file-encoding.ts") as typeof import("./set-file-encoding.ts")).default,
  SetFileOwner: () => (require("./set-file-owner.ts") as typeof import("./set-file-owner.ts")).default,
  SetFilePermissions: () => (require("./set-file-permissions.ts") as typeof import("./set-file-permissions.ts")).default,
  SetFolderOwner: () => (require("./set-folder-owner.ts") as typeof import("./set-folder-owner.ts")).default,
  SetFolderPermissions: () => (require("./set-folder-permissions.ts") as typeof import("./set-folder-permissions.ts")).default,
  SetRegistry: () => (require("./set-registry.ts") as typeof import("./set-registry.ts")).default,
  UninstallMSI: () => (require("./uninstall-msi.ts") as typeof import("./uninstall-msi.ts")).default,
  UpdateOS: () => (require("./update-os.ts") as typeof import("./update-os.ts")).default,
  WebDownload: () => (require("./web-download.ts") as typeof import("./web-download.ts")).default,
} satisfies Record<string, () => ModuleDef>;

export type ActionName = keyof typeof loaders;

/** Every module, loaded when its entry is first read (a getter that keeps what it loaded). */
export const modules = lazyEntries(loaders);

export const ACTION_NAMES = Object.keys(loaders) as ActionName[];

export function findModule(action: string): ModuleDef | undefined {
  return Object.hasOwn(loaders, action) ? modules[action as ActionName] : undefined;
}

function lazyEntries<T extends Record<string, () => unknown>>(load: T): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const entries = {} as { [K in keyof T]: ReturnType<T[K]> };
  for (const [key, build] of Object.entries(load)) defineLazily(entries, key, build);
  return entries;
}

export { type ModuleDef, type CheckEnv, type ModuleContext, type NestedRunRequest, type RebootRequest, type ShellKit, hasTemplate } from "./_define.ts";
