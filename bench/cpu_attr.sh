#!/bin/bash
# What a task-clock sample costs the sampled thread, by the sampling event's attributes
# (bench/cpu_attr.c: blocks of work with and without each event, interleaved in one thread):
#
#   bench/cpu_attr.sh [ROUNDS]      (default 300 rounds at 4000 Hz, then at 999 Hz)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-300}
OUT=$(mktemp -d /tmp/vitals-cpu-attr.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
gcc -O2 -g -fno-omit-frame-pointer bench/cpu_attr.c -o "$OUT/cpu_attr"
"$OUT/cpu_attr" 4000 "$ROUNDS" 2000000 16
"$OUT/cpu_attr" 999 "$ROUNDS" 4000000 16
