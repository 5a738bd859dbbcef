#!/bin/sh
# @module scripts/ci-deps.sh: installs the Debian packages the test suite needs beyond Node/npm.
#
#   wine wine64                  run dist/awstoe-windows-x64.exe (test/helpers/wine.ts)
#   gcc-mingw-w64-x86-64-win32   build the bcryptprimitives.dll stub Bun's .exe needs under Wine 8
#   wixl msitools                wixl builds the small MSIs the Windows tests install (Debian ships it
#                                apart from msitools, which adds msiinfo/msiextract to inspect them)
#   qemu-user libc6-arm64-cross  run dist/awstoe-linux-arm64 as `qemu-aarch64 -L /usr/aarch64-linux-gnu`
#   busybox                      scripts/install.sh is tested under busybox sh (test/scripts/install.test.ts)
#   strace                       slows only awstoe's file writes (strace -e inject=write:delay_enter)
#                                for the WebDownload back-pressure test (test/e2e/web-download-memory.test.ts)
#   tmux                         a real terminal for the live progress line tests (test/e2e/terminal-view.test.ts)
#   libxml2-utils                xmllint checks `run --junit` reports against test/fixtures/junit/junit.xsd
#                                (test/logs/junit.test.ts)
#   gnupg openssl osslsigncode   the release tests: throwaway OpenPGP keys and `gpg --verify`, a self-signed
#                                code-signing certificate, Authenticode signing and `osslsigncode verify`
#                                (test/scripts/release-tree.test.ts, publish.test.ts, install.test.ts)
#   debootstrap                  a throwaway Debian root for UpdateOS's real apt-get test
#                                (test/modules/update-os-debootstrap.test.ts; ~30-45 s once per machine)
#   attr                         getfattr: run --sandbox finds opaque overlay folders (a folder deleted and
#                                made again) in the upper layer (test/e2e/sandbox.test.ts)
#
# Idempotent and quiet: when every package is already installed it only asks dpkg (~50 ms).
# Exit status: 0 = everything installed, 1 = installing failed, 2 = skipped (not root and no
# passwordless sudo, or no apt-get), so the caller can tell "could not try" from "tried and
# failed". Recommends are left out on purpose: Wine's pull in fonts, GL and sound stacks that a
# headless test never uses. A cold install took about 20 s on the 2-core CI machine.
set -u

PACKAGES="wine wine64 gcc-mingw-w64-x86-64-win32 wixl msitools qemu-user libc6-arm64-cross debootstrap busybox strace tmux libxml2-utils gnupg openssl osslsigncode attr"

missing_packages() {
  missing_list=""
  for pkg in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
      *" installed") ;;
      *) missing_list="${missing_list:+$missing_list }$pkg" ;;
    esac
  done
  printf '%s' "$missing_list"
}

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  echo "ci-deps: skipped: no apt-get/dpkg here; install by hand: $PACKAGES"
  exit 2
fi

missing=$(missing_packages)
if [ -z "$missing" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  # CI runners often run as a user with passwordless sudo; never prompt for a password.
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    exec sudo -n sh "$0" "$@"
  fi
  echo "ci-deps: skipped: not root; missing packages: $missing (run: sudo sh $0)"
  exit 2
fi

log=$(mktemp "${TMPDIR:-/tmp}/ci-deps.XXXXXX")
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
started=$(date +%s)

# A mirror can be mid-sync and fail one index ("File has unexpected size"); the indexes that did
# download are still usable, so an update failure alone is not fatal.
refresh_indexes() {
  apt-get -q -o DPkg::Lock::Timeout=120 update >>"$log" 2>&1 || echo "ci-deps: warning: apt-get update reported errors; trying with the indexes it has" >&2
}

install_missing() {
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  apt-get -q -y -o DPkg::Lock::Timeout=120 --no-install-recommends install $missing >>"$log" 2>&1
}

refresh_indexes
if ! install_missing; then
  echo "ci-deps: first install attempt failed; refreshing indexes and retrying once" >&2
  sleep 3
  refresh_indexes
  if ! install_missing; then
    echo "ci-deps: installing failed: $missing" >&2
    tail -n 25 "$log" >&2
    exit 1
  fi
fi

still=$(missing_packages)
if [ -n "$still" ]; then
  echo "ci-deps: apt-get succeeded but these are still not installed: $still" >&2
  exit 1
fi
echo "ci-deps: installed $missing in $(( $(date +%s) - started )) s"
exit 0
