/** @module modules/set-registry: SetRegistry — write Windows registry values. */
import { Type } from "@sinclair/typebox";
import { Choice, Fields, Text } from "../model/schema-kit.ts";
import { defineModule, hasTemplate, literalText, type InputIssue } from "./_define.ts";
import { NoOutput } from "./_inputs.ts";

export const REGISTRY_TYPES = ["BINARY", "DWORD", "QWORD", "SZ", "EXPAND_SZ", "MULTI_SZ"] as const;

/** Hive prefixes, long and short forms (modules.md §6). */
export const REGISTRY_HIVES = [
  "HKEY_CLASSES_ROOT", "HKCR:", "HKEY_USERS", "HKU:", "HKEY_LOCAL_MACHINE", "HKLM:",
  "HKEY_CURRENT_CONFIG", "HKCC:", "HKEY_CURRENT_USER", "HKCU:",
] as const;

const LIMITS: Record<string, bigint> = { DWORD: 2n ** 32n - 1n, QWORD: 2n ** 64n - 1n };

export default defineModule({
  name: "SetRegistry",
  summary: "Creates or updates registry values (missing keys are created).",
  platforms: ["windows"],
  shape: "list",
  input: Fields({
    path: Text({ minLength: 1, description: "key path starting with a hive, e.g. HKLM:\\SOFTWARE\\MyApp" }),
    name: Text({ description: "the value's name" }),
    value: Type.Unsafe({
      anyOf: [Text(), Type.Array(Type.Unsafe({ type: ["string", "number"] }))],
      "x-expected": "text, a number, or a list",
      description: "the data; its form depends on type",
    }),
    type: Choice(REGISTRY_TYPES, { caseInsensitive: true, description: "BINARY, DWORD, QWORD, SZ, EXPAND_SZ or MULTI_SZ" }),
  }),
  output: NoOutput(),
  check(input) {
    const issues: InputIssue[] = [];
    const path = literalText(input.path);
    if (path !== undefined && !REGISTRY_HIVES.some((h) => path.toUpperCase().startsWith(`${h}\\`))) {
      issues.push({
        path: ["path"],
        message: `'${path}' does not start with a registry hive`,
        hint: "start with HKEY_LOCAL_MACHINE\\, HKLM:\\, HKEY_CURRENT_USER\\, HKCU:\\, HKEY_USERS\\, HKU:\\, HKEY_CLASSES_ROOT\\, HKCR:\\, HKEY_CURRENT_CONFIG\\ or HKCC:\\",
      });
    }
    const type = literalText(input.type)?.toUpperCase();
    if (type !== undefined) issues.push(...checkValue(type, input.value));
    return issues;
  },
});

function checkValue(type: string, value: unknown): InputIssue[] {
  if (hasTemplate(value)) return [];
  const limit = LIMITS[type];
  if (limit !== undefined) {
    const number = wholeNumber(value);
    if (number === undefined || number < 0n || number > limit) {
      return [{ path: ["value"], message: `a ${type} value must be a whole number from 0 to ${limit}; found ${show(value)}` }];
    }
    return [];
  }
  if (type === "BINARY") return checkBinary(value);
  if ((type === "SZ" || type === "EXPAND_SZ") && Array.isArray(value)) {
    return [{ path: ["value"], message: `a ${type} value is one text, not a list`, hint: "use MULTI_SZ for a list of texts" }];
  }
  if (type === "MULTI_SZ" && Array.isArray(value)) {
    const bad = value.findIndex((item) => typeof item !== "string");
    if (bad >= 0) return [{ path: ["value", bad], message: "MULTI_SZ items must be text" }];
  }
  return [];
}

function checkBinary(value: unknown): InputIssue[] {
  if (typeof value === "string") {
    const hex = value.replace(/^0x/i, "").replace(/[\s,]/g, "");
    if (hex.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(hex)) return [];
    return [{ path: ["value"], message: `a BINARY value must be hex bytes such as "0a1bff"; found ${show(value)}` }];
  }
  if (Array.isArray(value)) {
    const bad = value.findIndex((b) => wholeNumber(b) === undefined || wholeNumber(b)! > 255n || wholeNumber(b)! < 0n);
    if (bad < 0) return [];
    return [{ path: ["value", bad], message: `BINARY bytes are whole numbers from 0 to 255; found ${show(value[bad])}` }];
  }
  return [{ path: ["value"], message: "a BINARY value is a hex string or a list of bytes" }];
}

function wholeNumber(value: unknown): bigint | undefined {
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : undefined;
  if (typeof value === "string" && /^\s*\d+\s*$/.test(value)) return BigInt(value.trim());
  return undefined;
}

function show(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : JSON.stringify(value);
}
