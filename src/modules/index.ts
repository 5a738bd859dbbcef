/** @module modules/index: the registry of every action module, by the name documents use. */
import appendFile from "./append-file.ts";
import assert from "./assert.ts";
import copyFile from "./copy-file.ts";
import copyFolder from "./copy-folder.ts";
import createFile from "./create-file.ts";
import createFolder from "./create-folder.ts";
import createSymlink from "./create-symlink.ts";
import deleteFile from "./delete-file.ts";
import deleteFolder from "./delete-folder.ts";
import executeBash from "./execute-bash.ts";
import executeBinary from "./execute-binary.ts";
import executeDocument from "./execute-document.ts";
import executePowerShell from "./execute-powershell.ts";
import installMsi from "./install-msi.ts";
import listFiles from "./list-files.ts";
import moveFile from "./move-file.ts";
import moveFolder from "./move-folder.ts";
import readFile from "./read-file.ts";
import reboot from "./reboot.ts";
import s3Download from "./s3-download.ts";
import s3Upload from "./s3-upload.ts";
import setFileEncoding from "./set-file-encoding.ts";
import setFileOwner from "./set-file-owner.ts";
import setFilePermissions from "./set-file-permissions.ts";
import setFolderOwner from "./set-folder-owner.ts";
import setFolderPermissions from "./set-folder-permissions.ts";
import setRegistry from "./set-registry.ts";
import uninstallMsi from "./uninstall-msi.ts";
import updateOs from "./update-os.ts";
import webDownload from "./web-download.ts";
import type { ModuleDef } from "./_define.ts";

export const modules = {
  AppendFile: appendFile,
  Assert: assert,
  CopyFile: copyFile,
  CopyFolder: copyFolder,
  CreateFile: createFile,
  CreateFolder: createFolder,
  CreateSymlink: createSymlink,
  DeleteFile: deleteFile,
  DeleteFolder: deleteFolder,
  ExecuteBash: executeBash,
  ExecuteBinary: executeBinary,
  ExecuteDocument: executeDocument,
  ExecutePowerShell: executePowerShell,
  InstallMSI: installMsi,
  ListFiles: listFiles,
  MoveFile: moveFile,
  MoveFolder: moveFolder,
  ReadFile: readFile,
  Reboot: reboot,
  S3Download: s3Download,
  S3Upload: s3Upload,
  SetFileEncoding: setFileEncoding,
  SetFileOwner: setFileOwner,
  SetFilePermissions: setFilePermissions,
  SetFolderOwner: setFolderOwner,
  SetFolderPermissions: setFolderPermissions,
  SetRegistry: setRegistry,
  UninstallMSI: uninstallMsi,
  UpdateOS: updateOs,
  WebDownload: webDownload,
} as const satisfies Record<string, ModuleDef>;

export type ActionName = keyof typeof modules;

export const ACTION_NAMES = Object.keys(modules) as ActionName[];

export function findModule(action: string): ModuleDef | undefined {
  return Object.hasOwn(modules, action) ? modules[action as ActionName] : undefined;
}

export { type ModuleDef, type CheckEnv, type ModuleContext, type NestedRunRequest, type RebootRequest, type ShellKit, hasTemplate } from "./_define.ts";
