#!/bin/bash
# Writing every report format: one `vitals report` with all formats (one read of the trace)
# against one `vitals report` per format, measured alternately in one run; and the size of
# each format's output.
#
#   bench/formats.sh [RUNS] [ITERATIONS] [THREADS]   (default 5 runs, churn 2500000 2)
#
# Needs: gcc, /usr/bin/time. BUILD (default build) is the vitals build tree.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
ITER=${2:-2500000}
THREADS=${3:-2}
BUILD=${BUILD:-build}
VITALS=$BUILD/vitals
OUT=$(mktemp -d /tmp/vitals-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
[ -x "$VITALS" ] || { echo "bench: build vitals first (make)" >&2; exit 1; }
gcc -O2 -g -fno-omit-frame-pointer -pthread bench/churn.c -o "$OUT/churn"
"$VITALS" run -q -o "$OUT/t.vtr" -- "$OUT/churn" "$ITER" "$THREADS" >/dev/null

FORMATS="text json csv folded pprof massif openmetrics chrome"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }
for ((i = 0; i < RUNS; i++)); do
    rm -rf "$OUT/one" "$OUT/each"
    args=()
    for f in $FORMATS; do args+=(-f "$f"); done
    t0=$(now)
    "$VITALS" report "$OUT/t.vtr" -o "$OUT/one" "${args[@]}"
    t1=$(now)
    mkdir "$OUT/each"
    for f in $FORMATS; do "$VITALS" report "$OUT/t.vtr" -o "$OUT/each" -f "$f"; done
    t2=$(now)
    echo "$t0 $t1" | awk '{printf "%.2f\n", $2 - $1}' >> "$OUT/one.s"
    echo "$t1 $t2" | awk '{printf "%.2f\n", $2 - $1}' >> "$OUT/each.s"
done
one=$(median < "$OUT/one.s")
each=$(median < "$OUT/each.s")
echo "| trace | events | formats | one read s | a read per format s |"
echo "| --- | --- | --- | --- | --- |"
events=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["trace"]["events"])' "$OUT/one/report.json")
echo "| churn $ITER $THREADS ($(stat -c %s "$OUT/t.vtr") B) | $events | 8 | $one | $each |"
echo
echo "| file | bytes |"
echo "| --- | --- |"
for f in "$OUT"/one/*; do echo "| $(basename "$f") | $(stat -c %s "$f") |"; done
