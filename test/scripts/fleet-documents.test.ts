/**
 * @module test/scripts/fleet-documents.test: the documents of examples/fleet/ (scripts/gen-fleet.ts)
 * checked as documents — the SSM Command document against the rules SSM applies that can be
 * checked offline (test/helpers/ssm-document-rules.ts; the checker itself is shown to catch each
 * kind of mistake), the parameter patterns against the characters the scripts' fallback must
 * never receive, the Windows step as text (no PowerShell here), and the Image Builder components
 * with the compiled awstoe's own `validate`. The Linux step runs for real in
 * test/scripts/fleet-linux.test.ts.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FLEET_PARAMETERS, placeholder } from "../../scripts/_fleet-parameters.ts";
import { FLEET_DIR, INSTALL_SH, renderFleetFiles, staleFleetFiles } from "../../scripts/gen-fleet.ts";
import { awstoeBinary, runAwstoe } from "../helpers/binary.ts";
import { referencesIn, ssmCommandDocumentProblems } from "../helpers/ssm-document-rules.ts";

const SSM_FILE = join(FLEET_DIR, "opentoe-run-command.json");
const committed = readFileSync(SSM_FILE, "utf8");
interface Step {
  name: string;
  action: string;
  inputs: { runCommand: string[] };
}
const document = JSON.parse(committed) as { parameters: Record<string, { default?: string; allowedPattern: string }>; mainSteps: Step[] };
const stepOf = (action: string) => document.mainSteps.find((s) => s.action === action)!;
const linux = stepOf("aws:runShellScript").inputs.runCommand;
const windows = stepOf("aws:runPowerShellScript").inputs.runCommand;
const installer = readFileSync(INSTALL_SH, "utf8");

/** True when `needle`'s lines appear in `lines` one after the other, unchanged. */
function carriesVerbatim(lines: readonly string[], needle: string): boolean {
  const wanted = needle.replace(/\n$/, "").split("\n");
  const at = lines.indexOf(wanted[0]!);
  return at >= 0 && wanted.every((line, i) => lines[at + i] === line);
}

describe("examples/fleet/ stays generated", () => {
  test("the committed files are what scripts/gen-fleet.ts renders now (run it after changing install.sh or a _fleet part)", () => {
    expect(staleFleetFiles()).toEqual([]);
  });

  test("a change to install.sh changes the documents that carry it", () => {
    const changed = renderFleetFiles(installer.replace("set -u", "set -u\n# changed"));
    expect(changed["opentoe-run-command.json"]).not.toBe(committed);
    expect(changed["opentoe-imagebuilder-linux.yaml"]).not.toBe(readFileSync(join(FLEET_DIR, "opentoe-imagebuilder-linux.yaml"), "utf8"));
  });

  test("an installer SSM would misread is refused, not carried", () => {
    expect(() => renderFleetFiles(`${installer}echo "{{ oops }}"\n`)).toThrow("contains '{{'");
    expect(() => renderFleetFiles(`${installer}OPENTOE_INSTALL_SH\n`)).toThrow("would end the here-document");
  });
});

describe("the SSM Command document", () => {
  test("passes every offline rule: schema 2.2, parameters, patterns, references, steps, preconditions", () => {
    expect(ssmCommandDocumentProblems(committed)).toEqual([]);
  });

  test("one Linux step (aws:runShellScript) and one Windows step (aws:runPowerShellScript)", () => {
    expect(document.mainSteps.map((s) => [s.action, (s as unknown as { precondition: unknown }).precondition])).toEqual([
      ["aws:runShellScript", { StringEquals: ["platformType", "Linux"] }],
      ["aws:runPowerShellScript", { StringEquals: ["platformType", "Windows"] }],
    ]);
  });

  test("the checker catches each kind of mistake", () => {
    const broken = (change: (d: Record<string, any>) => void): string[] => {
      const copy = JSON.parse(committed) as Record<string, any>;
      change(copy);
      return ssmCommandDocumentProblems(JSON.stringify(copy));
    };
    expect(broken((d) => (d.schemaVersion = "2.0"))).toEqual(['schemaVersion must be "2.2" (a string), not "2.0"']);
    expect(broken((d) => (d.mainSteps[1].name = d.mainSteps[0].name))).toEqual(["mainSteps[1]: the name 'RunOpentoeLinux' is used by an earlier step"]);
    expect(broken((d) => (d.mainSteps[0].name = "has space"))).toEqual(["mainSteps[0]: name must be 1-100 letters, digits, '.', '_' or '-'"]);
    expect(broken((d) => (d.mainSteps[0].precondition.StringEquals[1] = "Windows"))).toEqual(["mainSteps[0]: aws:runShellScript runs on Linux, but the precondition selects Windows"]);
    expect(broken((d) => delete d.mainSteps[1].precondition)).toEqual(['mainSteps[1]: precondition must be { "StringEquals": ["platformType", "Linux" | "Windows" | "MacOS"] }']);
    expect(broken((d) => d.mainSteps[0].inputs.runCommand.push("echo {{ nosuch }}"))).toEqual(["mainSteps[0]: {{ nosuch }} is not a declared parameter"]);
    expect(broken((d) => (d.parameters.version.default = "newest"))).toEqual(['parameter \'version\': the default "newest" does not match its own allowedPattern']);
    expect(broken((d) => delete d.parameters.phases.allowedPattern)).toEqual(["parameter 'phases': needs an allowedPattern"]);
    expect(broken((d) => (d.parameters.phases.type = "StringList"))).toEqual(["parameter 'phases': interpolationType ENV_VAR needs type String"]);
    expect(broken((d) => (d.mainSteps[0].inputs.timeoutSeconds = "0"))).toEqual(["mainSteps[0]: inputs.timeoutSeconds must be a whole number from 1 to 172800"]);
    expect(broken((d) => (d.extra = 1))).toEqual(["unknown top-level key 'extra'"]);
  });

  test("every parameter reaches both scripts through SSM_<name>, with a {{ }} fallback for older agents", () => {
    expect(Object.keys(document.parameters)).toEqual(FLEET_PARAMETERS.map((p) => p.name));
    for (const [name, definition] of Object.entries(document.parameters)) {
      expect((definition as { interpolationType?: string }).interpolationType).toBe("ENV_VAR");
      expect(linux).toContain(`if [ -z "\${SSM_${name}+set}" ]; then SSM_${name}='${placeholder(name)}'; fi`);
      expect(windows).toContain(`$P_${name} = Get-OpentoeParameter '${name}' '${placeholder(name)}'`);
    }
    // The only references are those fallbacks: values never land anywhere else in the text.
    const references = (lines: string[]) => lines.flatMap(referencesIn).sort();
    expect(references(linux)).toEqual(FLEET_PARAMETERS.map((p) => p.name).sort());
    expect(references(windows)).toEqual(FLEET_PARAMETERS.map((p) => p.name).sort());
  });

  test("no pattern admits what could end the fallback's single-quoted string or line", () => {
    const hostile = ["'", '"', "\n", "\r", "\u2019", "\u2018", "\u201b", "\u0000", "\t"];
    for (const p of FLEET_PARAMETERS) {
      const pattern = new RegExp(p.allowedPattern, "u");
      for (const bad of hostile) {
        for (const value of [bad, `a${bad}`, `s3://bucket-name/key${bad}`, `name=${bad}x`, `/var/${bad}`]) {
          expect(pattern.test(value), `${p.name} must refuse ${JSON.stringify(value)}`).toBe(false);
        }
      }
    }
  });

  test("the patterns take the values people give", () => {
    const good: Record<string, string[]> = {
      releaseBaseUrl: ["https://example.com/opentoe", "http://127.0.0.1:8080/releases/", "https://my-bucket.s3.amazonaws.com"],
      version: ["latest", "0.1.0", "v1.2.3", "1.0.0-rc.1"],
      keyFingerprint: ["0123456789ABCDEF0123456789ABCDEF01234567", "0123 4567 89ab cdef 0123 4567 89AB CDEF 0123 4567"],
      requireSignature: ["true", "false"],
      component: ["s3://my-bucket/components/harden.yaml", "arn:aws:imagebuilder:us-east-1:123456789012:component/harden/1.0.0/1", "arn:aws:imagebuilder:eu-west-1:aws:component/update-linux/x.x.x"],
      parameters: ["", "name=value", "a=1,b=two words,c=x:y/z"],
      phases: ["", "build", "build,validate,test"],
      logS3BucketName: ["", "my-logs.example"],
      logS3KeyPrefix: ["", "fleet/2024/"],
      stateDirectory: ["", "/var/lib/opentoe/run-command", "C:\\ProgramData\\opentoe\\state"],
      installDirectory: ["", "/usr/local/bin", "C:\\Program Files\\opentoe"],
      windowsSignerThumbprint: ["", "0123456789abcdef0123456789ABCDEF01234567"],
    };
    for (const p of FLEET_PARAMETERS) {
      expect(good[p.name], `examples for ${p.name}`).toBeDefined();
      for (const value of good[p.name]!) expect(new RegExp(p.allowedPattern, "u").test(value), `${p.name}: ${JSON.stringify(value)}`).toBe(true);
    }
    expect(new RegExp(document.parameters.keyFingerprint!.allowedPattern, "u").test("0123")).toBe(false);
    expect(new RegExp(document.parameters.component!.allowedPattern, "u").test("https://example.com/doc.yaml")).toBe(false);
  });

  test("the Linux step carries scripts/install.sh unchanged and passes the run's exit status on", () => {
    expect(carriesVerbatim(linux, installer)).toBe(true);
    expect(linux.at(-1)).toBe('exit "$status"');
    expect(linux.some((line) => /\beval\b/.test(line) && !installer.includes(line))).toBe(false);
    const syntax = Bun.spawnSync(["sh", "-n", "/dev/stdin"], { stdin: Buffer.from(linux.join("\n")), stderr: "pipe" });
    expect(syntax.stderr.toString()).toBe("");
    expect(syntax.exitCode).toBe(0);
  });
});

describe("the Windows step, as text", () => {
  const text = windows.join("\n");

  test("reads every value from SSM_<name> first and never evaluates one", () => {
    expect(text).toContain('[Environment]::GetEnvironmentVariable("SSM_$Name")');
    expect(text).not.toMatch(/Invoke-Expression|\biex\b|\[scriptblock\]::Create|Start-Process/i);
  });

  test("installs with the installer's checks: SHA256SUMS always, the pinned key's OpenPGP signatures, Authenticode when asked", () => {
    for (const piece of [
      '"$release/SHA256SUMS"',
      "Get-FileHash -Algorithm SHA256",
      "checksum mismatch for",
      '"$release/awstoe.gpg"',
      "'--with-colons', '--with-fingerprint', '--list-keys'",
      "is not the pinned key",
      '"$release/SHA256SUMS.sig"',
      '"$release/windows/$arch/awstoe.sig"',
      "[GNUPG:] VALIDSIG ",
      "[GNUPG:] BADSIG ",
      "Get-AuthenticodeSignature",
      "requireSignature is true, and no signature can be checked",
      "Move-Item -Force -LiteralPath $partial",
    ]) {
      expect(text).toContain(piece);
    }
    // Checked before it is moved into place; the temporary file goes whatever happens.
    expect(text.indexOf("Get-FileHash")).toBeLessThan(text.indexOf("Move-Item -Force -LiteralPath $partial"));
    expect(text.indexOf("Test-OpentoeSignature $gnupgHome $partial")).toBeLessThan(text.indexOf("Move-Item -Force -LiteralPath $partial"));
    expect(text).toContain("if (Test-Path -LiteralPath $partial) { Remove-Item -Force -LiteralPath $partial }");
  });

  test("does not install again when resuming, and hands awstoe's exit code (3010 too) to the agent", () => {
    expect(text).toContain("Test-Path -LiteralPath (Join-Path $StateDir 'opentoe-execution.state')");
    expect(text).toContain("& $Program @Arguments");
    expect(text).toContain("$Status = $LASTEXITCODE");
    expect(text).toContain("if ($Status -eq 3010) {");
    expect(windows.at(-1)).toBe("exit $Status");
    expect(text).toContain("'--state-directory', $StateDir");
  });
});

describe("the Image Builder components", () => {
  let binary: string;
  beforeAll(async () => {
    binary = await awstoeBinary();
  }, 180_000);

  for (const [file, platform] of [
    ["opentoe-imagebuilder-linux.yaml", "linux"],
    ["opentoe-imagebuilder-windows.yaml", "windows"],
  ] as const) {
    test(`awstoe validate accepts ${file} (--platform ${platform})`, () => {
      expect(binary).toBeTruthy();
      const result = runAwstoe(["validate", "--documents", join(FLEET_DIR, file), "--platform", platform]);
      expect(result.stderr).not.toContain("error:");
      expect(JSON.parse(result.stdout)).toEqual({ validationStatus: "success", message: "Validation successful." });
      expect(result.code).toBe(0);
    });
  }

  test("values reach the scripts only as file contents, and the Linux build step carries install.sh", () => {
    const text = readFileSync(join(FLEET_DIR, "opentoe-imagebuilder-linux.yaml"), "utf8");
    const scripts = text.split("      - name: InstallAndRun\n").slice(1).map((part) => part.split("      - name: WriteValues\n")[0]!);
    expect(scripts).toHaveLength(2);
    for (const script of scripts) expect(referencesIn(script)).toEqual([]);
    const buildLines = scripts[0]!.split("\n").map((line) => line.replace(/^ {14}/, ""));
    expect(carriesVerbatim(buildLines, installer)).toBe(true);
    expect(text).toContain("export AWSTOE_REBOOT_MODE=disabled");
  });
});
