/** @module platform/shell: what ExecuteBash/ExecutePowerShell write and run, and the exit-code/stdout rules (pure, no spawning). */

/**
 * The bash script for ExecuteBash: every item in order, newline-separated, ending with a newline
 * (docs/modules.md §5). No `set -e`: like awstoe, the exit code of the script as a whole decides.
 */
export function bashScript(commands: readonly string[]): string {
  return commands.join("\n") + "\n";
}

/** How the script file is run: `bash <file>` (not `bash -c`, so $0 and line numbers refer to the file). */
export function bashInvocation(scriptPath: string): { command: "bash"; args: [string] } {
  return { command: "bash", args: [scriptPath] };
}

/**
 * The .ps1 script for ExecutePowerShell: items joined with CRLF, ending with CRLF, preceded by a
 * byte order mark. Windows PowerShell 5.1 reads a BOM-less .ps1 in the ANSI code page, which garbles
 * every non-ASCII character; with the BOM it reads UTF-8. The caller must write the string as UTF-8.
 */
export function powershellScript(commands: readonly string[]): string {
  return "\uFEFF" + commands.join("\r\n") + "\r\n";
}

/** How a .ps1 file is run (docs/modules.md#executepowershell): no profile, no prompts, no policy block. */
export function powershellInvocation(scriptPath: string): { command: "powershell.exe"; args: string[] } {
  return { command: "powershell.exe", args: ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", scriptPath] };
}

/** The exit code by which a script asks for a reboot: 3010 on Windows, 194 elsewhere (SSM's convention). */
export function rebootExitCode(platform: "linux" | "windows" | "macos"): 194 | 3010 {
  return platform === "windows" ? 3010 : 194;
}

/**
 * The `stdout` output rule: remove trailing "\n" and "\r\n", nothing else (a lone trailing "\r"
 * or spaces stay). A loop rather than /(\r?\n)+$/, whose backtracking is quadratic on long runs of
 * newlines that do not reach the end.
 */
export function trimTrailingNewlines(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 10) {
    end--;
    if (end > 0 && text.charCodeAt(end - 1) === 13) end--;
  }
  return text.slice(0, end);
}
