/**
 * defineModule: a module's schemas are built when first read, and `execute` is typed by them. The
 * type checks below are compile-time: `npx tsc --noEmit -p .` fails when one of them stops holding
 * (an `@ts-expect-error` line that no longer errs is itself an error).
 */
import { describe, expect, test } from "bun:test";
import { defineModule, type ModuleInput } from "../../src/modules/_define.ts";
import { modules } from "../../src/modules/index.ts";
import { Fields, Flag, Text } from "../../src/model/schema-kit.ts";
import { Type } from "@sinclair/typebox";

describe("schemas on first use", () => {
  test("input and output are built when first read, then kept", () => {
    const built: string[] = [];
    const probe = defineModule({
      name: "Probe",
      summary: "A module that only counts how often its schemas are built.",
      platforms: ["linux"],
      shape: "map",
      input: () => (built.push("input"), Fields({ path: Text() })),
      output: () => (built.push("output"), Fields({})),
      async execute() {
        return { outputs: {} };
      },
    });
    expect(built).toEqual([]);
    expect(probe.input).toBe(probe.input);
    expect(built).toEqual(["input"]);
    expect(Object.keys(probe.output)).toContain("properties");
    expect(built).toEqual(["input", "output"]);
    expect(Object.keys(probe)).toEqual(expect.arrayContaining(["name", "input", "output", "execute"]));
  });

  test("every registered module reads its schemas through a getter that builds them once", () => {
    for (const [name, module] of Object.entries(modules)) {
      for (const key of ["input", "output"] as const) {
        expect(typeof Object.getOwnPropertyDescriptor(module, key)?.get, `${name}.${key}`).toBe("function");
        expect(module[key], `${name}.${key}`).toBe(module[key]);
      }
    }
  });
});

describe("execute is typed by the schemas", () => {
  type Folder = ModuleInput<"list", typeof modules.CreateFolder.input>[number];
  type Encoded = ModuleInput<"list", typeof modules.SetFileEncoding.input>[number];
  type Pause = ModuleInput<"map", typeof modules.Reboot.input>;
  type BashOutputs = Awaited<ReturnType<typeof modules.ExecuteBash.execute>>["outputs"];

  test("defaults are filled in, flags are booleans, whole numbers numbers, choices their listed word", () => {
    const accepted: unknown[] = [
      { path: "a", overwrite: true } satisfies Folder,
      { path: "a", overwrite: false, owner: "root", permissions: "0755" } satisfies Folder,
      { path: "a", encoding: "utf-16-LE" } satisfies Encoded,
      { delaySeconds: 0 } satisfies Pause,
      { stdout: "" } satisfies BashOutputs,
    ];
    const refused: unknown[] = [
      // @ts-expect-error overwrite has a default, so it is always present when execute runs
      { path: "a" } satisfies Folder,
      // @ts-expect-error a field renamed or misspelt does not compile
      { folder: "a", overwrite: true } satisfies Folder,
      // @ts-expect-error a flag is a boolean by then, not the text a document may hold
      { path: "a", overwrite: "yes" } satisfies Folder,
      // @ts-expect-error the engine hands over one of the listed encodings
      { path: "a", encoding: "latin1" } satisfies Encoded,
      // @ts-expect-error a whole number arrives as a number
      { delaySeconds: "5" } satisfies Pause,
      // @ts-expect-error outputs follow the output schema
      { stdout: 1 } satisfies BashOutputs,
    ];
    expect(accepted).toHaveLength(5);
    expect(refused).toHaveLength(6);
  });

  test("list modules take a list, map modules one mapping, and hand-written schemas declare their type", () => {
    const context = {} as Parameters<typeof modules.ExecuteBash.execute>[1];
    const calls = [
      // @ts-expect-error a list module's execute takes a list of elements
      () => modules.CreateFolder.execute({ path: "a", overwrite: true }, context),
      // @ts-expect-error a map module's execute takes one mapping
      () => modules.ExecuteBash.execute([{ commands: ["true"] }], context),
    ];
    const typed = defineModule({
      name: "Typed",
      summary: "A module whose input schema says what it receives with Type.Unsafe.",
      platforms: ["linux"],
      shape: "list",
      input: () => Fields({ value: Type.Unsafe<string | string[]>({ anyOf: [{ type: "string" }, { type: "array" }] }), force: Type.Optional(Flag({ default: false })) }),
      output: () => Fields({}),
      async execute(items) {
        const seen: [number, boolean][] = items.map((item) => [item.value.length, item.force]);
        return { outputs: {}, ...(seen.length === 0 ? { failed: "nothing to do" } : {}) };
      },
    });
    expect(calls).toHaveLength(2);
    expect(typed.shape).toBe("list");
  });
});
