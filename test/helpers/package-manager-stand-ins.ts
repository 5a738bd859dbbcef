/**
 * Stand-in package managers for UpdateOS tests: a folder of small sh scripts named like the real
 * programs (dnf, yum, apt-get, apt-mark, zypper, needs-restarting) that append their argv and
 * DEBIAN_FRONTEND to a log and then do what the test asked (exit codes, output, a hold list kept
 * in a file). Real package managers cannot run here without changing this machine's packages, so
 * the tests drive the module through real processes that only pretend to be them.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ModuleContext } from "../../src/modules/_define.ts";
import { updateOS, type UpdateHost } from "../../src/modules/update-os.ts";
import { moduleContext } from "./module-context.ts";

export interface RecordedCall {
  tool: string;
  args: string[];
  /** DEBIAN_FRONTEND as the program saw it ("unset" when absent). */
  frontend: string;
}

const created: string[] = [];

/** Removes every machine made in this test file (call from afterAll). */
export function removeStandInMachines(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export class StandInMachine {
  readonly base: string;
  /** The folder UpdateOS searches for managers (its PATH). */
  readonly bin: string;
  /** The fake system root: package databases and the reboot marker. */
  readonly root: string;
  /** Files the stand-ins keep between calls (holds, locks, counters). */
  readonly state: string;
  readonly log: string;

  constructor(databases: ("dpkg" | "rpm")[] = []) {
    this.base = mkdtempSync(join(tmpdir(), "opentoe-updateos-"));
    created.push(this.base);
    this.bin = join(this.base, "bin");
    this.root = join(this.base, "root");
    this.state = join(this.base, "state");
    for (const dir of [this.bin, this.root, this.state]) mkdirSync(dir);
    this.log = join(this.state, "calls.log");
    writeFileSync(this.log, "");
    for (const db of databases) this.addFile(db === "dpkg" ? "var/lib/dpkg/status" : "var/lib/rpm/rpmdb.sqlite");
  }

  /** A file under the fake system root. */
  addFile(relative: string, content = ""): void {
    const path = join(this.root, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }

  hasFile(relative: string): boolean {
    return existsSync(join(this.root, relative));
  }

  /** A stand-in program: logs its call, runs `body` (sh), then exits 0 unless the body exited. */
  tool(name: string, body = ""): this {
    const path = join(this.bin, name);
    writeFileSync(
      path,
      [
        "#!/bin/sh",
        `{ printf '%s' '${name}'; for arg in "$@"; do printf '\\t%s' "$arg"; done; printf '\\tDEBIAN_FRONTEND=%s\\n' "\${DEBIAN_FRONTEND-unset}"; } >> "$STANDIN_LOG"`,
        body,
        "exit 0",
        "",
      ].join("\n"),
    );
    chmodSync(path, 0o755);
    return this;
  }

  /** apt-mark with a real hold list in a file; names starting with "nosuch" are unknown (exit 100, like apt-mark). */
  aptMark(): this {
    return this.tool(
      "apt-mark",
      `holds="$STANDIN_STATE/holds"; touch "$holds"
case "$1" in
  showhold) cat "$holds" ;;
  hold) shift; for p in "$@"; do
      case "$p" in nosuch*) echo "E: Unable to locate package $p" >&2; exit 100 ;; esac
      grep -qxF -- "$p" "$holds" || echo "$p" >> "$holds"
      echo "$p set on hold."
    done ;;
  unhold) shift; for p in "$@"; do grep -vxF -- "$p" "$holds" > "$holds.new"; mv "$holds.new" "$holds"; done ;;
esac`,
    );
  }

  /** zypper with a real lock list; `update` and `needs-rebooting` run the given sh snippets. */
  zypper(update = "", needsRebooting = "exit 0"): this {
    return this.tool(
      "zypper",
      `locks="$STANDIN_STATE/locks"; touch "$locks"
[ "$1" = --non-interactive ] && shift
case "$1" in
  locks)
    if [ -s "$locks" ]; then
      echo "# | Name | Type    | Repository"
      echo "--+------+---------+-----------"
      n=0; while read -r p; do n=$((n + 1)); echo "$n | $p | package | (any)"; done < "$locks"
    else
      echo "There are no package locks defined."
    fi ;;
  addlock) shift; for p in "$@"; do grep -qxF -- "$p" "$locks" || echo "$p" >> "$locks"; done ;;
  removelock) shift; for p in "$@"; do grep -vxF -- "$p" "$locks" > "$locks.new"; mv "$locks.new" "$locks"; done ;;
  update) ${update} ;;
  needs-rebooting) ${needsRebooting} ;;
esac`,
    );
  }

  /** The lines of a state file (holds, locks), in order. */
  stateLines(name: string): string[] {
    const path = join(this.state, name);
    if (!existsSync(path)) return [];
    return readFileSync(path, "utf8").split("\n").filter((line) => line !== "");
  }

  setState(name: string, lines: string[]): void {
    writeFileSync(join(this.state, name), lines.map((line) => `${line}\n`).join(""));
  }

  calls(): RecordedCall[] {
    return readFileSync(this.log, "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => {
        const parts = line.split("\t");
        const frontend = parts.pop()!.replace(/^DEBIAN_FRONTEND=/, "");
        return { tool: parts[0]!, args: parts.slice(1), frontend };
      });
  }

  /** Each call as one string, "tool arg arg", for compact sequence assertions. */
  commandLines(): string[] {
    return this.calls().map((call) => [call.tool, ...call.args].join(" "));
  }

  host(overrides: Partial<UpdateHost> = {}): UpdateHost {
    return {
      searchPath: this.bin,
      systemRoot: this.root,
      userId: 0,
      // The stand-ins are sh scripts using grep/cat/mv from /usr/bin and /bin; the module itself
      // only searches `bin`.
      env: { PATH: `${this.bin}:/usr/bin:/bin`, STANDIN_LOG: this.log, STANDIN_STATE: this.state, STANDIN_ROOT: this.root },
      ...overrides,
    };
  }

  /** Runs UpdateOS on this machine with a real module context (real processes). */
  run(input: { include?: string[]; exclude?: string[] }, options: { host?: Partial<UpdateHost>; ctx?: Partial<ModuleContext> } = {}) {
    const warnings: string[] = [];
    const ctx = moduleContext({ log: { debug: () => {}, info: () => {}, warn: (m) => warnings.push(m) }, ...options.ctx });
    const result = updateOS(input, ctx, this.host(options.host));
    return { result, warnings, ctx };
  }
}
