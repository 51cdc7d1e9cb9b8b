#!/bin/bash
# What recording a run in the history costs `vitals run`, measured side by side in one run:
# the same command with --no-history and with --history (a fresh database), interleaved, RUNS
# times each; medians of wall seconds. Then the time of 8 runs writing one database at once.
#
#   bench/history.sh [RUNS]        (default 7)
#
# Needs gcc, /usr/bin/time, python3. BUILD (default build) is the vitals build tree.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
BUILD=${BUILD:-build}
VITALS=$BUILD/vitals
OUT=$(mktemp -d /tmp/vitals-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
[ -x "$VITALS" ] || { echo "bench: build vitals first (make)" >&2; exit 1; }
gcc -O2 -g -fno-omit-frame-pointer -pthread bench/churn.c -o "$OUT/churn"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
timed() { local file=$1; shift; /usr/bin/time -f "%e" -a -o "$file" "$@" >/dev/null 2>>"$OUT/stderr"; }

echo "| command | runs | --no-history s | --history s | cost of the history s |"
echo "| --- | --- | --- | --- | --- |"
bench_one() {
    local name=$1; shift
    local tag=${name// /_}
    for ((i = 0; i < RUNS; i++)); do
        timed "$OUT/$tag.off" "$VITALS" run -q --no-history -o "$OUT/$tag.vtr" -- "$@"
        timed "$OUT/$tag.on" "$VITALS" run -q --history "$OUT/$tag.db" -o "$OUT/$tag.vtr" -- "$@"
    done
    local off on
    off=$(median < "$OUT/$tag.off")
    on=$(median < "$OUT/$tag.on")
    echo "| $name | $RUNS | $off | $on | $(awk -v a="$off" -v b="$on" 'BEGIN {printf "%.2f", b - a}') |"
}
bench_one "true" true
bench_one "churn 100000 1" "$OUT/churn" 100000 1
bench_one "churn 2500000 2" "$OUT/churn" 2500000 2

echo
start=$(date +%s.%N)
for i in 1 2 3 4 5 6 7 8; do
    "$VITALS" run -q --history "$OUT/par.db" -o "$OUT/par.$i.vtr" -- "$OUT/churn" 100000 1 \
        >/dev/null 2>>"$OUT/stderr" &
done
wait
end=$(date +%s.%N)
rows=$("$VITALS" history --history "$OUT/par.db" --last 100 --format json |
       python3 -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))')
echo "8 parallel runs of 'churn 100000 1' into one database: $rows rows, $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}') s wall"
