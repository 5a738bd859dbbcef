#!/usr/bin/env bun
/**
 * @module scripts/gen-docs: writes docs/modules.md, the reference of every action module, from the
 * modules' own definitions (src/modules/index.ts: name, platforms, summary, shape, and the TypeBox
 * input and output schemas built with src/model/schema-kit.ts).
 *
 *   bun run scripts/gen-docs.ts            (npm run docs) rewrites docs/modules.md
 *   bun run scripts/gen-docs.ts --check    exits 1 when docs/modules.md is out of date
 *
 * The tables are generated; the prose around them (conventions, file-system guarantees, a few
 * notes per module) is written here, in this file's template. test/scripts/gen-docs.test.ts
 * renders the page in memory and fails when the committed file differs, so a schema change that
 * is not followed by `npm run docs` is caught. Edit this file, never docs/modules.md.
 *
 * Schemas are read through `schemaOf`, which accepts a schema object or a function returning one,
 * so the page can be generated whether a module's schemas are built eagerly or on first use.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { allowedOf, code, defaultOf, markdownText, schemaOf, typeOf } from "../src/model/field-facts.ts";
import { modules } from "../src/modules/index.ts";

export { markdownText, schemaOf };

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const MODULES_DOC = join(REPO, "docs", "modules.md");

type Schema = Record<string, unknown>;

/** What the generator reads of a module definition (a subset of modules/_define.ts ModuleDef). */
interface ModuleFacts {
  name: string;
  summary: string;
  platforms: readonly string[];
  shape: string;
  input: unknown;
  output: unknown;
  inputsOptional?: boolean;
  notOnWindows?: readonly string[];
  fixedStepFields?: Record<string, number | undefined>;
  ignoresTimeout?: boolean;
}

/** Sections of the page, in order; a module in none of them lands in "Other modules". */
const GROUPS: readonly { title: string; intro: string; names: readonly string[] }[] = [
  {
    title: "General execution",
    intro: "Scripts, programs, nested documents and assertions.",
    names: ["Assert", "ExecuteBash", "ExecuteBinary", "ExecuteDocument", "ExecutePowerShell"],
  },
  {
    title: "Downloads and uploads",
    intro: "Amazon S3 and HTTP(S). S3 calls use the AWS SDK's credential, region and endpoint chain (docs/cli.md §13).",
    names: ["S3Download", "S3Upload", "WebDownload"],
  },
  {
    title: "File system",
    intro: "All of these are list modules and share the guarantees of §3.",
    names: [
      "AppendFile", "CopyFile", "CopyFolder", "CreateFile", "CreateFolder", "CreateSymlink", "DeleteFile", "DeleteFolder",
      "ListFiles", "MoveFile", "MoveFolder", "ReadFile", "SetFileEncoding", "SetFileOwner", "SetFilePermissions",
      "SetFolderOwner", "SetFolderPermissions",
    ],
  },
  {
    title: "Windows software",
    intro: "Windows Installer packages, run with msiexec.",
    names: ["InstallMSI", "UninstallMSI"],
  },
  {
    title: "System",
    intro: "Restarts, the Windows registry and operating-system updates.",
    names: ["Reboot", "SetRegistry", "UpdateOS"],
  },
];

/** The first numbered section that holds modules (the preface has sections 1–4). */
const FIRST_GROUP_SECTION = 5;

/**
 * Descriptions for fields whose schema has none yet. The schema's own description wins as soon as
 * it has one (then the entry here is unused and can go).
 */
const FALLBACK_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "InstallMSI.output.stdout": "what msiexec printed on standard output, trailing newlines removed",
  "UninstallMSI.output.stdout": "what msiexec printed on standard output, trailing newlines removed",
  "ExecuteDocument.output.executionId": "the nested execution's id (a new UUID)",
  "ExecuteDocument.output.status": "the nested execution's status word (docs/component-documents.md §9)",
  "ExecuteDocument.output.failedStepCount": "steps of the nested document that failed or timed out",
  "ExecuteDocument.output.executedStepCount": "steps of the nested document that ran",
  "ExecuteDocument.output.ignoredFailedStepCount": "steps of the nested document whose failure was ignored",
  "ExecuteDocument.output.skippedStepCount": "steps of the nested document that their if skipped",
  "ExecuteDocument.output.failureMessage": "the nested execution's failure message, or empty",
  "ExecuteDocument.output.logUrl": "always empty: a nested run writes into the parent's log folder",
};

/**
 * Hand-written notes per module: behaviour and rules a schema cannot say. Keep them short and
 * true to the code they name; the schema tables above them are the generated part.
 */
const NOTES: Readonly<Record<string, readonly string[]>> = {
  Assert: [
    "`inputs` is one comparison or logical expression, written exactly as under `if` (docs/component-documents.md §10–§11) but without `then`/`else`.",
    "`{{ references }}` in the operands are resolved before the expression is evaluated. The step fails with `expression evaluated to false: …`, naming the operator and the resolved operands; retries and `onFailure` then apply as for any failure.",
  ],
  ExecuteBash: [
    "The commands are written, one per line, into `steps/<phase>/<step>.input.sh` in the log folder (mode 0600; removed when the step ends if it held a secret value) and run as `bash <file>` in the run's working folder, with awstoe's environment. There is no `set -e`: the script's exit code decides.",
    "Exit 0 is success, 194 asks for a reboot after which this step runs again from the start (docs/reboot.md), anything else fails the step with the exit code and the last lines of standard error.",
    "`stdout` keeps the last 4 MiB of what the script printed; console.log has all of it. A step ends when bash exits, even if a background job still holds its output open; such jobs are left running and the record says so (`backgroundProcesses` beside `stdout`, not chainable).",
  ],
  ExecuteBinary: [
    "The program is started directly, without a shell: each list item is one argument, nothing is expanded. A missing or non-executable program fails the step.",
    "Exit 0 is success; 194 (3010 on Windows) asks for a reboot after which this step runs again; anything else fails the step.",
  ],
  ExecuteDocument: [
    "`timeoutSeconds` and `maxAttempts` are fixed at -1 and 1; writing any other value is a validation error. `onFailure` works as usual.",
    "The nested document is loaded and validated when the step runs (local path, `s3://` or component ARN; relative paths from the run's working folder). Its parameters are only those given here; the parent's are not inherited.",
    "At most 3 levels of nesting below the top document; a document that appears again among its own ancestors fails the step (`cyclic document execution detected`).",
    "The nested run writes into the parent's log folder (its scripts under `steps/nested-<id>/`) and its record appears under the step as `detailedOutput`. The step fails when the nested status is neither `success` nor `successWithIgnoredFailure`.",
  ],
  ExecutePowerShell: [
    "Exactly one of `commands` and `file`; `file` must end in `.ps1`. Commands are written to `steps/<phase>/<step>.input.ps1` (UTF-8 with a byte order mark, CRLF lines).",
    "Runs `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File <script>`. Exit 0 is success, 3010 asks for a reboot after which this step runs again, anything else fails.",
  ],
  S3Download: [
    "`s3://bucket/key` downloads one object to the file `destination`, whose folder must exist. `s3://bucket/prefix/*` downloads every object under the prefix (at most 1,000) into the folder `destination`, creating sub-folders.",
    "Before anything is written, every key must land inside the destination (no `..`, no absolute keys) and no two keys may clash (`a.txt` and `a.txt/b`); links met below the destination are refused, never written through. Each object goes to a temporary file renamed into place.",
    "With `overwrite: false` an existing file fails the step.",
    "Like `aws s3 cp`, several requests run at once: at most `OPENTOE_S3_MAX_CONCURRENCY` (default 10) in flight per item, holding at most that many times `OPENTOE_S3_PART_SIZE` (default 8 MiB; bytes, or with K/KiB, M/MiB, G/GiB) in memory. An object larger than one part is read as ranged GETs of one part each, every one with `If-Match` on the ETag that HeadObject gave; an object up to one part is one GET. The Linux and macOS binaries write each part into a file of its own in a hidden, private folder beside the destination and append the parts to the temporary file in order, so at most `2 × OPENTOE_S3_MAX_CONCURRENCY` parts (160 MiB by default) take disk space there besides the file itself; the Windows binary, the Node build and the SDK client's path write each part at its offset into the temporary file instead. While a big file is written, what has arrived is moved to the disk in the background (every 64 MiB), so the file is flushed and renamed into place without a long pause at the end. A prefix downloads several objects at a time (listed sizes decide; small ones need no HeadObject). `OPENTOE_S3_MAX_CONCURRENCY=1` is the single stream: one GET per object, one object after another.",
    "The requests go straight to S3 as signed HTTPS requests (HeadObject, GetObject of a whole object or of one part's range, ListObjectsV2 with `encoding-type=url`), with credentials and region from the SDK's usual chain, without the S3 client's per-request middleware. FIPS or dual-stack endpoints, a profile with its own `endpoint_url` or `s3` settings (its `addressing_style` is followed directly), access point ARNs and directory buckets go through the SDK's S3 client, as does everything when `OPENTOE_S3_DIRECT=0`.",
    "Checked before the rename: the size, and the object's whole-object checksum when S3 keeps one (SHA-256, SHA-1 or CRC32) or else its ETag when that is the content's MD5 (uploaded in one piece, not SSE-KMS or SSE-C). Multipart ETags and composite checksums cannot be checked this way: size and `If-Match` only. An object replaced during the download fails the step (\"the object changed during the download; nothing was written\") instead of mixing versions.",
    "A part that fails for a passing reason (network, 5xx, throttling, an answer cut short) is fetched again on its own, up to 4 times with growing pauses (0.2, 0.4, 0.8 s), on top of the request's own 3 attempts. The first failure that remains stops everything else; temporary files are removed, and for a prefix the message says how many objects were downloaded. The step's time limit and SIGTERM stop it the same way. The step's log lists the objects downloaded in key order, whatever order they finished in.",
  ],
  S3Upload: [
    "A file goes to the key given, or to `prefix/<file name>` when the destination ends with `/`. A `*` pattern sends the matching files (and, with `recurse`, matching folders with their contents); a folder needs `recurse: true` and sends its contents under the prefix.",
    "Several files go up at once: at most `OPENTOE_S3_MAX_CONCURRENCY` requests in flight (default 10) holding at most that many times `OPENTOE_S3_PART_SIZE` (default 8 MiB, at least 5 MiB for uploads) in memory: a file or a part is read only once that limit has room for it. A file up to one part is one PutObject, sent straight to S3 like S3Download's requests (its SHA-256 signed with it); a larger one is a multipart upload through the SDK's S3 client, its parts read from the file at their offsets and counted against the same limit. `OPENTOE_S3_MAX_CONCURRENCY=1` sends one file after another in one stream.",
    "`uploaded` lists the `s3://` URI of every object sent in the order planned, whatever order they finished in. Files whose names are not UTF-8 stop the upload before anything is sent.",
    "The first failure stops the rest: no new file starts, multipart uploads under way are aborted (AbortMultipartUpload, so S3 keeps no parts; a CreateMultipartUpload already sent is let finish so its upload can be aborted too), single-request files already under way finish. Objects already sent stay in S3; the message says how many. The step's time limit and SIGTERM stop everything the same way.",
  ],
  WebDownload: [
    "Redirects are followed (never from https to http). Each element is tried up to 5 times, waiting 1, 2, 4 and 8 s (`AWSTOE_WEBDOWNLOAD_RETRY_BASE_MS` changes the base); 60 s without data is a stall (`AWSTOE_WEBDOWNLOAD_IDLE_TIMEOUT_MS`).",
    "With both `checksum` and `algorithm` the digest is checked while the file streams in, and an existing file that already has it is not downloaded again; only one of the two is a warning (no check). A checksum of the wrong length for its algorithm is a validation error.",
    "The file is written beside its target under a temporary name and renamed into place once complete and verified; a failed try leaves an existing file as it was. A destination ending in a separator takes the file name from the URL.",
    "One connection per file, no ranged requests: unlike S3, which caps each connection (so ten ranges of one object are several times faster: 192 MiB took 13 s in one stream and 2.7–4.3 s in ten against the loopback S3 capped at 16 MB/s per connection), web servers and CDNs mostly serve one connection at full speed, and ranges are where they differ (no `Accept-Ranges`, weak or missing ETags, a changed file answered whole, per-client connection caps). One stream keeps the checksum computed as the bytes arrive and matches curl on loopback (`scripts/bench-download.ts`).",
  ],
  AppendFile: [
    "The file must exist. The old bytes and the new are written together to a temporary file that replaces the original, so a crash never leaves half the text appended; no newline or byte order mark is added.",
  ],
  CopyFile: [
    "A `*` in the source's last segment copies every matching file (dot-files too); the destination must then end with a separator. A destination ending with a separator keeps the source's name; missing folders are created.",
    "A link named as the source is followed; a link at the destination is written through (its target is replaced atomically). Permission bits and modification times are kept.",
    "Every target is checked before the first file changes, so an existing file with `overwrite: false` stops the step with nothing copied.",
  ],
  CopyFolder: [
    "Copies a folder with everything in it. A new destination folder appears only when complete (built under a temporary name, then renamed). Copying into an existing folder with `overwrite: true` merges: files are replaced one at a time, files only the destination has stay.",
    "Links inside the tree are copied as links and never followed. A `*` in the source's last segment selects real folders only (not links to folders).",
  ],
  CreateFile: [
    "Parent folders are created as needed. A new file gets 0666 less the umask unless `permissions` says otherwise; rewriting an existing file keeps its owner and mode unless given. Symlinks are written through; a dangling link is an error.",
    "`owner`, `group` and `permissions` are validation errors when the document is validated for Windows.",
  ],
  CreateFolder: [
    "Like `mkdir -p`: missing parents get the defaults (0777 less the umask), the named folder gets `owner`, `group` and `permissions` when given. An existing folder is accepted with `overwrite: true` and its contents are never touched.",
    "`owner`, `group` and `permissions` are validation errors when the document is validated for Windows.",
  ],
  CreateSymlink: [
    "`target` must exist (checked before anything changes) and is stored as written, so a relative target stays relative to the link's folder. Parent folders of `path` are created.",
    "Something that is not a link at `path` is never replaced, even with `force`; an existing link is replaced only with `force`, atomically.",
  ],
  DeleteFile: [
    "One file, or every file in one folder matching a `*` in the last segment (dot-files included, not recursive). A file that is not there, or a pattern that matches nothing, is success and the log says so.",
    "Folders are never deleted (a folder named exactly fails the step). A link is deleted as a link; what it points to is untouched.",
  ],
  DeleteFolder: [
    "A folder that is not there is success. Without `force` the folder must be empty. With `force` links inside are removed as links, never followed.",
    "Refused before anything is deleted: an empty path, `/` or a drive root, the run's working folder or any folder above it, a file, and a link (even one to a folder).",
  ],
  ListFiles: [
    "Regular files and links to regular files, as absolute paths starting from the folder as written, sorted by code unit, joined with commas. Links to folders are never entered. An empty `fileNamePattern` means all files; `*` matches hidden names too.",
    "A name that is not UTF-8 is listed with each such byte as `\\xHH` and the log warns: such a path is for reading, not for passing to a later step.",
  ],
  MoveFile: [
    "Source and destination rules as CopyFile. A link named as the source is moved as a link; a link at the destination is replaced. Across file systems the file is copied, then the source removed.",
  ],
  MoveFolder: [
    "Source and destination rules as CopyFolder. Moving into an existing folder with `overwrite: true` renames the entries in (replacing files), then removes the emptied source.",
  ],
  ReadFile: [
    "At most 16 MiB per step, all its files together: a larger file fails the step, naming the file, its size and the limit, without being read. Several files give one `content`, their texts joined with a newline.",
    "Symlinks are followed; a byte order mark of the given encoding is dropped; bytes that do not decode are an error. With `printFileContent: true` the text is also shown on the console.",
  ],
  SetFileEncoding: [
    "The file must be valid UTF-8 (a UTF-8 byte order mark is dropped) and is rewritten in the given encoding without a byte order mark, atomically. A file already in the wanted bytes is left alone.",
  ],
  SetFileOwner: [
    "A symlink's target changes, not the link. A folder is refused (SetFolderOwner is for folders). Without `group` the owner's primary group is set.",
  ],
  SetFilePermissions: [
    "Sets exactly the given bits, special bits included; the umask plays no part. A symlink's target changes. A folder is refused.",
  ],
  SetFolderOwner: [
    "With `recursive` (default) everything inside changes too. Links inside the tree are changed themselves and never followed; a link given as the folder is followed. A recursive change of `/` is refused.",
  ],
  SetFolderPermissions: [
    "With `recursive` (default) every file and folder inside gets exactly the same bits. Links inside the tree are skipped (chmod would follow them out of the tree). A recursive change of `/` is refused.",
  ],
  InstallMSI: [
    "`path` may be a local file, `s3://` or `http(s)://` (plain http only when the signature check is in full force); remote packages are downloaded into the step's folder first. The package's Authenticode signature is checked before msiexec runs.",
    "msiexec always gets `/quiet /norestart` and a log (`steps/<phase>/<step>.msiexec.log` when `logFile` is not given). Success codes: 0, 1614, 1641, 3010. With `reboot: Allow` a 1641 or 3010 restarts the machine, `Force` always does, `Skip` never; the run then continues with the next step (docs/reboot.md).",
    "Property names must be Windows Installer identifiers; `REBOOT` and `REBOOTPROMPT` may not be set (the `reboot` input decides).",
  ],
  UninstallMSI: [
    "As InstallMSI, with `msiexec /x`; 1605 (the product is not installed) is success as well. The package's signature is checked too: uninstalling runs the package's own removal actions.",
  ],
  Reboot: [
    "Waits `delaySeconds`, then the engine saves the state and restarts the machine (or hands the restart to the Systems Manager agent); after the restart the execution continues with the next step. The step's `timeoutSeconds` does not apply. See docs/reboot.md.",
    "A script that exits 194 (3010 on Windows) still reboots when this module is blocked with `--blocked-action-modules`.",
  ],
  SetRegistry: [
    "`path` starts with a hive: `HKEY_LOCAL_MACHINE`/`HKLM:`, `HKEY_CURRENT_USER`/`HKCU:`, `HKEY_CLASSES_ROOT`/`HKCR:`, `HKEY_USERS`/`HKU:`, `HKEY_CURRENT_CONFIG`/`HKCC:`. Missing keys are created. Each element is one `reg.exe add … /f`, with no shell in between.",
    "`value` by type: DWORD and QWORD a whole number in range (a fraction such as `1.1` is a validation error); SZ and EXPAND_SZ text, unchanged; MULTI_SZ a list of texts (one text is a one-item list); BINARY a hex string or a list of bytes 0–255.",
  ],
  UpdateOS: [
    "Linux: dnf, yum, apt-get or zypper, whichever has a package database; needs root; runs without prompts. Installs `include` minus `exclude` (everything available when neither is given); excluded packages are held for the run and released afterwards. Not available on macOS.",
    "Windows: drives the Windows Update Agent through PowerShell; entries are KB ids or `*title*` patterns.",
    "When the system says a restart is needed, the step asks for a reboot and the run continues with the next step afterwards (docs/reboot.md).",
  ],
};

/** Module files by the action name they define (`name: "X"` in src/modules/<file>.ts). */
function moduleFiles(): Map<string, string> {
  const folder = join(REPO, "src", "modules");
  const files = new Map<string, string>();
  for (const file of readdirSync(folder).sort()) {
    if (!file.endsWith(".ts") || file.startsWith("_") || file === "index.ts") continue;
    const name = /\bname:\s*"([A-Za-z0-9]+)"/.exec(readFileSync(join(folder, file), "utf8"))?.[1];
    if (name !== undefined && !files.has(name)) files.set(name, `src/modules/${file}`);
  }
  return files;
}

const PLATFORM_NAMES: Readonly<Record<string, string>> = { linux: "Linux", windows: "Windows", macos: "macOS" };

function platformList(platforms: readonly string[]): string {
  return platforms.map((p) => PLATFORM_NAMES[p] ?? p).join(", ");
}

/** A Markdown table cell: pipes escaped (also inside code spans, as tables need), one line. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function describe(module: ModuleFacts, part: "input" | "output", field: string, schema: Schema): string {
  const own = typeof schema.description === "string" ? schema.description : undefined;
  return markdownText(own ?? FALLBACK_DESCRIPTIONS[`${module.name}.${part}.${field}`] ?? "");
}

function inputTable(module: ModuleFacts, input: Schema): string[] {
  const properties = (input.properties ?? {}) as Record<string, unknown>;
  const required = new Set((input.required as string[] | undefined) ?? []);
  const names = Object.keys(properties);
  if (names.length === 0) return ["No inputs."];
  const rows = [
    "| field | type | required | default | allowed values | description |",
    "|---|---|---|---|---|---|",
  ];
  for (const name of names) {
    const field = schemaOf(properties[name]);
    const notes: string[] = [];
    const description = describe(module, "input", name, field);
    if (module.notOnWindows?.includes(name) && !/not on Windows/i.test(description)) notes.push("not on Windows");
    const text = [description, ...notes.map((n) => `(${n})`)].filter((t) => t !== "").join(" ");
    rows.push(`| ${code(name)} | ${cell(typeOf(field))} | ${required.has(name) ? "yes" : "no"} | ${cell(defaultOf(field))} | ${cell(allowedOf(field))} | ${cell(text)} |`);
  }
  return rows;
}

function outputTable(module: ModuleFacts, output: Schema): string[] {
  const properties = (output.properties ?? {}) as Record<string, unknown>;
  const names = Object.keys(properties);
  if (names.length === 0) return ["No outputs."];
  const rows = ["| field | type | description |", "|---|---|---|"];
  for (const name of names) {
    const field = schemaOf(properties[name]);
    const type = typeOf(field).replace(/ or reference$/, "");
    rows.push(`| ${code(name)} | ${cell(type)} | ${cell(describe(module, "output", name, field))} |`);
  }
  return rows;
}

function shapeLine(module: ModuleFacts): string {
  switch (module.shape) {
    case "list":
      return "list — `inputs` is a list of mappings run in order (one mapping counts as a one-item list)";
    case "map":
      return module.inputsOptional ? "map — `inputs` is one mapping, and may be left out" : "map — `inputs` is one mapping";
    case "condition":
      return "expression — `inputs` is one comparison or logical expression";
    default:
      return module.shape;
  }
}

function stepFieldLine(module: ModuleFacts): string | undefined {
  const fixed = Object.entries(module.fixedStepFields ?? {}).filter(([, v]) => v !== undefined);
  const parts = fixed.map(([k, v]) => `\`${k}\` is always ${v}`);
  if (module.ignoresTimeout) parts.push("the step's `timeoutSeconds` does not apply");
  return parts.length === 0 ? undefined : parts.join("; ");
}

function moduleSection(module: ModuleFacts, file: string | undefined): string[] {
  const input = schemaOf(module.input);
  const output = schemaOf(module.output);
  const lines = [`### ${module.name}`, "", markdownText(module.summary), "", `- **Platforms:** ${platformList(module.platforms)}`, `- **Inputs:** ${shapeLine(module)}`];
  const stepFields = stepFieldLine(module);
  if (stepFields !== undefined) lines.push(`- **Step fields:** ${stepFields}`);
  if (file !== undefined) lines.push(`- **Source:** [${file}](../${file})`);
  lines.push("", "**Inputs**", "");
  if (module.shape === "condition") {
    lines.push("One expression: a comparison operator with its operands, or `and`/`or`/`not` (docs/component-documents.md §10–§11).");
  } else {
    lines.push(...inputTable(module, input));
  }
  lines.push("", "**Outputs**", "", ...outputTable(module, output));
  const notes = NOTES[module.name];
  if (notes !== undefined && notes.length > 0) lines.push("", "**Notes**", "", ...notes.map((n) => `- ${n}`));
  lines.push("");
  return lines;
}

function platformMatrix(all: readonly ModuleFacts[]): string[] {
  const mark = (m: ModuleFacts, p: string) => (m.platforms.includes(p) ? "✓" : "—");
  const rows = ["| module | Linux | Windows | macOS | inputs | outputs |", "|---|---|---|---|---|---|"];
  for (const m of [...all].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const outputs = Object.keys((schemaOf(m.output).properties ?? {}) as Schema);
    const shape = m.shape === "condition" ? "expression" : m.shape;
    rows.push(`| [${m.name}](#${m.name.toLowerCase()}) | ${mark(m, "linux")} | ${mark(m, "windows")} | ${mark(m, "macos")} | ${shape} | ${outputs.length === 0 ? "—" : outputs.map(code).join(", ")} |`);
  }
  return rows;
}

const PREFACE = `<!-- Generated by scripts/gen-docs.ts from the module schemas; edit that script, then run \`npm run docs\`. -->

# Action modules

Every step names one action module in \`action\`. This page lists every module opentoe has, with
its inputs and outputs as its schema defines them (the same schemas \`awstoe validate\` checks and
\`awstoe schema\` publishes). The registry is [src/modules/index.ts](../src/modules/index.ts); how a
module declares itself is in [src/modules/_define.ts](../src/modules/_define.ts).

## 1. Reading this page

Each module has a short summary, the platforms it runs on, the shape of its \`inputs\`, and two
tables:

- **Inputs**: the field name as written in the document; its type; whether it must be given; the
  default used when it is left out; the values it accepts; what it means. Unknown fields are
  validation errors.
- **Outputs**: what later steps can read with \`{{ <phase>.<step>.outputs.<field> }}\`
  (docs/component-documents.md §6).

Types:

- **text** — a string. A YAML number or boolean is read as the text written (\`1.0\` stays
  \`1.0\`, \`0755\` stays \`0755\`). Any text may contain \`{{ references }}\`.
- **true/false** — a YAML boolean, or the text \`true\`/\`false\` in any letter case. The YAML 1.1
  words Go programs accept (\`yes\`, \`no\`, \`on\`, \`off\`, \`y\`, \`n\` in their usual spellings) work
  too, with a W_YAML11_BOOLEAN warning.
- **whole number** — a YAML integer or a text of digits.
- **choice** — one of the listed words.
- **… or reference** — the field also takes a \`{{ reference }}\`; the value it resolves to is
  checked when the step runs, and a value that does not fit fails that step.

## 2. Conventions shared by all modules

**List modules and map modules.** A *map* module takes one mapping as \`inputs\`. A *list* module
takes a list of mappings and runs one operation per item, in order; a single mapping is accepted
as a one-item list. An empty list is a validation error. Assert takes an *expression* instead.

**What failure means.** A module either returns its outputs or fails the step with a message,
recorded as the step's \`failureMessage\` and prefixed with the module name
(\`CopyFile: source '/x/a.txt' does not exist\`). Then \`maxAttempts\` and \`onFailure\` decide what
happens next (docs/component-documents.md §9). In a list module the first failing item stops the
list; the message names it and what had already been done
(\`operation 2 of 3 (/etc/app.conf): …; operation 1 had completed\`). Nothing already done is undone.
A reboot request (exit 194/3010, Reboot, UpdateOS, the MSI modules) is not a failure: see
docs/reboot.md.

**Privileges.** Modules run as the awstoe process runs (root or SYSTEM under Image Builder).
Nothing switches users.

**Paths.** Relative paths are taken from the run's working folder. \`/\` separates folders on every
platform, \`\\\` as well on Windows; a path ending with a separator names a folder. A \`*\` may appear
only in the last segment of the inputs that say so, and matches any run of characters, names
starting with a dot included.

**Encodings** (AppendFile, CreateFile, ReadFile, SetFileEncoding): \`utf8\`/\`utf-8\`,
\`utf16\`/\`utf-16\` (little-endian), \`utf16-LE\`, \`utf16-BE\`, \`utf32\`/\`utf-32\` (little-endian),
\`utf32-LE\`, \`utf32-BE\`, with or without the dash, in any letter case. Files are written without
a byte order mark; a matching one is dropped when reading.

**Program output.** The \`stdout\` output of ExecuteBash, ExecuteBinary and ExecutePowerShell keeps
the last 4 MiB of what the program printed, trailing newlines removed; everything goes to
console.log.

## 3. File-system guarantees

The file-system modules are written for a root process in folders other users may reach:

- **Atomic writes.** CreateFile, AppendFile, SetFileEncoding, and every file a copy or download
  replaces, are written to a hidden temporary file beside the target
  (\`.<name>.opentoe-<16 hex digits>.tmp\`, created exclusively) and renamed into place. A crash
  leaves the old content or the new, never a mix. A new folder from CopyFolder appears only when
  it is complete.
- **No following links out of a tree.** Recursive operations (CopyFolder, MoveFolder,
  DeleteFolder with \`force\`, ListFiles, SetFolderOwner, SetFolderPermissions, S3Upload) never
  follow a symbolic link found inside the tree they were given: links are copied as links, deleted
  as links, skipped by chmod, changed themselves by chown. A link given as the top path is the
  user's choice and is followed where the module says so.
- **Names that are not UTF-8.** Folder entries are read by their exact bytes and each one is
  classified by \`lstat\` of its exact path, so a name that is not valid UTF-8 is acted on itself,
  never on the entry its lossy decoding would name. In messages and in ListFiles' output each such
  byte is shown as \`\\xNN\`. S3Upload refuses such files (an S3 key is UTF-8 text).
- **Refusals.** DeleteFolder refuses \`/\`, a drive root, an empty path, and the working folder or
  any folder above it. Recursive owner and permission changes of \`/\` are refused.
- **Bounded reads.** ReadFile reads at most 16 MiB per step (its files together); a larger file
  fails the step, naming the file, its size and the limit, without being read.

Where these rules are implemented: [src/modules/_fs.ts](../src/modules/_fs.ts) (paths, names as
bytes, list operations, atomic writes), [src/modules/_transfer.ts](../src/modules/_transfer.ts)
(copy and move), [src/modules/_tree.ts](../src/modules/_tree.ts) (owner and permission walks),
[src/safe-fs/durable.ts](../src/safe-fs/durable.ts) (the one durable write).

## 4. Platforms at a glance
`;

/** docs/modules.md as it should be, from the modules' definitions now. */
export function renderModulesDoc(): string {
  const all = Object.values(modules) as unknown as ModuleFacts[];
  const byName = new Map(all.map((m) => [m.name, m]));
  const files = moduleFiles();
  const lines: string[] = [PREFACE, ...platformMatrix(all), ""];
  const placed = new Set<string>();
  const groups = [...GROUPS.map((g) => ({ ...g, names: g.names.filter((n) => byName.has(n)) }))];
  const rest = all.map((m) => m.name).filter((n) => !GROUPS.some((g) => g.names.includes(n)));
  if (rest.length > 0) groups.push({ title: "Other modules", intro: "Modules not yet placed in a section above.", names: rest });
  groups.forEach((group, i) => {
    if (group.names.length === 0) return;
    lines.push(`## ${FIRST_GROUP_SECTION + i}. ${group.title}`, "", group.intro, "");
    for (const name of group.names) {
      if (placed.has(name)) continue;
      placed.add(name);
      lines.push(...moduleSection(byName.get(name)!, files.get(name)));
    }
  });
  return `${lines.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd()}\n`;
}

if (import.meta.main) {
  const check = process.argv.includes("--check");
  const wanted = renderModulesDoc();
  let current: string | undefined;
  try {
    current = readFileSync(MODULES_DOC, "utf8");
  } catch {
    current = undefined;
  }
  if (check) {
    if (current !== wanted) {
      process.stderr.write("docs/modules.md is out of date: run `npm run docs`\n");
      process.exitCode = 1;
    }
  } else if (current !== wanted) {
    writeFileSync(MODULES_DOC, wanted);
    process.stderr.write(`wrote ${MODULES_DOC}\n`);
  }
}
