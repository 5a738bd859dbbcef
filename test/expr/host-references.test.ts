/** env:, context:, aws:imds:, aws:ssm: references: their classification and how render uses the host lookup. */
import { describe, expect, test } from "bun:test";
import { ResolveError } from "../../src/errors.ts";
import { renderString } from "../../src/expr/render.ts";
import type { HostLookup, Scope } from "../../src/expr/scope.ts";
import { classifyReference, credentialPath, type HostReference } from "../../src/expr/template.ts";

describe("classifyReference: host forms", () => {
  test("env names are exact (dots, spaces, parentheses)", () => {
    expect(classifyReference("env:HOME")).toEqual({ kind: "env", name: "HOME" });
    expect(classifyReference("env:ProgramFiles(x86)")).toEqual({ kind: "env", name: "ProgramFiles(x86)" });
    expect(classifyReference("env:my.var name")).toEqual({ kind: "env", name: "my.var name" });
  });

  test("context, imds, ssm and resolve()", () => {
    expect(classifyReference("context:region")).toEqual({ kind: "context", key: "region" });
    expect(classifyReference("aws:imds:/placement/region")).toEqual({ kind: "imds", path: "placement/region" });
    expect(classifyReference("aws:ssm:/build/url")).toEqual({ kind: "ssm", name: "/build/url" });
    expect(classifyReference("aws:ssm:/aws/reference/secretsmanager/db")).toEqual({ kind: "ssm", name: "/aws/reference/secretsmanager/db" });
    expect(classifyReference("aws:ssm:resolve(Param1)")).toEqual({ kind: "ssm", name: "", through: "Param1" });
    expect(classifyReference("aws:ssm:resolve( Param1 )")).toEqual({ kind: "ssm", name: "", through: "Param1" });
  });

  test("malformed forms say why", () => {
    for (const expr of ["env:", "context:", "aws:imds:", "aws:ssm:", "aws:s3:bucket/key", "aws:ssm:resolve(a b)"]) {
      expect(classifyReference(expr).kind, expr).toBe("malformed");
    }
  });

  test("the older forms are unchanged", () => {
    expect(classifyReference("Param").kind).toBe("variable");
    expect(classifyReference("build.A.outputs.stdout").kind).toBe("chain");
    expect(classifyReference("loop.value").kind).toBe("loop");
    expect(classifyReference("something else").kind).toBe("other");
  });

  test("credential paths", () => {
    for (const path of ["iam/security-credentials/role", "iam", "identity-credentials/ec2/info", "placement/../iam/security-credentials/x", "./iam"]) expect(credentialPath(path), path).toBe(true);
    for (const path of ["instance-id", "placement/region", "iamx", "public-keys/0"]) expect(credentialPath(path), path).toBe(false);
  });
});

describe("renderString with a host lookup", () => {
  const seen: HostReference[] = [];
  const host: HostLookup = {
    resolve(reference, raw) {
      seen.push(reference);
      if (reference.kind === "env" && reference.name === "MISSING") throw new ResolveError("'{{ env:MISSING }}' could not be resolved: not set", "env:MISSING");
      if (reference.kind === "ssm") return `ssm(${reference.name})`;
      if (reference.kind === "imds") return raw; // a lookup may leave it as written (a plan)
      return `${reference.kind}=${reference.kind === "env" ? reference.name : reference.kind === "context" ? reference.key : ""}`;
    },
  };
  const scope: Scope = { variables: new Map([["Which", " /from/param "]]), steps: new Map(), host };

  test("each form goes to the lookup; resolve() reads the parameter first", () => {
    expect(renderString("{{ env:HOME }} {{ context:step }} {{ aws:ssm:/a }} {{ aws:ssm:resolve(Which) }} {{aws:imds:instance-id}}", scope)).toBe(
      "env=HOME context=step ssm(/a) ssm(/from/param) {{aws:imds:instance-id}}",
    );
  });

  test("without a lookup (validate) they stay as written", () => {
    expect(renderString("{{ env:HOME }} {{ aws:ssm:/a }}", { variables: new Map(), steps: new Map() })).toBe("{{ env:HOME }} {{ aws:ssm:/a }}");
  });

  test("a lookup failure, or resolve() of a missing parameter, fails with a ResolveError", () => {
    expect(() => renderString("x {{ env:MISSING }}", scope)).toThrow(/env:MISSING/);
    expect(() => renderString("{{ aws:ssm:resolve(Nope) }}", scope)).toThrow(/document parameter 'Nope' does not exist/);
  });

  test("a resolved value is not scanned again", () => {
    const echo: HostLookup = { resolve: () => "{{ env:OTHER }}" };
    expect(renderString("{{ env:A }}", { variables: new Map(), steps: new Map(), host: echo })).toBe("{{ env:OTHER }}");
  });
});
