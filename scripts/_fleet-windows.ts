/**
 * @module scripts/_fleet-windows: the Windows step of the Run Command document, for
 * aws:runPowerShellScript (Windows PowerShell 5.1 or later), and the install lines the Image
 * Builder component's Windows variant shares with it.
 *
 * install.sh does not run on Windows, so its checks are done here the same way: SHA256SUMS always;
 * with gpg on PATH (Gpg4win), the OpenPGP signatures of SHA256SUMS and of awstoe.exe, made by the
 * key with exactly the pinned fingerprint, in a throwaway GNUPGHOME ([GNUPG:] VALIDSIG whose last
 * field is the pin; BADSIG or REVKEYSIG refuse); with a thumbprint given, the Authenticode
 * signature, valid and made with that certificate. requireSignature=true insists on one of the two
 * signature checks. The new file is checked, started once, then moved over the old one.
 *
 * awstoe's exit code is the step's: 3010 makes the agent restart the instance and run the step
 * again, and that run resumes from the state directory without installing anything.
 */
import { STATE_FILE } from "../src/state/journal.ts";
import { powerShellParameterLines, powerShellVariable as v } from "./_fleet-parameters.ts";

export const WINDOWS_DEFAULTS = { installDirectory: "$env:ProgramFiles\\opentoe", stateDirectory: "$env:ProgramData\\opentoe\\run-command" };

/**
 * Lines defining Install-Opentoe: it installs awstoe.exe into $Prefix from $BaseUrl/$Version
 * after the checks above, or throws saying what failed (nothing is changed then).
 */
export function powerShellInstallFunction(): string[] {
  return [
    "# gpg and awstoe speak on stderr; in Windows PowerShell 5.1 that must not stop the script.",
    "function Invoke-OpentoeGpg([string[]]$Arguments) {",
    "  $ErrorActionPreference = 'Continue'",
    "  & gpg @Arguments 2>$null",
    "}",
    "function Test-OpentoeSignature([string]$GnuPgHome, [string]$File, [string]$Signature, [string]$Fingerprint) {",
    "  $status = Invoke-OpentoeGpg @('--homedir', $GnuPgHome, '--batch', '--no-tty', '--status-fd', '1', '--verify', $Signature, $File)",
    "  $gpgExit = $LASTEXITCODE",
    "  $valid = $false",
    "  foreach ($line in $status) {",
    "    # StartsWith, not -like: -like would read [GNUPG:] as a set of characters.",
    "    if ($line.StartsWith('[GNUPG:] BADSIG ') -or $line.StartsWith('[GNUPG:] REVKEYSIG ')) { return $false }",
    "    if ($line.StartsWith('[GNUPG:] VALIDSIG ') -and ($line -split ' ')[-1] -eq $Fingerprint) { $valid = $true }",
    "  }",
    "  return ($valid -and $gpgExit -eq 0)",
    "}",
    "function Get-OpentoeVersion([string]$Program) {",
    "  $ErrorActionPreference = 'Continue'",
    "  $text = (& $Program --version 2>&1 | Out-String).Trim()",
    "  return @{ Text = $text; Exit = $LASTEXITCODE }",
    "}",
    "function Install-Opentoe([string]$BaseUrl, [string]$Version, [string]$Prefix, [string]$KeyFingerprint, [bool]$RequireSignature, [string]$SignerThumbprint) {",
    "  $Version = $Version -replace '^v', ''",
    "  $release = $BaseUrl.TrimEnd('/') + '/' + $Version",
    "  $arch = if ([Environment]::Is64BitOperatingSystem) { 'amd64' } else { '386' }",
    "  $asset = \"windows/$arch/awstoe.exe\"",
    "  $fingerprint = ($KeyFingerprint -replace ' ', '').ToUpperInvariant()",
    "  $useGpg = ($fingerprint.Length -eq 40) -and ($null -ne (Get-Command gpg -ErrorAction SilentlyContinue))",
    "  if ($RequireSignature -and -not $useGpg -and $SignerThumbprint -eq '') {",
    "    throw 'requireSignature is true, and no signature can be checked: install Gpg4win (gpg on PATH) and give keyFingerprint, or give windowsSignerThumbprint; nothing was installed'",
    "  }",
    "  New-Item -ItemType Directory -Force -Path $Prefix | Out-Null",
    "  $work = Join-Path ([IO.Path]::GetTempPath()) ('opentoe-' + [Guid]::NewGuid().ToString('N'))",
    "  New-Item -ItemType Directory -Path $work | Out-Null",
    "  $partial = Join-Path $Prefix ('.awstoe.' + [Guid]::NewGuid().ToString('N') + '.exe')",
    "  try {",
    "    Write-Output \"opentoe: installing $asset from $release/ to $Prefix\\awstoe.exe\"",
    "    Invoke-WebRequest -UseBasicParsing -Uri \"$release/SHA256SUMS\" -OutFile \"$work\\SHA256SUMS\"",
    "    if ($useGpg) {",
    "      $gnupgHome = Join-Path $work 'gnupg'",
    "      New-Item -ItemType Directory -Path $gnupgHome | Out-Null",
    "      Invoke-WebRequest -UseBasicParsing -Uri \"$release/awstoe.gpg\" -OutFile \"$work\\awstoe.gpg\"",
    "      Invoke-OpentoeGpg @('--homedir', $gnupgHome, '--batch', '--no-tty', '--import', \"$work\\awstoe.gpg\") | Out-Null",
    "      $held = @(Invoke-OpentoeGpg @('--homedir', $gnupgHome, '--batch', '--no-tty', '--with-colons', '--with-fingerprint', '--list-keys'))",
    "      $primaries = @()",
    "      for ($i = 0; $i -lt $held.Count - 1; $i++) {",
    "        if ($held[$i] -like 'pub:*' -and $held[$i + 1] -like 'fpr:*') { $primaries += ($held[$i + 1] -split ':')[9] }",
    "      }",
    "      if ($primaries -notcontains $fingerprint) { throw \"the published release key $release/awstoe.gpg is not the pinned key $fingerprint (it holds: $($primaries -join ', ')); nothing was installed\" }",
    "      Invoke-WebRequest -UseBasicParsing -Uri \"$release/SHA256SUMS.sig\" -OutFile \"$work\\SHA256SUMS.sig\"",
    "      if (-not (Test-OpentoeSignature $gnupgHome \"$work\\SHA256SUMS\" \"$work\\SHA256SUMS.sig\" $fingerprint)) { throw \"$release/SHA256SUMS: the signature does not verify with the pinned key $fingerprint; nothing was installed\" }",
    "    }",
    "    $expected = ''",
    "    foreach ($entry in Get-Content \"$work\\SHA256SUMS\") {",
    "      $parts = $entry -split ' ', 2",
    "      if ($parts.Count -eq 2 -and $parts[1].TrimStart(' ', '*') -eq $asset) { $expected = $parts[0] }",
    "    }",
    "    if ($expected -notmatch '^[0-9a-f]{64}$') { throw \"$release/SHA256SUMS has no SHA-256 for $asset; this release may not include windows/$arch\" }",
    "    Invoke-WebRequest -UseBasicParsing -Uri \"$release/$asset\" -OutFile $partial",
    "    $actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $partial).Hash.ToLowerInvariant()",
    "    if ($actual -ne $expected) { throw \"checksum mismatch for $release/${asset}: SHA256SUMS says $expected, the download is $actual; nothing was installed\" }",
    "    $checked = 'SHA-256 from SHA256SUMS'",
    "    if ($useGpg) {",
    "      Invoke-WebRequest -UseBasicParsing -Uri \"$release/windows/$arch/awstoe.sig\" -OutFile \"$work\\awstoe.sig\"",
    "      if (-not (Test-OpentoeSignature $gnupgHome $partial \"$work\\awstoe.sig\" $fingerprint)) { throw \"$release/${asset}: the signature $release/windows/$arch/awstoe.sig does not verify with the pinned key $fingerprint; nothing was installed\" }",
    "      $checked = \"OpenPGP signature by key $fingerprint, $checked\"",
    "    }",
    "    if ($SignerThumbprint -ne '') {",
    "      $authenticode = Get-AuthenticodeSignature -FilePath $partial",
    "      if ($authenticode.Status -ne 'Valid' -or $authenticode.SignerCertificate.Thumbprint -ne $SignerThumbprint.ToUpperInvariant()) {",
    "        throw \"$release/${asset} is not signed by the certificate $SignerThumbprint (Authenticode status $($authenticode.Status)); nothing was installed\"",
    "      }",
    "      $checked = \"Authenticode signer $SignerThumbprint, $checked\"",
    "    }",
    "    if (-not $useGpg -and $SignerThumbprint -eq '') { $checked = \"$checked only: this proves the download is whole, not who published it\" }",
    "    $started = Get-OpentoeVersion $partial",
    "    $reported = $started.Text",
    "    if ($started.Exit -ne 0) { throw \"the downloaded $asset does not run on this machine: $reported; nothing was installed\" }",
    "    if ($Version -ne 'latest' -and -not $reported.StartsWith(\"awstoe $Version \")) { throw \"asked for version $Version but $release/$asset reports '$reported'; nothing was installed\" }",
    "    Move-Item -Force -LiteralPath $partial -Destination (Join-Path $Prefix 'awstoe.exe')",
    "    Write-Output \"opentoe: checked $asset ($checked); installed $reported\"",
    "  } finally {",
    "    if (Test-Path -LiteralPath $partial) { Remove-Item -Force -LiteralPath $partial }",
    "    Remove-Item -Recurse -Force -LiteralPath $work -ErrorAction SilentlyContinue",
    "  }",
    "}",
  ];
}

/**
 * Installs (unless resuming or already at the pinned version; with `install` false, the program
 * must already be there) and runs, from PowerShell variables
 * the caller sets: $Component $ReleaseBaseUrl $Version $KeyFingerprint $RequireSignature (bool)
 * $SignerThumbprint $Parameters $Phases $LogBucket $LogPrefix $Prefix $StateDir. Ends the script
 * with awstoe's exit code.
 */
export function windowsInstallAndRun(install = true): string[] {
  return [
    "if ($Component -eq '') { Write-Error 'opentoe: the parameter component is empty: give an s3:// URL or an Image Builder component ARN'; exit 1 }",
    "if ($ReleaseBaseUrl -eq '') { Write-Error 'opentoe: the parameter releaseBaseUrl is empty: give the URL of the folder that holds the opentoe release folders'; exit 1 }",
    "$Program = Join-Path $Prefix 'awstoe.exe'",
    "$Version = $Version -replace '^v', ''",
    "$Current = $false",
    "# After a reboot this step runs again: the unfinished journal says so.",
    `if ((Test-Path -LiteralPath (Join-Path $StateDir '${STATE_FILE}')) -and (Test-Path -LiteralPath $Program)) {`,
    "  Write-Output \"opentoe: $StateDir holds an unfinished execution: resuming it with the awstoe installed at $Program\"",
    "  $Current = $true",
    "} elseif ($Version -ne 'latest' -and (Test-Path -LiteralPath $Program)) {",
    "  $reported = (Get-OpentoeVersion $Program).Text",
    "  if ($reported.StartsWith(\"awstoe $Version \")) { Write-Output \"opentoe: $Program is already version ${Version}: not installing it again\"; $Current = $true }",
    "}",
    ...(install
      ? [
          "if (-not $Current) {",
          "  try {",
          "    Install-Opentoe $ReleaseBaseUrl $Version $Prefix $KeyFingerprint $RequireSignature $SignerThumbprint",
          "  } catch {",
          "    Write-Error \"opentoe: opentoe was not installed: $($_.Exception.Message); the component was not run\"",
          "    exit 1",
          "  }",
          "}",
        ]
      : ["if (-not (Test-Path -LiteralPath $Program)) { Write-Error \"opentoe: awstoe.exe is not installed at $Program; this image was built without the build phase of this component, which installs it\"; exit 1 }"]),
    "New-Item -ItemType Directory -Force -Path (Join-Path $StateDir 'logs') | Out-Null",
    "$Arguments = @('run', '--documents', $Component, '--state-directory', $StateDir, '--log-directory', (Join-Path $StateDir 'logs'))",
    "if ($Phases -ne '') { $Arguments += @('--phases', $Phases) }",
    "if ($Parameters -ne '') { $Arguments += @('--parameters', $Parameters) }",
    "if ($LogBucket -ne '') { $Arguments += @('--log-s3-bucket-name', $LogBucket) }",
    "if ($LogPrefix -ne '') { $Arguments += @('--log-s3-key-prefix', $LogPrefix) }",
    "# awstoe reports on stderr; that is output, not an error of this script.",
    "$ErrorActionPreference = 'Continue'",
    "& $Program @Arguments",
    "$Status = $LASTEXITCODE",
    "if ($Status -eq 3010) { Write-Output \"opentoe: awstoe asked for a reboot (3010): the instance restarts and this step runs again, which resumes the execution from $StateDir\" }",
    "exit $Status",
  ];
}

/** The first lines of every generated PowerShell script. */
export const POWERSHELL_PREAMBLE = [
  "$ErrorActionPreference = 'Stop'",
  "$ProgressPreference = 'SilentlyContinue'",
  "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12",
];

export function windowsRunCommand(): string[] {
  return [
    "# opentoe on a fleet: install awstoe.exe (checked as scripts/install.sh checks), then run the component.",
    "# Generated by scripts/gen-fleet.ts; edit that, not this.",
    ...POWERSHELL_PREAMBLE,
    ...powerShellParameterLines(),
    ...powerShellInstallFunction(),
    `$Component = ${v("component")}; $ReleaseBaseUrl = ${v("releaseBaseUrl")}; $Version = ${v("version")}; $KeyFingerprint = ${v("keyFingerprint")}`,
    `$RequireSignature = (${v("requireSignature")} -eq 'true'); $SignerThumbprint = ${v("windowsSignerThumbprint")}`,
    `$Parameters = ${v("parameters")}; $Phases = ${v("phases")}; $LogBucket = ${v("logS3BucketName")}; $LogPrefix = ${v("logS3KeyPrefix")}`,
    `$Prefix = if (${v("installDirectory")} -ne '') { ${v("installDirectory")} } else { "${WINDOWS_DEFAULTS.installDirectory}" }`,
    `$StateDir = if (${v("stateDirectory")} -ne '') { ${v("stateDirectory")} } else { "${WINDOWS_DEFAULTS.stateDirectory}" }`,
    ...windowsInstallAndRun(),
  ];
}
