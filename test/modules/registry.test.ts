/** Every module is registered under its name, in a file named after it, with a usable schema. */
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { modules } from "../../src/modules/index.ts";
import { PLATFORMS } from "../../src/model/platform.ts";

const kebab = (name: string) => name.replace(/MSI/g, "Msi").replace("PowerShell", "Powershell").replace(/OS$/, "Os").replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();

test("30 modules, each in <kebab-name>.ts, keyed by its own name", () => {
  expect(Object.keys(modules)).toHaveLength(30);
  for (const [key, module] of Object.entries(modules)) {
    expect(module.name).toBe(key);
    expect(existsSync(join(import.meta.dir, "../../src/modules", `${kebab(key)}.ts`)), kebab(key)).toBe(true);
    expect(module.platforms.length).toBeGreaterThan(0);
    for (const platform of module.platforms) expect(PLATFORMS).toContain(platform);
    expect(module.summary.length).toBeGreaterThan(10);
  }
});
