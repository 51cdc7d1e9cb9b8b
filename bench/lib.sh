#!/bin/bash
# Benchmarks of libvitals: the pool against malloc, cache gets on 1 and 2 threads, hit rate on a
# Zipf workload with and without the compressed tier, and memory held for text values.
#
#   bench/lib.sh [RUNS]        (default 5 runs of each; medians are reported)
#
# Builds bench/lib_bench.c against the static libvitals of the build tree BUILD (default build),
# with gcc -O2, and prints Markdown tables.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
BUILD=${BUILD:-build}
[ -f "$BUILD/libvitals.a" ] || { echo "bench: build libvitals first (make)" >&2; exit 1; }
OUT=$(mktemp -d /tmp/vitals-libbench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
gcc -O2 -g -pthread -Iinclude bench/lib_bench.c "$BUILD/libvitals.a" -lzstd -lm -o "$OUT/lib_bench"
for what in pool cache zipf text; do
    echo "### $what ($RUNS runs, medians)"
    echo
    "$OUT/lib_bench" "$what" "$RUNS"
    echo
done
