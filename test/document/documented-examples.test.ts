/**
 * The worked examples of two pages of AWS's EC2 Image Builder user guide, transcribed as small
 * documents of our own: each must validate, and each that can run safely on this Linux machine
 * runs in-process (runExecution with the host's deps) with the result the page describes.
 *
 * Sources (read from the archived open-source copy of the guide, awsdocs/ec2-image-builder-user-guide;
 * the current pages on docs.aws.amazon.com carry the same examples as far as they could be read):
 * - "Use variables in your custom component document" (toe-user-defined-variables.md @050ec06):
 *   Parameters › "Refer to a parameter in step inputs" / "… in loop inputs"; Parameters ›
 *   "Override parameters at runtime"; Constants › "Constant referenced in step inputs" / "… in
 *   loop inputs".
 * - "Use looping constructs" (toe-looping-constructs; archived as image-builder-looping-constructs.md):
 *   "for loop input example", "forEach loop with input list example 1–3", "forEach loop with
 *   delimited list example 1–2", "Step and iteration outputs", "Resolve reference expressions".
 *
 * What differs from the page is said at each example: commands that would reach the network
 * (ping amazon.com, downloads from AWS) run against stand-ins; /tmp paths become this test's
 * temporary folder. Examples 2 and 3 of "forEach with input list" are not valid YAML as printed
 * (a double-quoted "C:\Users" is a \U escape to every YAML parser, Go's included), and three of
 * the loop examples wrap ExecuteBinary/S3Upload inputs in `commands:`, which those modules do not
 * take (spec README Q21: documentation errors); they are checked to be refused clearly, and their
 * corrected forms validate and run.
 */
import type { S3Port } from "../../src/model/ports.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { renderDiagnostic } from "../../src/cli/_render.ts";
import { parseParameters } from "../../src/cli/_run-options.ts";
import { parseYamlText } from "../../src/document/parse.ts";
import type { SourceMap } from "../../src/document/source-map.ts";
import { validateText } from "../../src/document/validate.ts";
import type { EngineDeps } from "../../src/engine/deps.ts";
import { hostDeps } from "../../src/engine/host-deps.ts";
import { loopAsWritten, prepareInputs } from "../../src/engine/inputs.ts";
import { runExecution } from "../../src/engine/run.ts";
import { resolveVariables } from "../../src/engine/variables.ts";
import type { Diagnostic } from "../../src/errors.ts";
import { expandLoop } from "../../src/expr/loop.ts";
import { renderString } from "../../src/expr/render.ts";
import { emptyScope, type Scope } from "../../src/expr/scope.ts";
import { plainPalette } from "../../src/logs/terminal.ts";
import type { StepRecord } from "../../src/model/record.ts";
import { modules } from "../../src/modules/index.ts";
import { type PlatformName } from "../../src/model/platform.ts";

let tmp: string;
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), "opentoe-documented-")));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// --- helpers ---

function validate(yaml: string, platform: PlatformName) {
  const result = validateText(yaml, "example.yaml", { platform });
  return {
    valid: result.valid,
    errors: result.diagnostics.filter((d) => d.severity === "error"),
    warnings: result.diagnostics.filter((d) => d.severity === "warning"),
  };
}

function expectValid(yaml: string, platform: PlatformName): void {
  const result = validate(yaml, platform);
  expect(result.errors.map((d) => `${d.code} ${d.line}:${d.column} ${d.message}`)).toEqual([]);
  expect(result.warnings.map((d) => `${d.code} ${d.line}:${d.column} ${d.message}`)).toEqual([]);
  expect(result.valid).toBe(true);
}

/** A folder inside this test's temporary folder, made fresh. */
function folder(name: string): string {
  const path = join(tmp, name);
  mkdirSync(path, { recursive: true });
  return path;
}

/** An executable shell script. */
function script(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

interface RunOptions {
  parameters?: Record<string, string>;
  /** A folder put first on PATH of every program the steps start (stand-ins for network tools). */
  pathFirst?: string;
  s3?: S3Port;
}

/** Runs one document the way `awstoe run` would, with the real Linux deps (bash, processes). */
async function run(name: string, yaml: string, options: RunOptions = {}): Promise<{ status: string; steps: StepRecord[] }> {
  const dir = folder(name);
  writeFileSync(join(dir, "component.yaml"), yaml);
  const renderDiagnostics = (diagnostics: Diagnostic[], map: SourceMap | undefined) => diagnostics.map((d) => renderDiagnostic(d, map, plainPalette)).join("\n\n");
  const base = hostDeps({ signal: new AbortController().signal, palette: plainPalette, renderDiagnostics, cwd: dir, interactive: false, terminal: { stdout: () => {}, stderr: () => {} } });
  const pathFirst = options.pathFirst;
  const deps: EngineDeps = {
    ...base,
    ports: {
      ...base.ports,
      ...(options.s3 === undefined ? {} : { s3: options.s3 }),
      exec: pathFirst === undefined ? base.ports.exec : (request) => base.ports.exec({ ...request, env: { ...(request.env ?? process.env), PATH: `${pathFirst}:${process.env.PATH ?? "/usr/bin:/bin"}` } }),
      reboot: { exitCode: 194, clearTrigger: async () => undefined, reboot: async () => "not in tests" },
    },
  };
  const result = await runExecution(
    {
      documents: [{ source: "component.yaml", parameters: new Map() }],
      parameters: new Map(Object.entries(options.parameters ?? {})),
      executionId: "00000000-0000-4000-8000-00000000d0c5",
      logDirectory: join(dir, "logs"),
      trace: false,
    },
    deps,
  );
  const steps = result.record.documents.flatMap((d) => d.phases.flatMap((p) => p.steps));
  return { status: result.record.status, steps };
}

function outputsOf(step: StepRecord): Record<string, unknown>[] {
  return JSON.parse(step.outputs) as Record<string, unknown>[];
}

function inputsOf(step: StepRecord): Record<string, unknown>[] {
  return JSON.parse(step.inputs) as Record<string, unknown>[];
}

/**
 * A document's one looping step, prepared iteration by iteration the way the engine prepares it
 * (expandLoop, then prepareInputs with the iteration in scope): for examples that cannot run here.
 */
function iterations(yaml: string, platformModule: keyof typeof modules, variables = new Map<string, string>()) {
  const { value, map } = parseYamlText(yaml, "example.yaml");
  const doc = value as { phases: { steps: Record<string, unknown>[] }[] };
  const step = doc.phases[0]!.steps[0]!;
  const path = ["phases", 0, "steps", 0];
  const scope: Scope = { ...emptyScope(variables) };
  const loop = expandLoop(loopAsWritten(step.loop as Record<string, unknown>, [...path, "loop"], map), (text) => renderString(text, scope));
  return {
    loop,
    inputs: loop.values.map((iterationValue, index) =>
      prepareInputs(modules[platformModule], step.inputs, [...path, "inputs"], map, { ...scope, loop: { ...(loop.name === undefined ? {} : { name: loop.name }), index, value: iterationValue } }).value,
    ),
  };
}

/** Parameter and constant values of a document as a run would resolve them. */
function variablesOf(yaml: string, global: Record<string, string> = {}): Map<string, string> {
  const { value, map } = parseYamlText(yaml, "example.yaml");
  const { values, issues } = resolveVariables(value as Record<string, unknown>, { global: new Map(Object.entries(global)), document: new Map() }, map);
  expect(issues).toEqual([]);
  return values;
}

// --- "Use variables in your custom component document" ---

describe("toe-user-defined-variables: parameters", () => {
  // Parameters › Reference parameter values in a document › "Refer to a parameter in step inputs".
  // Verbatim. It downloads from AWS to a Windows path, so it is validated and its inputs are
  // resolved as a run would resolve them (default, then a runtime override), not run.
  const stepInputs = `name: Download AWS CLI version 2
schemaVersion: 1.0
parameters:
  - Source:
      type: string
      default: 'https://awscli.amazonaws.com/AWSCLIV2.msi'
      description: The AWS CLI installer source URL.
phases:
  - name: build
    steps:
      - name: Download
        action: WebDownload
        inputs:
          - source: '{{ Source }}'
            destination: 'C:\\Windows\\Temp\\AWSCLIV2.msi'
`;

  test("a parameter in step inputs: valid; the source resolves to the default, or to the value given at run time", () => {
    expectValid(stepInputs, "windows");
    expectValid(stepInputs, "linux");
    const { value, map } = parseYamlText(stepInputs, "example.yaml");
    const raw = (value as { phases: { steps: { inputs: unknown }[] }[] }).phases[0]!.steps[0]!.inputs;
    const path = ["phases", 0, "steps", 0, "inputs"];
    const byDefault = prepareInputs(modules.WebDownload, raw, path, map, emptyScope(variablesOf(stepInputs))).value as Record<string, unknown>[];
    expect(byDefault[0]).toMatchObject({ source: "https://awscli.amazonaws.com/AWSCLIV2.msi", destination: "C:\\Windows\\Temp\\AWSCLIV2.msi", overwrite: true });
    const overridden = prepareInputs(modules.WebDownload, raw, path, map, emptyScope(variablesOf(stepInputs, { Source: "https://example.test/cli.msi" }))).value as Record<string, unknown>[];
    expect(overridden[0]).toMatchObject({ source: "https://example.test/cli.msi" });
  });

  // Parameters › Reference parameter values in a document › "Refer to a parameter in loop inputs".
  // Verbatim; `ping` is a stand-in first on PATH (the real one would reach amazon.com), printing
  // the arguments it was given.
  const loopInputs = `name: PingHosts
schemaVersion: 1.0
parameters:
  - Hosts:
      type: string
      default: 127.0.0.1,amazon.com
      description: A comma separated list of hosts to ping.
phases:
  - name: build
    steps:
      - name: Ping
        action: ExecuteBash
        loop:
          forEach:
            list: '{{ Hosts }}'
            delimiter: ','
        inputs:
          commands:
            - ping -c 4 {{ loop.value }}
`;

  function pingStandIn(): string {
    const bin = folder("ping-bin");
    script(join(bin, "ping"), 'echo "ping $*"');
    return bin;
  }

  test("a parameter in loop inputs: valid; runs once per host of the default list", async () => {
    expectValid(loopInputs, "linux");
    const { status, steps } = await run("ping-parameter", loopInputs, { pathFirst: pingStandIn() });
    expect(status).toBe("success");
    expect(steps).toHaveLength(1);
    expect(steps[0]!.loop).toMatchObject({ type: "forEach", values: ["127.0.0.1", "amazon.com"], failedIterations: [] });
    expect(outputsOf(steps[0]!)).toEqual([{ stdout: "ping -c 4 127.0.0.1\nping -c 4 amazon.com" }]);
  });

  // Parameters › "Override parameters at runtime": the same document with --parameters Hosts=….
  test("a parameter overridden at run time replaces the default", async () => {
    const { status, steps } = await run("ping-override", loopInputs, { pathFirst: pingStandIn(), parameters: { Hosts: "localhost,127.0.0.2,::1" } });
    expect(status).toBe("success");
    expect(steps[0]!.loop).toMatchObject({ values: ["localhost", "127.0.0.2", "::1"] });
    expect(outputsOf(steps[0]!)).toEqual([{ stdout: "ping -c 4 localhost\nping -c 4 127.0.0.2\nping -c 4 ::1" }]);
  });

  // Parameters › Override parameters at runtime › Examples: the three --parameters values.
  test("--parameters: an empty value is refused; one pair and several pairs are read", () => {
    expect(() => parseParameters("ntp-server=")).toThrow(/invalid parameter 'ntp-server='/);
    expect(parseParameters("ntp-server=ntp-server-windows-qe.us-east1.amazon.com")).toEqual(new Map([["ntp-server", "ntp-server-windows-qe.us-east1.amazon.com"]]));
    expect(parseParameters("ntp-server=ntp-server.amazon.com,http-url=https://internal-us-east1.amazon.com")).toEqual(
      new Map([["ntp-server", "ntp-server.amazon.com"], ["http-url", "https://internal-us-east1.amazon.com"]]),
    );
  });
});

describe("toe-user-defined-variables: constants", () => {
  // Constants › Examples › "Constant referenced in step inputs". Verbatim; validated and resolved.
  const stepInputs = `name: Download AWS CLI version 2
schemaVersion: 1.0
constants:
  - Source:
      type: string
      value: https://awscli.amazonaws.com/AWSCLIV2.msi
phases:
  - name: build
    steps:
      - name: Download
        action: WebDownload
        inputs:
          - source: '{{ Source }}'
            destination: 'C:\\Windows\\Temp\\AWSCLIV2.msi'
`;

  test("a constant in step inputs: valid; resolves to its value, which --parameters cannot change", () => {
    expectValid(stepInputs, "windows");
    expect(variablesOf(stepInputs)).toEqual(new Map([["Source", "https://awscli.amazonaws.com/AWSCLIV2.msi"]]));
    expect(variablesOf(stepInputs, { Source: "https://example.test/other.msi" }).get("Source")).toBe("https://awscli.amazonaws.com/AWSCLIV2.msi");
    const { value, map } = parseYamlText(stepInputs, "example.yaml");
    const raw = (value as { phases: { steps: { inputs: unknown }[] }[] }).phases[0]!.steps[0]!.inputs;
    const prepared = prepareInputs(modules.WebDownload, raw, ["phases", 0, "steps", 0, "inputs"], map, emptyScope(variablesOf(stepInputs))).value as Record<string, unknown>[];
    expect(prepared[0]).toMatchObject({ source: "https://awscli.amazonaws.com/AWSCLIV2.msi", destination: "C:\\Windows\\Temp\\AWSCLIV2.msi" });
  });

  // Constants › Examples › "Constant referenced in loop inputs". Verbatim; `ping` is a stand-in.
  const loopInputs = `name: PingHosts
schemaVersion: 1.0
constants:
  - Hosts:
      type: string
      value: 127.0.0.1,amazon.com
phases:
  - name: build
    steps:
      - name: Ping
        action: ExecuteBash
        loop:
          forEach:
            list: '{{ Hosts }}'
            delimiter: ','
        inputs:
          commands:
            - ping -c 4 {{ loop.value }}
`;

  test("a constant in loop inputs: valid; runs once per host, and a supplied Hosts is ignored", async () => {
    expectValid(loopInputs, "linux");
    const bin = folder("ping-bin-constant");
    script(join(bin, "ping"), 'echo "ping $*"');
    const { status, steps } = await run("ping-constant", loopInputs, { pathFirst: bin, parameters: { Hosts: "10.0.0.1" } });
    expect(status).toBe("success");
    expect(steps[0]!.loop).toMatchObject({ values: ["127.0.0.1", "amazon.com"] });
    expect(outputsOf(steps[0]!)).toEqual([{ stdout: "ping -c 4 127.0.0.1\nping -c 4 amazon.com" }]);
  });
});

// --- "Use looping constructs" ---

describe("toe-looping-constructs: for loop", () => {
  // Types of looping constructs › for loop › "for loop input example" (a step; wrapped in a
  // document here). Verbatim step. PowerShell on Windows: validated for Windows, and its ten
  // iterations prepared as the engine prepares them.
  const forLoop = `name: ForLoopExample
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: "CalculateFileUploadLatencies"
        action: "ExecutePowerShell"
        loop:
          for:
            start: 100000
            end: 1000000
            updateBy: 100000
        inputs:
          commands:
            - |
              $f = new-object System.IO.FileStream c:\\temp\\test{{ loop.index }}.txt, Create, ReadWrite
              $f.SetLength({{ loop.value }}MB)
              $f.Close()
            - c:\\users\\administrator\\downloads\\latencyTest.exe --file c:\\temp\\test{{ loop.index }}.txt
            - AWS s3 cp c:\\users\\administrator\\downloads\\latencyMetrics.json s3://bucket/latencyMetrics.json
            - |
              Remove-Item -Path c:\\temp\\test{{ loop.index }}.txt
              Remove-Item -Path c:\\users\\administrator\\downloads\\latencyMetrics.json
`;

  test("valid on Windows; ten iterations, 100000 to 1000000 inclusive, index from 0", () => {
    expectValid(forLoop, "windows");
    const { loop, inputs } = iterations(forLoop, "ExecutePowerShell");
    expect(loop.type).toBe("for");
    expect(loop.values).toEqual(["100000", "200000", "300000", "400000", "500000", "600000", "700000", "800000", "900000", "1000000"]);
    const fourth = inputs[3] as { commands: string[] };
    expect(fourth.commands[0]).toBe("$f = new-object System.IO.FileStream c:\\temp\\test3.txt, Create, ReadWrite\n$f.SetLength(400000MB)\n$f.Close()\n");
    expect(fourth.commands[1]).toBe("c:\\users\\administrator\\downloads\\latencyTest.exe --file c:\\temp\\test3.txt");
    expect(fourth.commands[3]).toStartWith("Remove-Item -Path c:\\temp\\test3.txt\n");
  });

  test("the same loop runs on Linux the same number of times (ExecuteBash stand-in)", async () => {
    const bash = `name: ForLoopOnLinux
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: CalculateFileUploadLatencies
        action: ExecuteBash
        loop:
          for:
            start: 100000
            end: 1000000
            updateBy: 100000
        inputs:
          commands:
            - echo "test{{ loop.index }}.txt {{ loop.value }}MB"
`;
    expectValid(bash, "linux");
    const { status, steps } = await run("for-loop", bash);
    expect(status).toBe("success");
    const lines = (outputsOf(steps[0]!)[0]!.stdout as string).split("\n");
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe("test0.txt 100000MB");
    expect(lines[9]).toBe("test9.txt 1000000MB");
  });
});

describe("toe-looping-constructs: forEach with an input list", () => {
  // "forEach loop with input list example 1". The step is verbatim except its three script paths
  // (/tmp/script1.sh…), which are this test's own scripts; the second one fails on purpose.
  test("example 1: valid; three iterations, the named and the plain loop variables both resolve", async () => {
    const dir = folder("scripts");
    const one = script(join(dir, "script1.sh"), "echo one");
    const two = script(join(dir, "script2.sh"), "echo two; exit 3");
    const three = script(join(dir, "script3.sh"), "echo three");
    const yaml = `name: ForEachListExample1
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: "ExecuteCustomScripts"
        action: "ExecuteBash"
        loop:
          name: BatchExecLoop
          forEach:
            - ${one}
            - ${two}
            - ${three}
        inputs:
          commands:
            - echo "Count {{ BatchExecLoop.index }}"
            - sh "{{ loop.value }}"
            - |
              retVal=$?
              if [ $retVal -ne 0 ]; then
                echo "Failed"
              else
                echo "Passed"
              fi
`;
    expectValid(yaml, "linux");
    const { status, steps } = await run("foreach-list-1", yaml);
    expect(status).toBe("success");
    expect(steps[0]!.loop).toMatchObject({ name: "BatchExecLoop", type: "forEach", values: [one, two, three] });
    expect(outputsOf(steps[0]!)).toEqual([{ stdout: "Count 0\none\nPassed\nCount 1\ntwo\nFailed\nCount 2\nthree\nPassed" }]);
  });

  // "forEach loop with input list example 2", as printed: "C:\Users" in double quotes is a \U
  // escape (eight hex digits expected), so no YAML parser reads it; it also wraps ExecuteBinary's
  // inputs in `commands:` with `args` (README Q21).
  const example2AsPrinted = `name: ForEachListExample2
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: "RunMSIWithDifferentArgs"
        action: "ExecuteBinary"
        loop:
          name: MultiArgLoop
          forEach:
            - "ARG1=C:\\Users ARG2=1"
            - "ARG1=C:\\Users"
            - "ARG1=C:\\Users ARG3=C:\\Users\\Administrator\\Documents\\f1.txt"
        inputs:
          commands:
            path: "c:\\users\\administrator\\downloads\\runner.exe"
            args:
              - "{{ MultiArgLoop.value }}"
`;

  test("example 2 as printed is not YAML: refused with the escape's position", () => {
    const result = validate(example2AsPrinted, "windows");
    expect(result.valid).toBe(false);
    expect(new Set(result.errors.map((e) => e.code))).toEqual(new Set(["E_YAML_SYNTAX"]));
    expect(result.errors[0]).toMatchObject({ line: 11, message: expect.stringContaining("\\U") });
  });

  test("example 2 corrected (single quotes, path/arguments): valid; one argument per iteration", async () => {
    const corrected = (program: string) => `name: ForEachListExample2
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: "RunMSIWithDifferentArgs"
        action: "ExecuteBinary"
        loop:
          name: MultiArgLoop
          forEach:
            - 'ARG1=C:\\Users ARG2=1'
            - 'ARG1=C:\\Users'
            - 'ARG1=C:\\Users ARG3=C:\\Users\\Administrator\\Documents\\f1.txt'
        inputs:
          path: '${program}'
          arguments:
            - '{{ MultiArgLoop.value }}'
`;
    expectValid(corrected("c:\\users\\administrator\\downloads\\runner.exe"), "windows");
    // On Linux with echo standing in for runner.exe: each iteration gets its value as one argument.
    const { status, steps } = await run("foreach-list-2", corrected("echo"));
    expect(status).toBe("success");
    expect(steps[0]!.loop).toMatchObject({ name: "MultiArgLoop", values: ["ARG1=C:\\Users ARG2=1", "ARG1=C:\\Users", "ARG1=C:\\Users ARG3=C:\\Users\\Administrator\\Documents\\f1.txt"] });
    expect(outputsOf(steps[0]!)).toEqual([{ stdout: "ARG1=C:\\Users ARG2=1\nARG1=C:\\Users\nARG1=C:\\Users ARG3=C:\\Users\\Administrator\\Documents\\f1.txt" }]);
  });

  // "forEach loop with input list example 3", as printed: "c:\temp\{{ loop.value }}" in double
  // quotes has the escape \{, which YAML does not have.
  test("example 3 as printed is not YAML; corrected, it downloads each object once", async () => {
    const asPrinted = `name: ForEachListExample3
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: "DownloadAllBinaries"
        action: "S3Download"
        loop:
          name: MultiArgLoop
          forEach:
            - "bin1.exe"
            - "bin10.exe"
            - "bin5.exe"
        inputs:
          -
            source: "s3://bucket/{{ loop.value }}"
            destination: "c:\\temp\\{{ loop.value }}"
`;
    const refused = validate(asPrinted, "windows");
    expect(refused.errors.map((e) => [e.code, e.line])).toEqual([["E_YAML_SYNTAX", 17]]);
    const corrected = (destination: string) => asPrinted.replace('destination: "c:\\temp\\{{ loop.value }}"', `destination: '${destination}'`);
    expectValid(corrected("c:\\temp\\{{ loop.value }}"), "windows");
    // Run on Linux against an S3 stand-in, into this test's folder instead of c:\temp.
    const into = folder("downloads");
    const fetched: string[] = [];
    const s3: S3Port = {
      async getObject(bucket, key) {
        fetched.push(`${bucket}/${key}`);
        return (async function* () {
          yield new TextEncoder().encode(`contents of ${key}`);
        })();
      },
      async listKeys() {
        throw new Error("not used: no wildcard in these sources");
      },
      async putFile() {
        throw new Error("not used");
      },
    };
    const { status, steps } = await run("foreach-list-3", corrected(`${into}/{{ loop.value }}`), { s3 });
    expect(status).toBe("success");
    expect(steps[0]!.loop).toMatchObject({ values: ["bin1.exe", "bin10.exe", "bin5.exe"] });
    expect(fetched).toEqual(["bucket/bin1.exe", "bucket/bin10.exe", "bucket/bin5.exe"]);
    for (const name of ["bin1.exe", "bin10.exe", "bin5.exe"]) expect(readFileSync(join(into, name), "utf8")).toBe(`contents of ${name}`);
  });
});

describe("toe-looping-constructs: forEach with a delimited list", () => {
  // "forEach loop with delimited list example 1": the list comes from an earlier step's stdout
  // (the page only names that step; here it prints two program paths), split on "\n". As printed
  // it wraps ExecuteBinary's path in `commands:` (README Q21): refused; corrected, it runs.
  const example1 = (inputs: string) => `name: DelimitedListExample1
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: GetAllMSIPathsForInstallation
        action: ExecuteBash
        inputs:
          commands:
            - printf '%s\\n' "${join(tmp, "programs", "first")}" "${join(tmp, "programs", "second")}"
      - name: "RunMSIs"
        action: "ExecuteBinary"
        loop:
          forEach:
            list: "{{ build.GetAllMSIPathsForInstallation.outputs.stdout }}"
            delimiter: "\\n"
        inputs:
${inputs}`;

  test("example 1 as printed (commands: path:) is refused; corrected, each listed program runs", async () => {
    const refused = validate(example1('          commands:\n            path: "{{ loop.value }}"\n'), "linux");
    expect(refused.errors.map((e) => e.code).sort()).toEqual(["E_INPUT", "E_UNKNOWN_FIELD"]);
    expect(refused.errors.map((e) => e.message)).toContain("ExecuteBinary: unknown field 'commands'");
    const dir = folder("programs");
    script(join(dir, "first"), "echo first ran");
    script(join(dir, "second"), "echo second ran");
    const corrected = example1('          path: "{{ loop.value }}"\n');
    expectValid(corrected, "linux");
    const { status, steps } = await run("delimited-1", corrected);
    expect(status).toBe("success");
    expect(steps[1]!.loop).toMatchObject({ type: "forEach", values: [join(dir, "first"), join(dir, "second")] });
    expect(outputsOf(steps[1]!)).toEqual([{ stdout: "first ran\nsecond ran" }]);
  });

  // "forEach loop with delimited list example 2": S3Upload over a comma-separated list (default
  // delimiter). As printed it wraps the inputs in `commands:` (README Q21) and ends the list with
  // "..." (an ellipsis for "and so on"); corrected, with three files of this test.
  test("example 2 as printed (commands: list) is refused; corrected, each file is uploaded once", async () => {
    const asPrinted = `name: DelimitedListExample2
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: "UploadMetricFiles"
        action: "S3Upload"
        loop:
          forEach:
            list: "/tmp/m1.txt,/tmp/m2.txt,/tmp/m3.txt,..."
        inputs:
          commands:
            -
              source: "{{ loop.value }}"
              destination: "s3://bucket/key/{{ loop.value }}"
`;
    const refused = validate(asPrinted, "linux");
    expect(refused.errors.map((e) => e.message)).toContain("S3Upload: unknown field 'commands'");
    const dir = folder("metrics");
    const files = ["m1.txt", "m2.txt", "m3.txt"].map((name) => {
      writeFileSync(join(dir, name), `metric ${name}`);
      return join(dir, name);
    });
    const corrected = asPrinted
      .replace('list: "/tmp/m1.txt,/tmp/m2.txt,/tmp/m3.txt,..."', `list: "${files.join(",")}"`)
      .replace("          commands:\n            -\n              source", "          -\n            source")
      .replace("              destination", "            destination");
    expectValid(corrected, "linux");
    const uploads: string[] = [];
    const s3: S3Port = {
      async getObject() {
        throw new Error("not used");
      },
      async listKeys() {
        throw new Error("not used");
      },
      async putFile(bucket, key, file) {
        uploads.push(`${bucket} ${key} <- ${readFileSync(file, "utf8")}`);
      },
    };
    const { status, steps } = await run("delimited-2", corrected, { s3 });
    expect(status).toBe("success");
    expect(steps[0]!.loop).toMatchObject({ values: files });
    expect(inputsOf(steps[0]!)).toEqual([expect.objectContaining({ source: files[2], destination: `s3://bucket/key/${files[2]}` })]);
    expect(uploads).toEqual(files.map((file, i) => `bucket key/${file} <- metric m${i + 1}.txt`));
  });
});

describe("toe-looping-constructs: reference expressions and outputs", () => {
  // "Step and iteration outputs": iteration stdouts Hello and World consolidate to "Hello\nWorld".
  test("outputs of the iterations are joined with a newline", async () => {
    const yaml = `name: IterationOutputs
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Greet
        action: ExecuteBash
        loop:
          forEach:
            - Hello
            - World
        inputs:
          commands:
            - echo {{ loop.value }}
`;
    expectValid(yaml, "linux");
    const { status, steps } = await run("iteration-outputs", yaml);
    expect(status).toBe("success");
    expect(outputsOf(steps[0]!)).toEqual([{ stdout: "Hello\nWorld" }]);
  });

  // "Reference iteration variables" › "Resolve reference expressions": {{ <loop_name>.* }} and
  // {{ loop.* }} both name the running step's loop; in a step without a loop they are left as
  // written; another step's loop name is not resolved.
  test("loop references: named and plain resolve in their own step, and stay as written elsewhere", async () => {
    const yaml = `name: LoopReferences
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Named
        action: ExecuteBash
        loop:
          name: outer
          forEach:
            list: a;b
            delimiter: ;
        inputs:
          commands:
            - echo "{{ outer.index }}={{ outer.value }} {{ loop.index }}={{ loop.value }}"
      - name: NoLoop
        action: ExecuteBash
        inputs:
          commands:
            - echo '{{ loop.value }} {{ outer.value }}'
`;
    const result = validate(yaml, "linux");
    expect(result.valid).toBe(true);
    expect(result.warnings.map((w) => w.code)).toEqual(["W_LOOP_VARIABLE_OUTSIDE_LOOP", "W_LOOP_VARIABLE_OUTSIDE_LOOP"]);
    const { status, steps } = await run("loop-references", yaml);
    expect(status).toBe("success");
    expect(outputsOf(steps[0]!)).toEqual([{ stdout: "0=a 0=a\n1=b 1=b" }]);
    expect(outputsOf(steps[1]!)).toEqual([{ stdout: "{{ loop.value }} {{ outer.value }}" }]);
  });
});

describe("toe-looping-constructs: the field tables' rules", () => {
  const looping = (...loops: string[]) =>
    `schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n` +
    loops.map((loop, i) => `      - name: Step${i}\n        action: ExecuteBash\n        loop:\n${loop}        inputs:\n          commands:\n            - echo {{ loop.value }}\n`).join("");
  const refusals: [string, string, RegExp][] = [
    // for loop input: "Unique name of the loop … compared to other loop names in the same phase".
    ["two loops of a phase with one name", looping("          name: same\n          forEach: [a]\n", "          name: same\n          forEach: [b]\n"), /already used by another loop/],
    // "AWSTOE verifies the start, end, and updateBy values to ensure that the combination does not result in an infinite loop".
    ["a for loop that never ends", looping("          for:\n            start: 1\n            end: 10\n            updateBy: -1\n"), /never reaches 10/],
    // updateBy: "It must be a negative or positive non-zero value".
    ["updateBy 0", looping("          for:\n            start: 1\n            end: 10\n            updateBy: 0\n"), /updateBy must not be 0/],
    // start/end/updateBy: "Does not accept chaining expressions".
    ["a reference as start", looping("          for:\n            start: '{{ build.Other.outputs.stdout }}'\n            end: 10\n            updateBy: 1\n"), /start: expected a whole number/],
    // delimiter: "Only one delimiter character is allowed from the given list … Chaining expressions cannot be used".
    ["a two-character delimiter", looping("          forEach:\n            list: a||b\n            delimiter: '||'\n"), /delimiter: expected one character/],
  ];
  test.each(refusals)("%s is refused", (_what, yaml, message) => {
    const result = validate(yaml, "linux");
    expect(result.valid).toBe(false);
    expect(result.errors.map((e) => e.message).join("\n")).toMatch(message);
  });
});

// --- The spec's own summaries of these pages (documents.md §1, §3, §7) ---

describe("documents.md examples", () => {
  // §1 "Minimal example (ours)": a parameter with a default, chaining into an Assert.
  test("§1 minimal example: valid, and the Assert sees 'hello world'", async () => {
    const yaml = `name: demo
schemaVersion: 1.0
parameters:
  - Target:
      type: string
      default: world
phases:
  - name: build
    steps:
      - name: Greet
        action: ExecuteBash
        inputs:
          commands:
            - echo "hello {{ Target }}"
  - name: validate
    steps:
      - name: CheckGreeting
        action: Assert
        inputs:
          stringEquals: 'hello world'
          value: '{{ build.Greet.outputs.stdout }}'
`;
    expectValid(yaml, "linux");
    const { status, steps } = await run("spec-minimal", yaml);
    expect(status).toBe("success");
    expect(steps.map((s) => [s.name, s.status])).toEqual([["Greet", "success"], ["CheckGreeting", "success"]]);
    const other = await run("spec-minimal-other", yaml, { parameters: { Target: "there" } });
    expect(other.status).toBe("failed");
    expect(other.steps[1]!.status).toBe("failed");
  });

  // §3: a parameter with default and description, a constant; both substitute as text.
  test("§3 parameters and constants: valid; default, override, constant", async () => {
    const yaml = `schemaVersion: 1.0
parameters:
  - Greeting:
      type: string
      default: hi
      description: text to print
constants:
  - WorkDir:
      type: string
      value: /opt/demo
phases:
  - name: build
    steps:
      - name: Show
        action: ExecuteBash
        inputs:
          commands:
            - echo "{{ Greeting }} from {{ WorkDir }}"
`;
    expectValid(yaml, "linux");
    expect(outputsOf((await run("spec-variables", yaml)).steps[0]!)).toEqual([{ stdout: "hi from /opt/demo" }]);
    expect(outputsOf((await run("spec-variables-override", yaml, { parameters: { Greeting: "hello", WorkDir: "/elsewhere" } })).steps[0]!)).toEqual([{ stdout: "hello from /opt/demo" }]);
  });

  // §7: the three loop forms as shown there.
  test("§7 loops: for 1..10 by 3, a forEach list with a chained item, a delimited list", async () => {
    const yaml = `schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Prep
        action: ExecuteBash
        inputs:
          commands:
            - echo prepared
      - name: Sizes
        action: ExecuteBash
        loop:
          name: sizes
          for:
            start: 1
            end: 10
            updateBy: 3
        inputs:
          commands:
            - echo "{{ sizes.index }}:{{ loop.value }}"
      - name: Items
        action: ExecuteBash
        loop:
          forEach:
            - alpha
            - '{{ build.Prep.outputs.stdout }}'
        inputs:
          commands:
            - echo "{{ loop.value }}"
      - name: Split
        action: ExecuteBash
        loop:
          forEach:
            list: 'a;b;c'
            delimiter: ';'
        inputs:
          commands:
            - echo "{{ loop.index }}={{ loop.value }}"
`;
    expectValid(yaml, "linux");
    const { status, steps } = await run("spec-loops", yaml);
    expect(status).toBe("success");
    expect(steps[1]!.loop).toMatchObject({ name: "sizes", type: "for", values: ["1", "4", "7", "10"] });
    expect(outputsOf(steps[1]!)).toEqual([{ stdout: "0:1\n1:4\n2:7\n3:10" }]);
    expect(steps[2]!.loop).toMatchObject({ values: ["alpha", "prepared"] });
    expect(outputsOf(steps[2]!)).toEqual([{ stdout: "alpha\nprepared" }]);
    expect(outputsOf(steps[3]!)).toEqual([{ stdout: "0=a\n1=b\n2=c" }]);
  });
});
