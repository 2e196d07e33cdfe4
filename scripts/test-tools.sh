#!/usr/bin/env bash
# The programs the tests drive, beside Node: each test starts its own servers and browsers on 127.0.0.1, but the
# programs must be on the machine. Run before every `npm test` (pretest); it does nothing when all are there.
# Where one is missing it installs Debian's package (apt-get, with sudo when not root), or says what to install.
set -euo pipefail

MISSING=()
need() { command -v "$1" >/dev/null 2>&1 || MISSING+=("$2"); }
need script bsdutils         # a pseudo-terminal for the live view's raw bytes
need redis-server redis-server
need xmllint libxml2-utils   # validates --junit output
need tmux tmux               # renders the live TTY view as a person sees it
need chromium chromium       # opens --report pages headless (never a downloaded browser)
need parallel parallel       # GNU parallel: the oracle for its own habits (same argv, compare bytes)
need cc gcc                  # compiles the spawn addon at npm install (poolrun falls back to Node without it)
need strace strace           # observes which files and folders --fsync syncs (test/kinds/fsync.test.ts)
# GNU time measures poolrun's peak RSS (`time` alone is the shell keyword).
[ -x /usr/bin/time ] || MISSING+=(time)

[ ${#MISSING[@]} -eq 0 ] && exit 0

echo "poolrun tests: installing what they need: ${MISSING[*]}" >&2
if ! command -v apt-get >/dev/null 2>&1; then
  echo "poolrun tests: no apt-get here; install these (Debian package names) and run npm test again: ${MISSING[*]}" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "poolrun tests: not root and no sudo; as root run: apt-get install -y ${MISSING[*]}" >&2
    exit 1
  fi
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${MISSING[@]}" >/dev/null
