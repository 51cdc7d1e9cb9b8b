#!/bin/sh
# Installs the Debian packages vitals needs to build and test, when they are missing.
# Idempotent: prints what it installs, and does nothing when everything is present.
# A non-root user without sudo is told the exact apt-get line to run.
set -eu

PKGS="build-essential cmake pkg-config libunwind-dev libdw-dev libelf-dev libzstd-dev
libcmocka-dev python3 heaptrack valgrind clang libclang-rt-dev
libprotobuf-c-dev protobuf-c-compiler zlib1g-dev protobuf-compiler prometheus
libsqlite3-dev sqlite3 chromium chromium-driver firefox-esr
libncurses-dev tmux libpfm4-dev linux-perf"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

echo "vitals: installing missing packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
else
    echo "vitals: not root; please run:" >&2
    echo "    sudo apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing
