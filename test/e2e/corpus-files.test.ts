/**
 * The corpus documents that use the file-system modules, run end to end with the compiled binary
 * in a sandbox folder. They are documentation snippets with absolute paths (`/home/UserName/…`,
 * `C:\MyFolder\…`): the ONLY change made to them is that every absolute path is moved under the
 * sandbox (`/X` → `<sandbox>/X`, `C:\A\B` → `<sandbox>/C/A/B`) — see `sandboxed()`. The files a
 * snippet expects to exist beforehand are created by `setup`. Accounts such as `LinuxUser` are not
 * paths and are left alone; documents naming accounts that do not exist here must fail with a
 * message that names the step and the unknown account.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { awstoeBinary, runAwstoe } from "../helpers/binary.ts";
import { describeWithShared } from "../helpers/corpus.ts";

let root: string;
beforeAll(async () => {
  await awstoeBinary();
  root = mkdtempSync(join(tmpdir(), "opentoe-corpus-files-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Absolute paths of a document moved under `sandbox`; nothing else changes. */
export function sandboxed(text: string, sandbox: string): string {
  // One pass, so a path moved once is not moved again.
  return text.replace(/(?<=(?:path|source|destination|target):\s+)(?:([A-Za-z]):\\|\/)([^\s'"]*)/g, (_m, drive: string | undefined, rest: string) =>
    drive === undefined ? `${sandbox}/${rest}` : `${sandbox}/${drive}/${rest.replace(/\\/g, "/")}`,
  );
}

interface Case {
  file: string;
  /** Creates what the snippet expects to exist; paths are inside the sandbox. */
  setup(sandbox: string): void;
  exit: 0 | 1;
  /** For failing documents: texts the failure message must contain (step and reason). */
  failure?: string[];
  check?(sandbox: string): void;
}

const put = (path: string, content: string | Uint8Array = "x") => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
};
const utf32le = (text: string) => Buffer.from([...text].flatMap((ch) => { const b = Buffer.alloc(4); b.writeUInt32LE(ch.codePointAt(0)!); return [...b]; }));

const CASES: Case[] = [
  {
    file: "toadslop__aws_imagebuilder_component__test__append-file.yaml",
    setup: (s) => {
      put(join(s, "Sample.txt"), "start:");
      put(join(s, "C/MyFolder/MyFile.txt"), "start:");
      put(join(s, "FolderName/SampleFile.txt"), "");
      put(join(s, "C/MyFolderName/SampleFile.txt"), "");
    },
    exit: 0,
    check: (s) => {
      expect(readFileSync(join(s, "Sample.txt"), "utf8")).toBe("start:The string to be appended to the file");
      expect(readFileSync(join(s, "FolderName/SampleFile.txt"))).toEqual(utf32le("The string to be appended to the file"));
    },
  },
  {
    file: "toadslop__aws_imagebuilder_component__test__copy-folder.yaml",
    setup: (s) => {
      for (const f of ["SampleFolder", "SourceFolder", "SampleOther"]) put(join(s, `Sample/MyFolder/${f}/inner/file.txt`), f);
      for (const f of ["SampleFolder", "SourceFolder"]) put(join(s, `C/Sample/MyFolder/${f}/file.txt`), f);
    },
    // The last step copies onto C:\MyFolder\destinationFolder (made by step 2) with overwrite: false.
    exit: 1,
    failure: ["build/CopyingFoldersWithoutOverwrite", "destinationFolder"],
    check: (s) => {
      expect(readFileSync(join(s, "MyFolder/destinationFolder/inner/file.txt"), "utf8")).toBe("SampleFolder");
      expect(readFileSync(join(s, "MyFolder/SourceFolder/inner/file.txt"), "utf8")).toBe("SourceFolder");
      expect(existsSync(join(s, "MyFolder/SampleOther/inner/file.txt"))).toBe(true);
    },
  },
  {
    file: "toadslop__aws_imagebuilder_component__test__create-file.yaml",
    setup: () => {},
    exit: 1,
    failure: ["build/CreatingFileWithFileProperties", "Ubuntu"],
    check: (s) => {
      expect(readFileSync(join(s, "home/UserName/Sample.txt"), "utf8")).toBe("The text content of the sample file.");
    },
  },
  {
    file: "toadslop__aws_imagebuilder_component__test__create-folder.yaml",
    setup: () => {},
    exit: 1,
    failure: ["build/CreatingFolderWithFolderProperties", "SampleOwnerName"],
    check: (s) => expect(statSync(join(s, "Sample/MyFolder")).isDirectory()).toBe(true),
  },
  {
    file: "toadslop__aws_imagebuilder_component__test__file-and-folder-permissions.yaml",
    setup: (s) => {
      put(join(s, "home/UserName/SampleFile.txt"));
      put(join(s, "SampleFolder/inside.txt"));
      put(join(s, "home/UserName/SampleFolder/inside.txt"));
    },
    exit: 0,
    check: (s) => {
      expect(statSync(join(s, "home/UserName/SampleFile.txt")).mode & 0o7777).toBe(0o766);
      expect(statSync(join(s, "SampleFolder")).mode & 0o7777).toBe(0o777);
      expect(statSync(join(s, "home/UserName/SampleFolder")).mode & 0o7777).toBe(0o777);
    },
  },
  {
    file: "toadslop__aws_imagebuilder_component__test__move-folder.yaml",
    setup: (s) => {
      put(join(s, "Sample/MyFolder/SourceFolder/file.txt"), "moved");
      put(join(s, "C/Sample/MyFolder/SampleFolder/file.txt"), "moved too");
    },
    exit: 0,
    check: (s) => {
      expect(readFileSync(join(s, "MyFolder/destinationFolder/file.txt"), "utf8")).toBe("moved");
      expect(existsSync(join(s, "Sample/MyFolder/SourceFolder"))).toBe(false);
      expect(readFileSync(join(s, "C/MyFolder/destinationFolder/file.txt"), "utf8")).toBe("moved too");
    },
  },
  {
    file: "toadslop__aws_imagebuilder_component__test__read-file.yaml",
    setup: (s) => {
      put(join(s, "home/UserName/SampleFile.txt"), "read me");
      put(join(s, "FolderName/SampleFile.txt"), utf32le("wide text"));
    },
    exit: 0,
  },
  {
    file: "toadslop__aws_imagebuilder_component__test__set-file-owner.yaml",
    setup: (s) => put(join(s, "home/UserName/SampleText.txt")),
    exit: 1,
    failure: ["build/SettingFileOwnerPropertyNoGroup", "LinuxUser"],
  },
  {
    file: "toadslop__aws_imagebuilder_component__test__set-folder-owner.yaml",
    setup: (s) => put(join(s, "SampleFolder/inside.txt")),
    exit: 1,
    failure: ["build/SettingFolderPropertyWithOutGroup", "LinuxUser"],
  },
];

describe("corpus documents with file-system modules, in a sandbox", () => {
  test("sandboxed() moves absolute paths and nothing else", () => {
    const text = "  - path: /home/x.txt\n    source: C:\\A\\b.txt\n    owner: LinuxUser\n    content: /not/a/path/key\n    path: ./rel.txt\n";
    expect(sandboxed(text, "/sb")).toBe("  - path: /sb/home/x.txt\n    source: /sb/C/A/b.txt\n    owner: LinuxUser\n    content: /not/a/path/key\n    path: ./rel.txt\n");
  });
});

describeWithShared("corpus", "corpus documents with file-system modules, in a sandbox", (corpus) => {
  for (const c of CASES) {
    test(c.file, () => {
      const sandbox = mkdtempSync(join(root, "sb-"));
      const logs = mkdtempSync(join(root, "logs-"));
      c.setup(sandbox);
      const doc = join(sandbox, "component.yaml");
      writeFileSync(doc, sandboxed(readFileSync(join(corpus, "docs", c.file), "utf8"), sandbox));
      const run = runAwstoe(["run", "--documents", doc, "--log-directory", logs], { cwd: sandbox });
      const summary = JSON.parse(run.stdout.slice(run.stdout.lastIndexOf("\n{") + 1));
      expect(run.code, run.stderr).toBe(c.exit);
      expect(run.stderr).not.toContain("internal error");
      for (const text of c.failure ?? []) expect(summary.failureMessage).toContain(text);
      c.check?.(sandbox);
      // Nothing outside the sandbox: the snippets' absolute paths must not exist on this machine.
      expect(existsSync("/Sample/MyFolder")).toBe(false);
      expect(existsSync("/home/UserName")).toBe(false);
    });
  }
});
