#!/bin/sh
# @module scripts/install.sh: downloads the awstoe executable for this machine, checks it against
# the release's SHA256SUMS, checks that it runs, and installs it.
#
#   sh install.sh [--base-url URL] [--prefix DIR] [--version V]
#   curl -fsSL URL/latest/install.sh | sh -s -- --base-url URL
#
#   --base-url URL  folder holding one sub-folder per release (no public one exists yet: required)
#   --prefix DIR    where `awstoe` goes (default /usr/local/bin; created when missing)
#   --version V     release folder to install from: "latest" (default) or a version such as 0.1.0
#                   (a leading "v" is dropped); the installed binary must then report exactly V
#
# Layout it reads (dist/ uploaded as-is; dist/README.md):
#   URL/<version>/SHA256SUMS
#   URL/<version>/awstoe-<os>-<arch>     os: linux | darwin   arch: x64 | arm64
#
# Plain POSIX sh (dash, busybox ash; no bash). External tools: uname, mktemp, mkdir, chmod, mv,
# rm, curl or wget, and sha256sum or `shasum -a 256`. Busybox provides all of them.
#
# The new file is written next to its final name, checked, then renamed over it, so an existing
# awstoe is replaced in one step (a running one keeps running) and a failed install changes
# nothing. Exit status: 0 installed, 1 failed (nothing changed), 2 usage error.

set -u

# There is no public release location yet; a release job fills this in.
DEFAULT_BASE_URL="https://releases.example.invalid/opentoe"
PROGRAM="awstoe"

base_url=$DEFAULT_BASE_URL
prefix=/usr/local/bin
version=latest

workdir=""
partial=""

say() { printf '%s\n' "install.sh: $*"; }
fail() {
  printf '%s\n' "install.sh: error: $*" >&2
  exit 1
}
usage_error() {
  printf '%s\n' "install.sh: $*" >&2
  printf '%s\n' "usage: sh install.sh [--base-url URL] [--prefix DIR] [--version V]" >&2
  exit 2
}

cleanup() {
  if [ -n "$partial" ]; then rm -f "$partial"; fi
  if [ -n "$workdir" ]; then rm -rf "$workdir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

parse_args() {
  while [ $# -gt 0 ]; do
    case $1 in
      --base-url=*) base_url=${1#*=} ;;
      --prefix=*) prefix=${1#*=} ;;
      --version=*) version=${1#*=} ;;
      --base-url | --prefix | --version)
        [ $# -ge 2 ] || usage_error "$1 needs a value"
        case $1 in
          --base-url) base_url=$2 ;;
          --prefix) prefix=$2 ;;
          --version) version=$2 ;;
        esac
        shift
        ;;
      -h | --help)
        printf '%s\n' "usage: sh install.sh [--base-url URL] [--prefix DIR] [--version V]"
        printf '%s\n' "Installs the awstoe release for this machine from URL/<V>/ (V defaults to latest) into DIR (default /usr/local/bin)."
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
}

# Sets $asset to the release file for this OS and CPU, or fails naming what uname reported.
pick_asset() {
  os_name=$(uname -s 2>/dev/null) || fail "'uname -s' failed; cannot tell which operating system this is"
  cpu_name=$(uname -m 2>/dev/null) || fail "'uname -m' failed; cannot tell which CPU this is"
  case $os_name in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    MINGW* | MSYS* | CYGWIN* | Windows*) fail "this is Windows ($os_name); download awstoe-windows-x64.exe with the PowerShell lines in dist/README.md instead" ;;
    *) fail "no awstoe build for the operating system '$os_name'; releases exist for Linux, macOS and Windows" ;;
  esac
  case $cpu_name in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64 | armv8*) arch=arm64 ;;
    i?86 | x86) fail "no single-file awstoe for 32-bit x86 ($cpu_name); run awstoe-node.cjs from the release with Node 18.3 or later instead (dist/README.md)" ;;
    *) fail "no awstoe build for the CPU '$cpu_name' on $os_name; releases exist for x86_64 and aarch64 (arm64)" ;;
  esac
  asset="$PROGRAM-$os-$arch"
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
    *[!0-9a-f]*) return 1 ;;
  esac
  [ ${#1} -eq 64 ]
}

# A hint when the executable cannot start: the Linux builds need glibc.
musl_hint() {
  for loader in /lib/ld-musl-*; do
    if [ -e "$loader" ]; then
      printf '%s' " This system uses musl libc (Alpine?); the Linux builds need glibc (e.g. a Debian, Ubuntu, Amazon Linux or busybox:glibc image)."
      return
    fi
  done
}

main() {
  parse_args "$@"
  pick_asset
  pick_downloader
  pick_hasher
  release="$base_url/$version"
  target="$prefix/$PROGRAM"
  say "installing $asset from $release/ to $target"

  mkdir -p "$prefix" 2>/dev/null || fail "cannot create $prefix; run as root or pass --prefix with a folder you can write"
  workdir=$(mktemp -d 2>/dev/null) || fail "cannot create a temporary folder (mktemp -d); check TMPDIR"
  # Beside the final name, so the last step is a rename within one file system.
  partial=$(mktemp "$prefix/.$PROGRAM.XXXXXX" 2>/dev/null) || fail "cannot write in $prefix; run as root or pass --prefix with a folder you can write"

  download "$release/SHA256SUMS" "$workdir/SHA256SUMS"
  expected=$(expected_sum "$asset" "$workdir/SHA256SUMS")
  [ -n "$expected" ] || fail "$release/SHA256SUMS has no entry for $asset; this release may not include $os/$arch"
  is_sha256 "$expected" || fail "$release/SHA256SUMS lists '$expected' for $asset, which is not a SHA-256; the file is damaged"

  download "$release/$asset" "$partial"
  actual=$(sha256_of "$partial") || fail "computing the SHA-256 of the download with $hasher failed"
  if [ "$actual" != "$expected" ]; then
    fail "checksum mismatch for $release/$asset: SHA256SUMS says $expected, the download is $actual; nothing was installed (try again; if it persists, the release or the connection is damaged)"
  fi

  chmod 755 "$partial" || fail "cannot make $partial executable"
  if ! reported=$("$partial" --version 2>&1); then
    fail "the downloaded $asset does not run on this machine: ${reported:-no output}.$(musl_hint) Nothing was installed."
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
