/**
 * @module modules/_registry: SetRegistry's pure half — which key a path names, what a value
 * becomes for each registry type (with its range checks), and the `reg.exe add` argument list.
 *
 * The same functions serve validation (literal inputs, as the YAML parser read them) and
 * execution (inputs after references were resolved, every scalar as the text the author wrote),
 * so a value is judged by one set of rules wherever it came from.
 */
import type { Path } from "../errors.ts";

export const REGISTRY_TYPES = ["BINARY", "DWORD", "QWORD", "SZ", "EXPAND_SZ", "MULTI_SZ"] as const;
export type RegistryType = (typeof REGISTRY_TYPES)[number];

/**
 * Hive prefixes as documents write them (docs/modules.md#setregistry), and the root key name reg.exe takes for
 * each. reg.exe accepts the long names too; the short ones are the spelling its help documents.
 */
const HIVES: ReadonlyArray<readonly [written: string, root: string]> = [
  ["HKEY_CLASSES_ROOT", "HKCR"],
  ["HKCR:", "HKCR"],
  ["HKEY_USERS", "HKU"],
  ["HKU:", "HKU"],
  ["HKEY_LOCAL_MACHINE", "HKLM"],
  ["HKLM:", "HKLM"],
  ["HKEY_CURRENT_CONFIG", "HKCC"],
  ["HKCC:", "HKCC"],
  ["HKEY_CURRENT_USER", "HKCU"],
  ["HKCU:", "HKCU"],
];

export const REGISTRY_HIVES: readonly string[] = HIVES.map(([written]) => written);

export const DWORD_MAX = 2n ** 32n - 1n;
export const QWORD_MAX = 2n ** 64n - 1n;
const BYTE_MAX = 255n;

const HIVE_HINT =
  "start with HKEY_LOCAL_MACHINE\\, HKLM:\\, HKEY_CURRENT_USER\\, HKCU:\\, HKEY_USERS\\, HKU:\\, HKEY_CLASSES_ROOT\\, HKCR:\\, HKEY_CURRENT_CONFIG\\ or HKCC:\\";

/** An input SetRegistry cannot write: `field` is relative to one list element (`["value", 2]`). */
export class RegistryProblem extends Error {
  constructor(
    message: string,
    readonly field: Path,
    readonly hint?: string,
  ) {
    super(message);
  }
}

// --- the key ---

/**
 * `HKLM:\SOFTWARE\\MyApp\` → `HKLM\SOFTWARE\MyApp`: the hive in reg.exe's spelling (matched in
 * any case), runs of `\` collapsed (a key name is never empty, so `\\` can only be a slip, e.g.
 * a doubled backslash in a plain YAML scalar) and a trailing `\` dropped. Forward slashes stay:
 * they are legal inside key names.
 */
export function regKeyName(path: string): string {
  refuseNul(path, ["path"], "the key path");
  const upper = path.toUpperCase();
  const hive = HIVES.find(([written]) => upper.startsWith(`${written}\\`));
  if (hive === undefined) throw new RegistryProblem(`'${path}' does not start with a registry hive`, ["path"], HIVE_HINT);
  const rest = path
    .slice(hive[0].length)
    .replace(/\\{2,}/g, "\\")
    .replace(/\\$/, "");
  return `${hive[1]}${rest}`;
}

// --- the data ---

/** What reg.exe is given for one value: its type name, the /d text and, for MULTI_SZ, the /s separator. */
export interface RegData {
  regType: `REG_${RegistryType}`;
  data: string;
  separator?: string;
}

/**
 * The value in the form reg.exe's /d takes for `type`. Throws RegistryProblem naming the input
 * field when the value does not fit the type.
 *
 * - DWORD/QWORD: a whole number in range, passed in decimal.
 * - BINARY: a hex string (optional 0x, spaces and commas between bytes allowed) or a list of
 *   bytes 0–255; passed as plain hex digits.
 * - SZ/EXPAND_SZ: one text, unchanged; `%VAR%` stays literal, as nothing in between expands it.
 * - MULTI_SZ: a list of texts, or one text as a one-item list ("" is an empty list); joined with
 *   a separator character none of the items contains.
 */
export function regData(type: RegistryType, value: unknown): RegData {
  switch (type) {
    case "DWORD":
    case "QWORD":
      return { regType: `REG_${type}`, data: String(wholeNumber(value, type, type === "DWORD" ? DWORD_MAX : QWORD_MAX, ["value"])) };
    case "BINARY":
      return { regType: "REG_BINARY", data: binaryHex(value) };
    case "SZ":
    case "EXPAND_SZ":
      return { regType: `REG_${type}`, data: singleText(type, value) };
    case "MULTI_SZ":
      return multiString(value);
  }
}

/**
 * A whole number from 0 to `max`, exactly. Accepts what YAML reads as an integer — decimal,
 * `0x` hex, `0o` octal, or a float form with a whole value (`1.0`, `1e3`), since validation only
 * sees the parsed number and must not accept what execution then refuses — and the same as text.
 * A JS number above 2^53 may already be off by a few units, so it is refused with the advice to
 * quote it; at execution the digits arrive as written, and then any size is exact.
 */
export function wholeNumber(value: unknown, what: string, max: bigint, field: Path): bigint {
  const outOfRange = (): RegistryProblem => new RegistryProblem(`a ${what} value must be a whole number from 0 to ${max}; found ${show(value)}`, field);
  const number = typeof value === "number" ? fromFloat(value, max) : typeof value === "string" ? fromText(value.trim(), max) : undefined;
  if (number === "inexact") throw inexact(what, value as number | string, field);
  if (number === undefined || number < 0n || number > max) throw outOfRange();
  return number;
}

/** A float whose true value might lie on either side of the limit: see fromFloat. */
type Inexact = "inexact";

function fromText(text: string, max: bigint): bigint | Inexact | undefined {
  if (/^[+-]?\d+$/.test(text)) return BigInt(text.replace(/^\+/, ""));
  if (/^0x[0-9a-f]+$/i.test(text) || /^0o[0-7]+$/i.test(text)) return BigInt(text.toLowerCase());
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(text)) return fromFloat(Number(text), max);
  return undefined;
}

/**
 * A float's whole value; "inexact" when it is above 2^53 yet not clearly beyond `max` (the
 * decimal the author wrote may differ from it by up to half a unit in the last place, so
 * 18446744073709551615 and 18446744073709551616 read as the same float). Far larger ones come
 * back as they are and fail the range check.
 */
function fromFloat(number: number, max: bigint): bigint | Inexact | undefined {
  if (!Number.isInteger(number)) return undefined;
  const whole = BigInt(number);
  if (Number.isSafeInteger(number) || whole < 0n) return whole;
  // Rounding moved it by at most whole·2^-53: beyond that margin it is out of range for certain.
  return whole - max > whole >> 52n ? whole : "inexact";
}

function inexact(what: string, value: number | string, field: Path): RegistryProblem {
  const form = typeof value === "number" ? `as a YAML number (this one reads as ${BigInt(value)})` : `in the form '${value}'`;
  return new RegistryProblem(`a ${what} value above ${Number.MAX_SAFE_INTEGER} is not exact ${form}`, field, `write all its digits in quotes, e.g. value: "18446744073709551615"`);
}

function binaryHex(value: unknown): string {
  if (typeof value === "string") {
    const hex = value.trim().replace(/^0x/i, "").replace(/[\s,]/g, "");
    if (hex.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(hex)) return hex.toLowerCase();
    throw new RegistryProblem(`a BINARY value must be hex bytes such as "0a1bff" (an even number of hex digits); found ${show(value)}`, ["value"]);
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => wholeNumber(item, "BINARY byte", BYTE_MAX, ["value", index]).toString(16).padStart(2, "0")).join("");
  }
  throw new RegistryProblem(
    `a BINARY value is a hex string or a list of bytes; found ${show(value)}`,
    ["value"],
    typeof value === "number" ? `put hex digits in quotes, e.g. value: "0a1bff", or give a list of bytes such as [10, 27, 255]` : undefined,
  );
}

function singleText(type: RegistryType, value: unknown): string {
  if (Array.isArray(value)) throw new RegistryProblem(`${article(type)} ${type} value is one text, not a list`, ["value"], "use MULTI_SZ for a list of texts");
  const text = scalarText(value);
  if (text === undefined) throw new RegistryProblem(`${article(type)} ${type} value must be text; found ${show(value)}`, ["value"]);
  refuseNul(text, ["value"], `the ${type} value`);
  return text;
}

function multiString(value: unknown): RegData {
  const items = Array.isArray(value) ? value : scalarText(value) === "" ? [] : [value];
  const texts = items.map((item, index) => {
    const field = Array.isArray(value) ? ["value", index] : ["value"];
    const text = scalarText(item);
    if (text === undefined) throw new RegistryProblem(`MULTI_SZ items must be text; found ${show(item)}`, field);
    if (text.includes("\0")) {
      throw new RegistryProblem("a MULTI_SZ item contains a NUL character, which separates items in the registry", field, "give the parts as separate list items");
    }
    // Windows stores the items NUL-separated and ends the list at an empty one: it cannot be kept.
    if (text === "") throw new RegistryProblem("a MULTI_SZ item is empty; the registry cannot store empty items (an empty item ends the list)", field, "remove the empty item");
    return text;
  });
  const separator = separatorFor(texts);
  return { regType: "REG_MULTI_SZ", data: texts.join(separator), separator };
}

/** Numbers and booleans count as the text they are (at execution they arrive as written anyway). */
function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

/** Characters tried first for /s: plain ASCII that is rare in values and means nothing to reg.exe. */
const PREFERRED_SEPARATORS = "|~^`#!@$;,+=";

/**
 * One character that occurs in none of the items, for reg.exe's /s. Its default separator, the
 * two characters `\0`, would split an item such as `C:\0data`.
 */
export function separatorFor(items: readonly string[]): string {
  const used = new Set(items.join(""));
  for (const ch of PREFERRED_SEPARATORS) if (!used.has(ch)) return ch;
  // Then anything printable past Latin-1's controls, skipping the UTF-16 surrogate range.
  for (let code = 0xa1; code <= 0xfffd; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue;
    const ch = String.fromCharCode(code);
    if (!used.has(ch)) return ch;
  }
  throw new RegistryProblem("the MULTI_SZ items use every character reg.exe could take as a separator", ["value"]);
}

// --- the command line ---

/** One value to write, already converted. */
export interface RegWrite {
  key: string;
  /** "" is the key's default (unnamed) value. */
  name: string;
  data: RegData;
}

/**
 * Arguments for `reg.exe add`: `/f` overwrites without asking (and reg creates missing keys),
 * `/ve` names the default value, and `/reg:64` pins the 64-bit view — the view a native x64
 * awstoe writes through the registry API, so `HKLM:\SOFTWARE\X` means the same key whichever
 * reg.exe runs; components that want the 32-bit view name `SOFTWARE\WOW6432Node\…` themselves.
 */
export function regAddArguments(write: RegWrite): string[] {
  const name = write.name === "" ? ["/ve"] : ["/v", write.name];
  const separator = write.data.separator === undefined ? [] : ["/s", write.data.separator];
  return ["add", write.key, ...name, "/t", write.data.regType, "/d", write.data.data, ...separator, "/f", "/reg:64"];
}

/** Everything one SetRegistry element turns into, or the first problem with it. */
export function planWrite(input: { path: string; name: string; value: unknown; type: RegistryType }): RegWrite {
  return { key: regKeyName(input.path), name: valueName(input.name), data: regData(input.type, input.value) };
}

/** The value name as reg.exe gets it; "" stands for the key's default value (`/ve`). */
export function valueName(name: string): string {
  refuseNul(name, ["name"], "the value name");
  return name;
}

// A command line is a NUL-terminated string: nothing after a NUL would reach reg.exe.
function refuseNul(text: string, field: Path, what: string): void {
  if (text.includes("\0")) throw new RegistryProblem(`${what} contains a NUL character, which cannot be passed to reg.exe`, field);
}

/** "an SZ", "an EXPAND_SZ", "a DWORD": as the names are spoken. */
function article(type: RegistryType): string {
  return /^[SE]/.test(type) ? "an" : "a";
}

function show(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : JSON.stringify(value);
}
