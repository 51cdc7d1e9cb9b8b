#!/bin/bash
# Two builds of vitals compared on the reference workload, runs interleaved so that both see the
# same conditions (other load on the machine moves wall time a lot, CPU time much less):
#
#   bench/ab.sh BUILD_A BUILD_B [RUNS]      (default 21 runs of each; medians and minimums)
#
# BUILD_A and BUILD_B hold a vitals executable with its libvitals-agent.so beside it (a build
# tree, or a copy of one). Prints, per workload, the CPU seconds (user + sys) and wall seconds
# of `vitals run`, the trace bytes per allocation, and the CPU seconds of `vitals report` on
# that trace.
set -euo pipefail
cd "$(dirname "$0")/.."
A=$1 B=$2 RUNS=${3:-21}
OUT=$(mktemp -d /tmp/vitals-ab.XXXXXX)
export VITALS_HISTORY=  # the run history is measured by bench/history.sh, not here
trap 'rm -rf "$OUT"' EXIT
gcc -O2 -g -fno-omit-frame-pointer -pthread bench/churn.c -o "$OUT/churn"
stats() { sort -g | awk '{a[NR]=$1} END {printf "min %.2f median %.2f", a[1], (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for w in "5000000 1" "2500000 2"; do
    tag=${w// /_}
    for ((i = 0; i < RUNS; i++)); do
        for side in A B; do
            dir=$A; [ $side = B ] && dir=$B
            /usr/bin/time -f "%e %U %S" -a -o "$OUT/$side.$tag" "$dir/vitals" run -q \
                -o "$OUT/$side.$tag.vtr.$i" -- "$OUT/churn" $w >/dev/null
            [ $i = 0 ] || rm -f "$OUT/$side.$tag.vtr.$i"
        done
    done
    for side in A B; do
        dir=$A; [ $side = B ] && dir=$B
        trace="$OUT/$side.$tag.vtr.0"
        allocs=$("$dir/vitals" report "$trace" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["heap"]["alloc_calls"])')
        for ((i = 0; i < 5; i++)); do
            /usr/bin/time -f "%U %S" -a -o "$OUT/$side.$tag.read" "$dir/vitals" report "$trace" >/dev/null
        done
        printf "%s churn %s: run cpu s %s, wall s %s; %.2f B/alloc; report cpu s %s\n" "$side" "$w" \
            "$(awk '{print $2 + $3}' "$OUT/$side.$tag" | stats)" \
            "$(awk '{print $1}' "$OUT/$side.$tag" | stats)" \
            "$(python3 -c "print($(stat -c %s "$trace") / $allocs)")" \
            "$(awk '{print $1 + $2}' "$OUT/$side.$tag.read" | stats)"
    done
done
