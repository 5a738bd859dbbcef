/**
 * @module scripts/_fleet-parameters: the parameters of the Run Command document
 * (examples/fleet/opentoe-run-command.json, written by scripts/gen-fleet.ts) and the script lines
 * that read them.
 *
 * How a value reaches a script: every parameter has `interpolationType: ENV_VAR`, so an agent from
 * 3.3.2746.0 on hands it over as the environment variable SSM_<name>, as data. An older agent only
 * replaces `{{ name }}` in the script text, so each script reads the variable first and falls back
 * to the text, placed inside a single-quoted string. That fallback is only safe because every
 * pattern below keeps out what could end such a string or the line: the single quote (and
 * PowerShell's typographic quotes, by admitting ASCII only), line breaks and other control
 * characters; the double quote goes too, since Windows PowerShell 5.1 mangles it in native
 * arguments. SSM checks the patterns before a command is sent, whatever the agent's version.
 * The scripts never evaluate a value: they pass it on as one argument.
 *
 * Names are shell identifiers (no hyphen), so SSM_<name> is a variable both shells can read.
 */

/** One character a value may hold: printable ASCII but the double and the single quote. */
export const SAFE_CHAR = "[ !#-&(-~]";

export interface FleetParameter {
  name: string;
  description: string;
  /** Absent: the parameter is required (SSM asks for a value). */
  default?: string;
  allowedPattern: string;
}

const S3_BUCKET = "[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]";
const S3_KEY = `${SAFE_CHAR}+`;
const COMPONENT_ARN = "arn:aws[a-z-]*:imagebuilder:[a-z0-9-]+:(aws|[0-9]{12}):component/[a-z0-9_-]+/([0-9]+|x)\\.([0-9]+|x)\\.([0-9]+|x)(/[0-9]+)?";
const ABSOLUTE_PATH = `(/${SAFE_CHAR}*|[A-Za-z]:\\\\${SAFE_CHAR}*)`;

export const FLEET_PARAMETERS: readonly FleetParameter[] = [
  {
    name: "releaseBaseUrl",
    description: "The folder that holds the opentoe release folders (install.sh's --base-url), e.g. https://example.com/opentoe.",
    allowedPattern: `^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%+=-]+)*/?$`,
  },
  {
    name: "version",
    description: "The release to install: latest, or a version such as 0.1.0 (the installed awstoe must then report it).",
    default: "latest",
    allowedPattern: "^(latest|v?[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.-]+)?)$",
  },
  {
    name: "keyFingerprint",
    description: "The OpenPGP fingerprint of the release key you trust: 40 hex digits, spaces allowed. Take it from the project's README or your own records, never from the release bucket.",
    allowedPattern: "^[0-9A-Fa-f]{4}( ?[0-9A-Fa-f]{4}){9}$",
  },
  {
    name: "requireSignature",
    description: "true: fail unless the OpenPGP signature (or, on Windows, the Authenticode signer) can be checked; false: a SHA256SUMS check alone is accepted when gpg is missing.",
    default: "true",
    allowedPattern: "^(true|false)$",
  },
  {
    name: "windowsSignerThumbprint",
    description: "Windows only, optional: the SHA-1 thumbprint of the certificate that signs awstoe.exe (Authenticode); when given, the signature must be valid and made with it.",
    default: "",
    allowedPattern: "^([0-9A-Fa-f]{40})?$",
  },
  {
    name: "component",
    description: "The component document to run: an s3:// URL or an Image Builder component ARN.",
    allowedPattern: `^(s3://${S3_BUCKET}/${S3_KEY}|${COMPONENT_ARN})$`,
  },
  {
    name: "parameters",
    description: "Values for the component's parameters, as awstoe run --parameters takes them: name1=value1,name2=value2 (empty: none).",
    default: "",
    allowedPattern: `^([A-Za-z0-9_-]+=${SAFE_CHAR}*)?$`,
  },
  {
    name: "phases",
    description: "The phases to run, comma-separated, e.g. build,validate (empty: all of them).",
    default: "",
    allowedPattern: "^([A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*)?$",
  },
  {
    name: "logS3BucketName",
    description: "Optional: a bucket the execution's log folder is uploaded to when it ends (awstoe run --log-s3-bucket-name).",
    default: "",
    allowedPattern: `^(${S3_BUCKET})?$`,
  },
  {
    name: "logS3KeyPrefix",
    description: "Optional: the key prefix for that upload (awstoe run --log-s3-key-prefix).",
    default: "",
    allowedPattern: `^${SAFE_CHAR}{0,1024}$`,
  },
  {
    name: "stateDirectory",
    description: "Where the execution's resume journal and log folders are kept; it must survive a reboot and only root (SYSTEM) may write it. Empty: /var/lib/opentoe/run-command on Linux, %ProgramData%\\opentoe\\run-command on Windows.",
    default: "",
    allowedPattern: `^${ABSOLUTE_PATH}?$`,
  },
  {
    name: "installDirectory",
    description: "Where awstoe is installed. Empty: /usr/local/bin on Linux, %ProgramFiles%\\opentoe on Windows.",
    default: "",
    allowedPattern: `^${ABSOLUTE_PATH}?$`,
  },
];

/** `{{ name }}`: what SSM replaces in a script's text. */
export function placeholder(name: string): string {
  return `{{ ${name} }}`;
}

/**
 * sh lines that set SSM_<name> for every parameter an older agent did not export, from the
 * substituted text. A value still reading `{{…` was not substituted (no agent replaced it): it
 * is read as empty. The test for that spells the braces apart so SSM does not replace it too.
 */
export function shellParameterLines(): string[] {
  return FLEET_PARAMETERS.flatMap((p) => [
    `if [ -z "\${SSM_${p.name}+set}" ]; then SSM_${p.name}='${placeholder(p.name)}'; fi`,
    `case $SSM_${p.name} in "{""{"*) SSM_${p.name}="" ;; esac`,
  ]);
}

/** The PowerShell variable a parameter is read into. */
export function powerShellVariable(name: string): string {
  return `$P_${name}`;
}

/**
 * PowerShell lines doing the same. Windows cannot hold an empty environment variable (setting
 * one to "" removes it), so an empty value always takes the fallback; that is why the unreplaced
 * `{{` test matters here.
 */
export function powerShellParameterLines(): string[] {
  return [
    "function Get-OpentoeParameter([string]$Name, [string]$Substituted) {",
    "  $value = [Environment]::GetEnvironmentVariable(\"SSM_$Name\")",
    "  if ($null -eq $value) { $value = $Substituted }",
    "  if ($value.StartsWith('{' + '{')) { $value = '' }",
    "  return $value",
    "}",
    ...FLEET_PARAMETERS.map((p) => `${powerShellVariable(p.name)} = Get-OpentoeParameter '${p.name}' '${placeholder(p.name)}'`),
  ];
}
