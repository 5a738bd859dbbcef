/**
 * @module modules/_windows-update: the PowerShell script UpdateOS runs on Windows.
 *
 * The script talks to the Windows Update Agent's COM API (Microsoft.Update.Session), so it uses
 * whatever update source the machine is configured for (Windows Update, WSUS). It searches for
 * updates not yet installed, keeps those the include/exclude patterns allow, downloads and
 * installs them, and tells the module the outcome by its exit code. The patterns are turned into
 * data here (a KB number or an anchored regular expression) so the matching rules are ours and the
 * script only compares.
 */

/** Exit codes of the script. 3010 is Windows' own "succeeded, restart required" (ERROR_SUCCESS_REBOOT_REQUIRED). */
export const WINDOWS_UPDATE_EXIT = { done: 0, failed: 1, rebootRequired: 3010 } as const;

/**
 * Which updates the search returns: not installed, not hidden by an administrator, software only.
 * Drivers are left out on purpose: an image is built on one machine type and run on others, and
 * driver updates for the build machine's hardware do not belong in it.
 */
export const SEARCH_CRITERIA = "IsInstalled=0 and IsHidden=0 and Type='Software'";

/** One include/exclude entry: a KB article number, or a title pattern as an anchored regex. */
export type UpdatePattern = { kind: "kb"; article: string; text: string } | { kind: "title"; regex: string; text: string };

/**
 * `KB1234567` (any case) is a KB article; anything else is a title pattern in which `*` stands for
 * any run of characters and everything else is literal (no `?` or `[…]`, which -like would treat
 * specially). Titles are compared case-insensitively, as Windows shows them.
 */
export function updatePattern(text: string): UpdatePattern {
  const kb = /^KB(\d+)$/i.exec(text.trim());
  if (kb !== null) return { kind: "kb", article: kb[1]!, text };
  const regex = "^" + text.split("*").map(escapeRegex).join(".*") + "$";
  return { kind: "title", regex, text };
}

/** Escapes the characters that are special in both JavaScript and .NET regular expressions. */
function escapeRegex(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A PowerShell single-quoted string. Inside one, only a quote needs escaping (by doubling), but
 * PowerShell also takes the typographic quotes ‘ ’ ‚ ‛ as quote characters, so they are doubled too.
 */
export function psQuote(text: string): string {
  return "'" + text.replace(/['\u2018\u2019\u201A\u201B]/g, (quote) => quote + quote) + "'";
}

function psPatternList(patterns: readonly UpdatePattern[]): string {
  if (patterns.length === 0) return "@()";
  const items = patterns.map((p) =>
    p.kind === "kb"
      ? `@{ Kind = 'kb'; Value = ${psQuote(p.article)}; Text = ${psQuote(p.text)} }`
      : `@{ Kind = 'title'; Value = ${psQuote(p.regex)}; Text = ${psQuote(p.text)} }`,
  );
  return `@(\r\n  ${items.join(",\r\n  ")}\r\n)`;
}

/**
 * The script's lines (the caller joins them with the shell kit's powershellScript). No `include`
 * means every update found; `exclude` always wins over `include`.
 */
export function windowsUpdateScript(include: readonly string[], exclude: readonly string[]): string[] {
  const { done, failed, rebootRequired } = WINDOWS_UPDATE_EXIT;
  return [
    "# UpdateOS (opentoe): install Windows updates through the Windows Update Agent.",
    "$ErrorActionPreference = 'Stop'",
    "$ProgressPreference = 'SilentlyContinue'",
    `$include = ${psPatternList(include.map(updatePattern))}`,
    `$exclude = ${psPatternList(exclude.map(updatePattern))}`,
    "",
    "function Fail([string] $message) {",
    "  [Console]::Error.WriteLine($message)",
    `  exit ${failed}`,
    "}",
    "",
    "# True when the update is one of the KB articles or its title matches one of the patterns.",
    "function Test-UpdateMatches($update, $patterns) {",
    "  foreach ($pattern in $patterns) {",
    "    if ($pattern.Kind -eq 'kb') {",
    "      foreach ($article in $update.KBArticleIDs) { if ($article -eq $pattern.Value) { return $true } }",
    "    } elseif ($update.Title -match $pattern.Value) {",
    "      return $true",
    "    }",
    "  }",
    "  return $false",
    "}",
    "",
    "$identity = [Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()",
    "if (-not $identity.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {",
    "  Fail 'UpdateOS needs administrator rights to install Windows updates; run awstoe from an elevated prompt or as SYSTEM.'",
    "}",
    "",
    "try {",
    "  $session = New-Object -ComObject Microsoft.Update.Session",
    "  $session.ClientApplicationID = 'opentoe UpdateOS'",
    "  $searcher = $session.CreateUpdateSearcher()",
    `  Write-Output ${psQuote(`Searching for updates (${SEARCH_CRITERIA}) ...`)}`,
    `  $found = $searcher.Search(${psQuote(SEARCH_CRITERIA)}).Updates`,
    "} catch {",
    "  Fail \"UpdateOS could not search for Windows updates: $($_.Exception.Message)\"",
    "}",
    "",
    "$selected = New-Object -ComObject Microsoft.Update.UpdateColl",
    "foreach ($update in $found) {",
    "  if ($include.Count -gt 0 -and -not (Test-UpdateMatches $update $include)) { continue }",
    "  if (Test-UpdateMatches $update $exclude) { Write-Output \"Excluded: $($update.Title)\"; continue }",
    "  # An update that would ask the user something cannot install unattended.",
    "  if ($update.InstallationBehavior.CanRequestUserInput) { Write-Output \"Skipped (needs user input): $($update.Title)\"; continue }",
    "  if (-not $update.EulaAccepted) { $update.AcceptEula() }",
    "  [void] $selected.Add($update)",
    "  Write-Output \"Selected: $($update.Title)\"",
    "}",
    "if ($selected.Count -eq 0) {",
    "  Write-Output 'No updates to install.'",
    `  exit ${done}`,
    "}",
    "",
    "try {",
    "  $toDownload = New-Object -ComObject Microsoft.Update.UpdateColl",
    "  foreach ($update in $selected) { if (-not $update.IsDownloaded) { [void] $toDownload.Add($update) } }",
    "  if ($toDownload.Count -gt 0) {",
    "    Write-Output \"Downloading $($toDownload.Count) update(s) ...\"",
    "    $downloader = $session.CreateUpdateDownloader()",
    "    $downloader.Updates = $toDownload",
    "    [void] $downloader.Download()",
    "  }",
    "  $ready = New-Object -ComObject Microsoft.Update.UpdateColl",
    "  foreach ($update in $selected) {",
    "    if ($update.IsDownloaded) { [void] $ready.Add($update) } else { Write-Output \"Not downloaded: $($update.Title)\" }",
    "  }",
    "  if ($ready.Count -lt $selected.Count) { Fail \"UpdateOS could not download $($selected.Count - $ready.Count) of $($selected.Count) update(s); check the machine's connection to its update source.\" }",
    "  Write-Output \"Installing $($ready.Count) update(s) ...\"",
    "  $installer = $session.CreateUpdateInstaller()",
    "  $installer.Updates = $ready",
    "  $result = $installer.Install()",
    "} catch {",
    "  Fail \"UpdateOS could not install Windows updates: $($_.Exception.Message)\"",
    "}",
    "",
    "# OperationResultCode: 2 succeeded, 3 succeeded with errors, 4 failed, 5 aborted.",
    "$failures = @()",
    "for ($i = 0; $i -lt $ready.Count; $i++) {",
    "  $one = $result.GetUpdateResult($i)",
    "  if ($one.ResultCode -ne 2) { $failures += \"$($ready.Item($i).Title) (result $($one.ResultCode), HRESULT 0x$('{0:X8}' -f $one.HResult))\" }",
    "}",
    "Write-Output \"RebootRequired: $($result.RebootRequired)\"",
    "if ($failures.Count -gt 0) { Fail \"$($failures.Count) update(s) did not install: $($failures -join '; ')\" }",
    `if ($result.RebootRequired) { exit ${rebootRequired} }`,
    `exit ${done}`,
  ];
}
