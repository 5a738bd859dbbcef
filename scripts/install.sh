#!/bin/sh
# @module scripts/install.sh: downloads the awstoe executable for this machine, checks its OpenPGP
# signature against a pinned release key (when it can) and its SHA-256 against the release's
# SHA256SUMS (always), checks that it runs, and installs it.
#
#   sh install.sh [--base-url URL] [--prefix DIR] [--version V] [--key-fingerprint FPR] [--require-signature]
#   curl -fsSL URL/latest/install.sh | sh -s -- --base-url URL
#
#   --base-url URL         the bucket root: one sub-folder per release (no public one exists yet: required)
#   --prefix DIR           where `awstoe` goes (default /usr/local/bin; created when missing)
#   --version V            release folder to install from: "latest" (default) or a version such as 0.1.0
#                          (a leading "v" is dropped); the installed binary must then report exactly V
#   --key-fingerprint FPR  the release key's fingerprint (40 hex digits, spaces allowed); overrides the
#                          one a released copy of this script has pinned below
#   --require-signature    fail unless the OpenPGP signature can be checked (gpg installed and a
#                          fingerprint pinned)
#
# Layout it reads (scripts/_release-layout.ts, dist/README.md):
#   URL/<version>/SHA256SUMS  SHA256SUMS.sig  awstoe.gpg
#   URL/<version>/<os>/<arch>/awstoe  awstoe.sig     os: linux | darwin   arch: amd64 | arm64 | 386
#   (linux/386 is the Node.js bundle: it runs under a `node` on PATH, Node 18.3 or later)
#
# The signature check: with a fingerprint pinned and gpg installed, the published awstoe.gpg is
# imported into a new, private GNUPGHOME (removed at exit); it must hold a key with exactly the
# pinned fingerprint, and SHA256SUMS and the binary must each carry a good signature whose primary
# key is that key ([GNUPG:] VALIDSIG). gpg's trust model is not involved: the pin is the trust.
# Without gpg or a pinned fingerprint only SHA256SUMS is checked, and the script says so.
#
# Plain POSIX sh (dash, busybox ash; no bash). External tools: uname, mktemp, mkdir, chmod, mv,
# rm, curl or wget, sha256sum or `shasum -a 256`, and optionally gpg (gpgconf too when present).
# Busybox provides all but gpg.
#
# The new file is written next to its final name, checked, then renamed over it, so an existing
# awstoe is replaced in one step (a running one keeps running) and a failed install changes
# nothing. Exit status: 0 installed, 1 failed (nothing changed), 2 usage error.

set -u

# There is no public release location yet; a release job fills this in.
DEFAULT_BASE_URL="https://releases.example.invalid/opentoe"
# The release key's fingerprint: the release build writes it between the quotes (keep this line as it is).
PINNED_KEY_FINGERPRINT=""
PROGRAM="awstoe"
USAGE="usage: sh install.sh [--base-url URL] [--prefix DIR] [--version V] [--key-fingerprint FPR] [--require-signature]"

base_url=$DEFAULT_BASE_URL
prefix=/usr/local/bin
version=latest
fingerprint_arg=""
fingerprint_given=""
require_signature=""

workdir=""
partial=""
gnupghome=""

say() { printf '%s\n' "install.sh: $*"; }
fail() {
  printf '%s\n' "install.sh: error: $*" >&2
  exit 1
}
usage_error() {
  printf '%s\n' "install.sh: $*" >&2
  printf '%s\n' "$USAGE" >&2
  exit 2
}

cleanup() {
  if [ -n "$partial" ]; then rm -f "$partial"; fi
  if [ -n "$gnupghome" ]; then
    # gpg is run with --no-autostart, but an older gpg may have started an agent anyway.
    if command -v gpgconf >/dev/null 2>&1; then gpgconf --homedir "$gnupghome" --kill all >/dev/null 2>&1; fi
    rm -rf "$gnupghome"
  fi
  if [ -n "$workdir" ]; then rm -rf "$workdir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

print_help() {
  printf '%s\n' "$USAGE" \
    "" \
    "Installs the awstoe release for this machine from URL/<V>/<os>/<arch>/awstoe into DIR." \
    "" \
    "  --base-url URL         the folder holding one sub-folder per release (required: there is no public one yet)" \
    "  --prefix DIR           where awstoe goes (default /usr/local/bin)" \
    "  --version V            latest (default) or a version such as 0.1.0; the binary must report it" \
    "  --key-fingerprint FPR  the release key's fingerprint, 40 hex digits (spaces allowed);" \
    "                         overrides the one pinned in this script" \
    "  --require-signature    fail unless the OpenPGP signature can be checked (needs gpg and a fingerprint)" \
    "  -h, --help             this text" \
    "" \
    "The SHA-256 of the download is always checked against the release's SHA256SUMS. With gpg installed" \
    "and a fingerprint pinned, the OpenPGP signatures of SHA256SUMS and of the binary are checked too." \
    "Exit status: 0 installed, 1 failed (nothing changed), 2 usage error."
}

# Prints FPR as 40 upper-case hex digits (spaces dropped), or returns 1 when it is not a fingerprint.
normalize_fingerprint() {
  rest=$1
  out=""
  while [ -n "$rest" ]; do
    c=${rest%"${rest#?}"}
    rest=${rest#?}
    case $c in
      ' ') ;;
      [0123456789ABCDEF]) out=$out$c ;;
      a) out=${out}A ;;
      b) out=${out}B ;;
      c) out=${out}C ;;
      d) out=${out}D ;;
      e) out=${out}E ;;
      f) out=${out}F ;;
      *) return 1 ;;
    esac
  done
  [ ${#out} -eq 40 ] || return 1
  printf '%s\n' "$out"
}

parse_args() {
  while [ $# -gt 0 ]; do
    case $1 in
      --base-url=*) base_url=${1#*=} ;;
      --prefix=*) prefix=${1#*=} ;;
      --version=*) version=${1#*=} ;;
      --key-fingerprint=*)
        fingerprint_arg=${1#*=}
        fingerprint_given=yes
        ;;
      --base-url | --prefix | --version | --key-fingerprint)
        [ $# -ge 2 ] || usage_error "$1 needs a value"
        case $1 in
          --base-url) base_url=$2 ;;
          --prefix) prefix=$2 ;;
          --version) version=$2 ;;
          --key-fingerprint)
            fingerprint_arg=$2
            fingerprint_given=yes
            ;;
        esac
        shift
        ;;
      --require-signature) require_signature=yes ;;
      -h | --help)
        print_help
        exit 0
        ;;
      *) usage_error "unknown argument '$1'" ;;
    esac
    shift
  done
  base_url=${base_url%/}
  version=${version#v}
  [ -n "$base_url" ] || usage_error "--base-url is empty"
  [ -n "$prefix" ] || usage_error "--prefix is empty"
  [ -n "$version" ] || usage_error "--version is empty"
  case $version in
    */* | *' '*) usage_error "--version '$version' is not a release name (e.g. latest or 0.1.0)" ;;
  esac
  if [ "$base_url" = "$DEFAULT_BASE_URL" ]; then
    usage_error "no public release location exists yet; pass --base-url with the URL of the folder that holds the release folders (see dist/README.md)"
  fi
  if [ -n "$fingerprint_given" ]; then
    fingerprint=$(normalize_fingerprint "$fingerprint_arg") ||
      usage_error "--key-fingerprint '$fingerprint_arg' is not an OpenPGP fingerprint (40 hex digits, spaces allowed)"
  elif [ -n "$PINNED_KEY_FINGERPRINT" ]; then
    fingerprint=$(normalize_fingerprint "$PINNED_KEY_FINGERPRINT") ||
      fail "the key fingerprint pinned in this script ('$PINNED_KEY_FINGERPRINT') is not 40 hex digits; the script is damaged (download it again)"
  else
    fingerprint=""
  fi
}

# Fails unless a `node` of version 18.3 or later is on PATH (linux/386 is the Node.js bundle).
check_node() {
  command -v node >/dev/null 2>&1 ||
    fail "this is 32-bit x86 Linux ($cpu_name): linux/386 awstoe is a Node.js program, and node is not installed; install Node.js 18.3 or later (so that 'node' is on PATH), then run this again"
  node_version=$(node --version 2>/dev/null) || node_version=""
  digits=${node_version#v}
  major=${digits%%.*}
  minor=${digits#*.}
  minor=${minor%%.*}
  case $major in '' | *[!0123456789]*) return 0 ;; esac # an odd answer: running the binary will tell
  case $minor in '' | *[!0123456789]*) return 0 ;; esac
  if [ "$major" -lt 18 ] || { [ "$major" -eq 18 ] && [ "$minor" -lt 3 ]; }; then
    fail "linux/386 awstoe is a Node.js program that needs Node.js 18.3 or later, and the node on PATH is $node_version; install a newer Node.js, then run this again"
  fi
}

# Sets $os, $arch and $asset (<os>/<arch>/awstoe) for this OS and CPU, or fails naming what uname reported.
pick_asset() {
  os_name=$(uname -s 2>/dev/null) || fail "'uname -s' failed; cannot tell which operating system this is"
  cpu_name=$(uname -m 2>/dev/null) || fail "'uname -m' failed; cannot tell which CPU this is"
  case $os_name in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    MINGW* | MSYS* | CYGWIN* | Windows*) fail "this is Windows ($os_name), and install.sh is for Linux and macOS; download windows/amd64/awstoe.exe with the PowerShell lines in the README (\"Installing awstoe\") instead, and check it as dist/README.md describes" ;;
    *) fail "no awstoe build for the operating system '$os_name'; releases exist for Linux, macOS and Windows" ;;
  esac
  case $cpu_name in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64 | armv8*) arch=arm64 ;;
    i?86 | x86)
      [ "$os" = linux ] || fail "no awstoe build for the CPU '$cpu_name' on $os_name; releases exist for x86_64 and arm64"
      arch=386
      check_node
      ;;
    *) fail "no awstoe build for the CPU '$cpu_name' on $os_name; releases exist for x86_64 and aarch64 (arm64), and for 32-bit x86 on Linux" ;;
  esac
  asset="$os/$arch/$PROGRAM"
}

pick_downloader() {
  if command -v curl >/dev/null 2>&1; then
    downloader=curl
  elif command -v wget >/dev/null 2>&1; then
    downloader=wget
  else
    fail "neither curl nor wget is installed; install one of them (e.g. apt-get install curl, yum install curl, apk add curl)"
  fi
}

pick_hasher() {
  if command -v sha256sum >/dev/null 2>&1; then
    hasher=sha256sum
  elif command -v shasum >/dev/null 2>&1; then
    hasher=shasum
  else
    fail "neither sha256sum nor shasum is installed, so the download cannot be checked; install coreutils (or perl's shasum)"
  fi
}

# Sets $unsigned_reason to why the OpenPGP signature cannot be checked, or to "" when it can;
# with --require-signature a reason is fatal (before anything is downloaded).
pick_verification() {
  if [ -z "$fingerprint" ]; then
    unsigned_reason="no key fingerprint pinned; pass --key-fingerprint with the release key's fingerprint to check the OpenPGP signature"
  elif ! command -v gpg >/dev/null 2>&1; then
    unsigned_reason="gpg is not installed"
  else
    unsigned_reason=""
  fi
  if [ -n "$unsigned_reason" ] && [ -n "$require_signature" ]; then
    fail "--require-signature: the OpenPGP signature cannot be checked ($unsigned_reason); nothing was installed"
  fi
}

# download URL FILE: fails with the URL and the tool's exit status.
download() {
  if [ "$downloader" = curl ]; then
    curl -fsSL --retry 3 --connect-timeout 20 -o "$2" "$1"
  else
    # No -T: Debian's busybox before 1.36.1-5 is built without wget timeouts and crashes on it.
    wget -q -O "$2" "$1"
  fi
  status=$?
  [ "$status" -eq 0 ] || fail "downloading $1 failed ($downloader exit $status); check --base-url and --version, and that this machine can reach that address"
}

# Prints the hex SHA-256 of FILE.
sha256_of() {
  if [ "$hasher" = sha256sum ]; then
    line=$(sha256sum "$1") || return 1
  else
    line=$(shasum -a 256 "$1") || return 1
  fi
  printf '%s\n' "${line%% *}"
}

# Prints the SHA256SUMS entry for NAME from FILE (`<hex>  <name>` or `<hex> *<name>` lines).
expected_sum() {
  cr=$(printf '\r')
  found=""
  while IFS= read -r entry || [ -n "$entry" ]; do
    entry=${entry%"$cr"}
    sum=${entry%% *}
    name=${entry#* }
    name=${name# }
    name=${name#\*}
    if [ "$name" = "$1" ]; then found=$sum; fi
  done <"$2"
  printf '%s\n' "$found"
}

is_sha256() {
  case $1 in
    *[!0123456789abcdef]*) return 1 ;;
  esac
  [ ${#1} -eq 64 ]
}

# A hint when the executable cannot start.
run_hint() {
  if [ "$arch" = 386 ]; then
    printf '%s' " linux/386 awstoe runs under node ($(node --version 2>/dev/null)); it needs Node.js 18.3 or later."
    return
  fi
  # The Linux builds need glibc.
  for loader in /lib/ld-musl-*; do
    if [ -e "$loader" ]; then
      printf '%s' " This system uses musl libc (Alpine?); the Linux builds need glibc (e.g. a Debian, Ubuntu, Amazon Linux or busybox:glibc image)."
      return
    fi
  done
}

# Prints FILE's lines indented, for gpg's own words under an error.
indent() {
  while IFS= read -r text || [ -n "$text" ]; do printf '%s\n' "    $text"; done <"$1"
}

# gpg in the private home, never prompting, starting no agent when it knows how not to.
gpg_run() {
  # $no_autostart is empty or one word.
  # shellcheck disable=SC2086
  gpg --homedir "$gnupghome" --batch --no-tty $no_autostart "$@"
}

# Imports $release/awstoe.gpg into a new private GNUPGHOME and checks that it holds the pinned key.
import_release_key() {
  tmproot=${TMPDIR:-/tmp}
  tmproot=${tmproot%/}
  # Short, and under TMPDIR: a gpg-agent's socket path must fit in about 100 bytes.
  gnupghome=$(mktemp -d "$tmproot/awstoe-gpg.XXXXXX" 2>/dev/null) || fail "cannot create a temporary folder for gpg (mktemp -d); check TMPDIR"
  # --no-autostart came with GnuPG 2.1; an older gpg does not need it and would reject it.
  no_autostart=""
  if gpg --homedir "$gnupghome" --batch --no-tty --no-autostart --version >/dev/null 2>&1; then no_autostart=--no-autostart; fi

  download "$release/awstoe.gpg" "$workdir/awstoe.gpg"
  if ! gpg_run --import "$workdir/awstoe.gpg" >"$workdir/gpg.log" 2>&1; then
    fail "gpg cannot import the release key $release/awstoe.gpg; nothing was installed. gpg said:
$(indent "$workdir/gpg.log")"
  fi
  gpg_run --with-colons --with-fingerprint --list-keys >"$workdir/keys" 2>"$workdir/gpg.log" ||
    fail "gpg cannot list the keys it imported from $release/awstoe.gpg; nothing was installed. gpg said:
$(indent "$workdir/gpg.log")"
  # Primary keys only: each `pub` record is followed by its `fpr` record (field 10).
  held=""
  pinned_held=""
  after_pub=""
  while IFS=: read -r kind _ _ _ _ _ _ _ _ fpr _; do
    case $kind in
      pub) after_pub=yes ;;
      fpr)
        if [ -n "$after_pub" ]; then
          held="$held $fpr"
          if [ "$fpr" = "$fingerprint" ]; then pinned_held=yes; fi
        fi
        after_pub=""
        ;;
      sub | ssb | sec | uid | uat) after_pub="" ;;
    esac
  done <"$workdir/keys"
  if [ -z "$pinned_held" ]; then
    fail "the published release key $release/awstoe.gpg is not the pinned key: it holds${held:- no key}, the pinned fingerprint is $fingerprint; the release cannot be verified with the pinned key, nothing was installed"
  fi
}

# verify_signature FILE SIGNATURE URL SIGNATURE_URL: fails unless gpg finds a good signature made
# by the pinned key ([GNUPG:] VALIDSIG whose last field, the primary key's fingerprint, is it).
verify_signature() {
  gpg_run --status-fd 1 --verify "$2" "$1" >"$workdir/gpg.status" 2>"$workdir/gpg.log"
  gpg_status=$?
  valid=""
  fatal=""
  other=""
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      "[GNUPG:] VALIDSIG "*)
        if [ "${line##* }" = "$fingerprint" ]; then valid=yes; else other="it was signed by key ${line##* }"; fi
        ;;
      "[GNUPG:] BADSIG "*) fatal="gpg reports a BAD signature: the file is not what was signed" ;;
      "[GNUPG:] REVKEYSIG "*) fatal="the key that made it has been revoked" ;;
      "[GNUPG:] NO_PUBKEY "*) other="it was made by a key that $release/awstoe.gpg does not hold (${line##* })" ;;
      "[GNUPG:] ERRSIG "* | "[GNUPG:] NODATA "*) [ -n "$other" ] || other="gpg cannot read it as a signature of that file" ;;
    esac
  done <"$workdir/gpg.status"
  if [ -n "$valid" ] && [ -z "$fatal" ] && [ "$gpg_status" -eq 0 ]; then return 0; fi
  fail "$3: the signature $4 does not verify with the pinned key $fingerprint (${fatal:-${other:-gpg exit $gpg_status}}); nothing was installed. gpg said:
$(indent "$workdir/gpg.log")"
}

main() {
  parse_args "$@"
  pick_asset
  pick_downloader
  pick_hasher
  pick_verification
  release="$base_url/$version"
  target="$prefix/$PROGRAM"
  say "installing $asset from $release/ to $target"

  mkdir -p "$prefix" 2>/dev/null || fail "cannot create $prefix; run as root or pass --prefix with a folder you can write"
  workdir=$(mktemp -d 2>/dev/null) || fail "cannot create a temporary folder (mktemp -d); check TMPDIR"
  # Beside the final name, so the last step is a rename within one file system.
  partial=$(mktemp "$prefix/.$PROGRAM.XXXXXX" 2>/dev/null) || fail "cannot write in $prefix; run as root or pass --prefix with a folder you can write"

  download "$release/SHA256SUMS" "$workdir/SHA256SUMS"
  if [ -z "$unsigned_reason" ]; then
    import_release_key
    download "$release/SHA256SUMS.sig" "$workdir/SHA256SUMS.sig"
    verify_signature "$workdir/SHA256SUMS" "$workdir/SHA256SUMS.sig" "$release/SHA256SUMS" "$release/SHA256SUMS.sig"
  fi
  expected=$(expected_sum "$asset" "$workdir/SHA256SUMS")
  [ -n "$expected" ] || fail "$release/SHA256SUMS has no entry for $asset; this release may not include $os/$arch"
  is_sha256 "$expected" || fail "$release/SHA256SUMS lists '$expected' for $asset, which is not a SHA-256; the file is damaged"

  download "$release/$asset" "$partial"
  actual=$(sha256_of "$partial") || fail "computing the SHA-256 of the download with $hasher failed"
  if [ "$actual" != "$expected" ]; then
    fail "checksum mismatch for $release/$asset: SHA256SUMS says $expected, the download is $actual; nothing was installed (try again; if it persists, the release or the connection is damaged)"
  fi
  if [ -z "$unsigned_reason" ]; then
    download "$release/$os/$arch/$PROGRAM.sig" "$workdir/binary.sig"
    verify_signature "$partial" "$workdir/binary.sig" "$release/$asset" "$release/$os/$arch/$PROGRAM.sig"
    say "verified $asset: OpenPGP signature by key $fingerprint and SHA-256 from SHA256SUMS"
  else
    say "checked $asset against SHA256SUMS only ($unsigned_reason): this proves the download is whole, not who published it"
  fi

  chmod 755 "$partial" || fail "cannot make $partial executable"
  if ! reported=$("$partial" --version 2>&1); then
    fail "the downloaded $asset does not run on this machine: ${reported:-no output}.$(run_hint) Nothing was installed."
  fi
  if [ "$version" != latest ]; then
    case $reported in
      "awstoe $version "*) ;;
      *) fail "asked for version $version but $release/$asset reports '$reported'; nothing was installed" ;;
    esac
  fi

  mv -f "$partial" "$target" || fail "cannot move the new binary to $target"
  partial=""
  say "installed $target: $reported"
}

main "$@"
